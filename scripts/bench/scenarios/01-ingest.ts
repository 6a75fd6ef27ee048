/**
 * 1. Ingest: addContacts in batches of 5,000 over HTTP into a list with 20 DYNAMIC segments,
 * timed from the first request until the engine reports nothing pending (membership fully up
 * to date), then checked: every segment's member count equals a fresh count of its condition.
 *
 * Beside it, two floors measured on the same rows in this process, each one core's work that
 * every addContacts request pays whatever else happens:
 * - the GraphQL boundary: the request bodies parsed (JSON.parse) and their variables coerced by
 *   graphql-js against the service's schema, nothing stored;
 * - the store write: the validated rows written by the store port's insertContacts (contact rows,
 *   their indexes, the change feed) into a fresh database, no segments, no engine, no HTTP.
 * The target is a share of their ceiling. A third floor shows what bounds it: the membership work
 * alone, the engine's steps applying the same rows to the same 20 segments.
 */
import { getVariableValues, type OperationDefinitionNode, parse } from "graphql";
import type { ContactInputShape } from "../../../src/domain/contacts";
import { buildAppSchema } from "../../../src/schema";
import { CUSTOM_FIELDS, describeSelectivity, generateContacts, segmentConditions, selectivity, utcMidnight } from "../data";
import { membershipFloor, storeWriteFloor } from "../support/floors";
import { measured } from "../support/profile";
import { startChildServer } from "../support/server";
import { fmt, sleep } from "../support/stats";
import type { Scenario } from "../support/types";

