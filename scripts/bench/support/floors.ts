/** Floors that more than one scenario measures: what a part of the work costs alone. */
import { parseCondition } from "../../../src/conditions";
import type { ContactInputShape } from "../../../src/domain/contacts";
import { cleanContact } from "../../../src/domain/contacts";
import { ENGINE_LEASE, type ListRecord } from "../../../src/stores/port";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { CATALOG, CUSTOM_FIELDS, type SegmentSpec } from "../data";
import { rmDb } from "./fixtures";
import { collectGarbage } from "./gc";

/**
 * What `work` keeps in the JavaScript heap: a full collection every 100 ms while it runs, and the
 * highest heap used after one, less the heap used after one before it (MiB). Garbage not yet
 * collected is not counted, so a process that buffers nothing stays flat however much it moves.
 */
export async function retainedHeap<T>(work: () => Promise<T>): Promise<{ value: T; baseMiB: number; growthMiB: number }> {
  const used = () => {
    collectGarbage();
    return process.memoryUsage().heapUsed / 1_048_576;
  };
  const base = used();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, used())), 100);
  try {
    const value = await work();
    return { value, baseMiB: base, growthMiB: Math.max(peak, used()) - base };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Writes `batches`, each validated outside the clock, through the store port's insertContacts
 * into a list of a fresh database (readied first by `prepare`), and times, per batch, the write
 * itself or, given `afterEach`, only that (the write then outside the clock).
 */
async function timedBatches(
  path: string,
  name: string,
  batches: Iterable<ContactInputShape[]>,
  options: { prepare?(store: SqliteStore, list: ListRecord): Promise<void>; afterEach?(store: SqliteStore): Promise<void> } = {},
): Promise<{ ms: number; rate: number }> {
  rmDb(path);
  const store = SqliteStore.open(path);
  try {
    const list = await store.createList({ workspaceId: "bench", name, customFields: CUSTOM_FIELDS }, Date.now());
    await options.prepare?.(store, list);
    let [ms, total] = [0, 0];
    for (const batch of batches) {
      const rows = batch.map((input) => ({ data: cleanContact(input, CATALOG), patch: { fields: {} } }));
      const t0 = performance.now();
      const result = await store.insertContacts(list, rows, false, Date.now());
      if (!options.afterEach) ms += performance.now() - t0;
      if (result.added !== rows.length) throw new Error(`${name}: added ${result.added} of ${rows.length}`);
      if (options.afterEach) {
        const t1 = performance.now();
        await options.afterEach(store);
        ms += performance.now() - t1;
      }
      total += rows.length;
    }
    return { ms, rate: total / (ms / 1000) };
  } finally {
    await store.close();
    rmDb(path);
  }
}

/**
 * The store write alone: batches of contacts, each validated outside the clock, written by the
 * store port's insertContacts into a fresh database (no segments, no engine, no HTTP).
 */
export function storeWriteFloor(batches: Iterable<ContactInputShape[]>, path: string): Promise<{ ms: number; rate: number }> {
  return timedBatches(path, "store write floor", batches);
}

/**
 * The membership work alone: the same batches written as by storeWriteFloor (outside the clock)
 * into a fresh database whose list has `segments` (DYNAMIC, built while the list was empty), each
 * followed by the engine steps that apply it, timed. That is the change feed read, the conditions
 * evaluated, and memberships, join times and events written, by the store port's engineStep in
 * the writing process (as the service's engine runs them); no validation, no HTTP.
 */
export async function membershipFloor(batches: Iterable<ContactInputShape[]>, segments: readonly SegmentSpec[], path: string): Promise<{ ms: number; rate: number; steps: number }> {
  const holder = "bench membership floor";
  let steps = 0;
  // As the service's engine steps (its defaults: 2,000 feed entries and 100,000 contacts of a build a step).
  const drain = async (store: SqliteStore) => {
    for (;;) {
      const step = await store.engineStep({ holder, wallNow: Date.now(), now: Date.now(), maxChanges: 2_000, buildChunk: 100_000 });
      if (!step.leader) throw new Error("membership floor: the engine lease was lost");
      steps++;
      if (!step.more) return;
    }
  };
  const timed = await timedBatches(path, "membership floor", batches, {
    async prepare(store, list) {
      for (const spec of segments) {
        await store.createSegment({ listId: list.id, name: spec.name, type: "DYNAMIC", condition: parseCondition(spec.condition, CATALOG).stored }, Date.now());
      }
      if (!(await store.acquireLease(ENGINE_LEASE, holder, Date.now(), 3_600_000))) throw new Error("membership floor: the engine lease is taken");
      await drain(store);
      steps = 0;
    },
    afterEach: drain,
  });
  return { ...timed, steps };
}
