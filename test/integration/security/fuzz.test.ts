/**
 * Fuzzing at the GraphQL boundary with fast-check: random condition trees (valid by construction,
 * and wild: unknown fields and operators, any JSON values, $-keys, any nesting) sent to
 * segmentPreview, contacts(where:) and createSegment, and random contact inputs (valid and wild)
 * sent to addContact, addContacts and updateContact, over HTTP and graphql-ws. Never a 5xx, never
 * INTERNAL_SERVER_ERROR, every error carries a code, and every valid input succeeds. Afterwards
 * `npm run verify` finds the database consistent.
 */
import fc from "fast-check";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { ManualClock } from "../../../src/common/clock";
import { BUILTIN_FIELDS, catalogOf, compilePredicate, type ContactFacts, type CustomFieldDef, evalTime, OPERATORS, parseCondition } from "../../../src/conditions";
import { cleanContact, cleanContactPatch, factsOf } from "../../../src/domain/contacts";
import {
  AddContactDocument,
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  ListContactsDocument,
  PreviewDocument,
  UpdateContactDocument,
} from "../../graphql/generated";
import type { GraphQLErrorShape } from "../../support/client";
import { generateContacts } from "../../support/data";
import { startTestServer, stopAll, type TestServer } from "../../support/harness";
import { runScript } from "../../support/process";
import { storeEnv } from "../../support/stores";

interface Result<T = Record<string, unknown>> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

type Transport = "HTTP" | "WebSocket";

const T0 = Date.parse("2026-06-15T12:00:00.000Z");
const CUSTOM_FIELDS: CustomFieldDef[] = [
  { key: "score", label: null, type: "NUMBER" },
  { key: "nickname", label: null, type: "TEXT" },
  { key: "vip", label: null, type: "BOOLEAN" },
  { key: "since", label: null, type: "DATE" },
  { key: "seen", label: null, type: "DATETIME" },
];
const CATALOG = catalogOf(CUSTOM_FIELDS);

/** What Object.prototype looked like before the fuzzing (the server runs in this process). */
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

let server: TestServer;
let socket: ReturnType<typeof connect>;
let listId: string;
/** Contacts that exist, for updateContact. */
const contactIds: string[] = [];
/** Emails of valid-by-construction contacts are unique: a counter, never reused. */
let emailCounter = 0;

afterAll(async () => {
  await socket?.dispose();
  await stopAll();
});

beforeAll(async () => {
  server = await startTestServer({ clock: new ManualClock(T0), env: { NODE_ENV: "production" } });
  socket = connect(server);
  listId = (
    await server.client.data(CreateListDocument, {
      input: { name: "Fuzz", customFields: CUSTOM_FIELDS.map(({ key, type }) => ({ key, type })) },
    })
  ).createContactList.id;
  const seed = generateContacts("seed", 40, 11).map((contact, index) => ({
    ...contact,
    lastName: index % 3 === 0 ? "Nordmann" : null,
    city: ["Oslo", "Bergen", "Malmö", null][index % 4],
    attributes: { score: contact.attributes.score, nickname: `nick${index % 5}`, vip: index % 2 === 0, since: contact.birthDate, seen: "2026-06-01T10:00:00Z" },
  }));
  const { addContacts } = await server.client.data(AddContactsDocument, { listId, contacts: seed });
  expect(addContacts).toEqual({ added: 40, updated: 0, errors: [] });
  const { contactList } = await server.client.data(ListContactsDocument, { listId, first: 100 });
  contactIds.push(...contactList!.contacts.nodes.map((contact) => contact.id));
  // The oracle's copy of the list: each contact as added, with the instants the service stamped.
  const stamped = (await server.client.raw<{ contactList: { contacts: { nodes: { email: string; createdAt: string; updatedAt: string }[] } } }>(
    "query($id: ID!) { contactList(id: $id) { contacts(first: 100) { nodes { email createdAt updatedAt } } } }",
    { id: listId },
  )).data!.contactList.contacts.nodes;
  for (const input of seed) {
    const data = cleanContact(input, CATALOG);
    const stamp = stamped.find((node) => node.email === data.email)!;
    oracle.push({ email: data.email, facts: factsOf(data, CATALOG, Date.parse(stamp.createdAt), Date.parse(stamp.updatedAt)) });
  }
  expect(oracle).toHaveLength(40);
});

