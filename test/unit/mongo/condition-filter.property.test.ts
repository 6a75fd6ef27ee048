/**
 * The MongoDB filter compiler must select exactly the contacts the reference predicate accepts:
 * random valid trees × random contacts, matched by mingo (MongoDB's query language in
 * JavaScript) over the documents the MongoDB store writes, at several instants.
 */
import fc from "fast-check";
import { Query } from "mingo";
import { ObjectId } from "mongodb";
import { toGlobalId } from "../../../src/common/ids";
import { compilePredicate, evalTime, parseCondition } from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { compileMongoFilter, escapeRegex } from "../../../src/stores/mongo/condition-filter";
import { type ContactDoc, contactFields, factsOfDoc } from "../../../src/stores/mongo/documents";
import { catalog, conditionArb, contactArb, contactInput, inZone, zoneArb, zonedNows } from "../../support/condition-arbitraries";

const listId = new ObjectId();

function documents(generated: (typeof contactArb extends fc.Arbitrary<infer T> ? T : never)[]) {
  return generated.map((contact, index) => {
    const data = cleanContact(contactInput(contact, index), catalog);
    const doc = {
      _id: new ObjectId(),
      listId,
      ...contactFields(data, catalog),
      createdAt: new Date(contact.createdAt),
      updatedAt: new Date(contact.updatedAt),
    } as ContactDoc;
    return { doc, facts: factsOf(data, catalog, contact.createdAt, contact.updatedAt) };
  });
}

test("a contact document reads back as the same condition facts", () => {
  fc.assert(
    fc.property(fc.array(contactArb, { minLength: 1, maxLength: 10 }), (generated) => {
      for (const { doc, facts } of documents(generated)) expect(factsOfDoc(doc)).toEqual(facts);
    }),
    { numRuns: 300 },
  );
});

test("the MongoDB filter selects exactly the contacts the reference predicate accepts in the list's time zone (mingo as the matcher)", () => {
  let matchedSome = 0;
  let total = 0;
  fc.assert(
    fc.property(fc.array(contactArb, { minLength: 5, maxLength: 30 }), fc.array(conditionArb, { minLength: 1, maxLength: 4 }), zoneArb, (generated, conditions, zone) => {
      const contacts = documents(generated);
      for (const condition of conditions.map((generated) => inZone(generated, zone))) {
        const { ast } = parseCondition(condition, catalog, { timeZone: zone });
        const predicate = compilePredicate(ast);
        for (const now of zonedNows(zone)) {
          const at = evalTime(now, zone);
          const query = new Query(compileMongoFilter(ast, at));
          const expected = contacts.map(({ facts }) => predicate(facts, at));
          const actual = contacts.map(({ doc }) => query.test(doc as unknown as Record<string, unknown>));
          total++;
          if (expected.some(Boolean) && !expected.every(Boolean)) matchedSome++;
          const where = { condition, zone, now: new Date(now).toISOString() };
          expect({ ...where, matches: actual }).toEqual({ ...where, matches: expected });
        }
      }
    }),
    { numRuns: 400 },
  );
  expect(matchedSome).toBeGreaterThan(total / 4);
});

test("inSegment matches the referenced segment's members, read ahead of the query (mingo as the matcher)", () => {
  const segmentIds = [new ObjectId().toHexString(), new ObjectId().toHexString()];
  const refArb = fc.constantFrom(...segmentIds).map((id) => ({ inSegment: toGlobalId("Segment", id) }));
  const treeArb = fc.tuple(refArb, conditionArb, refArb, fc.constantFrom("and", "or"), fc.boolean()).map(([a, leaf, b, group, negate]) => {
    const tree = { [group]: [a, negate ? { not: b } : b, leaf] };
    return negate ? { not: tree } : tree;
  });
  fc.assert(
    fc.property(fc.array(contactArb, { minLength: 5, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), treeArb, (generated, bits, tree) => {
      const contacts = documents(generated);
      const ids = contacts.map(({ doc }) => (doc as unknown as { _id: ObjectId })._id);
      const members = new Map(segmentIds.map((segmentId, s) => [segmentId, ids.filter((_, i) => bits[(i * 2 + s) % bits.length])]));
      const { ast } = parseCondition(tree, catalog);
      const at = evalTime(Date.parse("2026-01-01T00:00:00Z"));
      const query = new Query(compileMongoFilter(ast, at, members));
      const predicate = compilePredicate(ast);
      const expected = contacts.map(({ facts }, i) => predicate({ ...facts, segments: { has: (id: string) => members.get(id)?.includes(ids[i]!) ?? false } }, at));
      const actual = contacts.map(({ doc }) => query.test(doc as unknown as Record<string, unknown>));
      expect({ tree, matches: actual }).toEqual({ tree, matches: expected });
    }),
    { numRuns: 300 },
  );
});

test("text operators are literal: every regex metacharacter is escaped", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 12 }), (needle, haystack) => {
      expect(new RegExp(escapeRegex(needle)).test(haystack)).toBe(haystack.includes(needle));
      expect(new RegExp(`^${escapeRegex(needle)}`).test(haystack)).toBe(haystack.startsWith(needle));
    }),
  );
});
