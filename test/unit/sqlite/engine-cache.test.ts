/**
 * Engine steps on SQLite where a step's parts meet: contact changes and a segment build in one
 * step, and two engines taking turns on one file, each keeping membership blocks between its
 * steps (two connections, as two processes would have).
 */
import { join } from "node:path";
import { catalogOf, parseCondition } from "../../../src/conditions";
import { cleanContact, cleanContactPatch } from "../../../src/domain/contacts";
import { ENGINE_LEASE, type ListRecord } from "../../../src/stores/port";
import { SqliteStore } from "../../../src/stores/sqlite/store";
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
