/**
 * The SQLite pushdown of a condition must select exactly the contacts the reference predicate
 * accepts: random valid trees × random contacts in a real database, at several instants.
 */
import type Database from "better-sqlite3";
import fc from "fast-check";
import { compilePredicate, type ContactFacts, evalTime, OPERATORS_BY_TYPE, parseCondition } from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { compileSql } from "../../../src/stores/sqlite/condition-sql";
import { openDatabase } from "../../../src/stores/sqlite/database";
import { blockOf, emptyBlock, setBit } from "../../../src/stores/sqlite/member-blocks";
import { toGlobalId } from "../../../src/common/ids";
import { CONTACT_WRITE_COLUMNS, contactWriteValues } from "../../../src/stores/sqlite/rows";

import { catalog, conditionArb, contactArb, contactInput, FIELDS, type GeneratedContact, NOWS, inZone, zoneArb, zonedNows } from "../../support/condition-arbitraries";

/** As INSERT_CONTACT in src/stores/sqlite/store.ts. */
const INSERT_CONTACT = `INSERT INTO contacts (list_id, created_at, ${CONTACT_WRITE_COLUMNS.join(", ")})
  VALUES (?, ?, ${CONTACT_WRITE_COLUMNS.map(() => "?").join(", ")})`;

// ---- the property -------------------------------------------------------------------------

let db: Database.Database;
let nextListId = 1;

beforeAll(() => {
  db = openDatabase(":memory:");
});
afterAll(() => db.close());

interface Stored {
  id: number;
  facts: ContactFacts;
}

function insertContacts(listId: number, generated: GeneratedContact[]): Stored[] {
  const insert = db.prepare(INSERT_CONTACT);
  return generated.map((contact, index) => {
    const data = cleanContact(contactInput(contact, index), catalog);
    const facts = factsOf(data, catalog, contact.createdAt, contact.updatedAt);
    const { lastInsertRowid } = insert.run(listId, contact.createdAt, ...contactWriteValues(data, facts, contact.updatedAt));
    return { id: Number(lastInsertRowid), facts };
  });
}

function selectedIds(listId: number, condition: ReturnType<typeof parseCondition>["ast"], now: number, zone = "UTC"): number[] {
  const { sql, params } = compileSql(condition, evalTime(now, zone));
  const rows = db.prepare(`SELECT c.id FROM contacts c WHERE c.list_id = ? AND ${sql} ORDER BY c.id`).pluck().all(listId, ...params);
  return rows as number[];
}

test("the SQL pushdown selects exactly the contacts the reference predicate accepts, in the list's time zone", () => {
  let matchedSome = 0;
  let matchedNone = 0;
  fc.assert(
    fc.property(fc.array(contactArb, { minLength: 5, maxLength: 30 }), fc.array(conditionArb, { minLength: 1, maxLength: 4 }), zoneArb, (generated, conditions, zone) => {
      const listId = nextListId++;
      const contacts = insertContacts(listId, generated);
      for (const condition of conditions.map((generated) => inZone(generated, zone))) {
        const { ast } = parseCondition(condition, catalog, { timeZone: zone });
        const predicate = compilePredicate(ast);
        for (const now of zonedNows(zone)) {
          const at = evalTime(now, zone);
          const expected = contacts.filter((contact) => predicate(contact.facts, at)).map((contact) => contact.id);
          const actual = selectedIds(listId, ast, now, zone);
          if (expected.length > 0 && expected.length < contacts.length) matchedSome++;
          else matchedNone++;
          const where = { condition, zone, now: new Date(now).toISOString() };
          expect({ ...where, ids: actual }).toEqual({ ...where, ids: expected });
        }
      }
    }),
    { numRuns: 700 },
  );
  // The pools are small enough that many evaluations select some contacts but not all.
  expect(matchedSome).toBeGreaterThan((matchedSome + matchedNone) / 4);
});

