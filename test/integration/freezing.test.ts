/**
 * Freezing and copies: a DYNAMIC segment turns STATIC with the members it has (no events), now
 * or at a scheduled instant, even one that passed while the service was down; a scheduled freeze
 * can be cancelled; duplicateSegment copies the condition and overrides, and a STATIC copy is a
 * snapshot of the source's members.
 */
import { ManualClock } from "../../src/common/clock";
import {
  AddContactsDocument,
  AddSegmentMembersDocument,
  CancelSegmentFreezeDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DuplicateSegmentDocument,
  FreezeSegmentDocument,
  ListContactsDocument,
  MembershipChangedDocument,
  SegmentCursorDocument,
  SegmentFrozenStateDocument,
  SegmentOverridesDocument,
  UpdateContactDocument,
} from "../graphql/generated";
import { memberEmails } from "../support/data";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

const START = Date.parse("2026-03-01T09:00:00Z");

async function setUp(server: TestServer) {
  const { client } = server;
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Freezing" } });
  await client.data(AddContactsDocument, {
    listId: list.id,
    contacts: [
      { email: "ola@example.no", country: "Norway" },
      { email: "kari@example.no", country: "Norway" },
      { email: "sven@example.se", country: "Sweden" },
    ],
  });
  const { createSegment: segment } = await client.data(CreateSegmentDocument, {
    input: { listId: list.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  });
  const nodes = (await client.data(ListContactsDocument, { listId: list.id, first: 10 })).contactList!.contacts.nodes;
  const id = (email: string) => nodes.find((node) => node.email === email)!.id;
  return { list, segment, id };
}

describe("freezeSegment", () => {
  it("now: the segment turns STATIC with its members, publishes nothing, and stops following the condition", async () => {
    const clock = new ManualClock(START);
    const server = await startTestServer({ clock });
    const { client } = server;
    const { segment, id } = await setUp(server);
    const ws = server.ws().subscribe(MembershipChangedDocument, { segmentId: segment.id, after: (await client.data(SegmentCursorDocument, { id: segment.id })).segment!.eventCursor });

    const { freezeSegment: frozen } = await client.data(FreezeSegmentDocument, { id: segment.id });
    expect(frozen).toMatchObject({ type: "STATIC", status: "READY", memberCount: 2, freezeAt: null, frozenAt: new Date(START).toISOString() });
    // A Swede who moves to Norway no longer enters; a Norwegian who leaves stays.
    await client.data(UpdateContactDocument, { id: id("sven@example.se"), input: { country: "Norway" } });
    await client.data(UpdateContactDocument, { id: id("ola@example.no"), input: { country: "Sweden" } });
    expect(await memberEmails(client, segment.id)).toEqual(["kari@example.no", "ola@example.no"]);
    // No event came from the freeze or the edits after it: the first one is a later hand edit's.
    await client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("sven@example.se")] });
    await ws.waitFor(1);
    expect(ws.events.map((e) => [e.segmentMembershipChanged.change, e.segmentMembershipChanged.reason, e.segmentMembershipChanged.contact?.email])).toEqual([
      ["ENTERED", "MANUAL", "sven@example.se"],
    ]);
    expect((await server.app.store.verify()).differences).toEqual([]);

    const again = await client.errors(FreezeSegmentDocument, { id: segment.id });
    expect(again.map((e) => [e.extensions?.code, e.message])).toEqual([["BAD_USER_INPUT", "the segment is already frozen"]]);
  });

  it("scheduled: the segment follows its condition until the instant, then keeps what it had", async () => {
    const clock = new ManualClock(START);
    const server = await startTestServer({ clock });
    const { client } = server;
    const { segment, id } = await setUp(server);
    const at = new Date(START + 3_600_000).toISOString();
    const { freezeSegment: scheduled } = await client.data(FreezeSegmentDocument, { id: segment.id, at });
    expect(scheduled).toMatchObject({ type: "DYNAMIC", freezeAt: at, frozenAt: null });

    // Before the freeze the segment is live.
    await client.data(UpdateContactDocument, { id: id("sven@example.se"), input: { country: "Norway" } });
    expect(await memberEmails(client, segment.id)).toEqual(["kari@example.no", "ola@example.no", "sven@example.se"]);

    // An instant in the past while a freeze is pending is refused, and changes nothing.
    const past = await client.errors(FreezeSegmentDocument, { id: segment.id, at: new Date(START - 60_000).toISOString() });
    expect(past.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(past[0]!.message).toMatch(/in the past while a freeze is scheduled/);

    clock.set(START + 3_600_000);
    await server.app.engine.drain();
    expect((await client.data(SegmentFrozenStateDocument, { id: segment.id })).segment).toMatchObject({ type: "STATIC", freezeAt: null, frozenAt: at, memberCount: 3 });
    await client.data(UpdateContactDocument, { id: id("kari@example.no"), input: { country: "Sweden" } });
    expect(await memberEmails(client, segment.id)).toEqual(["kari@example.no", "ola@example.no", "sven@example.se"]);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });

  it("a freeze that fell due while the service was down happens at start-up", async () => {
    const server = await startTestServer({ clock: new ManualClock(START) });
    const { segment } = await setUp(server);
    const at = new Date(START + 60_000).toISOString();
    await server.client.data(FreezeSegmentDocument, { id: segment.id, at });
    const dbPath = server.dbPath;
    await server.stop();

    const later = await startTestServer({ dbPath, clock: new ManualClock(START + 86_400_000) });
    await later.app.engine.drain();
    // frozenAt is when it happened: at start-up.
    expect((await later.client.data(SegmentFrozenStateDocument, { id: segment.id })).segment).toMatchObject({
      type: "STATIC",
      frozenAt: new Date(START + 86_400_000).toISOString(),
      freezeAt: null,
      memberCount: 2,
    });
  });

  it("at: null on a scheduled segment freezes now; cancelSegmentFreeze drops a scheduled freeze", async () => {
    const clock = new ManualClock(START);
    const server = await startTestServer({ clock });
    const { client } = server;
    const first = await setUp(server);
    await client.data(FreezeSegmentDocument, { id: first.segment.id, at: new Date(START + 60_000).toISOString() });
    const { freezeSegment: now } = await client.data(FreezeSegmentDocument, { id: first.segment.id, at: null });
    expect(now).toMatchObject({ type: "STATIC", frozenAt: new Date(START).toISOString(), freezeAt: null });

    const second = await setUp(server);
    await client.data(FreezeSegmentDocument, { id: second.segment.id, at: new Date(START + 60_000).toISOString() });
    const { cancelSegmentFreeze: cancelled } = await client.data(CancelSegmentFreezeDocument, { id: second.segment.id });
    expect(cancelled).toMatchObject({ type: "DYNAMIC", freezeAt: null, frozenAt: null });
    clock.set(START + 120_000);
    await server.app.engine.drain();
    expect((await client.data(SegmentFrozenStateDocument, { id: second.segment.id })).segment!.type).toBe("DYNAMIC");
    const none = await client.errors(CancelSegmentFreezeDocument, { id: second.segment.id });
    expect(none.map((e) => [e.extensions?.code, e.message])).toEqual([["BAD_USER_INPUT", "no freeze is scheduled for this segment"]]);
  });

  it("freezing a STATIC segment or an unknown one is refused", async () => {
    const server = await startTestServer();
    const { list } = await setUp(server);
    const { createSegment: fixed } = await server.client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Fixed", type: "STATIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    const refused = await server.client.errors(FreezeSegmentDocument, { id: fixed.id });
    expect(refused.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(refused[0]!.message).toMatch(/only a DYNAMIC segment can be frozen/);
    const missing = await server.client.errors(FreezeSegmentDocument, { id: "U2VnbWVudDo5OTk5OTk" });
    expect(missing.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
  });
});

describe("duplicateSegment", () => {
  it("a STATIC copy is a snapshot of the source's members; a DYNAMIC copy keeps the condition and the overrides", async () => {
    const server = await startTestServer();
    const { client } = server;
    const { segment, id } = await setUp(server);
    await client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("sven@example.se")] });

    const { duplicateSegment: snapshot } = await client.data(DuplicateSegmentDocument, { id: segment.id, name: "Norway, March", type: "STATIC" });
    expect(snapshot).toMatchObject({ name: "Norway, March", type: "STATIC", status: "READY", memberCount: 3, frozenAt: null });
    expect(snapshot.condition).toEqual({ field: "country", operator: "EQUALS", value: "Norway" });
    const { duplicateSegment: live } = await client.data(DuplicateSegmentDocument, { id: segment.id, name: "Norway, copy" });
    expect(live).toMatchObject({ type: "DYNAMIC", status: "READY", memberCount: 3 });
    expect((await client.data(SegmentOverridesDocument, { id: live.id })).segment!.includedContacts.nodes.map((node) => node.email)).toEqual(["sven@example.se"]);

    // The snapshot stays; the live copy follows its condition (its override included).
    await client.data(UpdateContactDocument, { id: id("ola@example.no"), input: { country: "Denmark" } });
    expect(await memberEmails(client, snapshot.id)).toEqual(["kari@example.no", "ola@example.no", "sven@example.se"]);
    expect(await memberEmails(client, live.id)).toEqual(["kari@example.no", "sven@example.se"]);
    expect(await memberEmails(client, segment.id)).toEqual(["kari@example.no", "sven@example.se"]);
    expect((await server.app.store.verify()).differences).toEqual([]);

    const badName = await client.errors(DuplicateSegmentDocument, { id: segment.id, name: "  " });
    expect(badName.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});
