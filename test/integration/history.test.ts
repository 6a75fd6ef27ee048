/**
 * History from the retained event log: Segment.history and Contact.segmentHistory newest first,
 * joinedAt on a segment's member edges (kept with the membership, not limited by retention),
 * and Segment.memberCountSeries in buckets of the list's wall clock.
 */
import { ManualClock } from "../../src/common/clock";
import {
  AddContactsDocument,
  AddSegmentMembersDocument,
  ContactSegmentHistoryDocument,
  CreateListDocument,
  CreateSegmentDocument,
  ListContactsDocument,
  MemberCountSeriesDocument,
  MemberJoinsDocument,
  RemoveSegmentMembersDocument,
  SegmentHistoryDocument,
  UpdateContactDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { startTestServer, stopAll } from "../support/harness";
import { expireEvents } from "../support/stores";

afterAll(stopAll);

const T0 = Date.parse("2026-05-04T08:00:00Z");
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * 08:00 "Norway" (DYNAMIC) is built with Ola and Kari, "Sweden" with Sven; 09:30 Sven moves to
 * Norway; 10:30 Ola moves to Denmark; 10:40 Kari is removed from "Norway" by hand.
 */
async function story(timeZone = "UTC") {
  const clock = new ManualClock(T0);
  const server = await startTestServer({ clock });
  const { client } = server;
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "History", timeZone } });
  await client.data(AddContactsDocument, {
    listId: list.id,
    contacts: [
      { email: "ola@example.no", country: "Norway" },
      { email: "kari@example.no", country: "Norway" },
      { email: "sven@example.se", country: "Sweden" },
    ],
  });
  const create = async (name: string, country: string) =>
    (await client.data(CreateSegmentDocument, { input: { listId: list.id, name, type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: country } } })).createSegment;
  const norway = await create("Norway", "Norway");
  const sweden = await create("Sweden", "Sweden");
  const nodes = (await client.data(ListContactsDocument, { listId: list.id, first: 10 })).contactList!.contacts.nodes;
  const id = (email: string) => nodes.find((node) => node.email === email)!.id;
  const joinsAtStart = await joins(client, norway.id);

  clock.set(T0 + 90 * MINUTE);
  await client.data(UpdateContactDocument, { id: id("sven@example.se"), input: { country: "Norway" } });
  clock.set(T0 + 150 * MINUTE);
  await client.data(UpdateContactDocument, { id: id("ola@example.no"), input: { country: "Denmark" } });
  clock.set(T0 + 160 * MINUTE);
  await client.data(RemoveSegmentMembersDocument, { segmentId: norway.id, contactIds: [id("kari@example.no")] });
  clock.set(T0 + 180 * MINUTE);
  return { server, client, clock, norway, sweden, id, joinsAtStart };
}

async function joins(client: GraphQLTestClient, segmentId: string) {
  const edges = (await client.data(MemberJoinsDocument, { id: segmentId })).segment!.members.edges;
  return Object.fromEntries(edges.map((edge) => [edge.node.email, edge.joinedAt]));
}

