/**
 * explainMembership: the verdict of every node of a segment's condition for one contact, with
 * the contact's own values (age computed now, in the list's time zone), the override when one
 * decides, and whether the condition holds (a STATIC member may no longer match).
 * segmentPreview.breakdown: each node's own count over the list.
 */
import { ManualClock } from "../../src/common/clock";
import {
  type ConditionInput,
  AddContactsDocument,
  AddSegmentMembersDocument,
  CreateListDocument,
  CreateSegmentDocument,
  ExplainMembershipDocument,
  ListContactsDocument,
  PreviewBreakdownDocument,
  UpdateContactDocument,
} from "../graphql/generated";
import { startTestServer, stopAll } from "../support/harness";

afterAll(stopAll);

const CONDITION: ConditionInput = {
  and: [
    { field: "country", operator: "EQUALS", value: "Norway" },
    { or: [{ field: "age", operator: "BETWEEN", value: [18, 25] }, { not: { field: "tags", operator: "HAS_ANY", value: ["churned"] } }] },
    { field: "attributes.score", operator: "GREATER_THAN", value: 50 },
  ],
};

async function setUp(type: "DYNAMIC" | "STATIC" = "DYNAMIC") {
  // 2026-06-15 12:00 UTC is already 2026-06-16 in Auckland: Kari turns 26 there today.
  const server = await startTestServer({ clock: new ManualClock(Date.parse("2026-06-15T12:00:00Z")) });
  const { client } = server;
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Explain", timeZone: "Pacific/Auckland", customFields: [{ key: "score", type: "NUMBER" }] } });
  await client.data(AddContactsDocument, {
    listId: list.id,
    contacts: [
      { email: "kari@example.no", country: "Norway", birthDate: "2000-06-16", tags: ["Churned"], attributes: { score: 70 } },
      { email: "ola@example.no", country: "Norway", birthDate: "2004-01-01", tags: [], attributes: { score: 40 } },
      { email: "sven@example.se", country: "Sweden", birthDate: "1990-01-01", tags: [], attributes: { score: 90 } },
    ],
  });
  const { createSegment: segment } = await client.data(CreateSegmentDocument, { input: { listId: list.id, name: "Young or loyal Norwegians", type, condition: CONDITION } });
  const nodes = (await client.data(ListContactsDocument, { listId: list.id, first: 10 })).contactList!.contacts.nodes;
  const id = (email: string) => nodes.find((node) => node.email === email)!.id;
  return { server, client, list, segment, id };
}

describe("explainMembership", () => {
  it("gives every node's verdict in pre-order with the contact's own values, age computed in the list's time zone", async () => {
    const { client, segment, id } = await setUp();
    const { explainMembership: kari } = await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: id("kari@example.no") });
    expect(kari).toMatchObject({ member: false, override: null, conditionMatched: false });
    expect(kari!.nodes.map((node) => [node.path, node.kind, node.field, node.operator, node.actual, node.matched])).toEqual([
      ["", "AND", null, null, null, false],
      ["and[0]", "LEAF", "country", "EQUALS", "Norway", true],
      ["and[1]", "OR", null, null, null, false],
      // 26 today in Auckland (it is still the 15th in UTC, where she would be 25).
      ["and[1].or[0]", "LEAF", "age", "BETWEEN", 26, false],
      ["and[1].or[1]", "NOT", null, null, null, false],
      ["and[1].or[1].not", "LEAF", "tags", "HAS_ANY", ["Churned"], true],
      ["and[2]", "LEAF", "attributes.score", "GREATER_THAN", 70, true],
    ]);
    expect(kari!.nodes[3]!.value).toEqual([18, 25]);
    const { explainMembership: ola } = await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: id("ola@example.no") });
    expect(ola).toMatchObject({ member: false, conditionMatched: false });
    expect(ola!.nodes.find((node) => node.path === "and[2]")).toMatchObject({ actual: 40, matched: false });
  });

  it("names the override that decides, and says whether the condition holds beside it", async () => {
    const { client, segment, id } = await setUp();
    await client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("sven@example.se")] });
    const { explainMembership } = await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: id("sven@example.se") });
    expect(explainMembership).toMatchObject({ member: true, override: "INCLUDED", conditionMatched: false });
  });

  it("for a STATIC segment, membership and the condition may disagree: conditionMatched says which holds", async () => {
    const { client, segment, id } = await setUp("STATIC");
    // Sven joins the fixed set by hand though the condition does not hold for him.
    await client.data(AddSegmentMembersDocument, { segmentId: segment.id, contactIds: [id("sven@example.se")] });
    expect((await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: id("sven@example.se") })).explainMembership).toMatchObject({
      member: true,
      conditionMatched: false,
      override: null,
    });
    // Ola matches after an edit, but the fixed set does not follow the condition.
    await client.data(UpdateContactDocument, { id: id("ola@example.no"), input: { attributes: { score: 99 } } });
    expect((await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: id("ola@example.no") })).explainMembership).toMatchObject({
      member: false,
      conditionMatched: true,
      override: null,
    });
  });

  it("is null when either id is unknown, or the contact is of another list", async () => {
    const { client, segment, id } = await setUp();
    expect((await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: "nope" })).explainMembership).toBeNull();
    expect((await client.data(ExplainMembershipDocument, { segmentId: "nope", contactId: id("ola@example.no") })).explainMembership).toBeNull();
    const { createContactList: otherList } = await client.data(CreateListDocument, { input: { name: "Other" } });
    const { addContacts } = await client.data(AddContactsDocument, { listId: otherList.id, contacts: [{ email: "ola@example.no", country: "Norway" }] });
    expect(addContacts.added).toBe(1);
    const stranger = (await client.data(ListContactsDocument, { listId: otherList.id, first: 1 })).contactList!.contacts.nodes[0]!;
    expect((await client.data(ExplainMembershipDocument, { segmentId: segment.id, contactId: stranger.id })).explainMembership).toBeNull();
  });
});

describe("segmentPreview.breakdown", () => {
  it("counts, for every node in pre-order, the contacts that node alone selects", async () => {
    const { client, list } = await setUp();
    const { segmentPreview } = await client.data(PreviewBreakdownDocument, { listId: list.id, condition: CONDITION });
    expect(segmentPreview.breakdown.map((node) => [node.path, node.kind, node.count, node.matched])).toEqual([
      ["", "AND", segmentPreview.count, null],
      ["and[0]", "LEAF", 2, null],
      // Ola is 22; Sven and Ola have no churned tag.
      ["and[1]", "OR", 2, null],
      ["and[1].or[0]", "LEAF", 1, null],
      ["and[1].or[1]", "NOT", 2, null],
      ["and[1].or[1].not", "LEAF", 1, null],
      ["and[2]", "LEAF", 2, null],
    ]);
    expect(segmentPreview.count).toBe(0);
  });
});
