/**
 * The only reader of process.env. Every variable is checked at once and every problem reported
 * together, naming the variable, so a bad deployment fails at startup with one clear message.
 */
import { availableParallelism } from "node:os";
import ms from "ms";

export interface Config {
  /** Server processes sharing the port (node:cluster); 1 serves from this process alone. */
  workers: number;
  /** In a cluster worker, what the primary started it for (SEGMENTS_WORKER, set by cluster.ts). */
  workerRole: "serve" | "engine";
  /**
   * Whether this process checkpoints the SQLite WAL (a thread of its own; see checkpointer.ts).
   * A cluster's serving workers leave it to the engine worker (SEGMENTS_CHECKPOINTS, set by the
   * primary): every checkpoint ends with an fsync of the database file, which the other
   * processes' commits may wait for, so one process checkpointing beats three.
   */
  walCheckpoints: boolean;
  port: number;
  host: string;
  sqlitePath: string;
  mongodbUri: string | null;
  production: boolean;
  logLevel: string;
  /** How long membership events stay replayable (`after:`). */
  eventRetentionMs: number;
  importRetentionMs: number;
  /** How long the engine lease lasts without renewal (a standby takes over after it). */
  engineLeaseTtlMs: number;
  /** Whether this process runs the membership engine (or only writes). */
  engineEnabled: boolean;
  /** Contacts evaluated per segment-build step. */
  engineBuildChunk: number;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** How long a JSON request body may take to arrive. */
  requestTimeoutMs: number;
  /** How long a CSV upload may send nothing before it is ended. */
  uploadIdleTimeoutMs: number;
  introspection: boolean;
  /** Whether GET /metrics serves Prometheus metrics. */
  metrics: boolean;
  /** Whether webhooks may target private, loopback and link-local addresses, and http:// URLs. */
  webhookAllowPrivateUrls: boolean;
  limits: {
    maxTokens: number;
    maxDepth: number;
    maxAliases: number;
    maxDirectives: number;
    maxCost: number;
    ratePerSecond: number;
    maxConnectionsPerKey: number;
    maxSubscriptionsPerConnection: number;
  };
  /** Time between turning unready on SIGTERM and draining (for load balancers to notice). */
  shutdownDelayMs: number;
  /** How long a stop waits for requests in flight before closing their connections. */
  shutdownTimeoutMs: number;
}

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const value = (name: string) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!/^\d+$/.test(raw) || parsed < min || parsed > max) {
      problems.push(`${name}: expected a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return parsed;
  };
  const duration = (name: string, fallback: string, allowZero = false): number => {
    const raw = value(name) ?? fallback;
    const parsed = /^\d+$/.test(raw) ? Number(raw) : (ms(raw as ms.StringValue) as number | undefined);
    if (parsed === undefined || !Number.isFinite(parsed) || parsed < 0 || (parsed === 0 && !allowZero)) {
      problems.push(`${name}: expected a duration such as 7d, 12h or 30s (or milliseconds), got "${raw}"`);
      return ms(fallback as ms.StringValue);
    }
    return parsed;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name}: expected true or false, got "${value(name)}"`);
    return fallback;
  };
  const bytes = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw);
    if (!match) {
      problems.push(`${name}: expected a size such as 16mb, 512kb or a number of bytes, got "${raw}"`);
      return fallback;
    }
    const unit = (match[2] ?? "b").toLowerCase();
    return Number(match[1]) * (unit === "mb" ? 1_048_576 : unit === "kb" ? 1_024 : 1);
  };

  const nodeEnv = value("NODE_ENV") ?? "development";
  const production = nodeEnv === "production";
  const logLevel = value("LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  const host = value("HOST") ?? "127.0.0.1";
  const mongodbUri = value("MONGODB_URI") ?? null;
  if (mongodbUri !== null && !/^mongodb(\+srv)?:\/\/\S+$/.test(mongodbUri)) {
    problems.push("MONGODB_URI: expected a connection string mongodb://host/database?replicaSet=rs0 (or mongodb+srv://…)");
  }

  const workers = value("WORKERS")?.toLowerCase() === "auto" ? availableParallelism() : integer("WORKERS", 1, 1, 256);
  if (workers > 1 && mongodbUri === null && (value("SQLITE_PATH") ?? "") === ":memory:") {
    problems.push("WORKERS: several processes cannot share an in-memory SQLite database; set SQLITE_PATH to a file");
  }

  const workerRole = value("SEGMENTS_WORKER") ?? "serve";
  if (workerRole !== "serve" && workerRole !== "engine") problems.push(`SEGMENTS_WORKER: set by the cluster primary to serve or engine, got "${workerRole}"`);

  const checkpoints = value("SEGMENTS_CHECKPOINTS");
  if (checkpoints !== undefined && checkpoints !== "engine-worker") problems.push(`SEGMENTS_CHECKPOINTS: set by the cluster primary to engine-worker, got "${checkpoints}"`);

  const config: Config = {
    workers,
    workerRole: workerRole === "engine" ? "engine" : "serve",
    walCheckpoints: checkpoints !== "engine-worker",
    port: integer("PORT", 4000, 0, 65_535),
    host,
    sqlitePath: value("SQLITE_PATH") ?? "data/segments.db",
    mongodbUri,
    production,
    logLevel,
    eventRetentionMs: duration("EVENT_RETENTION", "7d"),
    importRetentionMs: duration("IMPORT_RETENTION", "30d"),
    engineLeaseTtlMs: duration("ENGINE_LEASE_TTL", "10s"),
    engineEnabled: bool("ENGINE", true),
    engineBuildChunk: integer("ENGINE_BUILD_CHUNK", 100_000, 100, 10_000_000),
    maxBodyBytes: bytes("MAX_BODY_SIZE", 8 * 1_048_576),
    requestTimeoutMs: duration("REQUEST_TIMEOUT", "5m"),
    uploadIdleTimeoutMs: duration("UPLOAD_IDLE_TIMEOUT", "60s"),
    introspection: bool("GRAPHQL_INTROSPECTION", !production),
    metrics: bool("METRICS", true),
    webhookAllowPrivateUrls: bool("WEBHOOK_ALLOW_PRIVATE_URLS", false),
    limits: {
      maxTokens: integer("MAX_QUERY_TOKENS", 10_000, 100, 1_000_000),
      maxDepth: integer("MAX_QUERY_DEPTH", 12, 2, 100),
      maxAliases: integer("MAX_QUERY_ALIASES", 30, 0, 1_000),
      maxDirectives: integer("MAX_QUERY_DIRECTIVES", 20, 0, 1_000),
      maxCost: integer("MAX_QUERY_COST", 50_000, 10, 100_000_000),
      ratePerSecond: integer("RATE_LIMIT_PER_SECOND", 100, 1, 10_000_000),
      maxConnectionsPerKey: integer("MAX_CONNECTIONS_PER_KEY", 50, 1, 1_000_000),
      maxSubscriptionsPerConnection: integer("MAX_SUBSCRIPTIONS_PER_CONNECTION", 50, 1, 10_000),
    },
    shutdownDelayMs: duration("SHUTDOWN_DELAY", "0", true),
    shutdownTimeoutMs: duration("SHUTDOWN_TIMEOUT", "10s"),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