test("the SQL pushdown ignores contacts of other lists", () => {
  const [mine, theirs] = [nextListId++, nextListId++];
  const base = { local: "ann", domain: "example.com", firstName: null, lastName: null, phone: null, city: null, gender: null, birthDate: null, tags: [], attributes: {}, createdAt: NOWS[0]!, updatedAt: NOWS[0]! };
  const ids = insertContacts(mine, [{ ...base, country: "Norway" }]).map((contact) => contact.id);
  insertContacts(theirs, [{ ...base, country: "Norway" }]);
  const { ast } = parseCondition({ field: "country", operator: "EQUALS", value: "NORWAY" }, catalog);
  expect(selectedIds(mine, ast, NOWS[0]!)).toEqual(ids);
});

test("inSegment in SQL (a contact's bit in the segment's member blocks) agrees with the predicate on the contact's memberships", () => {
  const segmentIds = [nextListId + 1_000, nextListId + 1_001];
  const refArb = fc.constantFrom(...segmentIds).map((id) => ({ inSegment: toGlobalId("Segment", String(id)) }));
  // Trees mixing references with ordinary conditions, negated and grouped.
  const treeArb = fc.tuple(refArb, conditionArb, refArb, fc.constantFrom("and", "or"), fc.boolean()).map(([a, leaf, b, group, negate]) => {
    const tree = { [group]: [a, negate ? { not: b } : b, leaf] };
    return negate ? { not: tree } : tree;
  });
  const insertBlock = db.prepare("INSERT OR REPLACE INTO member_blocks (segment_id, block, bits) VALUES (?, ?, ?)");
  fc.assert(
    fc.property(fc.array(contactArb, { minLength: 5, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), treeArb, (generated, bits, tree) => {
      const listId = nextListId++;
      const contacts = insertContacts(listId, generated);
      db.prepare("DELETE FROM member_blocks").run();
      // Each segment's members: a random subset of the contacts.
      const members = new Map(segmentIds.map((segmentId, s) => [String(segmentId), new Set(contacts.filter((_, i) => bits[(i * 2 + s) % bits.length]).map((c) => c.id))]));
      for (const [segmentId, ids] of members) {
        const blocks = new Map<number, Buffer>();
        for (const id of ids) {
          const block = blocks.get(blockOf(id)) ?? emptyBlock();
          setBit(block, id, true);
          blocks.set(blockOf(id), block);
        }
        for (const [block, buffer] of blocks) insertBlock.run(Number(segmentId), block, buffer);
      }
      const { ast } = parseCondition(tree, catalog);
      const predicate = compilePredicate(ast);
      const at = evalTime(NOWS[0]!);
      const expected = contacts
        .filter((contact) => predicate({ ...contact.facts, segments: { has: (segmentId: string) => members.get(segmentId)?.has(contact.id) ?? false } }, at))
        .map((contact) => contact.id);
      expect({ tree, ids: selectedIds(listId, ast, NOWS[0]!) }).toEqual({ tree, ids: expected });
    }),
    { numRuns: 300 },
  );
});

test("every generated condition is valid and uses every operator on every field type it fits", () => {
  const seen = new Set<string>();
  const collect = (node: unknown): void => {
    const n = node as { and?: unknown[]; or?: unknown[]; not?: unknown; field?: string; operator?: string };
    if (n.and) n.and.forEach(collect);
    else if (n.or) n.or.forEach(collect);
    else if (n.not) collect(n.not);
    else seen.add(`${FIELDS.find(([field]) => field === n.field)![1]}:${n.operator}`);
  };
  for (const condition of fc.sample(conditionArb, { numRuns: 3_000, seed: 42 })) {
    expect(() => parseCondition(condition, catalog)).not.toThrow();
    collect(condition);
  }
  const expected = Object.entries(OPERATORS_BY_TYPE).flatMap(([type, operators]) => [...operators].map((operator) => `${type}:${operator}`));
  expect([...seen].sort()).toEqual(expected.sort());
});
