import { ManualClock } from "../../src/common/clock";
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  EngineStatusDocument,
  MembershipChangedDocument,
  SegmentMembersDocument,
} from "../graphql/generated";
import { startClockedServer, startTestServer, stopAll } from "../support/harness";
import { streamsOpen } from "../support/ws";

afterAll(stopAll);

const DAY = 86_400_000;

describe("clock-dependent conditions", () => {
  it("a contact enters an age >= 18 segment at 00:00 UTC on their 18th birthday, and the engine wakes exactly then", async () => {
    const { client, ws, app, advanceTo } = await startClockedServer("2026-01-10T12:00:00.000Z");
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Ages" } });
    await client.data(AddContactsDocument, {
      listId: list.id,
      contacts: [
        { email: "turns18@example.com", birthDate: "2008-01-11" },
        { email: "adult@example.com", birthDate: "2008-01-10" },
        { email: "leapling@example.com", birthDate: "2008-02-29" },
        { email: "nobirthday@example.com" },
      ],
    });
    const { createSegment: adults } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Adults", type: "DYNAMIC", condition: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } },
    });
    expect(adults.memberCount).toBe(1);
    const status = await client.data(EngineStatusDocument);
    expect(status.membershipEngine.nextFlipAt).toBe("2026-01-11T00:00:00.000Z");

    const subscription = ws().subscribe(MembershipChangedDocument, { segmentId: adults.id });
    await streamsOpen(app, 1);
    await advanceTo(Date.parse("2026-01-11T00:00:00.000Z") - 1);
    expect((await client.data(SegmentMembersDocument, { id: adults.id })).segment?.memberCount).toBe(1);

    await advanceTo("2026-01-11T00:00:00.000Z");
    const [entered] = await subscription.waitFor(1);
    expect(entered!.segmentMembershipChanged).toMatchObject({ change: "ENTERED", reason: "TIME_PASSED", memberCount: 2, contact: { email: "turns18@example.com" } });
    // Born on Feb 29: 2026 has no Feb 29, so the 18th birthday is Mar 1.
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBe("2026-03-01T00:00:00.000Z");

    await advanceTo("2026-02-28T23:59:59.999Z");
    await advanceTo("2026-03-01T00:00:00.000Z");
    const events = await subscription.waitFor(2);
    expect(events[1]!.segmentMembershipChanged).toMatchObject({ change: "ENTERED", reason: "TIME_PASSED", memberCount: 3, contact: { email: "leapling@example.com" } });
    expect(events).toHaveLength(2);
    expect((await client.data(EngineStatusDocument)).membershipEngine.nextFlipAt).toBeNull();
  });

  it("an age BETWEEN 18 AND 25 segment gains 18-year-olds and loses 26-year-olds over a year", async () => {
    const { client, advanceTo } = await startClockedServer("2026-06-15T08:00:00.000Z");
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Young adults" } });
    await client.data(AddContactsDocument, {
      listId: list.id,
      contacts: [
        { email: "a@example.com", birthDate: "2008-09-01" }, // 17 → 18 on 2026-09-01
        { email: "b@example.com", birthDate: "2000-12-24" }, // 25 → 26 on 2026-12-24
        { email: "c@example.com", birthDate: "2004-01-01" }, // 22 all year
      ],
    });
    const { createSegment: segment } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "18-25", type: "DYNAMIC", condition: { field: "age", operator: "BETWEEN", value: [18, 25] } },
    });
    const members = async () => (await client.data(SegmentMembersDocument, { id: segment.id })).segment!.members.nodes.map((c) => c.email).sort();
    expect(await members()).toEqual(["b@example.com", "c@example.com"]);
    await advanceTo("2026-09-01T00:00:00.000Z");
    expect(await members()).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    await advanceTo("2026-12-24T00:00:00.000Z");
    expect(await members()).toEqual(["a@example.com", "c@example.com"]);
  });

  it("a contact leaves a 'signed up within the last 7 days' segment exactly 7 days after it was created", async () => {
    const { client, ws, app, clock, advanceTo } = await startClockedServer("2026-03-02T09:30:00.000Z");
    const created = clock.now();
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Sign-ups" } });
    await client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "new@example.com" }] });
    const { createSegment: recent } = await client.data(CreateSegmentDocument, {
      input: {
        listId: list.id,
        name: "New this week",
        type: "DYNAMIC",
        condition: { field: "createdAt", operator: "WITHIN_LAST", value: { amount: 7, unit: "DAYS" } },
      },
    });
    const { createSegment: older } = await client.data(CreateSegmentDocument, {
      input: {
        listId: list.id,
        name: "Older than a week",
        type: "DYNAMIC",
        condition: { field: "createdAt", operator: "MORE_THAN_AGO", value: { amount: 7, unit: "DAYS" } },
      },
    });
    expect([recent.memberCount, older.memberCount]).toEqual([1, 0]);
    const subscription = ws().subscribe(MembershipChangedDocument, { listId: list.id });
    await streamsOpen(app, 1);

    await advanceTo(created + 7 * DAY - 1);
    expect((await client.data(SegmentMembersDocument, { id: recent.id })).segment?.memberCount).toBe(1);
    await advanceTo(created + 7 * DAY);
    const events = await subscription.waitFor(2);
    const byName = Object.fromEntries(events.map((e) => [e.segmentMembershipChanged.segment!.name, e.segmentMembershipChanged]));
    expect(byName["New this week"]).toMatchObject({ change: "LEFT", reason: "TIME_PASSED", memberCount: 0 });
    expect(byName["Older than a week"]).toMatchObject({ change: "ENTERED", reason: "TIME_PASSED", memberCount: 1 });
    expect(new Date(byName["New this week"]!.occurredAt).getTime()).toBe(created + 7 * DAY);
  });

  it("flips that fall due while the server is down are applied, as events, when it starts again", async () => {
    const first = await startClockedServer("2026-01-10T12:00:00.000Z");
    const { createContactList: list } = await first.client.data(CreateListDocument, { input: { name: "Restart" } });
    await first.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "soon18@example.com", birthDate: "2008-01-12" }] });
    const { createSegment: adults } = await first.client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Adults", type: "DYNAMIC", condition: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } },
    });
    expect(adults.memberCount).toBe(0);
    await first.stop();

    const clock = new ManualClock(Date.parse("2026-02-01T00:00:00.000Z"));
    const second = await startTestServer({ dbPath: first.dbPath, clock });
    await second.app.engine.drain();
    const after = await second.client.data(SegmentMembersDocument, { id: adults.id });
    expect(after.segment?.memberCount).toBe(1);
    const replay = second.ws().subscribe(MembershipChangedDocument, { segmentId: adults.id, after: Buffer.from("e|0").toString("base64url") });
    const [event] = await replay.waitFor(1);
    expect(event!.segmentMembershipChanged).toMatchObject({ change: "ENTERED", reason: "TIME_PASSED" });
  });
});
