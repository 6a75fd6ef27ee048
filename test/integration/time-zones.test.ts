/**
 * A list's time zone through the real server, real SQLite and graphql-ws, with an injected clock:
 * birthdays start at local midnight, the engine wakes exactly then, and the zone is validated
 * and stored at creation.
 */
import {
  AddContactsDocument,
  CreateSegmentDocument,
  CreateZonedListDocument,
  EngineStatusDocument,
  LcListsDetailDocument,
  ListTimeZoneDocument,
  MembershipChangedDocument,
  SegmentMembersDocument,
  ZonedListAgesDocument,
} from "../graphql/generated";
import { startClockedServer, stopAll } from "../support/harness";
import { streamsOpen } from "../support/ws";

afterAll(stopAll);

describe("list time zones", () => {
  it("in Pacific/Auckland a contact turns 18 at local midnight: the segment gains them at 11:00 UTC the day before, as TIME_PASSED", async () => {
    const { client, ws, app, advanceTo } = await startClockedServer("2027-01-10T00:00:00.000Z");
    const { createContactList: list } = await client.data(CreateZonedListDocument, { input: { name: "Auckland", timeZone: "Pacific/Auckland" } });
    expect(list.timeZone).toBe("Pacific/Auckland");
    await client.data(AddContactsDocument, {
      listId: list.id,
      contacts: [
        { email: "turns18@example.com", birthDate: "2009-01-15" },
        { email: "child@example.com", birthDate: "2012-05-01" },
      ],
    });
    const { createSegment: adults } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Adults", type: "DYNAMIC", condition: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } },
    });
    expect(adults.memberCount).toBe(0);
    // 2027-01-15 00:00 in Auckland (UTC+13 in summer) is 2027-01-14 11:00 UTC.
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2027-01-14T11:00:00.000Z");

    const subscription = ws().subscribe(MembershipChangedDocument, { segmentId: adults.id });
    await streamsOpen(app, 1);
    await advanceTo("2027-01-14T10:59:59.999Z");
    expect((await client.data(SegmentMembersDocument, { id: adults.id })).segment!.memberCount).toBe(0);
    const before = await client.data(ZonedListAgesDocument, { listId: list.id, where: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } });
    expect(before.contactList!.contacts.totalCount).toBe(0);

    await advanceTo("2027-01-14T11:00:00.000Z");
    const [entered] = await subscription.waitFor(1);
    expect(entered!.segmentMembershipChanged).toMatchObject({
      change: "ENTERED",
      reason: "TIME_PASSED",
      memberCount: 1,
      occurredAt: "2027-01-14T11:00:00.000Z",
      contact: { email: "turns18@example.com" },
    });
    expect((await client.data(SegmentMembersDocument, { id: adults.id })).segment!.members.nodes.map((c) => c.email)).toEqual(["turns18@example.com"]);
    // Contact.age and contacts(where:) follow the list's zone too.
    const after = await client.data(ZonedListAgesDocument, { listId: list.id, where: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } });
    expect(after.contactList!.contacts).toEqual({ totalCount: 1, nodes: [{ email: "turns18@example.com", birthDate: "2009-01-15", age: 18 }] });
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2030-04-30T12:00:00.000Z");
    expect((await client.data(ListTimeZoneDocument, { id: list.id })).contactList).toEqual({ id: list.id, timeZone: "Pacific/Auckland" });
  });

  it("in America/New_York a date is in the last month from its local midnight until local midnight a month later, across the DST change", async () => {
    const { client, ws, app, advanceTo } = await startClockedServer("2027-03-01T12:00:00.000Z");
    const { createContactList: list } = await client.data(CreateZonedListDocument, {
      input: { name: "Renewals", timeZone: "America/New_York", customFields: [{ key: "renewal", type: "DATE" }] },
    });
    await client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "renews@example.com", attributes: { renewal: "2027-03-10" } }] });
    const { createSegment: recent } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Renewed in the last month", type: "DYNAMIC", condition: { field: "attributes.renewal", operator: "WITHIN_LAST", value: { amount: 1, unit: "MONTHS" } } },
    });
    expect(recent.memberCount).toBe(0);
    // 2027-03-10 00:00 in New York is still EST (UTC−5); DST starts on 2027-03-14.
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2027-03-10T05:00:00.000Z");
    const subscription = ws().subscribe(MembershipChangedDocument, { segmentId: recent.id });
    await streamsOpen(app, 1);

    await advanceTo("2027-03-10T04:59:59.999Z");
    expect((await client.data(SegmentMembersDocument, { id: recent.id })).segment!.memberCount).toBe(0);
    await advanceTo("2027-03-10T05:00:00.000Z");
    expect((await subscription.waitFor(1))[0]!.segmentMembershipChanged).toMatchObject({ change: "ENTERED", reason: "TIME_PASSED", memberCount: 1 });
    // A month on the wall clock: 2027-04-10 00:00 EDT (UTC−4).
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2027-04-10T04:00:00.000Z");
    await advanceTo("2027-04-10T03:59:59.999Z");
    expect((await client.data(SegmentMembersDocument, { id: recent.id })).segment!.memberCount).toBe(1);
    await advanceTo("2027-04-10T04:00:00.000Z");
    const events = await subscription.waitFor(2);
    expect(events[1]!.segmentMembershipChanged).toMatchObject({ change: "LEFT", reason: "TIME_PASSED", memberCount: 0 });
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBeNull();
  });

  it("the same birthday in a list without a time zone starts at 00:00 UTC", async () => {
    const { client, advanceTo } = await startClockedServer("2027-01-10T00:00:00.000Z");
    const { createContactList: list } = await client.data(CreateZonedListDocument, { input: { name: "Default" } });
    expect(list.timeZone).toBe("UTC");
    expect((await client.data(ListTimeZoneDocument, { id: list.id })).contactList!.timeZone).toBe("UTC");
    await client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "turns18@example.com", birthDate: "2009-01-15" }] });
    const { createSegment: adults } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Adults", type: "DYNAMIC", condition: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } },
    });
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2027-01-15T00:00:00.000Z");
    await advanceTo("2027-01-14T11:00:00.000Z");
    expect((await client.data(SegmentMembersDocument, { id: adults.id })).segment!.memberCount).toBe(0);
    await advanceTo("2027-01-15T00:00:00.000Z");
    expect((await client.data(SegmentMembersDocument, { id: adults.id })).segment!.memberCount).toBe(1);
  });

  it("a zone is stored by its canonical name", async () => {
    const { client } = await startClockedServer("2027-01-10T00:00:00.000Z");
    const { createContactList: list } = await client.data(CreateZonedListDocument, { input: { name: "Oslo", timeZone: "europe/oslo" } });
    expect(list.timeZone).toBe("Europe/Oslo");
    expect((await client.data(ListTimeZoneDocument, { id: list.id })).contactList!.timeZone).toBe("Europe/Oslo");
  });

  it("an unknown time zone is refused with BAD_USER_INPUT naming timeZone, and no list is created", async () => {
    const { client } = await startClockedServer("2027-01-10T00:00:00.000Z");
    const count = async () => (await client.data(LcListsDetailDocument, { first: 1 })).contactLists.totalCount;
    const before = await count();
    for (const timeZone of ["Mars/Olympus_Mons", "Europe/Osl", "", "+01:00", "UTC+1", "x".repeat(500)]) {
      const errors = await client.errors(CreateZonedListDocument, { input: { name: "Nowhere", timeZone } });
      expect(errors).toHaveLength(1);
      expect(errors[0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "timeZone" });
      expect(errors[0]!.message).toMatch(/^timeZone: /);
    }
    expect(await count()).toBe(before);
  });
});

describe("clock flips on custom fields", () => {
  it("a UTC list's segment on a custom DATETIME field gains a contact exactly when its value is more than an hour ago", async () => {
    const { client, advanceTo } = await startClockedServer("2027-05-01T08:00:00.000Z");
    const { createContactList: list } = await client.data(CreateZonedListDocument, {
      input: { name: "Logins", customFields: [{ key: "lastLogin", type: "DATETIME" }] },
    });
    await client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "idle@example.com", attributes: { lastLogin: "2027-05-01T07:30:00Z" } }] });
    const { createSegment: idle } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Idle", type: "DYNAMIC", condition: { field: "attributes.lastLogin", operator: "MORE_THAN_AGO", value: { amount: 1, unit: "HOURS" } } },
    });
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2027-05-01T08:30:00.000Z");
    await advanceTo("2027-05-01T08:29:59.999Z");
    expect((await client.data(SegmentMembersDocument, { id: idle.id })).segment!.memberCount).toBe(0);
    await advanceTo("2027-05-01T08:30:00.000Z");
    expect((await client.data(SegmentMembersDocument, { id: idle.id })).segment!.memberCount).toBe(1);
  });
});
