/**
 * Starts the service: config → store → engine → server; stops cleanly on SIGTERM / SIGINT.
 * With WORKERS > 1 this process becomes a cluster primary (cluster.ts) and each worker runs the
 * same start, on the one shared port.
 */
import "reflect-metadata";
import cluster from "node:cluster";
import v8 from "node:v8";
import { createApp } from "./app";
import { EXIT_CANNOT_START, FORCE_STOP, runPrimary, STOP } from "./cluster";
import { metricsSource } from "./metrics";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { type RunningServer, StartupRefused, startServer } from "./server";
import { MongoDeploymentError, redactUri } from "./stores/mongo/errors";

/**
 * The old generation may grow to twice what survived the last full collection before the next
 * one. V8's own factor reaches four when full collections are cheap, as they are here: bulk work
 * (a CSV import, a burst of writes) promotes the rows it has in flight, which die soon after, and
 * a 1,000,000-row import grew the resident memory by 250 MiB while keeping 10 MiB. With two, the
 * growth stays within half of that at no measured cost in throughput (docs/benchmarks.md,
 * scenario 12). V8 reads the factor at each collection; a value given on the command line wins.
 */
function boundHeapGrowth(): void {
  if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg))) v8.setFlagsFromString("--heap-growing-percent=100");
}

async function main(): Promise<void> {
  boundHeapGrowth();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const root = createLogger(config.logLevel);
  // A worker's lines name it: its requests, its engine role, its stop.
  const logger = cluster.isWorker ? root.child({ worker: cluster.worker!.id, pid: process.pid }) : root;
  const where: Record<string, string> = config.mongodbUri ? { mongodb: redactUri(config.mongodbUri) } : { sqlitePath: config.sqlitePath };
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, logger, where);
  const worker = cluster.isWorker;
  // The primary may ask a worker to stop while it starts (a SIGTERM during start-up): kept for
  // when it has started, since a message nobody listens for is lost.
  let asked: typeof STOP | typeof FORCE_STOP | null = null;
  const askedEarly = (message: unknown) => {
    if (message === STOP || message === FORCE_STOP) asked = asked === FORCE_STOP ? asked : message;
  };
  if (worker) process.on("message", askedEarly);
  let app;
  try {
    app = await createApp(config, logger);
  } catch (error) {
    if (error instanceof MongoDeploymentError) {
      logger.fatal(error.message);
      process.exit(EXIT_CANNOT_START);
    }
    if (/^Mongo(ose)?(ServerSelection|Parse)Error$/.test((error as Error).name)) {
      logger.fatal(`cannot use MongoDB at ${redactUri(config.mongodbUri ?? "")}: ${(error as Error).message}`);
      process.exit(EXIT_CANNOT_START);
    }
    throw error;
  }
  let server: RunningServer | null = null;
  if (worker && config.workerRole === "engine") {
    // The cluster's engine worker: the engine and the webhook sender, no HTTP; its figures join the cluster's metrics.
    if (config.metrics) metricsSource(app, { hits: 0, misses: 0, size: 0 });
    logger.info({ store: app.store.kind, engine: app.engine.isLeader ? "leader" : "standby", holder: app.engine.holder }, "worker running the engine");
  } else {
    try {
      server = await startServer(app, { port: config.port, host: config.host, fromPrimary: worker });
    } catch (error) {
      await app.stop();
      if (error instanceof StartupRefused) {
        logger.fatal(error.message);
        process.exit(EXIT_CANNOT_START);
      }
      throw error;
    }
    if (worker) logger.info({ store: app.store.kind }, "worker serving");
    else logger.info({ url: server.url, store: app.store.kind, ...where }, `segments is serving ${server.url}`);
  }

  let stopping = false;
  const running = server;
  // Bounds the whole stop: whatever it waits for, the process ends and the lease is free.
  const stopBudgetMs = config.shutdownDelayMs + config.shutdownTimeoutMs + 10_000;
  const forceExit = async (reason: string) => {
    logger.error({ reason }, "stopping: forced exit");
    await app.engine.releaseLease().catch((error) => logger.error({ err: error }, "releasing the engine lease failed"));
    process.exit(1);
  };
  const stop = async (signal: string) => {
    if (stopping) {
      await forceExit(`a second ${signal}`);
      return;
    }
    stopping = true;
    logger.info({ signal }, running ? "stopping: finishing in-flight requests" : "stopping: the engine finishes its step");
    // Referenced on purpose: a stop stuck on something else must not end as a quiet exit 0.
    setTimeout(() => void forceExit(`the stop took longer than ${stopBudgetMs} ms`), stopBudgetMs);
    try {
      const { requestsFinished } = running ? await running.close() : { requestsFinished: true };
      await app.stop();
      if (requestsFinished) logger.info("stopped cleanly");
      else logger.warn("stopped; requests still running after SHUTDOWN_TIMEOUT were cut off");
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "unclean stop");
      await forceExit("the stop failed");
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  if (!worker) {
    process.on("SIGINT", () => void stop("SIGINT"));
    return;
  }
  // A worker stops when its primary says so, or goes away; Ctrl-C reaches the primary, which tells it.
  process.on("SIGINT", () => undefined);
  const onMessage = (message: unknown) => {
    if (message === STOP && !stopping) void stop("the primary's request");
    else if (message === FORCE_STOP) void forceExit("the primary's second signal");
  };
  process.off("message", askedEarly);
  process.on("message", onMessage);
  process.on("disconnect", () => {
    if (!stopping) void stop("the primary went away");
  });
  if (asked !== null) onMessage(asked);
  else if (!process.connected) void stop("the primary went away");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
