/**
 * Segments through the public API: static vs dynamic membership, the condition language,
 * condition changes, renames, deletes, previews, member pages, validation and restarts, against
 * the real server, the real SQLite store and the real graphql-ws client.
 */
import {
  AddContactDocument,
  AddContactsDocument,
  type ConditionInput,
  ContactByIdDocument,
  type ContactInput,
  CreateListDocument,
  CreateSegmentDocument,
  type CustomFieldInput,
  DeleteContactDocument,
  DeleteListDocument,
  DeleteSegmentDocument,
  ListContactsDocument,
  ListSegmentsDocument,
  MembershipChangedDocument,
  PreviewDocument,
  PreviewSampleDetailsDocument,
  SegmentByIdDocument,
  SegmentMembersDocument,
  type SegmentMembersQuery,
  type SegmentType,
  UpdateContactDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { startTestServer, stopAll, type TestServer } from "../support/harness";
import { streamsOpen } from "../support/ws";

let server: TestServer;
let client: GraphQLTestClient;

beforeAll(async () => {
  server = await startTestServer();
  client = server.client;
});

afterAll(stopAll);

// Helpers over the public API.

async function newList(name: string, customFields?: CustomFieldInput[]) {
  return (await client.data(CreateListDocument, { input: { name, customFields } })).createContactList;
}

async function addContact(listId: string, input: ContactInput, via: GraphQLTestClient = client) {
  return (await via.data(AddContactDocument, { listId, input })).addContact;
}

async function addContacts(listId: string, contacts: ContactInput[], via: GraphQLTestClient = client) {
  const result = (await via.data(AddContactsDocument, { listId, contacts })).addContacts;
  expect(result.errors).toEqual([]);
  return result;
}

async function createSegment(listId: string, name: string, type: SegmentType, condition: ConditionInput, via: GraphQLTestClient = client) {
  return (await via.data(CreateSegmentDocument, { input: { listId, name, type, condition } })).createSegment;
}

/** A segment's count, its members' total and their emails (sorted), read in one request. */
async function membership(segmentId: string, via: GraphQLTestClient = client) {
  const { segment } = await via.data(SegmentMembersDocument, { id: segmentId, first: 500 });
  if (!segment) throw new Error(`segment ${segmentId} not found`);
  expect(segment.members.pageInfo.hasNextPage).toBe(false);
  return {
    memberCount: segment.memberCount,
    totalCount: segment.members.totalCount,
    emails: segment.members.nodes.map((node) => node.email).sort(),
  };
}

/** Expects a segment to hold exactly these members, with a matching count. */
async function expectMembers(segmentId: string, emails: string[], via: GraphQLTestClient = client) {
  const sorted = [...emails].sort();
  expect(await membership(segmentId, via)).toEqual({ memberCount: sorted.length, totalCount: sorted.length, emails: sorted });
}

/** Emails of the contacts a condition selects now, by the list's own filter and by segmentPreview. */
async function selectedBy(listId: string, condition: ConditionInput): Promise<string[]> {
  const { contactList } = await client.data(ListContactsDocument, { listId, first: 500, where: condition });
  const { segmentPreview } = await client.data(PreviewDocument, { listId, condition, sample: 0 });
  const emails = contactList!.contacts.nodes.map((node) => node.email).sort();
  expect(segmentPreview.count).toBe(emails.length);
  return emails;
}

async function segmentNamesOf(contactId: string): Promise<string[]> {
  const { contact } = await client.data(ContactByIdDocument, { id: contactId });
  return contact!.segments.map((segment) => segment.name).sort();
}

/** Subscribes over graphql-ws and waits until the server has opened the stream (streams left by earlier tests may still count). */
async function subscribe(variables: { segmentId?: string; listId?: string }) {
  const open = server.app.services.events.activeStreams;
  const subscription = server.ws().subscribe(MembershipChangedDocument, variables);
  await streamsOpen(server.app, open + 1);
  return subscription;
}

const ONE_DAY = 86_400_000;

/** A birth date `years` years and about half a year ago: the age is `years` whatever day the test runs. */
function bornYearsAgo(years: number): string {
  const now = new Date();
  const birthday = new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate()) - 182 * ONE_DAY);
  return birthday.toISOString().slice(0, 10);
}

const norway: ConditionInput = { field: "country", operator: "EQUALS", value: "Norway" };

