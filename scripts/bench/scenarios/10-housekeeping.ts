/**
 * 10. Housekeeping: a database as an older version left it after a busy hour, 2,000,000 applied
 * change-feed entries (quick: 200,000) and 1,000,000 event runs older than the retention (quick:
 * 100,000), in this process. The engine's housekeeping job removes them while the event loop is
 * watched: the longest slice (one transaction), the event loop's longest delay
 * (perf_hooks.monitorEventLoopDelay at 1 ms resolution), and the time it takes. For comparison,
 * the single DELETE the change log was pruned with before, on a copy of the same file.
 */
import Database from "better-sqlite3";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { PruneSlice } from "../../../src/stores/port";
import { copyDb } from "../support/fixtures";
import { openApp } from "../support/server";
import { fmt } from "../support/stats";
import type { Scenario } from "../support/types";

const DAY = 86_400_000;

/** Fills the file directly (an older version's leftovers cannot be made through today's port). */
function fill(path: string, entries: number, events: number, now: number): void {
  const db = new Database(path);
  try {
    db.transaction(() => {
      const change = db.prepare("INSERT INTO changes (kind, list_id, contact_id, payload, created_at) VALUES ('CONTACT_UPDATED', 1, ?, ?, ?)");
      for (let i = 0; i < entries; i++) change.run(1 + (i % 8_000), '{"changed":["city"]}', now - DAY / 24 + Math.floor((i * DAY) / 24 / entries));
      db.prepare("UPDATE engine_state SET checkpoint = ?").run(entries);
      const event = db.prepare("INSERT INTO events (kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at) VALUES (?, 1, ?, 'CONTACT_UPDATED', ?, ?, 100, ?)");
      for (let i = 0; i < events; i++) {
        const size = 1 + (i % 8);
        const contacts = Array.from({ length: size }, (_, k) => 1 + ((i * 8 + k) % 8_000)).join(",");
        event.run(i % 2 === 0 ? "ENTERED" : "LEFT", 1 + (i % 20), contacts, size, now - 14 * DAY + Math.floor((i * 6 * DAY) / events));
      }
    })();
  } finally {
    db.close();
  }
}

export const housekeeping: Scenario = {
  id: 10,
  name: "Housekeeping",
  async run(ctx) {
    const entries = ctx.quick ? 200_000 : 2_000_000;
    const events = ctx.quick ? 100_000 : 1_000_000;
    const now = Date.now();
    const path = ctx.fixtures.path("s10-housekeeping.db");
    // The schema first, by opening the store once.
    await (await openApp(path, { engine: { participate: false } })).stop();
    const filling = performance.now();
    fill(path, entries, events, now);
    ctx.log(`   ${fmt(entries)} applied entries and ${fmt(events)} event runs written in ${((performance.now() - filling) / 1000).toFixed(1)} s`);

    // Before: the change log pruned by one statement, on a copy.
    const copy = copyDb(path, ctx.fixtures.path("s10-one-statement.db"));
    const single = new Database(copy);
    const statementStarted = performance.now();
    single.prepare("DELETE FROM changes WHERE seq <= (SELECT checkpoint FROM engine_state WHERE id = 1) AND created_at < ?").run(now);
    const statementMs = performance.now() - statementStarted;
    single.close();

    const app = await openApp(path, { engine: { pruneIntervalMs: 3_600_000 } });
    try {
      // Each slice's time on the event loop. A slice waits, asynchronously, for a running WAL
      // checkpoint (see checkpointer.ts): that wait is not on the event loop and is not counted.
      const slices: number[] = [];
      const store = app.store as unknown as { pruneSlice(before: number, budgetMs: number): PruneSlice };
      const pruneSlice = store.pruneSlice.bind(store);
      store.pruneSlice = (before, budgetMs) => {
        const started = performance.now();
        try {
          return pruneSlice(before, budgetMs);
        } finally {
          slices.push(performance.now() - started);
        }
      };
      const delay = monitorEventLoopDelay({ resolution: 1 });
      // A timer the whole time, so the loop never idles in a long poll between slices.
      const ticker = setInterval(() => undefined, 1);
      delay.enable();
      const started = performance.now();
      await app.engine.housekeep();
      const seconds = (performance.now() - started) / 1000;
      delay.disable();
      clearInterval(ticker);
      const longest = [...slices].sort((a, b) => b - a);
      const longestDelay = delay.max / 1e6;
      const db = new Database(path, { readonly: true });
      const left = db.prepare("SELECT (SELECT count(*) FROM changes) + (SELECT count(*) FROM events WHERE occurred_at < ?)").pluck().get(now - 7 * DAY) as number;
      db.close();
      return {
        figures: [
          { label: `longest housekeeping slice (${fmt(entries)} entries, ${fmt(events)} event runs)`, value: longest[0]!, unit: "ms", target: { op: "<=", value: 5 } },
          { label: "event loop's longest delay meanwhile", value: longestDelay, unit: "ms", target: { op: "<=", value: 5 } },
          { label: "all of it removed in", value: seconds, unit: "s" },
          { label: "rows left to remove", value: left, unit: "", target: { op: "==", value: 0 } },
          { label: "before: the change log pruned by one DELETE", value: statementMs, unit: "ms" },
        ],
        notes: [
          `${slices.length} slices, ${fmt((entries + events) / seconds)} rows/s; slice times p50 ${longest[Math.floor(slices.length / 2)]!.toFixed(2)} ms, the five longest ${longest
            .slice(0, 5)
            .map((ms) => ms.toFixed(2))
            .join(", ")} ms`,
          `event loop delay over the job: mean ${(delay.mean / 1e6).toFixed(2)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(2)} ms`,
        ],
      };
    } finally {
      await app.stop();
    }
  },
};
