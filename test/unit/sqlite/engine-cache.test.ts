/**
 * Engine steps on SQLite where a step's parts meet: contact changes and a segment build in one
 * step, two engines taking turns on one file, each keeping membership blocks between its steps
 * (two connections, as two processes would have), and contacts the engine's own process added,
 * which its steps take as written instead of reading them back.
 */
import { join } from "node:path";
import { catalogOf, parseCondition } from "../../../src/conditions";
import { cleanContact, cleanContactPatch } from "../../../src/domain/contacts";
import { ENGINE_LEASE, type ListRecord } from "../../../src/stores/port";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { WrittenFacts } from "../../../src/stores/sqlite/written-facts";
import { stopAll, tempDir } from "../../support/harness";

afterAll(stopAll);

async function settle(store: SqliteStore, holder: string, now: number): Promise<void> {
  expect(await store.acquireLease(ENGINE_LEASE, holder, Date.now(), 60_000)).toBe(true);
  for (;;) {
    const step = await store.engineStep({ holder, wallNow: Date.now(), now, maxChanges: 1_000, buildChunk: 1_000 });
    expect(step.leader).toBe(true);
    if (!step.more) break;
  }
  await store.releaseLease(ENGINE_LEASE, holder);
}

async function openList(store: SqliteStore, now: number) {
  const list: ListRecord = await store.createList({ workspaceId: "w", name: "Shared", customFields: [] }, now);
  const catalog = catalogOf(list.customFields);
  const countries = ["Norway", "Sweden"];
  const { ids } = await store.insertContacts(
    list,
    Array.from({ length: 40 }, (_, i) => ({ data: cleanContact({ email: `c${i}@example.com`, country: countries[i % 2] }, catalog), patch: { fields: {} } })),
    false,
    now,
  );
  const createNorway = () =>
    store.createSegment(
      { listId: list.id, name: "Norway", type: "DYNAMIC", condition: parseCondition({ field: "country", operator: "EQUALS", value: "Norway" }, catalogOf(list.customFields)).stored },
      now,
    );
  return { list, catalog, ids: ids.map((id) => id!), createNorway };
}

test("a segment built in the step that applies its list's new contacts counts them once", async () => {
  const store = SqliteStore.open(join(tempDir(), "one.db"), { backgroundCheckpoints: false });
  try {
    const now = Date.UTC(2026, 0, 1);
    // 40 added contacts are still in the change feed when the segment is created: one step
    // evaluates them (the building segment's count moves with them) and then builds it.
    const { createNorway } = await openList(store, now);
    const segment = await createNorway();
    await settle(store, "a", now);
    expect((await store.pageMembers(segment.id, 100)).items).toHaveLength(20);
    expect((await store.getSegments([segment.id]))[0]).toMatchObject({ status: "READY", memberCount: 20 });
    expect((await store.verify()).differences).toEqual([]);
  } finally {
    await store.close();
  }
});

test("engines of two connections taking turns keep memberships exact", async () => {
  const path = join(tempDir(), "shared.db");
  const a = SqliteStore.open(path, { backgroundCheckpoints: false });
  const b = SqliteStore.open(path, { backgroundCheckpoints: false });
  try {
    const now = Date.UTC(2026, 0, 1);
    const { list, catalog, ids, createNorway } = await openList(a, now);
    await settle(a, "a", now);
    const segment = await createNorway();
    await settle(a, "a", now);
    const expectNorway = async (members: number) => {
      expect((await a.pageMembers(segment.id, 100)).items).toHaveLength(members);
      expect((await a.getSegments([segment.id]))[0]!.memberCount).toBe(members);
    };
    await expectNorway(20);

    // Each turn moves the same contacts back and forth, so an engine that applied a change over
    // its stale copy of the blocks would leave members behind or count them twice.
    const move = async (store: SqliteStore, country: string) => {
      for (const id of ids.slice(0, 10)) await store.updateContact(id, list.workspaceId, () => cleanContactPatch({ country }, catalog), now);
    };
    const turns: [SqliteStore, string, string, number][] = [
      [b, "b", "Norway", 25],
      [a, "a", "Sweden", 15],
      [b, "b", "Norway", 25],
      [a, "a", "Sweden", 15],
      [a, "a", "Norway", 25],
      [b, "b", "Sweden", 15],
    ];
    for (const [store, holder, country, members] of turns) {
      await move(store, country);
      await settle(store, holder, now);
      await expectNorway(members);
    }
    expect((await a.verify()).differences).toEqual([]);
  } finally {
    await a.close();
    await b.close();
  }
});

