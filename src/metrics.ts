/**
 * Prometheus metrics at GET /metrics: the process (resident memory, open descriptors, event-loop
 * delay, garbage collection; prom-client's defaults) and the service (engine lead and lag,
 * subscription streams). No contact data. Each scrape reports the event loop's longest delay
 * since the previous scrape.
 */
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { App } from "./app";

export function createMetrics(app: App): Registry {
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
    async collect() {
      this.set((await engine.lag()).pendingChanges);
    },
  });
  new Gauge({
    name: "segments_building_segments",
    help: "Segments still computing their initial membership.",
    registers: [registry],
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
  return registry;
}
