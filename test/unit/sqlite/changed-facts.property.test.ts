/**
 * After an update the engine evaluates only the segments whose conditions read a fact the update
 * changed. Random lists, segments and partial updates through the real SQLite store and engine;
 * `verify` (every segment re-evaluated from scratch with the reference predicate) must find
 * nothing the narrowed evaluation missed.
 */
import fc from "fast-check";
import { cleanContact, cleanContactPatch, type ContactInputShape } from "../../../src/domain/contacts";
import { catalogOf, parseCondition } from "../../../src/conditions";
import { ENGINE_LEASE } from "../../../src/stores/port";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { catalog, conditionArb, contactArb, contactInput, CUSTOM_FIELDS } from "../../support/condition-arbitraries";

const NOW = Date.UTC(2026, 2, 10, 12);
const PATCHABLE = ["firstName", "lastName", "phone", "country", "city", "gender", "birthDate", "tags", "attributes"] as const;

async function settle(store: SqliteStore): Promise<void> {
  for (;;) {
    const step = await store.engineStep({ holder: "test", wallNow: Date.now(), now: NOW, maxChanges: 1_000, buildChunk: 1_000 });
    if (!step.more) return;
  }
}

const updateArb = fc.record({
  target: fc.nat(),
  from: contactArb,
  fields: fc.subarray([...PATCHABLE], { minLength: 1 }),
  newEmail: fc.boolean(),
  // Through addContacts with upsert (matched by email) instead of updateContact.
  upsert: fc.boolean(),
  settle: fc.boolean(),
});

test("segments skipped after an update never needed evaluating", async () => {
  let moved = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(contactArb, { minLength: 2, maxLength: 12 }),
      fc.array(conditionArb, { minLength: 1, maxLength: 6 }),
      fc.array(updateArb, { minLength: 1, maxLength: 10 }),
      async (contacts, conditions, updates) => {
        const store = SqliteStore.open(":memory:", { backgroundCheckpoints: false });
        try {
          await store.acquireLease(ENGINE_LEASE, "test", Date.now(), 600_000);
          const list = await store.createList({ workspaceId: "w", name: "L", customFields: CUSTOM_FIELDS }, NOW);
          const rows = contacts.map((contact, index) => ({ data: cleanContact(contactInput(contact, index), catalog), patch: { fields: {} } }));
          const { ids } = await store.insertContacts(list, rows, false, NOW);
          const segments = [];
          for (const [index, condition] of conditions.entries()) {
            const { stored } = parseCondition(condition, catalogOf(list.customFields), { timeZone: list.timeZone });
            segments.push(await store.createSegment({ listId: list.id, name: `S${index}`, type: "DYNAMIC", condition: stored }, NOW));
          }
          await settle(store);
          const countsBefore = (await store.getSegments(segments.map((s) => s.id))).map((s) => s!.memberCount);

          for (const [i, update] of updates.entries()) {
            const whole = contactInput(update.from, 1_000 + i);
            const input: ContactInputShape = {};
            for (const field of update.fields) (input as Record<string, unknown>)[field] = whole[field];
            const id = ids[update.target % ids.length]!;
            if (update.upsert) {
              const [current] = await store.getContacts([id]);
              const row = { ...input, email: current!.email };
              await store.insertContacts(list, [{ data: cleanContact(row, catalog), patch: cleanContactPatch(row, catalog) }], true, NOW);
            } else {
              if (update.newEmail) input.email = `moved${i}@example.org`;
              await store.updateContact(id, list.workspaceId, () => cleanContactPatch(input, catalog), NOW);
            }
            if (update.settle) await settle(store);
          }
          await settle(store);

          const report = await store.verify();
          expect(report.differences).toEqual([]);
          expect(report.pending).toBe(0);
          const countsAfter = (await store.getSegments(segments.map((s) => s.id))).map((s) => s!.memberCount);
          if (countsAfter.some((count, i) => count !== countsBefore[i])) moved++;
        } finally {
          await store.close();
        }
      },
    ),
    { numRuns: 120 },
  );
  // The property must have seen updates that moved contacts between segments.
  expect(moved).toBeGreaterThan(10);
}, 120_000);
