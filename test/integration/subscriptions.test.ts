/**
 * segmentMembershipChanged through the real graphql-ws client: filters, event contents, reasons,
 * counts, cursors, argument errors, completion on deletes, and several subscribers at once.
 */
import { decodeIntCursor } from "../../src/common/cursor";
import {
  AddContactDocument,
  AddContactsDocument,
  type ConditionInput,
  type ContactInput,
  type ContactPatchInput,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  DeleteListDocument,
  DeleteSegmentDocument,
  MembershipChangedDocument,
  type MembershipChangedSubscription,
  type MembershipChangedSubscriptionVariables,
  type SegmentType,
  UpdateContactDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import { startTestServer, stopAll, type TestServer } from "../support/harness";
import { streamsOpen, type Subscription, type SubscriptionClient } from "../support/ws";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(stopAll);

type Event = MembershipChangedSubscription["segmentMembershipChanged"];
type Stream = Subscription<MembershipChangedSubscription>;

async function newList(name: string) {
  return (await server.client.data(CreateListDocument, { input: { name } })).createContactList;
}

async function addContact(listId: string, input: ContactInput) {
  return (await server.client.data(AddContactDocument, { listId, input })).addContact;
}

async function updateContact(id: string, input: ContactPatchInput) {
  return (await server.client.data(UpdateContactDocument, { id, input })).updateContact;
}

async function deleteContact(id: string) {
  expect((await server.client.data(DeleteContactDocument, { id })).deleteContact).toBe(id);
}

async function createSegment(listId: string, name: string, type: SegmentType, condition: ConditionInput) {
  return (await server.client.data(CreateSegmentDocument, { input: { listId, name, type, condition } })).createSegment;
}

/**
 * Opens subscriptions and waits until the server has opened all their streams, so later writes
 * reach them. Streams stopped by earlier tests may still be counted, hence the baseline.
 */
async function subscribeAll(variables: MembershipChangedSubscriptionVariables[], socket: SubscriptionClient = server.ws()): Promise<Stream[]> {
  const open = server.app.services.events.activeStreams;
  const subscriptions = variables.map((vars) => socket.subscribe(MembershipChangedDocument, vars));
  await streamsOpen(server.app, open + variables.length);
  return subscriptions;
}

async function subscribe(variables: MembershipChangedSubscriptionVariables, socket?: SubscriptionClient): Promise<Stream> {
  return (await subscribeAll([variables], socket))[0]!;
}

/**
 * Waits for `count` events. Events arrive in order, so an unexpected one caused by an earlier
 * write shows up before the last expected one and fails the comparison.
 */
async function eventsOf(subscription: Stream, count: number): Promise<Event[]> {
  const received = (await subscription.waitFor(count)).map((e) => e.segmentMembershipChanged);
  expect(subscription.errors).toEqual([]);
  return received.slice(0, count);
}

/** Segment, contact, change, reason and count of an event. */
const brief = (e: Event) => [e.segmentId, e.contactId, e.change, e.reason, e.memberCount];

/** Subscribes with arguments that must be refused; returns the error codes sent instead of a stream. */
async function refusal(variables: MembershipChangedSubscriptionVariables): Promise<(string | undefined)[]> {
  const subscription = server.ws().subscribe(MembershipChangedDocument, variables);
  await subscription.done();
  expect(subscription.events).toEqual([]);
  return subscription.errors.map((error) => error.extensions?.code);
}

/** Waits for a condition, failing after the timeout. */
async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const seqOf = (cursor: string) => decodeIntCursor(cursor, "e", 1)[0]!;

const norway: ConditionInput = { field: "country", operator: "EQUALS", value: "Norway" };
const vip: ConditionInput = { field: "tags", operator: "HAS_ANY", value: ["vip"] };

describe("filters", () => {
  it("a segment subscriber receives only its own segment's events, a list subscriber those of every segment of its list", async () => {
    const listA = await newList("A");
    const listB = await newList("B");
    const p = await addContact(listA.id, { email: "p@example.no", country: "Norway" });
    const s1 = await createSegment(listA.id, "A Norway", "DYNAMIC", norway);
    const s2 = await createSegment(listA.id, "A VIP", "DYNAMIC", vip);
    const s3 = await createSegment(listA.id, "A Norway (static)", "STATIC", norway);
    const t1 = await createSegment(listB.id, "B Norway", "DYNAMIC", norway);
    const [subS1, subS2, subS3, subA, subB] = await subscribeAll([
      { segmentId: s1.id },
      { segmentId: s2.id },
      { segmentId: s3.id },
      { listId: listA.id },
      { listId: listB.id },
    ]);

    const x = await addContact(listA.id, { email: "x@example.no", country: "Norway", tags: ["vip"] }); // S1 and S2 enter
    const y = await addContact(listB.id, { email: "y@example.no", country: "Norway" }); // T1 enters
    await updateContact(x.id, { tags: [] }); // S2 leaves
    const z = await addContact(listA.id, { email: "z@example.no", country: "Norway" }); // S1 enters
    await deleteContact(p.id); // S1 and S3 leave
    const m = await addContact(listA.id, { email: "m@example.no", country: "Norway", tags: ["VIP"] }); // S1 and S2 enter
    const y2 = await addContact(listB.id, { email: "y2@example.no", country: "Norway" }); // T1 enters

    const s1Events = [
      [s1.id, x.id, "ENTERED", "CONTACT_ADDED", 2],
      [s1.id, z.id, "ENTERED", "CONTACT_ADDED", 3],
      [s1.id, p.id, "LEFT", "CONTACT_DELETED", 2],
      [s1.id, m.id, "ENTERED", "CONTACT_ADDED", 3],
    ];
    const s2Events = [
      [s2.id, x.id, "ENTERED", "CONTACT_ADDED", 1],
      [s2.id, x.id, "LEFT", "CONTACT_UPDATED", 0],
      [s2.id, m.id, "ENTERED", "CONTACT_ADDED", 1],
    ];
    const s3Events = [[s3.id, p.id, "LEFT", "CONTACT_DELETED", 0]];
    expect((await eventsOf(subS1!, 4)).map(brief)).toEqual(s1Events);
    expect((await eventsOf(subS2!, 3)).map(brief)).toEqual(s2Events);
    // The static segment changes only when a member is deleted; a later event marks the end.
    const late = await addContact(listA.id, { email: "late@example.no", country: "Sweden", tags: ["vip"] }); // S2 enters
    expect((await eventsOf(subS2!, 4))[3]!.contactId).toBe(late.id);
    expect((await eventsOf(subS3!, 1)).map(brief)).toEqual(s3Events);

    // The list subscriber sees all of them; the order between segments within one write is not
    // specified, the order within a segment is.
    const listEvents = (await eventsOf(subA!, 9)).map(brief);
    const everyEvent = [...s1Events, ...s2Events, ...s3Events, [s2.id, late.id, "ENTERED", "CONTACT_ADDED", 2]];
    const key = (e: unknown[]) => JSON.stringify(e);
    expect(listEvents.map(key).sort()).toEqual(everyEvent.map(key).sort());
    expect(key(listEvents[8]!)).toBe(key(everyEvent[8]!));
    expect(listEvents.filter((e) => e[0] === s1.id)).toEqual(s1Events);
    expect(listEvents.filter((e) => e[0] === s2.id)).toEqual([...s2Events, everyEvent[8]]);
    expect(listEvents.filter((e) => e[0] === s3.id)).toEqual(s3Events);
    expect((await eventsOf(subB!, 2)).map(brief)).toEqual([
      [t1.id, y.id, "ENTERED", "CONTACT_ADDED", 1],
      [t1.id, y2.id, "ENTERED", "CONTACT_ADDED", 2],
    ]);
  });
});

describe("event contents", () => {
  it("each event carries its segment, its contact, the change, the reason and the member count right after it", async () => {
    const list = await newList("Contents");
    const first = await addContact(list.id, { email: "first@example.no", country: "Norway" });
    const second = await addContact(list.id, { email: "second@example.no", country: "Norway" });
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const subscription = await subscribe({ segmentId: live.id });
    // Each step waits for its event, so the event is delivered while the contact still exists;
    // a step without an event would put one in the next step's place.
    const next = async (count: number) => (await eventsOf(subscription, count))[count - 1]!;

    const a = await addContact(list.id, { email: "a@example.no", country: "Norway" });
    expect(await next(1)).toMatchObject({
      segmentId: live.id,
      segment: { id: live.id, name: "Norway" },
      contactId: a.id,
      contact: { id: a.id, email: "a@example.no" },
      change: "ENTERED",
      reason: "CONTACT_ADDED",
      memberCount: 3,
    });

    const b = await addContact(list.id, { email: "b@example.se", country: "Sweden" }); // not a match: no event
    await updateContact(b.id, { country: "NORWAY" });
    expect(await next(2)).toMatchObject({ contactId: b.id, contact: { id: b.id }, change: "ENTERED", reason: "CONTACT_UPDATED", memberCount: 4 });

    await updateContact(a.id, { city: "Oslo" }); // still a match: no event
    await updateContact(a.id, { country: "Denmark" });
    expect(await next(3)).toMatchObject({ contactId: a.id, contact: { id: a.id }, change: "LEFT", reason: "CONTACT_UPDATED", memberCount: 3 });

    await deleteContact(b.id);
    const deleted = await next(4);
    expect(deleted).toMatchObject({ segmentId: live.id, contactId: b.id, change: "LEFT", reason: "CONTACT_DELETED", memberCount: 2 });
    expect(deleted.contact).toBeNull();

    await deleteContact(a.id); // not a member: no event
    await server.client.data(UpdateSegmentDocument, { id: live.id, input: { name: "Norwegians" } }); // no event
    await updateContact(first.id, { country: "Sweden" });
    expect(await next(5)).toMatchObject({
      segment: { id: live.id, name: "Norwegians" },
      contactId: first.id,
      change: "LEFT",
      reason: "CONTACT_UPDATED",
      memberCount: 1,
    });

    // A condition change: second leaves, first enters, both with SEGMENT_UPDATED.
    await server.client.data(UpdateSegmentDocument, { id: live.id, input: { condition: { field: "country", operator: "IN", value: ["sweden"] } } });
    const all = await eventsOf(subscription, 7);
    const changed = all.slice(5);
    expect(changed.map((e) => `${e.change} ${e.contactId} ${e.reason}`).sort()).toEqual(
      [`ENTERED ${first.id} SEGMENT_UPDATED`, `LEFT ${second.id} SEGMENT_UPDATED`].sort(),
    );
    expect(changed.map((e) => e.memberCount)).toEqual(changed[0]!.change === "LEFT" ? [0, 1] : [2, 1]);
    for (const event of all) expect(new Date(event.occurredAt).toISOString()).toBe(event.occurredAt);
  });
});

describe("cursors and creation", () => {
  it("cursors strictly increase, and resuming after one replays exactly the events that followed it, then continues live", async () => {
    const list = await newList("Cursors");
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    // A static segment, created empty, takes no part: only the dynamic one has events.
    await createSegment(list.id, "Everyone (static)", "STATIC", { field: "email", operator: "IS_SET" });
    const subscription = await subscribe({ listId: list.id });

    const added = await server.client.data(AddContactsDocument, {
      listId: list.id,
      contacts: Array.from({ length: 5 }, (_, i) => ({ email: `c${i}@example.no`, country: "Norway" })),
    });
    expect(added.addContacts.added).toBe(5);
    const c0 = await addContact(list.id, { email: "later@example.no", country: "Norway" });
    await updateContact(c0.id, { country: "Sweden" });
    await deleteContact(c0.id); // no longer a member of anything: no event
    const events = await eventsOf(subscription, 7);
    expect(events.every((e) => e.segmentId === live.id)).toBe(true);
    expect(events.map((e) => e.memberCount)).toEqual([1, 2, 3, 4, 5, 6, 5]);

    const seqs = events.map((e) => seqOf(e.cursor));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);

    const resumed = await subscribe({ listId: list.id, after: events[2]!.cursor });
    const replayed = await eventsOf(resumed, 4);
    expect(replayed.map((e) => [e.cursor, ...brief(e)])).toEqual(events.slice(3).map((e) => [e.cursor, ...brief(e)]));

    const d = await addContact(list.id, { email: "live@example.no", country: "Norway" });
    const [liveEvent] = (await eventsOf(resumed, 5)).slice(4);
    expect(brief(liveEvent!)).toEqual([live.id, d.id, "ENTERED", "CONTACT_ADDED", 6]);
    const original = (await eventsOf(subscription, 8))[7]!;
    expect(original.cursor).toBe(liveEvent!.cursor);
    expect(seqOf(liveEvent!.cursor)).toBeGreaterThan(seqs[seqs.length - 1]!);
  });

  it("creating a segment publishes no events, even for its initial members", async () => {
    const list = await newList("Creation");
    await server.client.data(AddContactsDocument, {
      listId: list.id,
      contacts: [
        { email: "ola@example.no", country: "Norway" },
        { email: "kari@example.no", country: "Norway" },
        { email: "sven@example.se", country: "Sweden" },
      ],
    });
    const subscription = await subscribe({ listId: list.id });
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const fixed = await createSegment(list.id, "Norway (static)", "STATIC", norway);
    const everyone = await createSegment(list.id, "Everyone", "DYNAMIC", { field: "email", operator: "IS_SET" });
    expect([live.memberCount, fixed.memberCount, everyone.memberCount]).toEqual([2, 2, 3]);

    // The first event is the one this write causes.
    const anna = await addContact(list.id, { email: "anna@example.se", country: "Sweden" });
    expect((await eventsOf(subscription, 1)).map(brief)).toEqual([[everyone.id, anna.id, "ENTERED", "CONTACT_ADDED", 4]]);
  });
});

