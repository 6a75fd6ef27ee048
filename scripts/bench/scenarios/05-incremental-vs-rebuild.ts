/**
 * 5. Incremental vs rebuild: CPU time the membership engine spends keeping 100 DYNAMIC segments
 * current under 10,000 contact updates (written through the store port in batches of 1,000,
 * each batch then applied by app.engine.drain()), against one pass of the batch approach: re-run
 * every segment's query over the whole list, as a cron rebuild does. The rebuild pass is
 * counted as the 100 queries alone (store.countContacts with the condition, pushed down to
 * SQL), without fetching ids or writing a difference: a lower bound of a real rebuild's cost.
 *
 * WAL checkpoints are made explicit, so each side pays for its own pages: the store is opened
 * without the background checkpointer and without the commit's automatic checkpoint; before each
 * drain an untimed checkpoint writes back the pages of the updates, and after it a timed one
 * writes back the engine's own pages (part of the incremental cost).
 */
import { evalTime, parseCondition } from "../../../src/conditions";
import { cleanContactPatch } from "../../../src/domain/contacts";
import { CATALOG, mix, rng } from "../data";
import { ListModel } from "../support/model";
import { measuredInProcess } from "../support/profile";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { openApp } from "../support/server";
import { fmt, median } from "../support/stats";
import type { Scenario } from "../support/types";

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export const incrementalVsRebuild: Scenario = {
  id: 5,
  name: "Incremental vs rebuild",
  async run(ctx) {
    const fixture = await ctx.fixtures.mid();
    const batches = ctx.quick ? 3 : 10;
    const batchSize = 1_000;
    const model = new ListModel(fixture);
    const path = ctx.fixtures.copy(fixture, "s5-incremental");
    const store = SqliteStore.open(path, { backgroundCheckpoints: false });
    store.db.pragma("wal_autocheckpoint = 0");
    const checkpoint = () => store.db.pragma("wal_checkpoint(PASSIVE)");
    const app = await openApp(path, { store });
    try {
      const list = (await app.store.getLists([fixture.listId]))[0]!;
      const asts = fixture.segments.map((segment) => parseCondition(segment.spec.condition, CATALOG).ast);
      const r = rng(mix(5005, 5));
      const at = evalTime(Date.now());

      // Warm-up: one small batch and one query pass, untimed.
      const pick = () => Math.floor(r() * fixture.count);
      const writeBatch = async (size: number) => {
        let transitions = 0;
        for (let i = 0; i < size; i++) {
          const index = pick();
          const input = model.randomPatch(index, r, at.now);
          transitions += model.transitions(index, input, at).length;
          model.apply({ index, contactId: fixture.contactIds[index]!, input, transitions: [] });
          await app.store.updateContact(fixture.contactIds[index]!, cleanContactPatch(input, CATALOG), list, Date.now());
        }
        return transitions;
      };
      await writeBatch(100);
      await app.engine.drain();
      checkpoint();
      const rebuildPass = async () => {
        const at = evalTime(Date.now());
        let members = 0;
        for (const ast of asts) members += await app.store.countContacts(fixture.listId, ast, at);
        return members;
      };
      await rebuildPass();

      const incremental: number[] = [];
      let transitions = 0;
      // Profiled (when profiling) over the engine's drains only, not the writes between them.
      const inProcessProfile = <T>(fn: () => Promise<T>) => (ctx.profiling ? ctx.profiling.inProcess("incremental", fn) : fn());
      const drainWindow = <T>(fn: () => Promise<T>) => (ctx.profiling ? ctx.profiling.window("engine drains", fn) : fn());
      await inProcessProfile(async () => {
        for (let b = 0; b < batches; b++) {
          transitions += await writeBatch(batchSize);
          checkpoint();
          const cpu = process.cpuUsage();
          await drainWindow(async () => {
            await app.engine.drain();
            checkpoint();
          });
          incremental.push(cpuMs(cpu));
        }
      });
      const rebuild: number[] = [];
      let members = 0;
      await measuredInProcess(ctx, "rebuild", async () => {
        for (let pass = 0; pass < 3; pass++) {
          const cpu = process.cpuUsage();
          members = await rebuildPass();
          rebuild.push(cpuMs(cpu));
        }
      });
      const perBatch = incremental.reduce((s, x) => s + x, 0) / incremental.length;
      const pass = median(rebuild);
      const ratio = pass / perBatch;
      return {
        figures: [
          { label: "engine CPU per 1,000 updates", value: perBatch, unit: "ms" },
          { label: "one rebuild pass (100 queries)", value: pass, unit: "ms" },
          { label: "rebuild pass ÷ incremental batch", value: ratio, unit: "×", target: { op: ">=", value: 100 } },
        ],
        notes: [
          `list of ${fmt(fixture.count)} contacts, ${asts.length} DYNAMIC segments (${fmt(members)} memberships); ${fmt(batches * batchSize)} realistic updates in ${batches} batches of ${fmt(batchSize)}, causing ${fmt(transitions)} transitions`,
          `engine CPU per batch (ms): ${incremental.map((x) => x.toFixed(0)).join(", ")}; rebuild passes (ms): ${rebuild.map((x) => x.toFixed(0)).join(", ")}; process CPU time (user + system), store and engine in this process, the batch's WAL checkpoint included`,
          `10,000 updates cost ${fmt(perBatch * batches)} ms of engine CPU incrementally; keeping segments as current with rebuilds would take one pass per batch: ${fmt(pass * batches)} ms`,
        ],
      };
    } finally {
      await app.stop();
    }
  },
};