const BATCH = 5_000;
const ADD = `mutation Add($listId: ID!, $contacts: [ContactInput!]!) { addContacts(listId: $listId, contacts: $contacts) { added updated errors { index code message } } }`;
const CREATE_LIST = `mutation($input: CreateContactListInput!) { createContactList(input: $input) { id } }`;
const CREATE_SEGMENT = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id status } }`;
const ENGINE = `{ membershipEngine { pendingChanges buildingSegments } }`;

export const ingest: Scenario = {
  id: 1,
  name: "Ingest over HTTP",
  async run(ctx) {
    const total = ctx.quick ? 50_000 : 200_000;
    const specs = segmentConditions(20, 11);
    const today = utcMidnight(Date.now());
    const seed = 3003;
    const server = await startChildServer(ctx, "s1-ingest", ctx.fixtures.path("s1-ingest.db"));
    try {
      const { gql } = server;
      const createList = async (name: string) => {
        const { createContactList } = await gql.request(CREATE_LIST, { input: { name, customFields: CUSTOM_FIELDS.map(({ key, label, type }) => ({ key, label, type })) } });
        const listId = createContactList.id as string;
        const segmentIds: string[] = [];
        for (const spec of specs) {
          const { createSegment } = await gql.request(CREATE_SEGMENT, { input: { listId, name: spec.name, type: "DYNAMIC", condition: spec.condition } });
          segmentIds.push(createSegment.id);
        }
        return { listId, segmentIds };
      };
      const body = (listId: string, start: number, count: number) => JSON.stringify({ query: ADD, variables: { listId, contacts: generateContacts(seed, start, count, { today }) } });
      const send = async (text: string) => {
        const data = await gql.requestBody<{ addContacts: { added: number; errors: unknown[] } }>(text);
        if (data.addContacts.errors.length > 0) throw new Error(`addContacts rejected rows: ${JSON.stringify(data.addContacts.errors.slice(0, 3))}`);
        return data.addContacts.added;
      };
      const caughtUp = async () => {
        for (;;) {
          const { membershipEngine } = await gql.request(ENGINE);
          if (membershipEngine.pendingChanges === 0 && membershipEngine.buildingSegments === 0) return;
          await sleep(5);
        }
      };

      // Warm-up on a separate list with the same segments (JIT, statement cache), not timed.
      const warm = await createList("ingest warm-up");
      await send(body(warm.listId, 10_000_000, ctx.quick ? 1_000 : BATCH));
      await caughtUp();

      const { listId, segmentIds } = await createList("ingest");
      // Request bodies are built before the clock starts: the client's JSON work is not the server's.
      const bodies: string[] = [];
      for (let start = 0; start < total; start += BATCH) bodies.push(body(listId, start, Math.min(BATCH, total - start)));

      let added = 0;
      const started = performance.now();
      let lastResponse = 0;
      await measured(ctx, "ingest", async () => {
        for (const text of bodies) added += await send(text);
        lastResponse = performance.now();
        await caughtUp();
      });
      const seconds = (performance.now() - started) / 1000;
      if (added !== total) throw new Error(`added ${added} of ${total}`);

      // Exactness: stored member counts against a fresh evaluation of each condition (SQL, via segmentPreview).
      const counts = await gql.request<{ contactList: { contactCount: number; segments: { id: string; memberCount: number; status: string; condition: unknown }[] } }>(
        `query($id: ID!) { contactList(id: $id) { contactCount segments { id memberCount status condition } } }`,
        { id: listId },
      );
      let mismatches = 0;
      let members = 0;
      for (const segment of counts.contactList.segments) {
        const { segmentPreview } = await gql.request(`query($listId: ID!, $condition: ConditionInput!) { segmentPreview(listId: $listId, condition: $condition, sample: 0) { count } }`, {
          listId,
          condition: segment.condition,
        });
        members += segment.memberCount;
        if (segmentPreview.count !== segment.memberCount || segment.status !== "READY") mismatches++;
      }
      // The floors last: the bench process is busy for seconds, longer than an idle keep-alive socket lives.
      const floor = boundaryFloor(bodies, total);
      const batches = bodies.map((text) => (JSON.parse(text) as { variables: { contacts: ContactInputShape[] } }).variables.contacts);
      const write = await storeWriteFloor(batches, ctx.fixtures.path("s1-store-write.db"));
      const membership = await membershipFloor(batches, specs, ctx.fixtures.path("s1-membership.db"));
      const bothFloors = 1 / (1 / floor.rate + 1 / write.rate);
      const threeFloors = 1 / (1 / floor.rate + 1 / write.rate + 1 / membership.rate);
      const transitionsPerContact = members / total;
      const shares = selectivity(specs, seed, ctx.quick ? 5_000 : 20_000, { today });
      const rate = total / seconds;
      return {
        figures: [
          { label: "contacts/s, end to end", value: Math.round(rate), unit: "contacts/s", target: { op: ">=", value: 50_000 } },
          { label: "membership transitions per contact", value: transitionsPerContact, unit: "" },
          { label: "floor: JSON.parse + graphql-js variable coercion alone", value: Math.round(floor.rate), unit: "contacts/s" },
          { label: "floor: store write alone (insertContacts, no segments)", value: Math.round(write.rate), unit: "contacts/s" },
          { label: "ceiling of the two floors together, one core", value: Math.round(bothFloors), unit: "contacts/s" },
          { label: "end to end ÷ the two floors' ceiling", value: Math.round((100 * rate) / bothFloors), unit: "%", target: { op: ">=", value: 80 } },
          { label: `floor: membership work alone (engine steps, ${specs.length} segments)`, value: Math.round(membership.rate), unit: "contacts/s" },
          { label: "ceiling of the three floors together, one core", value: Math.round(threeFloors), unit: "contacts/s" },
          { label: "end to end ÷ the three floors' ceiling", value: Math.round((100 * rate) / threeFloors), unit: "%" },
          { label: "segments exact at the end", value: `${segmentIds.length - mismatches}/${segmentIds.length}`, unit: "", pass: mismatches === 0 },
        ],
        notes: [
          `${fmt(total)} contacts in ${bodies.length} addContacts calls of ${fmt(BATCH)} (one at a time) into a list with ${specs.length} DYNAMIC segments: ${seconds.toFixed(2)} s until membershipEngine.pendingChanges = 0 (last response after ${((lastResponse - started) / 1000).toFixed(2)} s)`,
          `${fmt(members)} ENTERED transitions (${transitionsPerContact.toFixed(2)} per contact), each an event in the log`,
          describeSelectivity(shares),
          `GraphQL boundary alone (same bodies, no store, best of 3 passes, one core): JSON.parse ${fmt(floor.parseMs)} ms + getVariableValues ${fmt(floor.coerceMs)} ms for ${fmt(total)} contacts = ${fmt(floor.rate)} contacts/s`,
          `store write alone (same rows after validation, ${bodies.length} insertContacts calls into a fresh file, no segments, engine not running): ${fmt(write.ms)} ms = ${fmt(write.rate)} contacts/s; the two floors in sequence: ${fmt(bothFloors)} contacts/s before any membership work`,
          `membership work alone (the same rows written outside the clock into a fresh file whose list has the ${specs.length} segments; after each call the engine steps that apply it, timed, in the writing process): ${fmt(membership.ms)} ms in ${fmt(membership.steps)} steps = ${fmt(membership.rate)} contacts/s; the three floors in sequence: ${fmt(threeFloors)} contacts/s, what is left of an ingest beyond them being validation, type-graphql's arguments and their garbage`,
        ],
      };
    } finally {
      await server.stop();
    }
  },
};

/** The cost of turning the request bodies into coerced variables: the best of three passes. */
function boundaryFloor(bodies: readonly string[], total: number): { parseMs: number; coerceMs: number; rate: number } {
  const schema = buildAppSchema();
  const operation = parse(ADD).definitions[0] as OperationDefinitionNode;
  let best = { parseMs: Number.POSITIVE_INFINITY, coerceMs: 0, rate: 0 };
  for (let pass = 0; pass < 3; pass++) {
    let parseMs = 0;
    let coerceMs = 0;
    for (const text of bodies) {
      const t0 = performance.now();
      const { variables } = JSON.parse(text) as { variables: Record<string, unknown> };
      const t1 = performance.now();
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
      coerceMs += performance.now() - t1;
      parseMs += t1 - t0;
      if (coerced.errors) throw new Error(`variables refused: ${coerced.errors[0]!.message}`);
    }
    if (parseMs + coerceMs < best.parseMs + best.coerceMs) best = { parseMs, coerceMs, rate: total / ((parseMs + coerceMs) / 1000) };
  }
  return best;
}
