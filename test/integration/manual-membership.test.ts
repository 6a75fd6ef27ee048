/**
 * Adding and removing contacts by hand: STATIC segments' fixed sets change; DYNAMIC segments get
 * INCLUDED / EXCLUDED overrides that survive contact edits, condition edits, restarts and verify,
 * and go with a deleted contact. Every change is an event with reason MANUAL.
 */
import {
  AddContactsDocument,
  AddSegmentMembersDocument,
  ClearSegmentOverridesDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  ListContactsDocument,
  MembershipChangedDocument,
  RemoveSegmentMembersDocument,
  SegmentCursorDocument,
  SegmentOverridesDocument,
  UpdateContactDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import { memberEmails } from "../support/data";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

const PEOPLE = [
  { email: "ola@example.no", country: "Norway" },
  { email: "kari@example.no", country: "Norway" },
  { email: "sven@example.se", country: "Sweden" },
  { email: "anna@example.se", country: "Sweden" },
  { email: "mette@example.dk", country: "Denmark" },
];

async function setUp(server: TestServer, type: "DYNAMIC" | "STATIC" = "DYNAMIC") {
  const { client } = server;
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name: `Manual ${type}` } });
  await client.data(AddContactsDocument, { listId: list.id, contacts: PEOPLE });
  const { createSegment: segment } = await client.data(CreateSegmentDocument, {
    input: { listId: list.id, name: "Norway", type, condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  });
  const nodes = (await client.data(ListContactsDocument, { listId: list.id, first: 10 })).contactList!.contacts.nodes;
  const id = (email: string) => nodes.find((node) => node.email === email)!.id;
  return { list, segment, id };
}

describe("manual membership of a DYNAMIC segment", () => {
  it("INCLUDED and EXCLUDED overrides decide over the condition, survive edits, condition changes and a restart, and publish MANUAL events", async () => {
    let server = await startTestServer();
    const { segment, id } = await setUp(server);
    const { client } = server;
    const ws = server.ws().subscribe(MembershipChangedDocument, { segmentId: segment.id, after: (await client.data(SegmentCursorDocument, { id: segment.id })).segment!.eventCursor });

    const added = await client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("sven@example.se"), id("ola@example.no")] });
    // Ola already matches: only Sven's membership changed.
    expect(added.addSegmentMembers).toMatchObject({ changed: 1, errors: [], segment: { memberCount: 3 } });
    const removed = await client.data(RemoveSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("kari@example.no")] });
    expect(removed.removeSegmentMembers).toMatchObject({ changed: 1, errors: [], segment: { memberCount: 2 } });
    expect(await memberEmails(client, segment.id)).toEqual(["ola@example.no", "sven@example.se"]);

    const events = await ws.waitFor(2);
    expect(events.map((e) => [e.segmentMembershipChanged.change, e.segmentMembershipChanged.reason, e.segmentMembershipChanged.contact?.email])).toEqual([
      ["ENTERED", "MANUAL", "sven@example.se"],
      ["LEFT", "MANUAL", "kari@example.no"],
    ]);

    const overrides = (await client.data(SegmentOverridesDocument, { id: segment.id })).segment!;
    expect(overrides.includedContacts.nodes.map((node) => node.email).sort()).toEqual(["ola@example.no", "sven@example.se"]);
    expect(overrides.includedContacts.totalCount).toBe(2);
    expect(overrides.excludedContacts.nodes.map((node) => node.email)).toEqual(["kari@example.no"]);

    // Contact edits do not undo them: Sven stays in though not Norwegian, Kari stays out though she is.
    await client.data(UpdateContactDocument, { id: id("sven@example.se"), input: { city: "Malmö" } });
    await client.data(UpdateContactDocument, { id: id("kari@example.no"), input: { city: "Bergen" } });
    // Nor does a condition edit: Denmark joins the condition, Kari is still excluded, Sven still included.
    await client.data(UpdateSegmentDocument, { id: segment.id, input: { condition: { field: "country", operator: "IN", value: ["Norway", "Denmark"] } } });
    expect(await memberEmails(client, segment.id)).toEqual(["mette@example.dk", "ola@example.no", "sven@example.se"]);
    expect((await server.app.store.verify()).differences).toEqual([]);

    // Nor a restart.
    const dbPath = server.dbPath;
    await server.stop();
    server = await startTestServer({ dbPath });
    expect(await memberEmails(server.client, segment.id)).toEqual(["mette@example.dk", "ola@example.no", "sven@example.se"]);
    expect((await server.app.store.verify()).differences).toEqual([]);

    // Clearing gives the decision back to the condition.
    const cleared = await server.client.data(ClearSegmentOverridesDocument, { segmentId: segment.id, contactIds: [id("sven@example.se"), id("kari@example.no"), id("ola@example.no")] });
    expect(cleared.clearSegmentOverrides).toMatchObject({ changed: 2, errors: [] });
    expect(await memberEmails(server.client, segment.id)).toEqual(["kari@example.no", "mette@example.dk", "ola@example.no"]);
    const after = (await server.client.data(SegmentOverridesDocument, { id: segment.id })).segment!;
    expect(after.includedContacts.totalCount + after.excludedContacts.totalCount).toBe(0);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });

  it("a deleted contact's overrides go with it", async () => {
    const server = await startTestServer();
    const { segment, id } = await setUp(server);
    await server.client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("anna@example.se")] });
    await server.client.data(DeleteContactDocument, { id: id("anna@example.se") });
    const overrides = (await server.client.data(SegmentOverridesDocument, { id: segment.id })).segment!;
    expect(overrides.includedContacts.totalCount).toBe(0);
    expect(overrides.memberCount).toBe(2);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });
});