describe("static and dynamic membership", () => {
  it("a contact added to the list enters its dynamic segments but not its static ones", async () => {
    const list = await newList("Adds");
    await addContacts(list.id, [
      { email: "ola@example.no", country: "Norway" },
      { email: "sven@example.se", country: "Sweden" },
    ]);
    const fixed = await createSegment(list.id, "Norway static", "STATIC", norway);
    const live = await createSegment(list.id, "Norway dynamic", "DYNAMIC", norway);
    expect([fixed.type, fixed.status, fixed.memberCount]).toEqual(["STATIC", "READY", 1]);
    expect([live.type, live.status, live.memberCount]).toEqual(["DYNAMIC", "READY", 1]);

    const kari = await addContact(list.id, { email: "kari@example.no", country: "Norway" });
    await addContact(list.id, { email: "anna@example.se", country: "Sweden" });

    await expectMembers(live.id, ["ola@example.no", "kari@example.no"]);
    await expectMembers(fixed.id, ["ola@example.no"]);
    expect(await segmentNamesOf(kari.id)).toEqual(["Norway dynamic"]);
  });

  it("a contact edited into a dynamic segment enters it and edited out of it leaves it, while static segments keep their members", async () => {
    const list = await newList("Edits");
    const ola = await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const sven = await addContact(list.id, { email: "sven@example.se", country: "Sweden" });
    const fixed = await createSegment(list.id, "Norway static", "STATIC", norway);
    const live = await createSegment(list.id, "Norway dynamic", "DYNAMIC", norway);

    await client.data(UpdateContactDocument, { id: sven.id, input: { country: "norway" } });
    await expectMembers(live.id, ["ola@example.no", "sven@example.se"]);
    await expectMembers(fixed.id, ["ola@example.no"]);
    expect(await segmentNamesOf(sven.id)).toEqual(["Norway dynamic"]);

    await client.data(UpdateContactDocument, { id: ola.id, input: { country: "Denmark" } });
    await expectMembers(live.id, ["sven@example.se"]);
    await expectMembers(fixed.id, ["ola@example.no"]);
    expect(await segmentNamesOf(ola.id)).toEqual(["Norway static"]);

    // Clearing the field takes the contact out too.
    await client.data(UpdateContactDocument, { id: sven.id, input: { country: null } });
    await expectMembers(live.id, []);
    await expectMembers(fixed.id, ["ola@example.no"]);
  });

  it("a deleted contact leaves both its static and its dynamic segments", async () => {
    const list = await newList("Deletes");
    const ola = await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    await addContact(list.id, { email: "kari@example.no", country: "Norway" });
    const fixed = await createSegment(list.id, "Norway static", "STATIC", norway);
    const live = await createSegment(list.id, "Norway dynamic", "DYNAMIC", norway);
    expect(await segmentNamesOf(ola.id)).toEqual(["Norway dynamic", "Norway static"]);

    expect((await client.data(DeleteContactDocument, { id: ola.id })).deleteContact).toBe(ola.id);

    await expectMembers(fixed.id, ["kari@example.no"]);
    await expectMembers(live.id, ["kari@example.no"]);
    expect((await client.data(ContactByIdDocument, { id: ola.id })).contact).toBeNull();
    const { contactList } = await client.data(ListSegmentsDocument, { listId: list.id });
    expect(contactList!.segments.map((s) => [s.name, s.memberCount])).toEqual([
      ["Norway static", 1],
      ["Norway dynamic", 1],
    ]);
  });

  it("segments of one list ignore the contacts of another list", async () => {
    const first = await newList("First list");
    const second = await newList("Second list");
    await addContact(first.id, { email: "ola@example.no", country: "Norway" });
    const live = await createSegment(first.id, "Norway", "DYNAMIC", norway);
    await addContact(second.id, { email: "kari@example.no", country: "Norway" });
    await expectMembers(live.id, ["ola@example.no"]);
    const { contactList } = await client.data(ListSegmentsDocument, { listId: second.id });
    expect(contactList!.segments).toEqual([]);
  });
});

