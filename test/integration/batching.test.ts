/**
 * Field resolvers that load related records go through per-request DataLoaders: the number of
 * store calls a query makes is small and does not grow with the number of records it returns.
 * Counted by wrapping the real store's methods (the real store still does the work).
 */
import type { Store } from "../../src/stores/port";
import {
  AddContactsDocument,
  type ContactInput,
  ContactsWithSegmentsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  ListsWithTheirSegmentsDocument,
  SegmentMembersWithTheirSegmentsDocument,
} from "../graphql/generated";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

/**
 * Not field loading: what the membership engine and the webhook sender call on their own (lease,
 * polling, steps, event feed, the webhooks to deliver), the once-per-request authentication, and
 * the response cache's look at the store's commit generation (no I/O).
 */
const BACKGROUND = new Set([
  "activeWebhookIds",
  "commitGeneration",
  "leaseHolder",
  "acquireLease",
  "releaseLease",
  "engineStep",
  "engineStatus",
  "changeToken",
  "eventsAfter",
  "prunedThrough",
  "prune",
  "countApiKeys",
  "findApiKey",
  "activeApiKeyIds",
]);

/** Replaces every method of the store object with a counting wrapper around the real one. */
function countCalls(store: Store) {
  const counts = new Map<string, number>();
  const target = store as unknown as Record<string, unknown>;
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(store); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== "constructor" && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === "function") names.add(name);
    }
  }
  for (const name of names) {
    const real = target[name] as (...args: unknown[]) => unknown;
    target[name] = function (this: unknown, ...args: unknown[]) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return real.apply(this, args);
    };
  }
  return {
    /** Counts request work done while `run` runs. */
    async during<T>(run: () => Promise<T>): Promise<{ result: T; calls: Record<string, number>; total: number }> {
      counts.clear();
      const result = await run();
      const calls = Object.fromEntries([...counts].filter(([name]) => !BACKGROUND.has(name)).sort());
      return { result, calls, total: Object.values(calls).reduce((a, b) => a + b, 0) };
    },
    restore() {
      for (const name of names) delete target[name];
    },
  };
}

let server: TestServer;
let listId: string;
const segmentIds: Record<string, string> = {};
let counter: ReturnType<typeof countCalls>;

/** 500 contacts: every other in Norway, every third a VIP. */
const contacts: ContactInput[] = Array.from({ length: 500 }, (_, i) => ({
  email: `c${String(i).padStart(3, "0")}@example.com`,
  country: i % 2 === 0 ? "Norway" : "Sweden",
  tags: i % 3 === 0 ? ["vip"] : [],
}));

/** The segments each contact should be in, by email. */
function expectedSegments(contact: ContactInput): string[] {
  const ids = [segmentIds.everyone!];
  if (contact.country === "Norway") ids.push(segmentIds.norway!, segmentIds.norwayStatic!);
  if (contact.tags?.includes("vip")) ids.push(segmentIds.vip!);
  return ids.sort();
}

beforeAll(async () => {
  server = await startTestServer();
  const { client } = server;
  listId = (await client.data(CreateListDocument, { input: { name: "Batched" } })).createContactList.id;
  const added = await client.data(AddContactsDocument, { listId, contacts });
  expect(added.addContacts.added).toBe(500);
  const segments = [
    ["everyone", "DYNAMIC", { field: "email", operator: "IS_SET" }],
    ["norway", "DYNAMIC", { field: "country", operator: "EQUALS", value: "Norway" }],
    ["norwayStatic", "STATIC", { field: "country", operator: "EQUALS", value: "Norway" }],
    ["vip", "DYNAMIC", { field: "tags", operator: "HAS_ANY", value: ["vip"] }],
  ] as const;
  for (const [name, type, condition] of segments) {
    const { createSegment } = await client.data(CreateSegmentDocument, { input: { listId, name, type, condition } });
    segmentIds[name] = createSegment.id;
  }
  // A second list, so that "every list's segments" has more than one list to batch.
  for (let i = 0; i < 4; i++) {
    const other = (await client.data(CreateListDocument, { input: { name: `Other ${i}` } })).createContactList.id;
    await client.data(CreateSegmentDocument, { input: { listId: other, name: `Other ${i}`, type: "DYNAMIC", condition: { field: "email", operator: "IS_SET" } } });
  }
  counter = countCalls(server.app.store);
  expect(server.app.services.store).toBe(server.app.store);
});