describe("manual membership of a STATIC segment", () => {
  it("adds and removes contacts of its fixed set, with MANUAL events; it has no overrides to clear", async () => {
    const server = await startTestServer();
    const { segment, id } = await setUp(server, "STATIC");
    const { client } = server;
    const added = await client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("mette@example.dk")] });
    expect(added.addSegmentMembers).toMatchObject({ changed: 1, segment: { memberCount: 3 } });
    const removed = await client.data(RemoveSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("ola@example.no"), id("sven@example.se")] });
    // Sven was not a member: only Ola left.
    expect(removed.removeSegmentMembers).toMatchObject({ changed: 1, segment: { memberCount: 2 } });
    expect(await memberEmails(client, segment.id)).toEqual(["kari@example.no", "mette@example.dk"]);
    // The fixed set does not follow the condition afterwards.
    await client.data(UpdateContactDocument, { id: id("mette@example.dk"), input: { city: "Aarhus" } });
    expect(await memberEmails(client, segment.id)).toEqual(["kari@example.no", "mette@example.dk"]);
    const refused = await client.errors(ClearSegmentOverridesDocument, { segmentId: segment.id, contactIds: [id("ola@example.no")] });
    expect(refused.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });
});

describe("bad input", () => {
  it("ids that are not contacts of the segment's list are row errors by index (NOT_FOUND); the others are applied", async () => {
    const server = await startTestServer();
    const { segment, id } = await setUp(server);
    const other = await setUp(server);
    const result = await server.client.data(AddSegmentMembersDocument, {
      segmentId: segment.id,
      contactIds: ["not-an-id", id("sven@example.se"), other.id("anna@example.se"), segment.id],
    });
    expect(result.addSegmentMembers.changed).toBe(1);
    expect(result.addSegmentMembers.errors.map((e) => [e.index, e.code])).toEqual([
      [0, "NOT_FOUND"],
      [2, "NOT_FOUND"],
      [3, "NOT_FOUND"],
    ]);
    expect(await memberEmails(server.client, segment.id)).toEqual(["kari@example.no", "ola@example.no", "sven@example.se"]);
  });

  it("more than 10,000 ids, repeats counted, is BAD_USER_INPUT and changes nothing; an unknown segment is NOT_FOUND", async () => {
    const server = await startTestServer();
    const { segment, id } = await setUp(server);
    const errors = await server.client.errors(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: Array.from({ length: 10_001 }, () => id("sven@example.se")) });
    expect(errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(await memberEmails(server.client, segment.id)).toEqual(["kari@example.no", "ola@example.no"]);
    // Exactly 10,000 (the same id repeated) is allowed and changes one membership.
    const allowed = await server.client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: Array.from({ length: 10_000 }, () => id("sven@example.se")) });
    expect(allowed.addSegmentMembers.changed).toBe(1);
    const missing = await server.client.errors(RemoveSegmentMembersDocument, { segmentId: "U2VnbWVudDo5OTk5OTk", contactIds: [id("ola@example.no")] });
    expect(missing.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
  });
});