/** The contacts a store holds for its engine's next steps (see WrittenFacts). */
const held = (store: SqliteStore) => (store as unknown as { engine: { written: WrittenFacts } }).engine.written.size;

test("contacts added by the engine's own process are applied as written, unless another connection wrote them since", async () => {
  const path = join(tempDir(), "hand-off.db");
  const a = SqliteStore.open(path, { backgroundCheckpoints: false });
  const b = SqliteStore.open(path, { backgroundCheckpoints: false });
  try {
    const now = Date.UTC(2026, 0, 1);
    const { list, catalog, createNorway } = await openList(a, now);
    const segment = await createNorway();
    await settle(a, "a", now);
    // b's engine never led: what b adds is not kept for it.
    const add = (store: SqliteStore, rows: { email: string; country: string }[]) =>
      store.insertContacts(list, rows.map((row) => ({ data: cleanContact(row, catalog), patch: { fields: {} } })), false, now);
    await add(b, [{ email: "b@example.com", country: "Norway" }]);
    expect(held(b)).toBe(0);

    const { ids } = await add(a, [
      { email: "kept@example.com", country: "Norway" },
      { email: "moved@example.com", country: "Norway" },
      { email: "deleted@example.com", country: "Norway" },
      { email: "sweden@example.com", country: "Sweden" },
    ]);
    expect(held(a)).toBe(4);
    const [kept, moved, deleted] = ids.map((id) => id!);
    // Another connection writes two of them after a did: their later feed entries win.
    await b.updateContact(moved!, list.workspaceId, () => cleanContactPatch({ country: "Sweden" }, catalog), now);
    await b.deleteContact(deleted!, now);
    await settle(a, "a", now);
    expect(held(a)).toBe(0);

    const members = (await a.pageMembers(segment.id, 100)).items;
    expect(members).toContain(kept);
    expect(members).not.toContain(moved);
    expect(members).not.toContain(deleted);
    expect(members).toHaveLength(22);
    expect((await a.getSegments([segment.id]))[0]!.memberCount).toBe(22);
    expect((await a.verify()).differences).toEqual([]);

    // Once another engine leads, a keeps nothing more.
    await settle(b, "b", now);
    await a.engineStep({ holder: "a", wallNow: Date.now(), now, maxChanges: 1_000, buildChunk: 1_000 });
    await add(a, [{ email: "later@example.com", country: "Norway" }]);
    expect(held(a)).toBe(0);
  } finally {
    await a.close();
    await b.close();
  }
});

describe("WrittenFacts", () => {
  const contact = (id: string) => ({ id, listId: "1", facts: {} as never });

  test("keeps nothing while its engine does not lead, and drops what it held when it stops", () => {
    const written = new WrittenFacts();
    written.add([{ seq: 1, contact: contact("1") }]);
    expect(written.size).toBe(0);
    written.setLeading(true);
    written.add([{ seq: 2, contact: contact("2") }]);
    expect(written.size).toBe(1);
    written.setLeading(false);
    expect(written.size).toBe(0);
  });

  test("gives an entry once, and only for the contact it wrote", () => {
    const written = new WrittenFacts();
    written.setLeading(true);
    written.add([{ seq: 7, contact: contact("70") }, { seq: 8, contact: contact("80") }]);
    expect(written.take(7, "70")?.id).toBe("70");
    expect(written.take(7, "70")).toBeUndefined();
    expect(written.take(8, "81")).toBeUndefined();
    expect(written.size).toBe(0);
  });

  test("drops what a step applied, and keeps nothing at or below it", () => {
    const written = new WrittenFacts();
    written.setLeading(true);
    written.add([1, 2, 3, 4].map((seq) => ({ seq, contact: contact(String(seq)) })));
    written.applied(2);
    expect(written.size).toBe(2);
    // A step that ran between a commit and its add read those contacts from their rows.
    written.add([{ seq: 2, contact: contact("2") }, { seq: 5, contact: contact("5") }]);
    expect(written.size).toBe(3);
    expect(written.take(2, "2")).toBeUndefined();
    expect(written.take(5, "5")?.id).toBe("5");
  });

  test("holds at most 50,000 entries, the oldest dropped first", () => {
    const written = new WrittenFacts();
    written.setLeading(true);
    written.add(Array.from({ length: 50_010 }, (_, i) => ({ seq: i + 1, contact: contact(String(i + 1)) })));
    expect(written.size).toBe(50_000);
    expect(written.take(10, "10")).toBeUndefined();
    expect(written.take(11, "11")?.id).toBe("11");
  });
});