describe("conditions", () => {
  it("AND, OR and NOT select exactly the contacts the condition describes, comparing text without case", async () => {
    const list = await newList("Boolean logic");
    await addContacts(list.id, [
      { email: "a@example.com", country: "NORWAY", city: "Oslo", tags: ["vip"] },
      { email: "b@example.com", country: "Norway", city: "Bergen" },
      { email: "c@example.com", country: "Denmark", city: "Aarhus" },
      { email: "d@example.com", country: "Denmark", city: "Copenhagen", tags: ["vip"] },
      { email: "e@example.com", country: "Sweden", city: "Oslo" },
      { email: "f@example.com" },
    ]);
    // (country is Norway or Denmark) and not a VIP and not in Aarhus
    const condition: ConditionInput = {
      and: [
        { or: [{ field: "country", operator: "EQUALS", value: "norway" }, { field: "country", operator: "EQUALS", value: "DENMARK" }] },
        { not: { field: "tags", operator: "HAS_ANY", value: ["VIP"] } },
        { not: { field: "city", operator: "EQUALS", value: "aarhus" } },
      ],
    };
    const live = await createSegment(list.id, "Nordic regulars", "DYNAMIC", condition);
    const fixed = await createSegment(list.id, "Nordic regulars (static)", "STATIC", condition);
    await expectMembers(live.id, ["b@example.com"]);
    await expectMembers(fixed.id, ["b@example.com"]);
    expect(await selectedBy(list.id, condition)).toEqual(["b@example.com"]);

    // NOT_EQUALS is the negation of EQUALS: it matches a contact without a country.
    const notNorway: ConditionInput = { field: "country", operator: "NOT_EQUALS", value: "Norway" };
    const others = await createSegment(list.id, "Not Norway", "DYNAMIC", notNorway);
    await expectMembers(others.id, ["c@example.com", "d@example.com", "e@example.com", "f@example.com"]);

    const orOfAnds: ConditionInput = {
      or: [
        { and: [{ field: "city", operator: "STARTS_WITH", value: "os" }, { field: "country", operator: "IN", value: ["sweden", "finland"] }] },
        { and: [{ field: "city", operator: "CONTAINS", value: "HAGEN" }, { field: "tags", operator: "IS_SET" }] },
      ],
    };
    const mixed = await createSegment(list.id, "Mixed", "DYNAMIC", orOfAnds);
    await expectMembers(mixed.id, ["d@example.com", "e@example.com"]);
    expect(await selectedBy(list.id, orOfAnds)).toEqual(["d@example.com", "e@example.com"]);
  });

  it("tag conditions HAS_ANY, HAS_ALL and HAS_NONE select by tags, and HAS_NONE includes contacts without tags", async () => {
    const list = await newList("Tags");
    const both = await addContact(list.id, { email: "both@example.com", tags: ["news", "vip"] });
    await addContacts(list.id, [
      { email: "news@example.com", tags: ["News"] },
      { email: "vip@example.com", tags: ["vip", "beta"] },
      { email: "none@example.com" },
    ]);
    const any = await createSegment(list.id, "any", "DYNAMIC", { field: "tags", operator: "HAS_ANY", value: ["news", "vip"] });
    const all = await createSegment(list.id, "all", "DYNAMIC", { field: "tags", operator: "HAS_ALL", value: ["news", "VIP"] });
    const noVip = await createSegment(list.id, "none", "DYNAMIC", { field: "tags", operator: "HAS_NONE", value: ["vip"] });
    await expectMembers(any.id, ["both@example.com", "news@example.com", "vip@example.com"]);
    await expectMembers(all.id, ["both@example.com"]);
    await expectMembers(noVip.id, ["news@example.com", "none@example.com"]);

    await client.data(UpdateContactDocument, { id: both.id, input: { tags: ["news"] } });
    await expectMembers(all.id, []);
    await expectMembers(noVip.id, ["both@example.com", "news@example.com", "none@example.com"]);
    await expectMembers(any.id, ["both@example.com", "news@example.com", "vip@example.com"]);
  });

  it("conditions on custom attributes of every type select by the contact's attributes, and editing an attribute moves the contact", async () => {
    const list = await newList("Attributes", [
      { key: "score", type: "NUMBER" },
      { key: "active", type: "BOOLEAN" },
      { key: "plan", type: "TEXT" },
      { key: "renewal", type: "DATE" },
      { key: "lastLogin", type: "DATETIME" },
    ]);
    const low = await addContact(list.id, {
      email: "low@example.com",
      attributes: { score: 10, active: true, plan: "Pro", renewal: "2030-01-01", lastLogin: "2020-05-01T10:00:00Z" },
    });
    await addContacts(list.id, [
      { email: "high@example.com", attributes: { score: 90, active: true, plan: "pro", renewal: "2031-06-30", lastLogin: "2021-01-01T00:00:00Z" } },
      { email: "idle@example.com", attributes: { score: 95, active: false, plan: "Free", renewal: "2029-12-31" } },
      { email: "blank@example.com" },
    ]);
    const engaged: ConditionInput = {
      and: [
        { field: "attributes.score", operator: "GREATER_THAN_OR_EQUAL", value: 50 },
        { field: "attributes.active", operator: "EQUALS", value: true },
      ],
    };
    const engagedSegment = await createSegment(list.id, "Engaged", "DYNAMIC", engaged);
    await expectMembers(engagedSegment.id, ["high@example.com"]);

    const pro = await createSegment(list.id, "Pro plan", "DYNAMIC", { field: "attributes.plan", operator: "EQUALS", value: "PRO" });
    await expectMembers(pro.id, ["high@example.com", "low@example.com"]);

    const renewing = await createSegment(list.id, "Renewing in 2030 or later", "DYNAMIC", {
      field: "attributes.renewal",
      operator: "AFTER",
      value: "2029-12-31",
    });
    await expectMembers(renewing.id, ["high@example.com", "low@example.com"]);

    const loggedIn2020: ConditionInput = {
      field: "attributes.lastLogin",
      operator: "BETWEEN",
      value: ["2020-01-01T00:00:00Z", "2020-12-31T23:59:59Z"],
    };
    const loggedIn = await createSegment(list.id, "Logged in during 2020", "DYNAMIC", loggedIn2020);
    await expectMembers(loggedIn.id, ["low@example.com"]);

    const noScore = await createSegment(list.id, "Without a score", "DYNAMIC", { field: "attributes.score", operator: "IS_NOT_SET" });
    await expectMembers(noScore.id, ["blank@example.com"]);

    await client.data(UpdateContactDocument, { id: low.id, input: { attributes: { score: 75 } } });
    await expectMembers(engagedSegment.id, ["high@example.com", "low@example.com"]);
    await expectMembers(pro.id, ["high@example.com", "low@example.com"]);
    await client.data(UpdateContactDocument, { id: low.id, input: { attributes: { active: false } } });
    await expectMembers(engagedSegment.id, ["high@example.com"]);
    await client.data(UpdateContactDocument, { id: low.id, input: { attributes: { score: null } } });
    await expectMembers(noScore.id, ["blank@example.com", "low@example.com"]);
    expect(await selectedBy(list.id, engaged)).toEqual(["high@example.com"]);
  });

  it("an age condition selects by birth date; a contact without a birth date never matches an order on age, so its negation includes it", async () => {
    const list = await newList("Ages");
    const child = await addContact(list.id, { email: "child@example.com", birthDate: bornYearsAgo(10) });
    await addContacts(list.id, [
      { email: "eighteen@example.com", birthDate: bornYearsAgo(18) },
      { email: "twentyfive@example.com", birthDate: bornYearsAgo(25) },
      { email: "thirty@example.com", birthDate: bornYearsAgo(30) },
      { email: "thirtyone@example.com", birthDate: bornYearsAgo(31) },
      { email: "senior@example.com", birthDate: bornYearsAgo(70) },
      { email: "unknown@example.com" },
    ]);
    const youngAdults: ConditionInput = { field: "age", operator: "BETWEEN", value: [18, 30] };
    const live = await createSegment(list.id, "18 to 30", "DYNAMIC", youngAdults);
    const fixed = await createSegment(list.id, "18 to 30 (static)", "STATIC", youngAdults);
    const expected = ["eighteen@example.com", "thirty@example.com", "twentyfive@example.com"];
    await expectMembers(live.id, expected);
    await expectMembers(fixed.id, expected);
    expect(await selectedBy(list.id, youngAdults)).toEqual([...expected].sort());

    const notOld: ConditionInput = { not: { field: "age", operator: "GREATER_THAN", value: 60 } };
    const notOldSegment = await createSegment(list.id, "Not over 60", "DYNAMIC", notOld);
    await expectMembers(notOldSegment.id, [
      "child@example.com",
      "eighteen@example.com",
      "thirty@example.com",
      "thirtyone@example.com",
      "twentyfive@example.com",
      "unknown@example.com",
    ]);

    const { contact } = await client.data(ContactByIdDocument, { id: child.id });
    expect(contact!.age).toBe(10);
    await client.data(UpdateContactDocument, { id: child.id, input: { birthDate: bornYearsAgo(22) } });
    await expectMembers(live.id, ["child@example.com", ...expected]);
    await expectMembers(fixed.id, expected);
    await client.data(UpdateContactDocument, { id: child.id, input: { birthDate: null } });
    await expectMembers(live.id, expected);
  });
});

