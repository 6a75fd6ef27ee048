/** Floors that more than one scenario measures: what a part of the work costs alone. */
import type { ContactInputShape } from "../../../src/domain/contacts";
import { cleanContact } from "../../../src/domain/contacts";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { CATALOG, CUSTOM_FIELDS } from "../data";
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
 * The store write alone: batches of contacts, each validated outside the clock, written by the
 * store port's insertContacts into a fresh database (no segments, no engine, no HTTP).
 */
export async function storeWriteFloor(batches: Iterable<ContactInputShape[]>, path: string): Promise<{ ms: number; rate: number }> {
  rmDb(path);
  const store = SqliteStore.open(path);
  try {
    const list = await store.createList({ workspaceId: "bench", name: "store write floor", customFields: CUSTOM_FIELDS }, Date.now());
    let [ms, total] = [0, 0];
    for (const batch of batches) {
      const rows = batch.map((input) => ({ data: cleanContact(input, CATALOG), patch: { fields: {} } }));
      const t0 = performance.now();
      const result = await store.insertContacts(list, rows, false, Date.now());
      ms += performance.now() - t0;
      if (result.added !== rows.length) throw new Error(`store write floor: added ${result.added} of ${rows.length}`);
      total += rows.length;
    }
    return { ms, rate: total / (ms / 1000) };
  } finally {
    await store.close();
    rmDb(path);
  }
}
