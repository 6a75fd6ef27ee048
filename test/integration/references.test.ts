/**
 * Segments inside conditions: { inSegment: ID } selects the members of another segment of the
 * same list, now. A change flows through a chain of references in the same engine step with the
 * reason of its cause (contact edits, clock flips, hand edits, condition edits); cycles, other
 * lists' segments and deleted segments are refused; a segment in use cannot be deleted.
 */
import { ManualClock } from "../../src/common/clock";
import {
  type ConditionInput,
  AddContactsDocument,
  AddSegmentMembersDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteSegmentDocument,
  ExplainSegmentNodesDocument,
  ListContactsDocument,
  MembershipChangedDocument,
  PreviewBreakdownDocument,
  SegmentCursorDocument,
  SegmentReferencesDocument,
  UpdateContactDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { memberEmails } from "../support/data";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

const NOW = Date.parse("2026-06-10T12:00:00Z");

/**
 * "Norway" (country), "Adults in Norway" (inSegment Norway AND age >= 18), "Adults in Norway, not
 * VIP" (inSegment Adults AND NOT tags HAS_ANY vip): a chain of three.
 */
async function chain(server: TestServer) {
  const { client } = server;
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Chain" } });
  await client.data(AddContactsDocument, {
    listId: list.id,
    contacts: [
      { email: "ola@example.no", country: "Norway", birthDate: "1990-01-01" },
      { email: "kari@example.no", country: "Norway", birthDate: "2008-06-11", tags: [] },
      { email: "sven@example.se", country: "Sweden", birthDate: "1985-05-05" },
      { email: "vip@example.no", country: "Norway", birthDate: "1980-01-01", tags: ["vip"] },
    ],
  });
  const create = async (name: string, condition: object, type: "DYNAMIC" | "STATIC" = "DYNAMIC") =>
    (await client.data(CreateSegmentDocument, { input: { listId: list.id, name, type, condition } })).createSegment;
  const norway = await create("Norway", { field: "country", operator: "EQUALS", value: "Norway" });
  const adults = await create("Adults in Norway", { and: [{ inSegment: norway.id }, { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 }] });
  const regular = await create("Adults in Norway, not VIP", { and: [{ inSegment: adults.id }, { not: { field: "tags", operator: "HAS_ANY", value: ["vip"] } }] });
  const nodes = (await client.data(ListContactsDocument, { listId: list.id, first: 10 })).contactList!.contacts.nodes;
  const id = (email: string) => nodes.find((node) => node.email === email)!.id;
  return { list, norway, adults, regular, id, create };
}

async function listCursor(client: GraphQLTestClient, segmentId: string) {
  return (await client.data(SegmentCursorDocument, { id: segmentId })).segment!.eventCursor;
}

describe("inSegment", () => {
  it("builds from the referenced segment's members, and a contact edit flows through the chain in one step with its reason", async () => {
    const server = await startTestServer({ clock: new ManualClock(NOW) });
    const { client } = server;
    const { list, norway, adults, regular, id } = await chain(server);
    expect(await memberEmails(client, norway.id)).toEqual(["kari@example.no", "ola@example.no", "vip@example.no"]);
    expect(await memberEmails(client, adults.id)).toEqual(["ola@example.no", "vip@example.no"]);
    expect(await memberEmails(client, regular.id)).toEqual(["ola@example.no"]);

    const ws = server.ws().subscribe(MembershipChangedDocument, { listId: list.id, after: await listCursor(client, norway.id) });
    // Sven moves to Norway: he enters all three, in dependency order, in one step.
    await client.data(UpdateContactDocument, { id: id("sven@example.se"), input: { country: "Norway" } });
    expect(await memberEmails(client, regular.id)).toEqual(["ola@example.no", "sven@example.se"]);
    const entered = await ws.waitFor(3);
    expect(entered.map((e) => [e.segmentMembershipChanged.segment?.name, e.segmentMembershipChanged.change, e.segmentMembershipChanged.reason])).toEqual([
      ["Norway", "ENTERED", "CONTACT_UPDATED"],
      ["Adults in Norway", "ENTERED", "CONTACT_UPDATED"],
      ["Adults in Norway, not VIP", "ENTERED", "CONTACT_UPDATED"],
    ]);

    // Ola leaves Norway: he leaves all three.
    await client.data(UpdateContactDocument, { id: id("ola@example.no"), input: { country: "Denmark" } });
    const left = await ws.waitFor(6);
    expect(left.slice(3).map((e) => [e.segmentMembershipChanged.segment?.name, e.segmentMembershipChanged.change, e.segmentMembershipChanged.contact?.email])).toEqual([
      ["Norway", "LEFT", "ola@example.no"],
      ["Adults in Norway", "LEFT", "ola@example.no"],
      ["Adults in Norway, not VIP", "LEFT", "ola@example.no"],
    ]);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });

  it("a clock flip, a hand edit and a condition edit of a referenced segment flow on with their reasons", async () => {
    const clock = new ManualClock(NOW);
    const server = await startTestServer({ clock });
    const { client } = server;
    const { list, norway, adults, regular, id } = await chain(server);
    const ws = server.ws().subscribe(MembershipChangedDocument, { listId: list.id, after: await listCursor(client, norway.id) });

    // Kari turns 18 on 2026-06-11: she enters "Adults" by the clock, and "not VIP" through it.
    clock.set(Date.parse("2026-06-11T00:00:00Z"));
    await server.app.engine.drain();
    const flipped = await ws.waitFor(2);
    expect(flipped.map((e) => [e.segmentMembershipChanged.segment?.name, e.segmentMembershipChanged.reason, e.segmentMembershipChanged.contact?.email])).toEqual([
      ["Adults in Norway", "TIME_PASSED", "kari@example.no"],
      ["Adults in Norway, not VIP", "TIME_PASSED", "kari@example.no"],
    ]);

    // Sven is added to "Norway" by hand: he enters the other two with reason MANUAL.
    await client.data(AddSegmentMembersDocument, { segmentId: norway.id, contactIds: [id("sven@example.se")] });
    const manual = await ws.waitFor(5);
    expect(manual.slice(2).map((e) => [e.segmentMembershipChanged.segment?.name, e.segmentMembershipChanged.reason])).toEqual([
      ["Norway", "MANUAL"],
      ["Adults in Norway", "MANUAL"],
      ["Adults in Norway, not VIP", "MANUAL"],
    ]);

    // "Norway" now means the vip only: the others leave it, and its users, as SEGMENT_UPDATED.
    await client.data(UpdateSegmentDocument, { id: norway.id, input: { condition: { field: "tags", operator: "HAS_ANY", value: ["vip"] } } });
    expect(await memberEmails(client, norway.id)).toEqual(["sven@example.se", "vip@example.no"]);
    expect(await memberEmails(client, adults.id)).toEqual(["sven@example.se", "vip@example.no"]);
    expect(await memberEmails(client, regular.id)).toEqual(["sven@example.se"]);
    const updated = (await ws.waitFor(11)).slice(5);
    expect(updated.every((e) => e.segmentMembershipChanged.reason === "SEGMENT_UPDATED" && e.segmentMembershipChanged.change === "LEFT")).toBe(true);
    expect(updated.map((e) => `${e.segmentMembershipChanged.segment?.name}: ${e.segmentMembershipChanged.contact?.email}`).sort()).toEqual([
      "Adults in Norway, not VIP: kari@example.no",
      "Adults in Norway, not VIP: ola@example.no",
      "Adults in Norway: kari@example.no",
      "Adults in Norway: ola@example.no",
      "Norway: kari@example.no",
      "Norway: ola@example.no",
    ]);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });

  it("is negated with not, works in segmentPreview, contacts(where:) and explainMembership, and shows in dependsOn / usedBy", async () => {
    const server = await startTestServer({ clock: new ManualClock(NOW) });
    const { client } = server;
    const { list, norway, adults, regular, id, create } = await chain(server);
    const outside = await create("Not in Norway", { not: { inSegment: norway.id } });
    expect(await memberEmails(client, outside.id)).toEqual(["sven@example.se"]);

    const where: ConditionInput = { and: [{ inSegment: adults.id }, { field: "email", operator: "STARTS_WITH", value: "v" }] };
    const found = (await client.data(ListContactsDocument, { listId: list.id, first: 10, where })).contactList!.contacts;
    expect(found.nodes.map((node) => node.email)).toEqual(["vip@example.no"]);
    expect(found.totalCount).toBe(1);
    const { segmentPreview } = await client.data(PreviewBreakdownDocument, { listId: list.id, condition: where });
    expect(segmentPreview.count).toBe(1);
    expect(segmentPreview.breakdown.map((node) => [node.path, node.kind, node.count])).toEqual([
      ["", "AND", 1],
      ["and[0]", "SEGMENT", 2],
      ["and[1]", "LEAF", 1],
    ]);

    const { explainMembership } = await client.data(ExplainSegmentNodesDocument, { segmentId: regular.id, contactId: id("vip@example.no") });
    expect(explainMembership).toMatchObject({ member: false, conditionMatched: false });
    expect(explainMembership!.nodes.map((node) => [node.path, node.kind, node.matched, node.segment?.name ?? null])).toEqual([
      ["", "AND", false, null],
      ["and[0]", "SEGMENT", true, "Adults in Norway"],
      ["and[1]", "NOT", false, null],
      ["and[1].not", "LEAF", true, null],
    ]);

    const refs = async (segmentId: string) => {
      const { segment } = await client.data(SegmentReferencesDocument, { id: segmentId });
      return { dependsOn: segment!.dependsOn.map((s) => s.name).sort(), usedBy: segment!.usedBy.map((s) => s.name).sort() };
    };
    expect(await refs(norway.id)).toEqual({ dependsOn: [], usedBy: ["Adults in Norway", "Not in Norway"] });
    expect(await refs(adults.id)).toEqual({ dependsOn: ["Norway"], usedBy: ["Adults in Norway, not VIP"] });
    expect(await refs(regular.id)).toEqual({ dependsOn: ["Adults in Norway"], usedBy: [] });
  });

  it("a STATIC segment can be referenced: its hand edits flow on", async () => {
    const server = await startTestServer({ clock: new ManualClock(NOW) });
    const { client } = server;
    const { id, create } = await chain(server);
    const picked = await create("Picked", { field: "email", operator: "EQUALS", value: "sven@example.se" }, "STATIC");
    const pickedAdults = await create("Picked adults", { and: [{ inSegment: picked.id }, { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 }] });
    expect(await memberEmails(client, pickedAdults.id)).toEqual(["sven@example.se"]);
    await client.data(AddSegmentMembersDocument, { segmentId: picked.id, contactIds: [id("ola@example.no"), id("kari@example.no")] });
    expect(await memberEmails(client, pickedAdults.id)).toEqual(["ola@example.no", "sven@example.se"]);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });
});

describe("bad references", () => {
  it("another list's segment, a deleted segment, or an id that is not a segment's is BAD_USER_INPUT with the path, and changes nothing", async () => {
    const server = await startTestServer();
    const { client } = server;
    const { list, norway, id, create } = await chain(server);
    const other = await chain(server);
    const refusal = async (condition: object) => {
      const errors = await client.errors(CreateSegmentDocument, { input: { listId: list.id, name: "Bad", type: "DYNAMIC", condition } });
      return errors.map((e) => [e.extensions?.code, e.message]);
    };
    expect(await refusal({ and: [{ field: "country", operator: "EQUALS", value: "Norway" }, { inSegment: other.norway.id }] })).toEqual([
      ["BAD_USER_INPUT", "and[1].inSegment: the segment belongs to another list; inSegment can only use segments of the same list"],
    ]);
    expect(await refusal({ inSegment: id("ola@example.no") })).toEqual([["BAD_USER_INPUT", expect.stringMatching(/^inSegment: ".+" is not a segment id$/)]]);
    const doomed = await create("Doomed", { field: "country", operator: "EQUALS", value: "Sweden" });
    await client.data(DeleteSegmentDocument, { id: doomed.id });
    expect(await refusal({ not: { inSegment: doomed.id } })).toEqual([["BAD_USER_INPUT", "not.inSegment: no such segment (it may have been deleted)"]]);
    // Nothing was created.
    const { segment } = await client.data(SegmentReferencesDocument, { id: norway.id });
    expect(segment!.usedBy.map((s) => s.name)).toEqual(["Adults in Norway"]);
    // The same rules hold in contacts(where:).
    const where = await client.errors(ListContactsDocument, { listId: list.id, first: 5, where: { inSegment: other.adults.id } });
    expect(where.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("a reference that would make a cycle is refused, naming the segments of the cycle", async () => {
    const server = await startTestServer();
    const { client } = server;
    const { norway, regular } = await chain(server);
    const cycle = await client.errors(UpdateSegmentDocument, { id: norway.id, input: { condition: { or: [{ field: "country", operator: "EQUALS", value: "Norway" }, { inSegment: regular.id }] } } });
    expect(cycle.map((e) => [e.extensions?.code, e.message])).toEqual([
      ["BAD_USER_INPUT", 'or[1].inSegment: this reference would make a cycle: "Norway" → "Adults in Norway, not VIP" → "Adults in Norway" → "Norway"'],
    ]);
    const itself = await client.errors(UpdateSegmentDocument, { id: regular.id, input: { condition: { inSegment: regular.id } } });
    expect(itself.map((e) => e.message)).toEqual(['inSegment: this reference would make a cycle: "Adults in Norway, not VIP" → "Adults in Norway, not VIP"']);
    expect((await server.app.store.verify()).differences).toEqual([]);
  });

  it("deleting a segment in use is CONFLICT naming its users; once unused it can go", async () => {
    const server = await startTestServer();
    const { client } = server;
    const { norway, adults, regular } = await chain(server);
    const refused = await client.errors(DeleteSegmentDocument, { id: norway.id });
    expect(refused.map((e) => [e.extensions?.code, e.message])).toEqual([["CONFLICT", 'the segment is used by the condition of "Adults in Norway": change or delete it first']]);
    await client.data(DeleteSegmentDocument, { id: regular.id });
    await client.data(DeleteSegmentDocument, { id: adults.id });
    expect((await client.data(DeleteSegmentDocument, { id: norway.id })).deleteSegment).toBe(norway.id);
  });
});