describe("changing a segment", () => {
  it("a STATIC segment's condition cannot be changed: BAD_USER_INPUT, and nothing changes", async () => {
    const list = await newList("Static condition");
    await addContacts(list.id, [
      { email: "ola@example.no", country: "Norway" },
      { email: "sven@example.se", country: "Sweden" },
    ]);
    const fixed = await createSegment(list.id, "Norway", "STATIC", norway);
    const before = (await client.data(SegmentByIdDocument, { id: fixed.id })).segment;

    const errors = await client.errors(UpdateSegmentDocument, {
      id: fixed.id,
      input: { name: "Sweden", condition: { field: "country", operator: "EQUALS", value: "Sweden" } },
    });
    expect(errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);

    expect((await client.data(SegmentByIdDocument, { id: fixed.id })).segment).toEqual(before);
    expect(before!.condition).toEqual({ field: "country", operator: "EQUALS", value: "Norway" });
    await expectMembers(fixed.id, ["ola@example.no"]);
  });

  it("changing a DYNAMIC segment's condition re-evaluates its members and publishes exactly the difference with SEGMENT_UPDATED", async () => {
    const list = await newList("Condition change");
    const contacts = [
      { email: "oslo@example.no", country: "Norway", city: "Oslo" },
      { email: "bergen@example.no", country: "Norway", city: "Bergen" },
      { email: "tromso@example.no", country: "Norway", city: "Tromso" },
      { email: "oslo@example.se", country: "Sweden", city: "Oslo" },
      { email: "malmo@example.se", country: "Sweden", city: "Malmo" },
      { email: "aarhus@example.dk", country: "Denmark", city: "Aarhus" },
    ];
    await addContacts(list.id, contacts);
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    await expectMembers(live.id, ["bergen@example.no", "oslo@example.no", "tromso@example.no"]);

    const subscription = await subscribe({ segmentId: live.id });

    const newCondition: ConditionInput = { field: "city", operator: "IN", value: ["oslo", "malmo", "aarhus"] };
    const { updateSegment } = await client.data(UpdateSegmentDocument, { id: live.id, input: { condition: newCondition } });
    expect(updateSegment.condition).toEqual(newCondition);
    expect(updateSegment.memberCount).toBe(4);
    await expectMembers(live.id, ["aarhus@example.dk", "malmo@example.se", "oslo@example.no", "oslo@example.se"]);

    // Left: bergen, tromso. Entered: oslo.se, malmo, aarhus. Oslo.no stays and is not an event.
    const idsByEmail = new Map<string, string>();
    const { contactList } = await client.data(ListContactsDocument, { listId: list.id, first: 50 });
    for (const node of contactList!.contacts.nodes) idsByEmail.set(node.email, node.id);
    const expected = [
      ["LEFT", "bergen@example.no"],
      ["LEFT", "tromso@example.no"],
      ["ENTERED", "aarhus@example.dk"],
      ["ENTERED", "malmo@example.se"],
      ["ENTERED", "oslo@example.se"],
    ].map(([change, email]) => `${change} ${idsByEmail.get(email!)}`);

    // A later write that produces exactly one event marks the end of what the change published.
    const late = await addContact(list.id, { email: "late@example.no", city: "Oslo" });
    const events = (await subscription.waitFor(6)).map((e) => e.segmentMembershipChanged);
    expect(events).toHaveLength(6);
    const changeEvents = events.slice(0, 5);
    expect(changeEvents.map((e) => `${e.change} ${e.contactId}`).sort()).toEqual(expected.sort());
    expect(changeEvents.every((e) => e.reason === "SEGMENT_UPDATED" && e.segmentId === live.id)).toBe(true);
    // Each event carries the count right after it: 3 members, two leave, three enter (in some order).
    let count = 3;
    for (const event of changeEvents) {
      count += event.change === "ENTERED" ? 1 : -1;
      expect(event.memberCount).toBe(count);
    }
    expect(count).toBe(4);
    expect(events[5]).toMatchObject({ change: "ENTERED", reason: "CONTACT_ADDED", contactId: late.id, memberCount: 5 });
    expect(subscription.errors).toEqual([]);

    // The new condition is the one later writes follow.
    const malmo = idsByEmail.get("malmo@example.se")!;
    await client.data(UpdateContactDocument, { id: malmo, input: { country: "Norway", city: "Bergen" } });
    await expectMembers(live.id, ["aarhus@example.dk", "late@example.no", "oslo@example.no", "oslo@example.se"]);
  });

  it("changing a DYNAMIC segment's condition to an equivalent one changes no member and publishes nothing", async () => {
    const list = await newList("Same members");
    await addContacts(list.id, [
      { email: "ola@example.no", country: "Norway" },
      { email: "sven@example.se", country: "Sweden" },
    ]);
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const subscription = await subscribe({ segmentId: live.id });
    const sameMembers: ConditionInput = { field: "country", operator: "IN", value: ["norway", "finland"] };
    const { updateSegment } = await client.data(UpdateSegmentDocument, { id: live.id, input: { condition: sameMembers } });
    expect(updateSegment.condition).toEqual(sameMembers);
    await expectMembers(live.id, ["ola@example.no"]);
    const kari = await addContact(list.id, { email: "kari@example.fi", country: "Finland" });
    const events = await subscription.waitFor(1);
    expect(events.map((e) => [e.segmentMembershipChanged.contactId, e.segmentMembershipChanged.reason])).toEqual([[kari.id, "CONTACT_ADDED"]]);
  });

  it("renaming a segment changes its name and nothing else", async () => {
    const list = await newList("Renames");
    await addContacts(list.id, [{ email: "ola@example.no", country: "Norway" }]);
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const fixed = await createSegment(list.id, "Norway (static)", "STATIC", norway);

    for (const segment of [live, fixed]) {
      const { updateSegment } = await client.data(UpdateSegmentDocument, { id: segment.id, input: { name: `  ${segment.name} renamed ` } });
      expect(updateSegment).toMatchObject({
        id: segment.id,
        name: `${segment.name} renamed`,
        type: segment.type,
        condition: segment.condition,
        memberCount: 1,
        createdAt: segment.createdAt,
      });
      expect(Date.parse(updateSegment.updatedAt)).toBeGreaterThanOrEqual(Date.parse(segment.updatedAt));
      expect((await client.data(SegmentByIdDocument, { id: segment.id })).segment!.name).toBe(`${segment.name} renamed`);
      await expectMembers(segment.id, ["ola@example.no"]);
    }

    const blank = await client.errors(UpdateSegmentDocument, { id: live.id, input: { name: "   " } });
    expect(blank.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect((await client.data(SegmentByIdDocument, { id: live.id })).segment!.name).toBe("Norway renamed");
  });

  it("updating or deleting an unknown segment is NOT_FOUND", async () => {
    const list = await newList("Unknown segments");
    const gone = await createSegment(list.id, "Soon gone", "DYNAMIC", norway);
    await client.data(DeleteSegmentDocument, { id: gone.id });
    const update = await client.errors(UpdateSegmentDocument, { id: gone.id, input: { name: "again" } });
    expect(update.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    const remove = await client.errors(DeleteSegmentDocument, { id: gone.id });
    expect(remove.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    // A list's id is not a segment's id.
    const crossType = await client.errors(DeleteSegmentDocument, { id: list.id });
    expect(crossType.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    expect((await client.data(SegmentByIdDocument, { id: list.id })).segment).toBeNull();
  });

  it("a deleted segment is gone: segment(id) is null and neither its list nor its former members list it", async () => {
    const list = await newList("Segment deletes");
    const ola = await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const fixed = await createSegment(list.id, "Norway (static)", "STATIC", norway);
    const everyone = await createSegment(list.id, "Everyone", "DYNAMIC", { field: "email", operator: "IS_SET" });
    expect(await segmentNamesOf(ola.id)).toEqual(["Everyone", "Norway", "Norway (static)"]);

    expect((await client.data(DeleteSegmentDocument, { id: live.id })).deleteSegment).toBe(live.id);
    expect((await client.data(DeleteSegmentDocument, { id: fixed.id })).deleteSegment).toBe(fixed.id);

    expect((await client.data(SegmentByIdDocument, { id: live.id })).segment).toBeNull();
    expect((await client.data(SegmentByIdDocument, { id: fixed.id })).segment).toBeNull();
    expect(await segmentNamesOf(ola.id)).toEqual(["Everyone"]);
    const { contactList } = await client.data(ListSegmentsDocument, { listId: list.id });
    expect(contactList!.segments.map((s) => s.id)).toEqual([everyone.id]);

    // The list goes on: later writes reach the remaining segment and nothing else.
    const kari = await addContact(list.id, { email: "kari@example.no", country: "Norway" });
    expect(await segmentNamesOf(kari.id)).toEqual(["Everyone"]);
    await expectMembers(everyone.id, ["kari@example.no", "ola@example.no"]);
  });
});

describe("segmentPreview", () => {
  it("counts the contacts a condition selects and returns a sample of at most the requested size, without saving a segment", async () => {
    const list = await newList("Preview");
    const contacts: ContactInput[] = Array.from({ length: 30 }, (_, i) => ({
      email: `p${i}@example.com`,
      country: i % 3 === 0 ? "Sweden" : "Norway",
      tags: i % 2 === 0 ? ["even"] : [],
    }));
    await addContacts(list.id, contacts);
    const condition: ConditionInput = { and: [norway, { field: "tags", operator: "HAS_ANY", value: ["even"] }] };
    const matching = contacts.filter((_, i) => i % 3 !== 0 && i % 2 === 0).map((c) => c.email);
    expect(matching).toHaveLength(10);
    const allNorway = contacts.filter((c) => c.country === "Norway").map((c) => c.email);
    expect(allNorway).toHaveLength(20);

    const byDefault = (await client.data(PreviewSampleDetailsDocument, { listId: list.id, condition })).segmentPreview;
    expect(byDefault.count).toBe(10);
    expect(byDefault.sample).toHaveLength(10);
    expect(byDefault.sample.map((c) => c.email).sort()).toEqual([...matching].sort());
    expect(byDefault.sample.every((c) => c.country === "Norway" && c.tags.includes("even"))).toBe(true);

    const sizes: [number, number][] = [
      [0, 0],
      [1, 1],
      [7, 7],
      [100, 20],
    ];
    for (const [sample, expected] of sizes) {
      const { segmentPreview } = await client.data(PreviewSampleDetailsDocument, { listId: list.id, condition: norway, sample });
      expect(segmentPreview.count).toBe(20);
      expect(segmentPreview.sample).toHaveLength(expected);
      expect(new Set(segmentPreview.sample.map((c) => c.id)).size).toBe(expected);
      for (const contact of segmentPreview.sample) expect(allNorway).toContain(contact.email);
    }

    for (const sample of [101, -1]) {
      const errors = await client.errors(PreviewDocument, { listId: list.id, condition: norway, sample });
      expect(errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
    const badCondition = await client.errors(PreviewDocument, { listId: list.id, condition: { field: "shoeSize", operator: "EQUALS", value: 4 } });
    expect(badCondition.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(badCondition[0]!.message).toContain("field");
    const unknownList = await client.errors(PreviewDocument, { listId: "bm9wZQ", condition: norway });
    expect(unknownList.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);

    // Nothing was saved.
    const { contactList } = await client.data(ListSegmentsDocument, { listId: list.id });
    expect(contactList!.segments).toEqual([]);
  });
});

describe("Segment.members", () => {
  it("pages through every member exactly once, most recently added first", async () => {
    const list = await newList("Pages");
    const contacts: ContactInput[] = Array.from({ length: 150 }, (_, i) => ({
      email: `m${String(i).padStart(3, "0")}@example.com`,
      country: i % 5 === 0 ? "Sweden" : "Norway",
    }));
    await addContacts(list.id, contacts);
    const expected = contacts.filter((c) => c.country === "Norway").map((c) => c.email);
    expect(expected).toHaveLength(120);
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway);
    const fixed = await createSegment(list.id, "Norway (static)", "STATIC", norway);

    for (const segment of [live, fixed]) {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const { segment: page }: SegmentMembersQuery = await client.data(SegmentMembersDocument, { id: segment.id, first: 25, after });
        pages++;
        expect(page!.members.totalCount).toBe(120);
        expect(page!.memberCount).toBe(120);
        seen.push(...page!.members.nodes.map((node) => node.email));
        if (!page!.members.pageInfo.hasNextPage) break;
        expect(page!.members.nodes).toHaveLength(25);
        after = page!.members.pageInfo.endCursor;
        expect(after).toEqual(expect.any(String));
      }
      expect(pages).toBe(5);
      expect(seen).toHaveLength(120);
      expect(new Set(seen).size).toBe(120);
      expect([...seen].sort()).toEqual([...expected].sort());
      // Contacts were added in email order, so newest first is reverse email order.
      expect(seen).toEqual([...expected].reverse());
    }

    for (const first of [0, 501]) {
      const errors = await client.errors(SegmentMembersDocument, { id: live.id, first });
      expect(errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
    const badCursor = await client.errors(SegmentMembersDocument, { id: live.id, first: 10, after: "not-a-cursor" });
    expect(badCursor.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("createSegment validation", () => {
  it("a bad condition is refused with BAD_USER_INPUT naming its path, and nothing is created", async () => {
    const list = await newList("Validation", [{ key: "score", type: "NUMBER" }]);
    await addContacts(list.id, [{ email: "ola@example.no", country: "Norway" }]);
    const cases: [ConditionInput, string][] = [
      [{ and: [norway, { or: [{ field: "tags", operator: "GREATER_THAN", value: 3 }] }] }, "and[1].or[0].operator"],
      [{ and: [norway, { or: [norway, { field: "attributes.score", operator: "EQUALS", value: "high" }] }] }, "and[1].or[1].value"],
      [{ or: [{ field: "attributes.plan", operator: "EQUALS", value: "pro" }] }, "or[0].field"],
      [{ not: { field: "shoeSize", operator: "EQUALS", value: 42 } }, "not.field"],
      [{ and: [norway, { and: [] }] }, "and[1].and"],
      [{ and: [{ field: "country", operator: "EQUALS", value: "x", or: [norway] }] }, "and[0]"],
      [{ field: "age", operator: "BETWEEN", value: [30] }, "value"],
      [{ field: "country", operator: "CONTAINS", value: "" }, "value"],
      [{ field: "createdAt", operator: "WITHIN_LAST", value: { amount: 7, unit: "FORTNIGHTS" } }, "value.unit"],
    ];
    for (const [condition, path] of cases) {
      for (const type of ["STATIC", "DYNAMIC"] as const) {
        const errors = await client.errors(CreateSegmentDocument, { input: { listId: list.id, name: "Bad", type, condition } });
        expect(errors).toHaveLength(1);
        expect(errors[0]!.extensions?.code).toBe("BAD_USER_INPUT");
        expect(errors[0]!.message.startsWith(`${path}:`)).toBe(true);
      }
    }
    const { contactList } = await client.data(ListSegmentsDocument, { listId: list.id });
    expect(contactList!.segments).toEqual([]);
  });

  it("an unknown list, a list id of another type or a blank name is refused, and nothing is created", async () => {
    const list = await newList("More validation");
    const ola = await addContact(list.id, { email: "ola@example.no", country: "Norway" });
    const gone = await newList("Deleted list");
    await client.data(DeleteListDocument, { id: gone.id });

    for (const listId of [gone.id, ola.id, "bm9wZQ"]) {
      const errors = await client.errors(CreateSegmentDocument, { input: { listId, name: "Nowhere", type: "DYNAMIC", condition: norway } });
      expect(errors.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    }
    const blank = await client.errors(CreateSegmentDocument, { input: { listId: list.id, name: " ", type: "DYNAMIC", condition: norway } });
    expect(blank.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);

    const { contactList } = await client.data(ListSegmentsDocument, { listId: list.id });
    expect(contactList!.segments).toEqual([]);
    expect(await segmentNamesOf(ola.id)).toEqual([]);
  });
});

describe("restarts and large lists", () => {
  it("a restart on the same database keeps segments and memberships, and dynamic segments keep following writes", async () => {
    const first = await startTestServer();
    const list = (await first.client.data(CreateListDocument, { input: { name: "Durable" } })).createContactList;
    const ola = await addContact(list.id, { email: "ola@example.no", country: "Norway" }, first.client);
    await addContacts(
      list.id,
      [
        { email: "kari@example.no", country: "Norway" },
        { email: "sven@example.se", country: "Sweden" },
      ],
      first.client,
    );
    const fixed = await createSegment(list.id, "Norway (static)", "STATIC", norway, first.client);
    const live = await createSegment(list.id, "Norway", "DYNAMIC", norway, first.client);
    await addContact(list.id, { email: "nils@example.no", country: "Norway" }, first.client);
    await first.stop();

    const second = await startTestServer({ dbPath: first.dbPath });
    const via = second.client;
    await expectMembers(fixed.id, ["kari@example.no", "ola@example.no"], via);
    await expectMembers(live.id, ["kari@example.no", "nils@example.no", "ola@example.no"], via);
    const before = (await via.data(SegmentByIdDocument, { id: live.id })).segment;
    expect(before).toMatchObject({ id: live.id, name: "Norway", type: "DYNAMIC", status: "READY", condition: live.condition });
    const { contact } = await via.data(ContactByIdDocument, { id: ola.id });
    expect(contact!.segments.map((s) => s.name).sort()).toEqual(["Norway", "Norway (static)"]);

    const subscription = second.ws().subscribe(MembershipChangedDocument, { listId: list.id });
    await streamsOpen(second.app, 1);
    const eva = await addContact(list.id, { email: "eva@example.no", country: "Norway" }, via);
    await via.data(UpdateContactDocument, { id: ola.id, input: { country: "Sweden" } });
    await expectMembers(live.id, ["eva@example.no", "kari@example.no", "nils@example.no"], via);
    await expectMembers(fixed.id, ["kari@example.no", "ola@example.no"], via);
    const events = (await subscription.waitFor(2)).map((e) => e.segmentMembershipChanged);
    expect(events.map((e) => [e.segmentId, e.contactId, e.change, e.reason, e.memberCount])).toEqual([
      [live.id, eva.id, "ENTERED", "CONTACT_ADDED", 4],
      [live.id, ola.id, "LEFT", "CONTACT_UPDATED", 3],
    ]);
    await second.stop();
  });

  it("a segment on a large list is BUILDING until its initial membership is computed, then READY with every match and no events", async () => {
    const big = await startTestServer({ engine: { buildChunk: 50 }, settings: { segmentSettleMs: 0 } });
    const list = (await big.client.data(CreateListDocument, { input: { name: "Big" } })).createContactList;
    const contacts: ContactInput[] = Array.from({ length: 2_000 }, (_, i) => ({
      email: `big${i}@example.com`,
      country: i % 4 === 0 ? "Sweden" : "Norway",
    }));
    await addContacts(list.id, contacts, big.client);
    const subscription = big.ws().subscribe(MembershipChangedDocument, { listId: list.id });
    await streamsOpen(big.app, 1);

    for (const type of ["DYNAMIC", "STATIC"] as const) {
      const created = await createSegment(list.id, `Norway ${type}`, type, norway, big.client);
      expect(created.status).toBe("BUILDING");
      const deadline = Date.now() + 10_000;
      let status = created.status;
      while (status === "BUILDING") {
        if (Date.now() > deadline) throw new Error("the segment stayed BUILDING");
        await new Promise((resolve) => setImmediate(resolve));
        status = (await big.client.data(SegmentByIdDocument, { id: created.id })).segment!.status;
      }
      expect(status).toBe("READY");
      const { segment } = await big.client.data(SegmentMembersDocument, { id: created.id, first: 1 });
      expect([segment!.memberCount, segment!.members.totalCount]).toEqual([1_500, 1_500]);
    }

    // The builds published nothing: the first event is the one this write causes.
    const late = await addContact(list.id, { email: "late@example.no", country: "Norway" }, big.client);
    const events = await subscription.waitFor(1);
    expect(events.map((e) => [e.segmentMembershipChanged.contactId, e.segmentMembershipChanged.reason, e.segmentMembershipChanged.memberCount])).toEqual([
      [late.id, "CONTACT_ADDED", 1_501],
    ]);
    await big.stop();
  });
});