/** The list's contacts as the reference predicate sees them, kept by the test (while the condition properties run, the list holds just these). */
const oracle: { email: string; facts: ContactFacts }[] = [];

/** The emails of the contacts a condition selects, by the reference predicate over the oracle's copy. */
function selectedBy(condition: unknown): Set<string> {
  const predicate = compilePredicate(parseCondition(condition, CATALOG).ast);
  return new Set(oracle.filter((contact) => predicate(contact.facts, evalTime(T0))).map((contact) => contact.email));
}

/** A graphql-ws connection that stays open, for one operation after another. */
function connect(target: TestServer) {
  const client = createClient({ url: target.server.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, onNonLazyError: () => undefined });
  return {
    execute(query: string, variables?: Record<string, unknown>): Promise<Result> {
      return new Promise((resolve) => {
        let last: Result = {};
        client.subscribe(
          { query, variables },
          {
            next: (value) => void (last = value as Result),
            error: (error) =>
              resolve({ errors: Array.isArray(error) ? (error as GraphQLErrorShape[]) : [{ message: `the connection failed: ${String((error as { reason?: unknown })?.reason ?? error)}` }] }),
            complete: () => resolve(last),
          },
        );
      });
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

/** Sends one operation and checks what every answer must satisfy, whatever the input. */
async function send<T = Record<string, unknown>>(transport: Transport, query: string, variables: Record<string, unknown>, allowed: string[]): Promise<Result<T>> {
  let result: Result<T>;
  if (transport === "WebSocket") {
    result = (await socket.execute(query, variables)) as Result<T>;
  } else {
    const response = await fetch(server.server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    const text = await response.text();
    if (response.status >= 500) throw new Error(`HTTP ${response.status}: ${text}`);
    result = JSON.parse(text) as Result<T>;
  }
  for (const error of result.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code !== "string") throw new Error(`an error without a code: ${JSON.stringify(error)}`);
    if (!allowed.includes(code)) throw new Error(`unexpected ${code}: ${JSON.stringify(error)}`);
  }
  if (!result.errors && !result.data) throw new Error(`neither data nor errors: ${JSON.stringify(result)}`);
  return result;
}

/** The message of a refusal by GraphQL's variable coercion, before any of our code runs. */
const isCoercionError = (error: GraphQLErrorShape) => error.message.startsWith('Variable "$');

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const transport = fc.constantFrom<Transport>("HTTP", "HTTP", "WebSocket");

/** A string that is not well-formed Unicode: a lone surrogate somewhere. */
const illFormed = fc
  .tuple(fc.string({ maxLength: 6 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 6 }))
  .map(([before, unit, after]) => before + String.fromCharCode(unit) + after);

const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom("Norway", "norway", "vip", "Oslo", "nick1", "", " ", "%", "_", "' OR 1=1 --", "$ne", "2020-01-01", "2026-06-01T10:00:00Z") },
  { weight: 1, arbitrary: illFormed },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(1_001), "\u0000", "zoe\u0308", "\u202Eevil", "\u{1F600}") },
);

const HOSTILE_KEYS = ["$ne", "$gt", "$where", "$expr", "$nor", "$in", "$regex", "__proto__", "constructor", "prototype", "toString"];
const NODE_KEYS = ["field", "operator", "value", "and", "or", "not", "amount", "unit"];
const anyKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS, ...NODE_KEYS), fc.string({ maxLength: 6 }));

/** Any JSON value, objects with operator and prototype keys included (as own keys). */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -200, max: 200 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    anyText,
    fc.array(tie("json"), { maxLength: 4 }),
    fc.dictionary(anyKey, tie("json"), { maxKeys: 4 }),
  ),
}));

