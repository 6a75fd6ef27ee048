/**
 * 5. Incremental vs rebuild: CPU time the membership engine spends keeping 100 DYNAMIC segments
 * current under 10,000 contact updates (written through the store port in batches of 1,000,
 * each batch then applied by app.engine.drain()), against one pass of the batch approach: re-run
 * every segment's query over the whole list, as a cron rebuild does. The rebuild pass is
 * counted as the 100 queries alone (store.countContacts with the condition, pushed down to
 * SQL), without fetching ids or writing a difference: a lower bound of a real rebuild's cost.
 * The ratio is of the median pass to the median batch, each side warmed up first.
 *
 * WAL checkpoints are made explicit, so each side pays for its own pages: the store is opened
 * without the background checkpointer and without the commit's automatic checkpoint; before each
 * drain an untimed checkpoint writes back the pages of the updates, and after it a timed one
 * writes back the engine's own pages (part of the incremental cost).
 */
import { evalTime, parseCondition } from "../../../src/conditions";
import { cleanContactPatch } from "../../../src/domain/contacts";
import type { PendingEvent } from "../../../src/engine/membership";
import { eventRuns } from "../../../src/stores/event-runs";
import { CATALOG, mix, rng } from "../data";
import { ListModel } from "../support/model";
import { measuredInProcess } from "../support/profile";
import { StatementCache } from "../../../src/stores/sqlite/database";
import { BlockCache, MemberBlocks } from "../../../src/stores/sqlite/member-blocks";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { openApp } from "../support/server";
import { collectGarbage } from "../support/gc";
import { fmt, mean, median } from "../support/stats";
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

      // Each side is warmed up, untimed, by one round of what it measures just before it is
      // measured (a batch of updates and its drain; a query pass), so that neither figure
      // includes JIT compilation and cold caches, and neither side's warm-up (the rebuild pass
      // reads the whole list through SQLite's page cache) cools the other's caches.
      const pick = () => Math.floor(r() * fixture.count);
      const writeBatch = async (size: number) => {
        let transitions = 0;
        for (let i = 0; i < size; i++) {
          const index = pick();
          const input = model.randomPatch(index, r, at.now);
          transitions += model.transitions(index, input, at).length;
          model.apply({ index, contactId: fixture.contactIds[index]!, input, transitions: [] });
          await app.store.updateContact(fixture.contactIds[index]!, list.workspaceId, () => cleanContactPatch(input, CATALOG), Date.now());
        }
        return transitions;
      };
      collectGarbage();
      await writeBatch(batchSize);
      await app.engine.drain();
      checkpoint();
      const rebuildPass = async () => {
        const at = evalTime(Date.now());
        let members = 0;
        for (const ast of asts) members += await app.store.countContacts(fixture.listId, ast, at);
        return members;
      };

      const incremental: number[] = [];
      const incrementalWall: number[] = [];
      let transitions = 0;
      // Profiled (when profiling) over the engine's drains only, not the writes between them.
      const inProcessProfile = <T>(fn: () => Promise<T>) => (ctx.profiling ? ctx.profiling.inProcess("incremental", fn) : fn());
      const drainWindow = <T>(fn: () => Promise<T>) => (ctx.profiling ? ctx.profiling.window("engine drains", fn) : fn());
      await inProcessProfile(async () => {
        for (let b = 0; b < batches; b++) {
          transitions += await writeBatch(batchSize);
          checkpoint();
          const cpu = process.cpuUsage();
          const started = performance.now();
          await drainWindow(async () => {
            await app.engine.drain();
            checkpoint();
          });
          incremental.push(cpuMs(cpu));
          incrementalWall.push(performance.now() - started);
        }
      });
      const rebuild: number[] = [];
      let members = 0;
      await rebuildPass();
      await measuredInProcess(ctx, "rebuild", async () => {
        for (let pass = 0; pass < 3; pass++) {
          const cpu = process.cpuUsage();
          members = await rebuildPass();
          rebuild.push(cpuMs(cpu));
        }
      });
      await app.stop();

      // The storage floor: as many membership flips as a batch caused, written alone on a fresh
      // copy — random (segment, contact) pairs of the list, a member leaving or a non-member
      // entering (its bit in the segment's block), the events in one row per segment and kind,
      // the touched segments' counts, the checkpoint row, the commit and the WAL checkpoint; no
      // contact read, no predicate. What any batch of that many transitions costs in this
      // storage layout, whatever the engine does around it.
      const flipsPerBatch = Math.round(transitions / batches);
      const floorPath = ctx.fixtures.copy(fixture, "s5-floor");
      const floorStore = SqliteStore.open(floorPath, { backgroundCheckpoints: false });
      const floor: number[] = [];
      try {
        const db = floorStore.db;
        db.pragma("wal_autocheckpoint = 0");
        const segmentIds = fixture.segments.map((segment) => Number(segment.id));
        const contactIds = fixture.contactIds.map(Number);
        // Blocks are read through a cache kept across batches, as the engine keeps its own.
        const blocks = new BlockCache(new MemberBlocks(new StatementCache(db)));
        const event = db.prepare(
          "INSERT INTO events (kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at) VALUES (?, ?, ?, 'CONTACT_UPDATED', ?, ?, 0, ?)",
        );
        const count = db.prepare("UPDATE segments SET member_count = member_count + ? WHERE id = ?");
        const state = db.prepare("UPDATE engine_state SET checkpoint = checkpoint + 1 WHERE id = 1");
        const fr = rng(mix(5005, 55));
        const pairs = (n: number) =>
          Array.from({ length: n }, () => {
            const segment = segmentIds[Math.floor(fr() * segmentIds.length)]!;
            const contact = contactIds[Math.floor(fr() * contactIds.length)]!;
            return { segment, contact, member: blocks.has(String(segment), contact) };
          });
        const writeFlips = (flips: ReturnType<typeof pairs>) => {
          const cpu = process.cpuUsage();
          db.transaction(() => {
            const deltas = new Map<number, number>();
            const events: PendingEvent[] = [];
            const now = Date.now();
            for (const { segment, contact, member } of flips) {
              blocks.set(String(segment), contact, !member);
              const kind = member ? "LEFT" : "ENTERED";
              events.push({ seq: 0, kind, listId: fixture.listId, segmentId: String(segment), contactId: String(contact), reason: "CONTACT_UPDATED", memberCount: 0, occurredAt: now });
              deltas.set(segment, (deltas.get(segment) ?? 0) + (member ? -1 : 1));
            }
            // Event rows as the engine stores them: its runs per segment, kind and reason.
            for (const run of eventRuns(events)) {
              event.run(run[0]!.kind, Number(fixture.listId), Number(run[0]!.segmentId), run.map((e) => e.contactId).join(","), run.length, now);
            }
            blocks.flush();
            for (const [segment, delta] of deltas) count.run(delta, segment);
            state.run();
          }).immediate();
          db.pragma("wal_checkpoint(PASSIVE)");
          return cpuMs(cpu);
        };
        db.pragma("wal_checkpoint(TRUNCATE)");
        writeFlips(pairs(Math.min(100, flipsPerBatch)));
        for (let b = 0; b < batches; b++) {
          // Distinct pairs within a batch, as in an engine step (a pair flips at most once).
          const seen = new Set<string>();
          const flips = pairs(flipsPerBatch * 2).filter(({ segment, contact }) => !seen.has(`${segment}:${contact}`) && seen.add(`${segment}:${contact}`)).slice(0, flipsPerBatch);
          floor.push(writeFlips(flips));
        }
      } finally {
        await floorStore.close();
      }

      // Both sides by their median: the first batches after the warm-up also pay for V8
      // compiling the engine's hot functions on its background threads (their user CPU time
      // exceeds their wall time), a one-time cost of a fresh process. The mean is reported too.
      const perBatch = median(incremental);
      const meanBatch = mean(incremental);
      const floorPerBatch = mean(floor);
      const pass = median(rebuild);
      const ratio = pass / perBatch;
      return {
        figures: [
          { label: "engine CPU per 1,000 updates (median batch)", value: perBatch, unit: "ms" },
          { label: "one rebuild pass (100 queries, median pass)", value: pass, unit: "ms" },
          { label: "rebuild pass ÷ incremental batch", value: ratio, unit: "×", target: { op: ">=", value: 100 } },
          { label: "the same with the mean batch (first batches' compilation included)", value: pass / meanBatch, unit: "×" },
          { label: `floor: ${fmt(flipsPerBatch)} membership flips written alone (bits, events, counts, commit, checkpoint)`, value: floorPerBatch, unit: "ms" },
          { label: "rebuild pass ÷ that floor", value: pass / floorPerBatch, unit: "×" },
        ],
        notes: [
          `list of ${fmt(fixture.count)} contacts, ${asts.length} DYNAMIC segments (${fmt(members)} memberships); ${fmt(batches * batchSize)} realistic updates in ${batches} batches of ${fmt(batchSize)}, causing ${fmt(transitions)} transitions`,
          `engine CPU per batch (ms): ${incremental.map((x) => x.toFixed(0)).join(", ")}; rebuild passes (ms): ${rebuild.map((x) => x.toFixed(0)).join(", ")}; process CPU time (user + system, all threads), store and engine in this process, the batch's WAL checkpoint included`,
          `wall time per batch (ms): ${incrementalWall.map((x) => x.toFixed(0)).join(", ")}`,
          `10,000 updates cost ${fmt(meanBatch * batches)} ms of engine CPU incrementally; keeping segments as current with rebuilds would take one pass per batch: ${fmt(pass * batches)} ms`,
          `storage floor per batch of ${fmt(flipsPerBatch)} flips (ms): ${floor.map((x) => x.toFixed(0)).join(", ")}: the 100 × target leaves ${fmt(pass / 100)} ms per batch, of which writing the flips alone takes ${Math.round((100 * floorPerBatch) / (pass / 100))} %`,
        ],
      };
    } finally {
      await app.stop();
    }
  },
};
