/**
 * updateContact reads the contact and its list inside the write's own transaction: the patch is
 * made against the list as it is when the write commits, a patch that cannot be made writes
 * nothing, and a contact of another workspace reads as missing.
 */
import { join } from "node:path";
import { catalogOf } from "../../../src/conditions";
import { cleanContact, cleanContactPatch } from "../../../src/domain/contacts";
import type { ListRecord } from "../../../src/stores/port";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { stopAll, tempDir } from "../../support/harness";

afterAll(stopAll);

const NOW = Date.UTC(2026, 0, 1);

async function withContact(run: (store: SqliteStore, list: ListRecord, id: string) => Promise<void>) {
  const store = SqliteStore.open(join(tempDir(), "update.db"), { backgroundCheckpoints: false });
  try {
    const list = await store.createList({ workspaceId: "w", name: "Plans", customFields: [{ key: "plan", label: "Plan", type: "TEXT" }] }, NOW);
    const { ids } = await store.insertContacts(list, [{ data: cleanContact({ email: "kari@example.no", country: "Norway" }, catalogOf(list.customFields)), patch: { fields: {} } }], false, NOW);
    await run(store, list, ids[0]!);
  } finally {
    await store.close();
  }
}

const changesOf = (store: SqliteStore) => store.db.prepare("SELECT count(*) FROM changes WHERE kind = 'CONTACT_UPDATED'").pluck().get() as number;

test("the patch is made against the list as it stands when the write runs", async () => {
  await withContact(async (store, list, id) => {
    const seen: string[][] = [];
    const patchFor = (current: ListRecord) => {
      seen.push(current.customFields.map((field) => field.key));
      return cleanContactPatch({ attributes: { plan: "pro" } }, catalogOf(current.customFields));
    };
    // Asked for in the same turn as a change of the list's fields that commits first: the patch
    // sees the new field list, not the one the caller held.
    const widened = store.updateList(list.id, { customFields: [{ key: "plan", label: "Plan", type: "TEXT" }, { key: "seats", label: "Seats", type: "NUMBER" }] }, NOW);
    const updated = await store.updateContact(id, "w", patchFor, NOW + 1);
    await widened;
    expect(seen).toEqual([["plan", "seats"]]);
    expect(updated!.value).toMatchObject({ id, attributes: { plan: "pro" } });
  });
});

test("a patch that cannot be made writes nothing, and the error is the caller's", async () => {
  await withContact(async (store, _list, id) => {
    const before = changesOf(store);
    const refused = store.updateContact(id, "w", (current) => cleanContactPatch({ attributes: { plan: 42 } }, catalogOf(current.customFields)), NOW + 1);
    // Another write of the same turn commits regardless.
    const other = store.updateContact(id, "w", (current) => cleanContactPatch({ city: "Oslo" }, catalogOf(current.customFields)), NOW + 1);
    await expect(refused).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    expect((await other)!.value).toMatchObject({ city: "Oslo", attributes: {} });
    expect(changesOf(store)).toBe(before + 1);
    expect((await store.getContacts([id]))[0]).toMatchObject({ city: "Oslo", attributes: {} });
  });
});

test("a contact of another workspace reads as missing and is not written", async () => {
  await withContact(async (store, _list, id) => {
    const before = changesOf(store);
    let asked = false;
    const result = await store.updateContact(id, "another", () => {
      asked = true;
      return { fields: { city: "Oslo" } };
    }, NOW + 1);
    expect(result).toBeNull();
    expect(asked).toBe(false);
    expect(changesOf(store)).toBe(before);
    expect((await store.getContacts([id]))[0]!.city).toBeNull();
    expect(await store.updateContact("999999", "w", () => ({ fields: {} }), NOW + 1)).toBeNull();
  });
});