const FIELD_NAMES = [...Object.keys(BUILTIN_FIELDS), ...CUSTOM_FIELDS.map((field) => `attributes.${field.key}`)];
const anyField = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  {
    weight: 2,
    arbitrary: fc.constantFrom("attributes.unknown", "attributes.__proto__", "attributes.constructor", "attributes.", "attributes", "unknown", "__proto__", "$where", "", "Email", "tags.0"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const anyOperator = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...OPERATORS) }, { weight: 1, arbitrary: fc.constantFrom("$ne", "EQUAL", "equals", "") });

/** Wild condition trees: any field, operator and value; groups of anything; mixed forms. */
const { wildNode } = fc.letrec((tie) => ({
  wildNode: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: fc.record({ field: anyField, operator: anyOperator, value: json }, { requiredKeys: [] }) },
    { weight: 2, arbitrary: fc.record({ and: fc.array(tie("wildNode"), { maxLength: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ or: fc.array(tie("wildNode"), { maxLength: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ not: tie("wildNode") }) },
    {
      weight: 1,
      arbitrary: fc.record({ field: anyField, operator: anyOperator, value: json, and: fc.array(tie("wildNode"), { maxLength: 2 }), not: tie("wildNode") }, { requiredKeys: [] }),
    },
    { weight: 1, arbitrary: fc.dictionary(anyKey, json, { maxKeys: 4 }) },
    { weight: 1, arbitrary: json },
  ),
}));

// Valid conditions, built per field type.
const validText = fc.oneof(
  fc.constantFrom("Norway", "sweden", "OSLO", "nick1", "vip", "nordmann", "seed-1@example.com", "example"),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }),
);
const validDate = fc
  .date({ min: new Date("1940-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10));
const validTimestamp = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true })
  .map((date) => date.toISOString());
const validNumber = fc.oneof(fc.integer({ min: -10, max: 120 }), fc.double({ min: -1_000, max: 1_000, noNaN: true }));
const durationValue = fc.record({
  amount: fc.integer({ min: 1, max: 100_000 }),
  unit: fc.constantFrom("MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"),
});
const presence = fc.record({ operator: fc.constantFrom("IS_SET", "IS_NOT_SET") });

function ordered<T>(value: fc.Arbitrary<T>, key: (item: T) => number | string) {
  return fc.tuple(value, value).map(([a, b]) => (key(a) <= key(b) ? [a, b] : [b, a]));
}

function orderLeaves<T>(value: fc.Arbitrary<T>, key: (item: T) => number | string) {
  return fc.oneof(
    fc.record({ operator: fc.constantFrom("EQUALS", "NOT_EQUALS", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"), value }),
    fc.record({ operator: fc.constantFrom("IN", "NOT_IN"), value: fc.array(value, { minLength: 1, maxLength: 4 }) }),
    fc.record({ operator: fc.constant("BETWEEN"), value: ordered(value, key) }),
    presence,
  );
}

const leavesByType: Record<string, fc.Arbitrary<{ operator: string; value?: unknown }>> = {
  TEXT: fc.oneof(
    fc.record({ operator: fc.constantFrom("EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS", "STARTS_WITH", "ENDS_WITH"), value: validText }),
    fc.record({ operator: fc.constantFrom("IN", "NOT_IN"), value: fc.array(validText, { minLength: 1, maxLength: 4 }) }),
    presence,
  ),
  NUMBER: orderLeaves(validNumber, (n) => n),
  AGE: orderLeaves(fc.integer({ min: 0, max: 120 }), (n) => n),
  BOOLEAN: fc.oneof(fc.record({ operator: fc.constantFrom("EQUALS", "NOT_EQUALS"), value: fc.boolean() }), presence),
  DATE: fc.oneof(
    orderLeaves(validDate, (d) => d),
    fc.record({ operator: fc.constantFrom("BEFORE", "AFTER"), value: validDate }),
    fc.record({ operator: fc.constantFrom("WITHIN_LAST", "MORE_THAN_AGO"), value: durationValue }),
  ),
  DATETIME: fc.oneof(
    orderLeaves(validTimestamp, (t) => Date.parse(t)),
    fc.record({ operator: fc.constantFrom("BEFORE", "AFTER"), value: fc.oneof(validTimestamp, validDate) }),
    fc.record({ operator: fc.constantFrom("WITHIN_LAST", "MORE_THAN_AGO"), value: durationValue }),
  ),
  TAGS: fc.oneof(
    fc.record({ operator: fc.constantFrom("HAS_ANY", "HAS_ALL", "HAS_NONE"), value: fc.array(fc.oneof(fc.constantFrom("vip", "VIP", "newsletter", "trial"), validText), { minLength: 1, maxLength: 4 }) }),
    presence,
  ),
};

const validLeaf = fc.constantFrom(...FIELD_NAMES).chain((field) => {
  const type = field.startsWith("attributes.") ? CATALOG.get(field.slice("attributes.".length))! : BUILTIN_FIELDS[field]!;
  return leavesByType[type]!.map((leaf) => ({ field, ...leaf }));
});

const { validNode } = fc.letrec((tie) => ({
  validNode: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: validLeaf },
    { weight: 1, arbitrary: fc.record({ and: fc.array(tie("validNode"), { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ or: fc.array(tie("validNode"), { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ not: tie("validNode") }) },
  ),
}));

// Contacts.
const optionalText = fc.option(fc.oneof(validText, fc.constantFrom("  padded  ", "", "Zo\u00EB", "Zoe\u0308", "\u0645\u0631\u064A\u0645")), { nil: undefined });
const validAttributes = fc.record(
  {
    score: validNumber,
    nickname: validText.filter((text) => text.trim().length > 0),
    vip: fc.boolean(),
    since: validDate,
    seen: validTimestamp,
  },
  { requiredKeys: [] },
);
const validFields = fc.record(
  {
    firstName: optionalText,
    lastName: optionalText,
    phone: optionalText,
    country: fc.option(fc.constantFrom("Norway", "Sweden", "Denmark"), { nil: undefined }),
    city: optionalText,
    gender: optionalText,
    birthDate: fc.option(validDate, { nil: undefined }),
    tags: fc.option(fc.array(fc.oneof(fc.constantFrom("vip", "VIP", "newsletter"), validText.filter((text) => text.trim().length > 0)), { maxLength: 4 }), { nil: undefined }),
    attributes: fc.option(validAttributes, { nil: undefined }),
  },
  { requiredKeys: [] },
);
/** A valid contact with an email no other contact has (the counter runs when it is used). */
const validContact = validFields.map((fields) => ({ fields, fresh: true as const }));

const CONTACT_KEYS = ["email", "firstName", "lastName", "phone", "country", "city", "gender", "birthDate", "tags", "attributes"];
const wildEmail = fc.oneof(anyText, fc.constantFrom("seed-1@example.com", "SEED-2@EXAMPLE.COM", "a@b", "@example.com", "x@example.com", "ka\u200Bri@example.no"), json);
const wildContact = fc.oneof(
  fc.record({ email: wildEmail, attributes: json }, { requiredKeys: [] }),
  fc.record({ email: wildEmail, firstName: json, birthDate: json, tags: json, attributes: fc.dictionary(anyKey, json, { maxKeys: 3 }) }, { requiredKeys: [] }),
  fc.dictionary(fc.oneof(fc.constantFrom(...CONTACT_KEYS), anyKey), json, { maxKeys: 5 }),
  validFields.chain((fields) => fc.record({ email: wildEmail }).map((email) => ({ ...fields, ...email }))),
);

type ContactCase = { valid: true; input: Record<string, unknown> } | { valid: false; input: Record<string, unknown> };

/** Materializes a case: valid ones get a fresh email now. */
const contactCase = fc.oneof(validContact.map((c) => ({ kind: "valid" as const, c })), wildContact.map((input) => ({ kind: "wild" as const, input })));
function materialize(generated: { kind: "valid"; c: { fields: Record<string, unknown> } } | { kind: "wild"; input: Record<string, unknown> }): ContactCase {
  if (generated.kind === "valid") return { valid: true, input: { ...generated.c.fields, email: `fuzz-${++emailCounter}@example.com` } };
  return { valid: false, input: generated.input };
}

/** What the service receives after GraphQL's input coercion: a single value given for a list becomes a list of one. */
function asCoerced(condition: unknown): unknown {
  if (condition === null || typeof condition !== "object" || Array.isArray(condition)) return condition;
  const node: Record<string, unknown> = { ...condition };
  for (const key of ["and", "or"]) {
    if (node[key] != null) node[key] = (Array.isArray(node[key]) ? (node[key] as unknown[]) : [node[key]]).map(asCoerced);
  }
  if (node.not != null) node.not = asCoerced(node.not);
  return node;
}

function asCoercedContact(input: Record<string, unknown>): Record<string, unknown> {
  return input.tags == null || Array.isArray(input.tags) ? input : { ...input, tags: [input.tags] };
}

/** Whether our own validation (the service's first step) accepts an input, as the oracle for "valid ones succeed". */
function acceptedLocally(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const PREVIEW = print(PreviewDocument);
const WHERE = print(ListContactsDocument);
const CREATE_SEGMENT = print(CreateSegmentDocument);

type PreviewData = { segmentPreview: { count: number; sample: { email: string }[] } };
type WhereData = { contactList: { contacts: { totalCount: number; nodes: { email: string }[] } } };

describe("fuzzing the condition language at the GraphQL boundary", () => {
  it("valid condition trees succeed, and segmentPreview and contacts(where:) select exactly what the reference predicate selects", async () => {
    let selecting = 0;
    await fc.assert(
      fc.asyncProperty(validNode, transport, async (condition, via) => {
        expect(acceptedLocally(() => parseCondition(condition, CATALOG))).toBe(true);
        const expected = selectedBy(condition);
        if (expected.size > 0) selecting++;
        const preview = await send<PreviewData>(via, PREVIEW, { listId, condition, sample: 5 }, []);
        const where = await send<WhereData>(via, WHERE, { listId, first: 100, where: condition }, []);
        expect(preview.data!.segmentPreview.count).toBe(expected.size);
        for (const contact of preview.data!.segmentPreview.sample) expect(expected.has(contact.email)).toBe(true);
        expect(where.data!.contactList.contacts.totalCount).toBe(expected.size);
        expect(new Set(where.data!.contactList.contacts.nodes.map((contact) => contact.email))).toEqual(expected);
      }),
      { numRuns: 250 },
    );
    // The generator is not all empty selections.
    expect(selecting).toBeGreaterThan(25);
  });

  it("wild condition trees get data or BAD_USER_INPUT, and are refused only when they are invalid", async () => {
    const outcomes = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(wildNode, fc.constantFrom("preview", "where"), transport, async (condition, endpoint, via) => {
        const result =
          endpoint === "preview"
            ? await send(via, PREVIEW, { listId, condition, sample: 3 }, ["BAD_USER_INPUT"])
            : await send(via, WHERE, { listId, first: 3, where: condition }, ["BAD_USER_INPUT"]);
        // contacts(where: null) is no filter at all.
        const valid = (endpoint === "where" && condition === null) || acceptedLocally(() => parseCondition(asCoerced(condition), CATALOG));
        outcomes[result.errors ? "refused" : "accepted"]++;
        if (!result.errors) expect(valid).toBe(true);
        // A condition our validation accepts may still be refused by GraphQL (a value of the wrong GraphQL type).
        else if (valid) expect(result.errors.every(isCoercionError)).toBe(true);
      }),
      { numRuns: 600 },
    );
    // Both outcomes happen, so the generator is neither all valid nor all garbage.
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it("createSegment with valid conditions creates segments; with wild ones it creates or refuses with BAD_USER_INPUT", async () => {
    let created = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(validNode, wildNode), fc.constantFrom("DYNAMIC", "STATIC"), transport, async (condition, type, via) => {
        const result = await send<{ createSegment: { id: string; memberCount: number } }>(
          via,
          CREATE_SEGMENT,
          { input: { listId, name: `fuzz ${created}`, type, condition } },
          ["BAD_USER_INPUT"],
        );
        const valid = acceptedLocally(() => parseCondition(asCoerced(condition), CATALOG));
        if (!result.errors) {
          expect(valid).toBe(true);
          created++;
        } else if (valid) {
          expect(result.errors.every(isCoercionError)).toBe(true);
        }
      }),
      { numRuns: 120 },
    );
    expect(created).toBeGreaterThan(0);
  });
});

describe("fuzzing contact writes at the GraphQL boundary", () => {
  it("addContact: valid contacts are added; wild ones are added or refused with BAD_USER_INPUT or CONFLICT", async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(contactCase, transport, async (generated, via) => {
        const { valid, input } = materialize(generated);
        const result = await send<{ addContact: { id: string } }>(via, print(AddContactDocument), { listId, input }, ["BAD_USER_INPUT", "CONFLICT"]);
        if (valid) expect(result.errors).toBeUndefined();
        if (result.errors) refused++;
        else {
          expect(acceptedLocally(() => cleanContact(asCoercedContact(input), CATALOG))).toBe(true);
          contactIds.push(result.data!.addContact.id);
        }
      }),
      { numRuns: 250 },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it("addContacts: every row is added, updated or reported with a code, and every valid row is kept", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(contactCase, { minLength: 1, maxLength: 8 }), fc.boolean(), transport, async (generated, upsert, via) => {
        const rows = generated.map(materialize);
        const result = await send<{ addContacts: { added: number; updated: number; errors: { index: number; code: string; message: string }[] } }>(
          via,
          print(AddContactsDocument),
          { listId, upsert, contacts: rows.map((row) => row.input) },
          ["BAD_USER_INPUT"],
        );
        if (result.errors) {
          // Only GraphQL's coercion refuses a whole call (a row of the wrong shape), never a valid-only call.
          expect(result.errors.every(isCoercionError)).toBe(true);
          expect(rows.every((row) => row.valid)).toBe(false);
          return;
        }
        const { added, updated, errors } = result.data!.addContacts;
        expect(added + updated + errors.length).toBe(rows.length);
        for (const error of errors) {
          expect(["BAD_USER_INPUT", "CONFLICT"]).toContain(error.code);
          expect(rows[error.index]!.valid).toBe(false);
        }
      }),
      { numRuns: 120 },
    );
  });

  it("updateContact: valid patches succeed; wild ones succeed or are refused with BAD_USER_INPUT or CONFLICT", async () => {
    const patchCase = fc.oneof(
      validFields.map((fields) => ({ kind: "valid" as const, input: fields as Record<string, unknown> })),
      validFields.map((fields) => ({ kind: "valid with a new email" as const, input: fields as Record<string, unknown> })),
      wildContact.map((input) => ({ kind: "wild" as const, input })),
    );
    await fc.assert(
      fc.asyncProperty(patchCase, fc.nat(), transport, async (patch, pick, via) => {
        const id = contactIds[pick % contactIds.length]!;
        const input = patch.kind === "valid with a new email" ? { ...patch.input, email: `fuzz-${++emailCounter}@example.com` } : patch.input;
        const result = await send(via, print(UpdateContactDocument), { id, input }, ["BAD_USER_INPUT", "CONFLICT"]);
        if (patch.kind !== "wild") expect(result.errors).toBeUndefined();
        if (!result.errors) expect(acceptedLocally(() => cleanContactPatch(asCoercedContact(input), CATALOG))).toBe(true);
      }),
      { numRuns: 250 },
    );
  });
});

it("after the fuzzing, Object.prototype is untouched and npm run verify finds the database consistent", async () => {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  await socket.dispose();
  await server.stop();
  const result = await runScript("verify.ts", [], storeEnv(server.dbPath));
  expect(result.stdout).toContain("consistent");
  expect(result.code).toBe(0);
});