describe("Segment.history and Contact.segmentHistory", () => {
  it("list transitions newest first with their reasons, in pages, narrowed to one contact on request", async () => {
    const { client, norway, id } = await story();
    const all = (await client.data(SegmentHistoryDocument, { id: norway.id })).segment!.history;
    expect(all.nodes.map((e) => [e.change, e.reason, e.contact?.email, e.memberCount, e.occurredAt])).toEqual([
      ["LEFT", "MANUAL", "kari@example.no", 1, iso(T0 + 160 * MINUTE)],
      ["LEFT", "CONTACT_UPDATED", "ola@example.no", 2, iso(T0 + 150 * MINUTE)],
      ["ENTERED", "CONTACT_UPDATED", "sven@example.se", 3, iso(T0 + 90 * MINUTE)],
    ]);
    expect(all.edges.map((edge) => edge.cursor)).toEqual(all.nodes.map((node) => node.cursor));
    expect(all.pageInfo.hasNextPage).toBe(false);

    const first = (await client.data(SegmentHistoryDocument, { id: norway.id, first: 2 })).segment!.history;
    expect(first.nodes.map((e) => e.contact?.email)).toEqual(["kari@example.no", "ola@example.no"]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await client.data(SegmentHistoryDocument, { id: norway.id, first: 2, after: first.pageInfo.endCursor })).segment!.history;
    expect(rest.nodes.map((e) => e.contact?.email)).toEqual(["sven@example.se"]);
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const ola = (await client.data(SegmentHistoryDocument, { id: norway.id, contactId: id("ola@example.no") })).segment!.history;
    expect(ola.nodes.map((e) => [e.change, e.contact?.email])).toEqual([["LEFT", "ola@example.no"]]);
    const bad = await client.errors(SegmentHistoryDocument, { id: norway.id, contactId: norway.id });
    expect(bad.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("a contact's history spans the segments of its list", async () => {
    const { client, id } = await story();
    const sven = (await client.data(ContactSegmentHistoryDocument, { id: id("sven@example.se") })).contact!.segmentHistory;
    expect(sven.nodes.map((e) => [e.segment?.name, e.change, e.reason]).sort()).toEqual([
      ["Norway", "ENTERED", "CONTACT_UPDATED"],
      ["Sweden", "LEFT", "CONTACT_UPDATED"],
    ]);
    const kari = (await client.data(ContactSegmentHistoryDocument, { id: id("kari@example.no"), first: 1 })).contact!.segmentHistory;
    expect(kari.nodes.map((e) => [e.segment?.name, e.change, e.reason])).toEqual([["Norway", "LEFT", "MANUAL"]]);
    expect(kari.pageInfo.hasNextPage).toBe(false);
  });
});

describe("joinedAt", () => {
  it("is when the build took a member in, or when the member last entered, and outlives the retained log", async () => {
    const { server, client, norway, id, joinsAtStart } = await story();
    expect(joinsAtStart).toEqual({ "ola@example.no": iso(T0), "kari@example.no": iso(T0) });
    expect(await joins(client, norway.id)).toEqual({ "sven@example.se": iso(T0 + 90 * MINUTE) });
    // Kari, who left by hand at 10:40, is added back at 11:00: she joined then.
    await client.data(AddSegmentMembersDocument, { segmentId: norway.id, contactIds: [id("kari@example.no")] });
    expect(await joins(client, norway.id)).toEqual({ "sven@example.se": iso(T0 + 90 * MINUTE), "kari@example.no": iso(T0 + 180 * MINUTE) });
    await expireEvents(server, T0 + 190 * MINUTE);
    expect((await client.data(SegmentHistoryDocument, { id: norway.id })).segment!.history.nodes).toEqual([]);
    expect(await joins(client, norway.id)).toEqual({ "sven@example.se": iso(T0 + 90 * MINUTE), "kari@example.no": iso(T0 + 180 * MINUTE) });
  });
});

describe("memberCountSeries", () => {
  it("counts entries and exits per bucket with the member count at each bucket's end, leaving out buckets before the segment existed", async () => {
    const { client, norway } = await story();
    const { memberCountSeries } = (await client.data(MemberCountSeriesDocument, { id: norway.id, since: iso(T0 - 120 * MINUTE), until: iso(T0 + 180 * MINUTE), bucket: "HOUR" })).segment!;
    expect(memberCountSeries).toEqual([
      { at: iso(T0), memberCount: 2, entered: 0, left: 0 },
      { at: iso(T0 + 60 * MINUTE), memberCount: 3, entered: 1, left: 0 },
      { at: iso(T0 + 120 * MINUTE), memberCount: 1, entered: 0, left: 2 },
    ]);
    // `until` defaults to now; a DAY bucket starts at the list's midnight.
    const day = (await client.data(MemberCountSeriesDocument, { id: norway.id, since: iso(T0), bucket: "DAY" })).segment!.memberCountSeries;
    expect(day).toEqual([{ at: "2026-05-04T00:00:00.000Z", memberCount: 1, entered: 1, left: 2 }]);
  });

  it("a DAY starts at midnight in the list's time zone", async () => {
    const { client, norway } = await story("Asia/Tokyo");
    // 08:00 UTC is 17:00 in Tokyo; the Tokyo day began at 15:00 UTC the day before.
    const day = (await client.data(MemberCountSeriesDocument, { id: norway.id, since: iso(T0), bucket: "DAY" })).segment!.memberCountSeries;
    expect(day).toEqual([{ at: "2026-05-03T15:00:00.000Z", memberCount: 1, entered: 1, left: 2 }]);
  });

  it("a since older than the retained log starts at the log's first event", async () => {
    const { server, client, norway } = await story();
    await expireEvents(server, T0 + 120 * MINUTE);
    const { memberCountSeries } = (await client.data(MemberCountSeriesDocument, { id: norway.id, since: iso(T0 - 120 * MINUTE), until: iso(T0 + 180 * MINUTE), bucket: "HOUR" })).segment!;
    expect(memberCountSeries).toEqual([{ at: iso(T0 + 120 * MINUTE), memberCount: 1, entered: 0, left: 2 }]);
  });

  it("more than 1,000 points, or since not before until, is BAD_USER_INPUT", async () => {
    const { client, norway } = await story();
    const tooMany = await client.errors(MemberCountSeriesDocument, { id: norway.id, since: iso(T0 - 1_001 * MINUTE), until: iso(T0), bucket: "MINUTE" });
    expect(tooMany.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(tooMany[0]!.message).toMatch(/at most 1,000 points/);
    const exactly = await client.data(MemberCountSeriesDocument, { id: norway.id, since: iso(T0 - 1_000 * MINUTE), until: iso(T0), bucket: "MINUTE" });
    expect(exactly.segment!.memberCountSeries).toEqual([]);
    const backwards = await client.errors(MemberCountSeriesDocument, { id: norway.id, since: iso(T0), until: iso(T0 - MINUTE), bucket: "HOUR" });
    expect(backwards.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});
