/** Starts the service: config → store → engine → server; stops cleanly on SIGTERM / SIGINT. */
import "reflect-metadata";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { StartupRefused, startServer } from "./server";
import { MongoDeploymentError, redactUri } from "./stores/mongo/errors";

async function main(): Promise<void> {
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
  const logger = createLogger(config.logLevel);
  let app;
  try {
    app = await createApp(config, logger);
  } catch (error) {
    if (error instanceof MongoDeploymentError) {
      logger.fatal(error.message);
      process.exit(2);
    }
    if (/^Mongo(ose)?(ServerSelection|Parse)Error$/.test((error as Error).name)) {
      logger.fatal(`cannot use MongoDB at ${redactUri(config.mongodbUri ?? "")}: ${(error as Error).message}`);
      process.exit(2);
    }
    throw error;
  }
  let server;
  try {
    server = await startServer(app, { port: config.port, host: config.host });
  } catch (error) {
    await app.stop();
    if (error instanceof StartupRefused) {
      logger.fatal(error.message);
      process.exit(2);
    }
    throw error;
  }
  const where = config.mongodbUri ? { mongodb: redactUri(config.mongodbUri) } : { sqlitePath: config.sqlitePath };
  logger.info({ url: server.url, store: app.store.kind, ...where }, `segments is serving ${server.url}`);

  let stopping = false;
  const running = server;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing in-flight requests");
    try {
      await running.close();
      await app.stop();
      logger.info("stopped cleanly");
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "unclean stop");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
