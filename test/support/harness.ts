/**
 * Starts the real service for a test: a fresh SQLite file, the real engine, the real server on a
 * free loopback port. Everything started here is stopped by `stopAll()` (call it in afterAll).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, type AppOptions, createApp } from "../../src/app";
import { ManualClock } from "../../src/common/clock";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { type RunningServer, startServer } from "../../src/server";
import { GraphQLTestClient } from "./client";
import { openSubscriptions, type SubscriptionClient } from "./ws";

/** Whether this run is the MongoDB project (see jest.config.js). */
export const onMongo = process.env.TEST_STORE === "mongodb";

const mongoDatabases: string[] = [];

/** A fresh database on the MongoDB deployment of MONGODB_URI (dropped by stopAll). */
export function mongoDatabase(): string {
  const name = `segments_test_${process.pid}_${mongoDatabases.length}_${Date.now().toString(36)}`;
  const uri = process.env.MONGODB_URI!.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)/, `$1/${name}`);
  mongoDatabases.push(uri);
  return uri;
}

export interface TestServer {
  app: App;
  server: RunningServer;
  client: GraphQLTestClient;
  /** A graphql-ws client connected to this server (closed by stopAll). */
  ws(connectionParams?: Record<string, unknown>): SubscriptionClient;
  dir: string;
  /** Where the store lives: a SQLite file, or a MongoDB URI in the MongoDB run. Pass it back as dbPath to restart. */
  dbPath: string;
  /** Stops the server and the app, keeping the database (for restarts). */
  stop(): Promise<void>;
}

const running: (() => Promise<void>)[] = [];
const directories: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "segments-test-"));
  directories.push(dir);
  return dir;
}

export interface StartOptions extends AppOptions {
  /** Reuse a database file (a restart); a fresh one otherwise. */
  dbPath?: string;
  env?: Record<string, string>;
  /** The address to bind (default 127.0.0.1). */
  host?: string;
  /** Collects the server's log lines (parsed JSON) here; the level comes from env LOG_LEVEL (default info when given). */
  logs?: Record<string, unknown>[];
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dir = options.dbPath && !options.dbPath.startsWith("mongodb") ? join(options.dbPath, "..") : tempDir();
  const dbPath = options.dbPath ?? (onMongo ? mongoDatabase() : join(dir, "segments.db"));
  const storeEnv = dbPath.startsWith("mongodb") ? { MONGODB_URI: dbPath } : { SQLITE_PATH: dbPath };
  // Tests make many calls in a burst; the rate-limit tests set their own limit.
  const config = loadConfig({ ...storeEnv, LOG_LEVEL: "silent", NODE_ENV: "test", RATE_LIMIT_PER_SECOND: "1000000", ...options.env });
  const logger = options.logs
    ? createLogger(options.env?.LOG_LEVEL ?? "info", { write: (line: string) => void options.logs!.push(JSON.parse(line)) })
    : createLogger(config.logLevel);
  const app = await createApp(config, logger, options);
  let server: RunningServer;
  try {
    server = await startServer(app, { port: 0, host: options.host ?? "127.0.0.1" });
  } catch (error) {
    await app.stop();
    throw error;
  }
  const sockets: SubscriptionClient[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(sockets.map((socket) => socket.dispose()));
    await server.close();
    await app.stop();
  };
  running.push(stop);
  return {
    app,
    server,
    client: new GraphQLTestClient(server.url),
    ws(connectionParams) {
      const socket = openSubscriptions(server.wsUrl, connectionParams);
      sockets.push(socket);
      return socket;
    },
    dir,
    dbPath,
    stop,
  };
}

/** A server whose clock the test moves; `advanceTo` sets the clock and lets the engine catch up (drain), no waiting. */
export async function startClockedServer(start: string) {
  const clock = new ManualClock(Date.parse(start));
  const server = await startTestServer({ clock });
  const advanceTo = async (instant: string | number) => {
    clock.set(typeof instant === "string" ? Date.parse(instant) : instant);
    await server.app.engine.drain();
  };
  return { ...server, clock, advanceTo };
}

/** Stops every server started by this file and removes its temporary folders and databases. */
export async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((stop) => stop()));
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (mongoDatabases.length > 0) {
    const { MongoClient } = await import("mongodb");
    for (const uri of mongoDatabases.splice(0)) {
      const client = await MongoClient.connect(uri);
      await client.db().dropDatabase();
      await client.close();
    }
  }
}
