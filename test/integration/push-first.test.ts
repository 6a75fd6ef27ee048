/**
 * How a change's events leave the server. A write's caller resumes only after its events'
 * messages were written to subscribers' sockets, so they leave before the answer to the write is
 * built. A socket's first message of a turn is written at once, and the messages that follow it
 * in the same turn (the change's other events, other subscriptions of the connection) share one
 * write.
 * Writes are observed on the real sockets (write/writev calls whose bytes carry an event).
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import {
  AddContactDocument,
  type ConditionInput,
  CreateListDocument,
  CreateSegmentDocument,
  MembershipChangedDocument,
  ListSegmentsDocument,
  UpdateContactDocument,
} from "../graphql/generated";
import { createContext } from "../../src/graphql/context";
import { OPEN_WORKSPACE } from "../../src/security/api-keys";
import { startTestServer, stopAll, type TestServer } from "../support/harness";
import { countWrites, streamsOpen } from "../support/ws";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(stopAll);

/** Four segments that a contact moving from Sweden to Norway enters together. */
const NORWAY: ConditionInput[] = [
  { field: "country", operator: "EQUALS", value: "Norway" },
  { field: "country", operator: "IN", value: ["Norway", "Denmark"] },
  { field: "country", operator: "STARTS_WITH", value: "Nor" },
  { field: "country", operator: "ENDS_WITH", value: "way" },
];

async function listWithSegments(name: string, conditions: ConditionInput[]) {
  const { createContactList: list } = await server.client.data(CreateListDocument, { input: { name } });
  const segmentIds: string[] = [];
  for (const [i, condition] of conditions.entries()) {
    const { createSegment } = await server.client.data(CreateSegmentDocument, { input: { listId: list.id, name: `Norway ${i}`, type: "DYNAMIC", condition } });
    segmentIds.push(createSegment.id);
  }
  const { addContact } = await server.client.data(AddContactDocument, { listId: list.id, input: { email: `${name}@push.example`, country: "Sweden" } });
  return { listId: list.id, contactId: addContact.id, segmentIds };
}

const FLAT_EVENTS = parse(`
  subscription FlatEvents($listId: ID, $segmentId: ID) {
    segmentMembershipChanged(listId: $listId, segmentId: $segmentId) { cursor segmentId contactId change }
  }
`) as TypedDocumentNode<{ segmentMembershipChanged: { segmentId: string; change: string } }, { listId?: string; segmentId?: string }>;

/** A contact about to enter the four NORWAY segments, one subscription to their list, and its socket writes counted from now. */
async function watchedList<TData>(name: string, document: TypedDocumentNode<TData, { listId?: string }>) {
  const { listId, contactId } = await listWithSegments(name, NORWAY);
  const open = server.app.services.events.activeStreams;
  const subscription = server.ws().subscribe(document, { listId });
  await streamsOpen(server.app, open + 1);
  return { contactId, subscription, counter: countWrites('"segmentMembershipChanged"') };
}

it("a write's caller resumes only after its events' messages were written to the subscriber's socket", async () => {
  const { contactId, subscription, counter } = await watchedList("order", MembershipChangedDocument);
  let writtenBeforeResuming: number[];
  try {
    // In process, so nothing but the engine stands between the write and its caller.
    const ctx = createContext(server.app.services, OPEN_WORKSPACE, "test");
    await server.app.services.contacts.update(ctx, contactId, { country: "Norway" });
    writtenBeforeResuming = [...counter.writes];
    await subscription.waitFor(NORWAY.length);
  } finally {
    counter.stop();
  }
  // All four messages were written before the caller went on (here one write each: each event's
  // execution loads its segment and contact, and DataLoader runs its batch after the turn's
  // corked messages have left).
  expect(writtenBeforeResuming.reduce((sum, n) => sum + n, 0)).toBe(NORWAY.length);
  const events = subscription.events.map((e) => e.segmentMembershipChanged);
  expect(events.map((e) => [e.segment?.name, e.change])).toEqual(NORWAY.map((_, i) => [`Norway ${i}`, "ENTERED"]));
});

it("a change's events for one subscription leave in two writes: the first at once, the others together", async () => {
  const { contactId, subscription, counter } = await watchedList("one-subscription", FLAT_EVENTS);
  try {
    await server.client.data(UpdateContactDocument, { id: contactId, input: { country: "Norway" } });
    await subscription.waitFor(NORWAY.length);
  } finally {
    counter.stop();
  }
  expect(subscription.events.map((e) => e.segmentMembershipChanged.change)).toEqual(NORWAY.map(() => "ENTERED"));
  expect(counter.writes).toEqual([1, NORWAY.length - 1]);
});

it("a socket's first message of a turn is written at once, the others of that turn together", async () => {
  // One segment this time, so the update is one event: it concerns all three subscriptions.
  const { listId, contactId, segmentIds: [segmentId] } = await listWithSegments("together", NORWAY.slice(0, 1));
  const socket = server.ws();
  const open = server.app.services.events.activeStreams;
  const streams = [socket.subscribe(FLAT_EVENTS, { listId }), socket.subscribe(FLAT_EVENTS, { segmentId }), socket.subscribe(FLAT_EVENTS, { listId })];
  await streamsOpen(server.app, open + streams.length);
  const counter = countWrites('"segmentMembershipChanged"');
  try {
    await server.client.data(UpdateContactDocument, { id: contactId, input: { country: "Norway" } });
    for (const stream of streams) await stream.waitFor(1);
  } finally {
    counter.stop();
  }
  for (const stream of streams) expect(stream.events.map((e) => e.segmentMembershipChanged)).toEqual([expect.objectContaining({ segmentId, change: "ENTERED" })]);
  expect(counter.writes).toEqual([1, 2]);
});
