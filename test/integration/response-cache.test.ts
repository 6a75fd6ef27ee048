/**
 * The exact response cache: a query of stored data is answered from memory until the next
 * commit, by this process or another, and never after; queries that read the clock or the
 * process are never cached.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { buildSchema, getNamedType, isObjectType, parse } from "graphql";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CACHEABLE_TYPES, UNCACHEABLE_FIELDS } from "../../src/graphql/response-cache";
import { AddContactsDocument } from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { listWithNorwaySegment } from "../support/data";
import { startClockedServer, startTestServer, stopAll } from "../support/harness";
import { killAll, spawnServer } from "../support/process";
import { newDatabase, storeEnv } from "../support/stores";

afterAll(async () => {
  await killAll();
  await stopAll();
});

/** A document typed by hand: these queries pick fields no shared test document selects. */
const doc = <T>(source: string) => parse(source) as TypedDocumentNode<T, Record<string, unknown>>;

const MEMBERS = doc<{ segment: { memberCount: number; members: { nodes: { email: string }[] } } }>(
  `query Members($id: ID!) { segment(id: $id) { memberCount members(first: 100) { nodes { email } } } }`,
);

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url.replace(/\/graphql$/, "/metrics"))).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? NaN);
}

async function members(client: GraphQLTestClient, id: string): Promise<{ count: number; emails: string[] }> {
  const data = await client.request(MEMBERS, { id });
  expect(data.errors).toBeUndefined();
  return { count: data.data!.segment.memberCount, emails: data.data!.segment.members.nodes.map((node) => node.email).sort() };
}

describe("the response cache", () => {
  it("answers a repeated query from memory, and a write makes the next answer fresh", async () => {
    const server = await startTestServer();
    const { list, segment } = await listWithNorwaySegment(server.client, "Cached");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "a@example.com", country: "Norway" }] });

    const hitsBefore = await metric(server.server.url, "segments_response_cache_hits_total");
    expect(await members(server.client, segment.id)).toEqual({ count: 1, emails: ["a@example.com"] });
    expect(await members(server.client, segment.id)).toEqual({ count: 1, emails: ["a@example.com"] });
    expect(await metric(server.server.url, "segments_response_cache_hits_total")).toBe(hitsBefore + 1);

    await server.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "b@example.com", country: "Norway" }] });
    expect(await members(server.client, segment.id)).toEqual({ count: 2, emails: ["a@example.com", "b@example.com"] });
    expect(await metric(server.server.url, "segments_response_cache_hits_total")).toBe(hitsBefore + 1);
  });

  it("a commit by another process on the same file makes the next answer fresh", async () => {
    const dbPath = newDatabase("cache-two");
    const first = await spawnServer(storeEnv(dbPath));
    const second = await spawnServer(storeEnv(dbPath));
    const { list, segment } = await listWithNorwaySegment(first.client, "Shared");
    // Cached in the second process…
    expect(await members(second.client, segment.id)).toEqual({ count: 0, emails: [] });
    expect(await members(second.client, segment.id)).toEqual({ count: 0, emails: [] });
    for (let i = 0; i < 20; i++) {
      // …and fresh there right after each write through the first has settled.
      const email = `p${i}@example.com`;
      await first.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email, country: "Norway" }] });
      const seen = await members(second.client, segment.id);
      expect(seen.count).toBe(i + 1);
      expect(seen.emails).toContain(email);
    }
  });

  it("never caches what depends on the clock: an age read again after time passed is the new age", async () => {
    const server = await startClockedServer("2030-06-01T12:00:00Z");
    const { list } = await listWithNorwaySegment(server.client, "Ages");
    const added = await server.client.data(
      doc<{ addContact: { id: string } }>(`mutation ($listId: ID!) { addContact(listId: $listId, input: { email: "c@example.com", birthDate: "2000-06-02" }) { id } }`),
      { listId: list.id },
    );
    const id = added.addContact.id;
    const AGE = doc<{ contact: { age: number } }>(`query ($id: ID!) { contact(id: $id) { age } }`);
    const age = async () => (await server.client.data(AGE, { id })).contact.age;
    expect(await age()).toBe(29);
    expect(await age()).toBe(29);
    server.clock.set(Date.parse("2030-06-02T12:00:00Z"));
    expect(await age()).toBe(30);
  });

  it("a request naming an operation its document does not have gets GraphQL's error, not a 500", async () => {
    const server = await startTestServer();
    const response = await fetch(server.server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "query Lists { contactLists { totalCount } }", operationName: "Missing" }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toMatch(/Missing/);
  });

  it("every field of a cacheable type has been judged: stored data, or listed as uncacheable", () => {
    // A new field on one of these types fails here until it is added to one list or the other.
    const STORED_DATA: Record<string, string> = {
      Query: "contact contactList contactLists node segment",
      Contact: "attributes birthDate city country createdAt email firstName gender id lastName list phone segmentHistory segments tags updatedAt",
      ContactConnection: "edges nodes pageInfo totalCount",
      ContactEdge: "cursor joinedAt node",
      ContactList: "contactCount contacts createdAt customFields id name segments timeZone updatedAt",
      ContactListConnection: "edges nodes pageInfo totalCount",
      ContactListEdge: "cursor node",
      CustomField: "key label type",
      PageInfo: "endCursor hasNextPage hasPreviousPage startCursor",
      Segment: "condition createdAt dependsOn excludedContacts freezeAt frozenAt history id includedContacts list memberCount members name status type updatedAt usedBy",
      SegmentMembershipEvent: "change contact contactId cursor memberCount occurredAt reason segment segmentId",
      SegmentMembershipEventConnection: "edges nodes pageInfo",
      SegmentMembershipEventEdge: "cursor node",
    };
    const schema = buildSchema(readFileSync(join(__dirname, "..", "..", "schema", "schema.graphql"), "utf8"));
    expect([...CACHEABLE_TYPES].sort()).toEqual(Object.keys(STORED_DATA).sort());
    for (const typeName of CACHEABLE_TYPES) {
      const type = schema.getType(typeName);
      if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
      const judged = Object.keys(type.getFields())
        .filter((field) => !UNCACHEABLE_FIELDS.has(`${typeName}.${field}`))
        .sort()
        .join(" ");
      expect({ [typeName]: judged }).toEqual({ [typeName]: STORED_DATA[typeName] });
      // Whatever a cacheable field returns is judged too: an object type it returns is cacheable.
      for (const field of judged.split(" ")) {
        const returned = getNamedType(type.getFields()[field]!.type);
        if (isObjectType(returned)) expect({ [`${typeName}.${field}`]: CACHEABLE_TYPES.has(returned.name) }).toEqual({ [`${typeName}.${field}`]: true });
      }
    }
  });
});
