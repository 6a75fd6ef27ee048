/**
 * Prometheus metrics at GET /metrics: the process (resident memory, open descriptors, event-loop
 * delay, garbage collection; prom-client's defaults) and the service (engine lead and lag,
 * subscription streams). No contact data. Each scrape reports the event loop's longest delay
 * since the previous scrape. With WORKERS > 1 a scrape answered by any worker reports the whole
 * cluster: the worker asks the primary, which gathers every worker's registry (prom-client's
 * AggregatorRegistry; process figures summed, store-wide gauges once).
 */
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { METRICS_REPLY, METRICS_REQUEST } from "./cluster";
import type { App } from "./app";
import type { ResponseCacheStats } from "./graphql/response-cache";

export function createMetrics(app: App, responseCache?: ResponseCacheStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { engine, services } = app;
  new Gauge({
    name: "segments_engine_leader",
    help: "1 when this process holds the engine lease and applies changes.",
    registers: [registry],
    collect() {
      this.set(engine.isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: "segments_engine_pending_changes",
    help: "Change-feed entries written but not yet applied to segments.",
    registers: [registry],
    // Every worker reads the same store: across a cluster the value is one, not a sum.
    aggregator: "max",
    async collect() {
      this.set((await engine.lag()).pendingChanges);
    },
  });
  new Gauge({
    name: "segments_building_segments",
    help: "Segments still computing their initial membership.",
    registers: [registry],
    aggregator: "max",
    async collect() {
      this.set((await engine.lag()).building);
    },
  });
  new Gauge({
    name: "segments_subscription_streams",
    help: "Subscription streams open in this process.",
    registers: [registry],
    collect() {
      this.set(services.events.activeStreams);
    },
  });
  if (responseCache) {
    const counted = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counted("segments_response_cache_hits_total", "Queries answered from the exact response cache.", () => responseCache.hits);
    counted("segments_response_cache_misses_total", "Cacheable queries executed (not cached yet, or the store changed since).", () => responseCache.misses);
  }
  return registry;
}

/** What GET /metrics answers with: this process's registry, or in a cluster worker the cluster's. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export function metricsSource(app: App, responseCache: ResponseCacheStats): MetricsSource {
  const registry = createMetrics(app, responseCache);
  if (!cluster.isWorker) return registry;
  // The primary asks every worker's registry, this one included. prom-client answers those
  // requests once an AggregatorRegistry exists in the process (its constructor installs the
  // listener), from the registries set here.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  return {
    contentType: registry.contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = randomUUID();
        const timer = setTimeout(() => {
          process.off("message", onReply);
          reject(new Error("the cluster's metrics did not arrive within 5 s"));
        }, 5_000);
        const onReply = (message: unknown) => {
          const reply = message as { type?: string; id?: string; text?: string; error?: string };
          if (reply?.type !== METRICS_REPLY || reply.id !== id) return;
          clearTimeout(timer);
          process.off("message", onReply);
          if (reply.error !== undefined) reject(new Error(reply.error));
          else resolve(reply.text ?? "");
        };
        process.on("message", onReply);
        process.send!({ type: METRICS_REQUEST, id });
      }),
  };
}
