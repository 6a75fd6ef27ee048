import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  MembershipChangedDocument,
  SegmentMembersDocument,
} from "../graphql/generated";
import { startTestServer, stopAll } from "../support/harness";
import { streamsOpen } from "../support/ws";

afterAll(stopAll);

const norwegians = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ email: `person${from + i}@example.no`, firstName: `Person ${from + i}`, country: "Norway" }));

describe("the vendor's own story", () => {
  it("a static and a dynamic segment on country = Norway diverge when 100 more Norwegians sign up", async () => {
    const { client, ws, app } = await startTestServer();
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Newsletter" } });
    const added = await client.data(AddContactsDocument, { listId: list.id, contacts: norwegians(0, 500) });
    expect(added.addContacts).toEqual({ added: 500, updated: 0, errors: [] });

    const condition = { field: "country", operator: "EQUALS", value: "Norway" } as const;
    const { createSegment: fixed } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Norway (static)", type: "STATIC", condition },
    });
    const { createSegment: live } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Norway (dynamic)", type: "DYNAMIC", condition },
    });
    expect([fixed.status, fixed.memberCount]).toEqual(["READY", 500]);
    expect([live.status, live.memberCount]).toEqual(["READY", 500]);

    const subscription = ws().subscribe(MembershipChangedDocument, { segmentId: live.id });
    await streamsOpen(app, 1);
    await client.data(AddContactsDocument, { listId: list.id, contacts: norwegians(500, 100) });

    const events = await subscription.waitFor(100);
    expect(events).toHaveLength(100);
    expect(events.every(({ segmentMembershipChanged: e }) => e.change === "ENTERED" && e.reason === "CONTACT_ADDED")).toBe(true);
    expect(events.map((e) => e.segmentMembershipChanged.memberCount)).toEqual(Array.from({ length: 100 }, (_, i) => 501 + i));

    const liveNow = await client.data(SegmentMembersDocument, { id: live.id, first: 1 });
    const fixedNow = await client.data(SegmentMembersDocument, { id: fixed.id, first: 1 });
    expect(liveNow.segment?.memberCount).toBe(600);
    expect(liveNow.segment?.members.totalCount).toBe(600);
    expect(fixedNow.segment?.memberCount).toBe(500);
  });
});