describe("arguments", () => {
  it("an unknown segment or list id, or an id of another type, gets NOT_FOUND instead of a stream", async () => {
    const list = await newList("Ids");
    const contact = await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const segment = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const goneSegment = await createSegment(list.id, "Gone", "DYNAMIC", norway);
    await server.client.data(DeleteSegmentDocument, { id: goneSegment.id });
    const goneList = await newList("Gone");
    await server.client.data(DeleteListDocument, { id: goneList.id });

    const cases: MembershipChangedSubscriptionVariables[] = [
      { segmentId: goneSegment.id },
      { listId: goneList.id },
      { segmentId: list.id },
      { listId: segment.id },
      { segmentId: contact.id },
      { listId: contact.id },
      { segmentId: "bm9wZQ" },
      { listId: "not an id" },
    ];
    for (const variables of cases) expect(await refusal(variables)).toEqual(["NOT_FOUND"]);
  });

  it("a subscription with neither or both of segmentId and listId gets BAD_USER_INPUT", async () => {
    const list = await newList("Arguments");
    const segment = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    expect(await refusal({})).toEqual(["BAD_USER_INPUT"]);
    expect(await refusal({ segmentId: null, listId: null })).toEqual(["BAD_USER_INPUT"]);
    expect(await refusal({ segmentId: segment.id, listId: list.id })).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("completion and fan-out", () => {
  it("a segment's stream completes when the segment is deleted, and the other segments' streams go on", async () => {
    const list = await newList("Segment deletion");
    await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const doomed = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const kept = await createSegment(list.id, "VIP", "DYNAMIC", vip);
    const [doomedStream, keptStream] = await subscribeAll([{ segmentId: doomed.id }, { segmentId: kept.id }]);

    await server.client.data(DeleteSegmentDocument, { id: doomed.id });
    await doomedStream!.done();
    expect(doomedStream!.errors).toEqual([]);
    expect(doomedStream!.events).toEqual([]);

    const kari = await addContact(list.id, { email: "kari@example.no", country: "Norway", tags: ["vip"] });
    expect((await eventsOf(keptStream!, 1)).map(brief)).toEqual([[kept.id, kari.id, "ENTERED", "CONTACT_ADDED", 1]]);
    expect(keptStream!.completed).toBe(false);
  });

  // Product bug (src/engine/subscription.ts): membershipStream ends on any SEGMENT_DELETED event
  // that matches its filter, and a listId filter matches the tombstone of every segment of the
  // list, so deleting one segment silently completes every list subscriber.
  it("a list's stream goes on when one of its segments is deleted", async () => {
    const list = await newList("Segment deletion, list stream");
    await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const doomed = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const kept = await createSegment(list.id, "VIP", "DYNAMIC", vip);
    const listStream = await subscribe({ listId: list.id });

    await server.client.data(DeleteSegmentDocument, { id: doomed.id });
    const kari = await addContact(list.id, { email: "kari@example.no", country: "Norway", tags: ["vip"] });
    await eventually(() => listStream.events.length > 0 || listStream.completed, 5_000, "an event or the end of the stream");
    expect(listStream.completed).toBe(false);
    expect((await eventsOf(listStream, 1)).map(brief)).toEqual([[kept.id, kari.id, "ENTERED", "CONTACT_ADDED", 1]]);
  });

  it("every stream of a list, its own and its segments', completes when the list is deleted", async () => {
    const list = await newList("List deletion");
    const other = await newList("Other list");
    await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const s1 = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const s2 = await createSegment(list.id, "Norway (static)", "STATIC", norway);
    const o1 = await createSegment(other.id, "Norway", "DYNAMIC", norway);
    const [first, second, whole, elsewhere] = await subscribeAll([
      { segmentId: s1.id },
      { segmentId: s2.id },
      { listId: list.id },
      { listId: other.id },
    ]);

    await server.client.data(DeleteListDocument, { id: list.id });
    for (const stream of [first!, second!, whole!]) {
      await stream.done();
      expect(stream.errors).toEqual([]);
      expect(stream.events).toEqual([]);
    }

    const kari = await addContact(other.id, { email: "kari@example.no", country: "Norway" });
    expect((await eventsOf(elsewhere!, 1)).map(brief)).toEqual([[o1.id, kari.id, "ENTERED", "CONTACT_ADDED", 1]]);
    expect(elsewhere!.completed).toBe(false);
  });

  it("two subscribers of the same segment both receive every event, in the same order", async () => {
    const list = await newList("Fan-out");
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const socket = server.ws();
    const [x, z] = await subscribeAll([{ segmentId: live.id }, { segmentId: live.id }], socket);
    const y = await subscribe({ segmentId: live.id }, server.ws());

    const contacts = await Promise.all([1, 2, 3].map((i) => addContact(list.id, { email: `n${i}@example.no`, country: "Norway" })));
    await updateContact(contacts[0]!.id, { country: "Sweden" });
    await deleteContact(contacts[1]!.id);

    const seen = await Promise.all([x!, y, z!].map((stream) => eventsOf(stream, 5)));
    const [fromX, fromY, fromZ] = seen.map((events) => events.map((e) => [e.cursor, ...brief(e)]));
    expect(fromX).toHaveLength(5);
    expect(fromY).toEqual(fromX);
    expect(fromZ).toEqual(fromX);
    expect(seen[0]!.map((e) => `${e.change} ${e.reason}`)).toEqual([
      "ENTERED CONTACT_ADDED",
      "ENTERED CONTACT_ADDED",
      "ENTERED CONTACT_ADDED",
      "LEFT CONTACT_UPDATED",
      "LEFT CONTACT_DELETED",
    ]);
    expect(seen[0]!.map((e) => e.memberCount)).toEqual([1, 2, 3, 2, 1]);
  });
});

describe("stopping", () => {
  // A stream waiting on a quiet log must end when its client stops (an async generator's
  // return() would only take effect at its next `yield`, after the next matching event).
  it("a stream its client stops is closed on the server even if its segment stays quiet", async () => {
    const own = await startTestServer();
    const list = (await own.client.data(CreateListDocument, { input: { name: "Quiet" } })).createContactList;
    const segment = (
      await own.client.data(CreateSegmentDocument, { input: { listId: list.id, name: "Quiet", type: "DYNAMIC", condition: norway } })
    ).createSegment;
    const subscription = own.ws().subscribe(MembershipChangedDocument, { segmentId: segment.id });
    await streamsOpen(own.app, 1);
    subscription.unsubscribe();
    await eventually(() => own.app.services.events.activeStreams === 0, 2_000, "the server to close the stopped stream");
  });
});
