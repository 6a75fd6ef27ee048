/**
 * The composition root: config → store → event feed → engine → services. The HTTP/WebSocket
 * server (server.ts) is built on top; scripts use the same pieces without a server.
 */
import { type Clock, systemClock } from "./common/clock";
import type { Config } from "./config";
import { MembershipEngine, type EngineOptions } from "./engine/engine";
import { EventFeed } from "./engine/event-feed";
import type { Logger } from "./logger";
import { createServices, type ServiceSettings, type Services } from "./services";
import type { Store } from "./stores/port";
import type { MongoStore as MongoStoreClass } from "./stores/mongo/store";
import { SqliteStore } from "./stores/sqlite/store";
import { WebhookSender } from "./webhooks/delivery";
import { type DispatcherOptions, WebhookDispatcher } from "./webhooks/dispatcher";
import { type Resolver, UrlPolicy } from "./webhooks/url-policy";

export interface AppOptions {
  clock?: Clock;
  engine?: EngineOptions;
  settings?: Partial<ServiceSettings>;
  /** Capacity of the in-memory event ring. */
  eventRing?: number;
  /** A store opened by the caller (with its own options), instead of the one the config names. */
  store?: Store;
  webhooks?: DispatcherOptions & {
    /** How webhook hosts are resolved (tests map names to addresses of their choice). */
    resolver?: Resolver;
    /** How long a receiver has to answer (10 s). */
    timeoutMs?: number;
  };
}

export interface App {
  config: Config;
  store: Store;
  services: Services;
  engine: MembershipEngine;
  feed: EventFeed;
  webhooks: WebhookDispatcher;
  logger: Logger;
  stop(): Promise<void>;
}

/** MongoDB when MONGODB_URI is set, the embedded SQLite file otherwise. */
export async function openStore(config: Config, logger?: Logger): Promise<Store> {
  if (config.mongodbUri) {
    // Loaded only when used: the embedded store never pays for mongoose.
    const { MongoStore } = require("./stores/mongo/store") as { MongoStore: typeof MongoStoreClass };
    return MongoStore.open(config.mongodbUri, { retentionMs: config.eventRetentionMs });
  }
  return SqliteStore.open(config.sqlitePath, {
    // A process that leaves checkpoints to another never checkpoints on commit either.
    ...(config.walCheckpoints ? {} : { backgroundCheckpoints: false, walAutocheckpointPages: 0 }),
    onCheckpointError: (error) => logger?.error({ err: error }, "WAL checkpoint worker failed: checkpoints run on commit again"),
  });
}

export async function createApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? (await openStore(config, logger));
  const feed = new EventFeed(store, options.eventRing);
  const engine = new MembershipEngine(store, clock, feed, logger.child({ component: "engine" }), {
    leaseTtlMs: config.engineLeaseTtlMs,
    retentionMs: config.eventRetentionMs,
    importRetentionMs: config.importRetentionMs,
    participate: config.engineEnabled,
    buildChunk: config.engineBuildChunk,
    ...options.engine,
  });
  const { resolver, timeoutMs, ...dispatcherOptions } = options.webhooks ?? {};
  const sender = new WebhookSender(new UrlPolicy(config.webhookAllowPrivateUrls, resolver), timeoutMs);
  const webhooks = new WebhookDispatcher(store, feed, clock, sender, logger.child({ component: "webhooks" }), {
    participate: config.engineEnabled,
    leaseTtlMs: config.engineLeaseTtlMs,
    ...dispatcherOptions,
  });
  const services = createServices({
    store,
    engine,
    feed,
    clock,
    settings: { writeSettleMs: 5_000, segmentSettleMs: 250, ...options.settings },
    dispatcher: webhooks,
  });
  await engine.start();
  await webhooks.start();
  let stopped = false;
  return {
    config,
    store,
    services,
    engine,
    feed,
    webhooks,
    logger,
    async stop() {
      if (stopped) return;
      stopped = true;
      await webhooks.stop();
      await engine.stop();
      feed.close();
      await store.close();
    },
  };
}