afterAll(() => counter?.restore());

describe("per-request batching", () => {
  it("a query for 500 contacts with their list and segments makes a few store calls, as many as for 50", async () => {
    const { client } = server;
    const small = await counter.during(() => client.data(ContactsWithSegmentsDocument, { listId, first: 50 }));
    const large = await counter.during(() => client.data(ContactsWithSegmentsDocument, { listId, first: 500 }));

    // The answers are right: every contact with its list and exactly its segments.
    const nodes = large.result.contactList!.contacts.nodes;
    expect(nodes).toHaveLength(500);
    expect(small.result.contactList!.contacts.nodes).toEqual(nodes.slice(0, 50));
    const byId = new Map(nodes.map((node) => [node.id, node]));
    expect(byId.size).toBe(500);
    for (const node of nodes) {
      expect(node.list.id).toBe(listId);
      for (const segment of node.segments) expect(segment.list.id).toBe(listId);
    }
    const sortedSegments = (n: (typeof nodes)[number]) => n.segments.map((s) => s.id).sort();
    // Contacts come newest first: the last one added is contacts[499].
    nodes.forEach((node, i) => expect(sortedSegments(node)).toEqual(expectedSegments(contacts[499 - i]!)));

    expect(large.calls).toEqual(small.calls);
    expect(large.total).toBeLessThanOrEqual(6);
    expect(large.calls).toMatchObject({ pageContacts: 1, segmentIdsOfContacts: 1, getSegments: 1 });
  });

  it("a segment's 500 members with their list and segments make a few store calls, as many as for 50 members", async () => {
    const { client } = server;
    const small = await counter.during(() => client.data(SegmentMembersWithTheirSegmentsDocument, { id: segmentIds.everyone!, first: 50 }));
    const large = await counter.during(() => client.data(SegmentMembersWithTheirSegmentsDocument, { id: segmentIds.everyone!, first: 500 }));

    const segment = large.result.segment!;
    expect(segment.memberCount).toBe(500);
    expect(segment.members.totalCount).toBe(500);
    expect(segment.members.nodes).toHaveLength(500);
    expect(new Set(segment.members.nodes.map((n) => n.id)).size).toBe(500);
    for (const member of segment.members.nodes) {
      expect(member.list.id).toBe(listId);
      expect(member.segments.map((s) => s.id)).toContain(segmentIds.everyone);
      for (const s of member.segments) expect(s.list.id).toBe(listId);
    }
    const counts = new Map(segment.members.nodes.flatMap((n) => n.segments).map((s) => [s.id, s.memberCount]));
    expect(counts.get(segmentIds.norway!)).toBe(250);
    expect(counts.get(segmentIds.vip!)).toBe(167);

    expect(large.calls).toEqual(small.calls);
    expect(large.total).toBeLessThanOrEqual(7);
    expect(large.calls).toMatchObject({ pageMembers: 1, getContacts: 1, segmentIdsOfContacts: 1 });
  });

  it("every list's segments with their counts and lists take one batched call each, however many lists there are", async () => {
    const { client } = server;
    const small = await counter.during(() => client.data(ListsWithTheirSegmentsDocument, { first: 2 }));
    const large = await counter.during(() => client.data(ListsWithTheirSegmentsDocument, { first: 5 }));

    const lists = large.result.contactLists.nodes;
    expect(lists).toHaveLength(5);
    for (const list of lists) {
      expect(list.segments.length).toBeGreaterThan(0);
      for (const segment of list.segments) expect(segment.list.id).toBe(list.id);
    }
    const batched = lists.find((list) => list.id === listId)!;
    expect(batched.contactCount).toBe(500);
    expect(Object.fromEntries(batched.segments.map((s) => [s.id, s.memberCount]))).toEqual({
      [segmentIds.everyone!]: 500,
      [segmentIds.norway!]: 250,
      [segmentIds.norwayStatic!]: 250,
      [segmentIds.vip!]: 167,
    });

    expect(large.calls).toEqual(small.calls);
    expect(large.calls.segmentsOfLists).toBe(1);
    expect(large.total).toBeLessThanOrEqual(4);
  });
});
