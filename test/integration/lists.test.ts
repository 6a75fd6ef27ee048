import { ManualClock } from "../../src/common/clock";
import {
  AddContactDocument,
  AddContactsDocument,
  ContactByIdDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  DeleteListDocument,
  DeleteSegmentDocument,
  LcContactPageDocument,
  LcListDetailDocument,
  LcListsDetailDocument,
  type LcListsDetailQuery,
  LcNodeDocument,
  ListByIdDocument,
  SegmentByIdDocument,
  SegmentMembersDocument,
  UpdateContactDocument,
  UpdateListDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import type { GraphQLErrorShape } from "../support/client";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

const T0 = Date.parse("2026-03-10T09:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const codes = (errors: GraphQLErrorShape[]) => errors.map((error) => error.extensions?.code);
const globalId = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/** Every list of the server, newest first, read page by page. */
async function allLists(server: TestServer) {
  const seen: { id: string; name: string }[] = [];
  let after: string | null = null;
  for (;;) {
    const { contactLists: page }: LcListsDetailQuery = await server.client.data(LcListsDetailDocument, { first: 500, after });
    seen.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return seen;
    after = page.pageInfo.endCursor!;
  }
}

describe("contact lists", () => {
  let server: TestServer;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    server = await startTestServer({ clock });
  });

  it("a new list reads back with its name, custom fields in order, no contacts, no segments and createdAt = updatedAt", async () => {
    const { client } = server;
    clock.advance(1_000);
    const created = await client.data(CreateListDocument, {
      input: {
        name: "Newsletter",
        customFields: [
          { key: "score", label: "Score", type: "NUMBER" },
          { key: "nickname", type: "TEXT" },
          { key: "since", label: "Member since", type: "DATE" },
          { key: "lastSeen", type: "DATETIME" },
          { key: "vip", type: "BOOLEAN" },
        ],
      },
    });
    const fields = [
      { key: "score", label: "Score", type: "NUMBER" },
      { key: "nickname", label: null, type: "TEXT" },
      { key: "since", label: "Member since", type: "DATE" },
      { key: "lastSeen", label: null, type: "DATETIME" },
      { key: "vip", label: null, type: "BOOLEAN" },
    ];
    expect(created.createContactList).toEqual({ id: expect.any(String), name: "Newsletter", contactCount: 0, customFields: fields });

    const { contactList } = await client.data(ListByIdDocument, { id: created.createContactList.id });
    expect(contactList).toEqual({
      id: created.createContactList.id,
      name: "Newsletter",
      createdAt: iso(clock.now()),
      updatedAt: iso(clock.now()),
      contactCount: 0,
      customFields: fields,
      segments: [],
    });
    const { contactList: withContacts } = await client.data(LcContactPageDocument, { listId: created.createContactList.id });
    expect(withContacts?.contacts.totalCount).toBe(0);
    expect(withContacts?.contacts.edges).toEqual([]);
  });

  it("a list without custom fields has an empty customFields array", async () => {
    const { createContactList: list } = await server.client.data(CreateListDocument, { input: { name: "Plain" } });
    expect(list.customFields).toEqual([]);
    const empty = await server.client.data(CreateListDocument, { input: { name: "Plain too", customFields: [] } });
    expect(empty.createContactList.customFields).toEqual([]);
  });

  it("an empty or blank list name is refused with BAD_USER_INPUT and no list is created", async () => {
    const { client } = server;
    const before = (await client.data(LcListsDetailDocument, { first: 1 })).contactLists.totalCount;
    for (const name of ["", "   ", "\t\n"]) {
      expect(codes(await client.errors(CreateListDocument, { input: { name } }))).toEqual(["BAD_USER_INPUT"]);
    }
    expect((await client.data(LcListsDetailDocument, { first: 1 })).contactLists.totalCount).toBe(before);
  });

  it("renaming a list changes its name and updatedAt and keeps createdAt and custom fields", async () => {
    const { client } = server;
    const createdAt = clock.now();
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Old name", customFields: [{ key: "score", type: "NUMBER" }] },
    });
    clock.advance(60_000);
    const { updateContactList: updated } = await client.data(UpdateListDocument, { id: list.id, input: { name: "New name" } });
    expect(updated).toEqual({
      id: list.id,
      name: "New name",
      updatedAt: iso(clock.now()),
      customFields: [{ key: "score", label: null, type: "NUMBER" }],
    });
    const { contactList } = await client.data(ListByIdDocument, { id: list.id });
    expect(contactList).toMatchObject({ name: "New name", createdAt: iso(createdAt), updatedAt: iso(clock.now()) });
  });

  it("an update without a name keeps the name, and an empty name in an update is refused with BAD_USER_INPUT", async () => {
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Keep me" } });
    const { updateContactList: same } = await client.data(UpdateListDocument, { id: list.id, input: {} });
    expect(same.name).toBe("Keep me");
    const { updateContactList: nullName } = await client.data(UpdateListDocument, { id: list.id, input: { name: null } });
    expect(nullName.name).toBe("Keep me");

    const before = (await client.data(ListByIdDocument, { id: list.id })).contactList;
    clock.advance(1_000);
    expect(codes(await client.errors(UpdateListDocument, { id: list.id, input: { name: "  " } }))).toEqual(["BAD_USER_INPUT"]);
    expect((await client.data(ListByIdDocument, { id: list.id })).contactList).toEqual(before);
  });

  it("custom fields can be added and relabelled; existing fields keep their place and type", async () => {
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Fields", customFields: [{ key: "score", label: "Score", type: "NUMBER" }, { key: "vip", type: "BOOLEAN" }] },
    });
    const { updateContactList: updated } = await client.data(UpdateListDocument, {
      id: list.id,
      input: {
        addCustomFields: [
          { key: "vip", label: "Very important", type: "BOOLEAN" },
          { key: "since", label: "Since", type: "DATE" },
          { key: "seenAt", type: "DATETIME" },
        ],
      },
    });
    const expected = [
      { key: "score", label: "Score", type: "NUMBER" },
      { key: "vip", label: "Very important", type: "BOOLEAN" },
      { key: "since", label: "Since", type: "DATE" },
      { key: "seenAt", label: null, type: "DATETIME" },
    ];
    expect(updated.customFields).toEqual(expected);
    expect((await client.data(ListByIdDocument, { id: list.id })).contactList?.customFields).toEqual(expected);

    // Re-declaring a field without a label keeps its label.
    const { updateContactList: again } = await client.data(UpdateListDocument, {
      id: list.id,
      input: { addCustomFields: [{ key: "score", type: "NUMBER" }] },
    });
    expect(again.customFields).toEqual(expected);

    // A field added later can be used by contacts at once.
    const { addContact } = await client.data(AddContactDocument, {
      listId: list.id,
      input: { email: "fields@example.com", attributes: { since: "2020-01-31", seenAt: "2026-01-01T10:00:00Z", vip: true } },
    });
    expect(addContact.attributes).toEqual({ since: "2020-01-31", seenAt: "2026-01-01T10:00:00.000Z", vip: true });
  });

  it("changing a custom field's type is refused with CONFLICT and nothing of the update is applied", async () => {
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Typed", customFields: [{ key: "score", label: "Score", type: "NUMBER" }] },
    });
    await client.data(AddContactDocument, { listId: list.id, input: { email: "typed@example.com", attributes: { score: 3 } } });
    const before = (await client.data(LcListDetailDocument, { id: list.id })).contactList;
    clock.advance(1_000);

    for (const type of ["TEXT", "DATE", "DATETIME", "BOOLEAN"] as const) {
      const errors = await client.errors(UpdateListDocument, { id: list.id, input: { addCustomFields: [{ key: "score", type }] } });
      expect(codes(errors)).toEqual(["CONFLICT"]);
    }
    // A valid addition and a rename in the same call are not applied either.
    const errors = await client.errors(UpdateListDocument, {
      id: list.id,
      input: { name: "Renamed", addCustomFields: [{ key: "fresh", type: "TEXT" }, { key: "score", label: "Points", type: "TEXT" }] },
    });
    expect(codes(errors)).toEqual(["CONFLICT"]);
    expect((await client.data(LcListDetailDocument, { id: list.id })).contactList).toEqual(before);
  });

  it("custom field keys that are not a letter followed by up to 63 letters, digits or underscores are refused with BAD_USER_INPUT", async () => {
    const { client } = server;
    const before = (await client.data(LcListsDetailDocument, { first: 1 })).contactLists.totalCount;
    const badKeys = ["", "1abc", "_abc", "has space", "dash-key", "dot.key", "ünicode", "a".repeat(65), "attributes.x"];
    for (const key of badKeys) {
      const errors = await client.errors(CreateListDocument, { input: { name: "Bad key", customFields: [{ key, type: "TEXT" }] } });
      expect({ key, codes: codes(errors) }).toEqual({ key, codes: ["BAD_USER_INPUT"] });
    }
    expect((await client.data(LcListsDetailDocument, { first: 1 })).contactLists.totalCount).toBe(before);

    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Good keys", customFields: [{ key: "a", type: "TEXT" }, { key: "B_2", type: "NUMBER" }, { key: "k".repeat(64), type: "BOOLEAN" }] },
    });
    expect(list.customFields.map((field) => field.key)).toEqual(["a", "B_2", "k".repeat(64)]);

    const detail = (await client.data(ListByIdDocument, { id: list.id })).contactList;
    for (const key of badKeys) {
      const errors = await client.errors(UpdateListDocument, { id: list.id, input: { addCustomFields: [{ key, type: "TEXT" }] } });
      expect({ key, codes: codes(errors) }).toEqual({ key, codes: ["BAD_USER_INPUT"] });
    }
    expect((await client.data(ListByIdDocument, { id: list.id })).contactList).toEqual(detail);
  });

  it("a key declared twice when creating a list is refused with BAD_USER_INPUT", async () => {
    const errors = await server.client.errors(CreateListDocument, {
      input: { name: "Twice", customFields: [{ key: "score", type: "NUMBER" }, { key: "score", type: "NUMBER" }] },
    });
    expect(codes(errors)).toEqual(["BAD_USER_INPUT"]);
  });

  it("an unknown field type is refused with BAD_USER_INPUT", async () => {
    const variables = await server.client.raw(`mutation ($input: CreateContactListInput!) { createContactList(input: $input) { id } }`, {
      input: { name: "x", customFields: [{ key: "a", type: "MONEY" }] },
    });
    expect(variables.data ?? null).toBeNull();
    expect(codes(variables.errors ?? [])).toEqual(["BAD_USER_INPUT"]);
  });

  it("contactList(id) is null without an error for unknown, malformed and other-type ids", async () => {
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Lookup" } });
    const { addContact: contact } = await client.data(AddContactDocument, { listId: list.id, input: { email: "lookup@example.com" } });
    const { createSegment: segment } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "All", type: "DYNAMIC", condition: { field: "email", operator: "IS_SET" } },
    });

    const unknownIds = ["", "nope", "!!!", globalId("ContactList:999999"), globalId("ContactList:abc!"), globalId("Widget:1"), `${list.id}=`, contact.id, segment.id];
    for (const id of unknownIds) {
      const result = await client.request(ListByIdDocument, { id });
      expect({ id, errors: result.errors, data: result.data }).toEqual({ id, errors: undefined, data: { contactList: null } });
    }
    for (const id of ["nope", list.id, segment.id, globalId("Contact:999999")]) {
      const result = await client.request(ContactByIdDocument, { id });
      expect({ id, errors: result.errors, data: result.data }).toEqual({ id, errors: undefined, data: { contact: null } });
    }
    for (const id of ["nope", list.id, contact.id, globalId("Segment:999999")]) {
      const result = await client.request(SegmentByIdDocument, { id });
      expect({ id, errors: result.errors, data: result.data }).toEqual({ id, errors: undefined, data: { segment: null } });
    }
  });

  it("node(id) resolves each type to its own object and is null for malformed, unknown and deleted ids", async () => {
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Nodes" } });
    const { addContact: contact } = await client.data(AddContactDocument, { listId: list.id, input: { email: "node@example.com" } });
    const { createSegment: segment } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Everyone", type: "STATIC", condition: { field: "email", operator: "IS_SET" } },
    });

    expect((await client.data(LcNodeDocument, { id: list.id })).node).toEqual({ __typename: "ContactList", id: list.id, name: "Nodes", contactCount: 1 });
    expect((await client.data(LcNodeDocument, { id: contact.id })).node).toEqual({
      __typename: "Contact",
      id: contact.id,
      email: "node@example.com",
      list: { id: list.id },
    });
    expect((await client.data(LcNodeDocument, { id: segment.id })).node).toEqual({ __typename: "Segment", id: segment.id, name: "Everyone", list: { id: list.id } });

    // Ids are unique across types.
    expect(new Set([list.id, contact.id, segment.id]).size).toBe(3);

    const malformed = ["", "x", "%%%", globalId("Widget:1"), globalId("ContactList:"), globalId("Contact:0"), globalId("Segment:999999"), `${contact.id}==`, "a".repeat(200)];
    for (const id of malformed) {
      const result = await client.request(LcNodeDocument, { id });
      expect({ id, errors: result.errors, data: result.data }).toEqual({ id, errors: undefined, data: { node: null } });
    }

    await client.data(DeleteContactDocument, { id: contact.id });
    await client.data(DeleteSegmentDocument, { id: segment.id });
    expect((await client.data(LcNodeDocument, { id: contact.id })).node).toBeNull();
    expect((await client.data(LcNodeDocument, { id: segment.id })).node).toBeNull();
    await client.data(DeleteListDocument, { id: list.id });
    expect((await client.data(LcNodeDocument, { id: list.id })).node).toBeNull();
  });

  it("updating or deleting a list with an unknown, malformed or other-type id is refused with NOT_FOUND", async () => {
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Target" } });
    const { addContact: contact } = await client.data(AddContactDocument, { listId: list.id, input: { email: "target@example.com" } });
    const { createSegment: segment } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Seg", type: "DYNAMIC", condition: { field: "email", operator: "IS_SET" } },
    });
    const listsBefore = await allLists(server);
    const detailBefore = (await client.data(LcListDetailDocument, { id: list.id })).contactList;

    for (const id of ["", "nope", globalId("ContactList:999999"), contact.id, segment.id]) {
      expect({ id, codes: codes(await client.errors(UpdateListDocument, { id, input: { name: "x" } })) }).toEqual({ id, codes: ["NOT_FOUND"] });
      expect({ id, codes: codes(await client.errors(DeleteListDocument, { id })) }).toEqual({ id, codes: ["NOT_FOUND"] });
    }
    expect(await allLists(server)).toEqual(listsBefore);
    expect((await client.data(LcListDetailDocument, { id: list.id })).contactList).toEqual(detailBefore);
    expect((await client.data(ContactByIdDocument, { id: contact.id })).contact?.email).toBe("target@example.com");
    expect((await client.data(SegmentByIdDocument, { id: segment.id })).segment?.id).toBe(segment.id);
  });

  it("deleting a list removes its contacts and segments (their ids read as null) and leaves other lists alone", async () => {
    const { client } = server;
    const { createContactList: doomed } = await client.data(CreateListDocument, { input: { name: "Doomed", customFields: [{ key: "score", type: "NUMBER" }] } });
    const { createContactList: kept } = await client.data(CreateListDocument, { input: { name: "Kept" } });
    const people = (domain: string) => Array.from({ length: 25 }, (_, i) => ({ email: `p${i}@${domain}`, country: i % 2 ? "Norway" : "Sweden" }));
    await client.data(AddContactsDocument, { listId: doomed.id, contacts: people("doomed.example") });
    await client.data(AddContactsDocument, { listId: kept.id, contacts: people("doomed.example") });
    const condition = { field: "country", operator: "EQUALS", value: "Norway" } as const;
    const { createSegment: staticSegment } = await client.data(CreateSegmentDocument, { input: { listId: doomed.id, name: "S", type: "STATIC", condition } });
    const { createSegment: dynamicSegment } = await client.data(CreateSegmentDocument, { input: { listId: doomed.id, name: "D", type: "DYNAMIC", condition } });
    const { createSegment: keptSegment } = await client.data(CreateSegmentDocument, { input: { listId: kept.id, name: "K", type: "DYNAMIC", condition } });
    const doomedContacts = (await client.data(LcContactPageDocument, { listId: doomed.id, first: 100 })).contactList!.contacts.nodes;
    const keptBefore = (await client.data(LcListDetailDocument, { id: kept.id, first: 100 })).contactList;
    const keptSegmentBefore = (await client.data(SegmentByIdDocument, { id: keptSegment.id })).segment;
    expect(doomedContacts).toHaveLength(25);
    expect(keptSegmentBefore?.memberCount).toBe(12);
    const listsBefore = await allLists(server);

    expect((await client.data(DeleteListDocument, { id: doomed.id })).deleteContactList).toBe(doomed.id);

    expect((await client.data(ListByIdDocument, { id: doomed.id })).contactList).toBeNull();
    expect((await client.data(LcNodeDocument, { id: doomed.id })).node).toBeNull();
    for (const segment of [staticSegment, dynamicSegment]) {
      expect((await client.data(SegmentByIdDocument, { id: segment.id })).segment).toBeNull();
      expect((await client.data(SegmentMembersDocument, { id: segment.id, first: 10 })).segment).toBeNull();
      expect((await client.data(LcNodeDocument, { id: segment.id })).node).toBeNull();
    }
    for (const contact of doomedContacts) {
      expect((await client.data(ContactByIdDocument, { id: contact.id })).contact).toBeNull();
      expect((await client.data(LcNodeDocument, { id: contact.id })).node).toBeNull();
    }
    const listsAfter = await allLists(server);
    expect(listsAfter).toEqual(listsBefore.filter((list) => list.id !== doomed.id));
    expect((await client.data(LcListsDetailDocument, { first: 1 })).contactLists.totalCount).toBe(listsBefore.length - 1);

    // Mutations on what was deleted are NOT_FOUND.
    expect(codes(await client.errors(DeleteListDocument, { id: doomed.id }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(UpdateListDocument, { id: doomed.id, input: { name: "back" } }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(AddContactDocument, { listId: doomed.id, input: { email: "late@example.com" } }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(AddContactsDocument, { listId: doomed.id, contacts: [{ email: "late@example.com" }] }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(UpdateContactDocument, { id: doomedContacts[0]!.id, input: { firstName: "x" } }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(DeleteContactDocument, { id: doomedContacts[1]!.id }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(UpdateSegmentDocument, { id: dynamicSegment.id, input: { name: "x" } }))).toEqual(["NOT_FOUND"]);
    expect(codes(await client.errors(DeleteSegmentDocument, { id: staticSegment.id }))).toEqual(["NOT_FOUND"]);

    // The other list, with the same emails, is untouched.
    expect((await client.data(LcListDetailDocument, { id: kept.id, first: 100 })).contactList).toEqual(keptBefore);
    expect((await client.data(SegmentByIdDocument, { id: keptSegment.id })).segment).toEqual(keptSegmentBefore);
    expect((await client.data(SegmentMembersDocument, { id: keptSegment.id, first: 100 })).segment?.members.totalCount).toBe(12);
  });
});

describe("contactLists pagination", () => {
  it("pages through every list exactly once, newest first, with totalCount and pageInfo", async () => {
    const clock = new ManualClock(T0);
    const { client } = await startTestServer({ clock });

    const empty = (await client.data(LcListsDetailDocument, { first: 5 })).contactLists;
    expect(empty).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      edges: [],
      nodes: [],
    });

    // Some lists share an instant, so the id breaks ties.
    const created: string[] = [];
    for (let i = 0; i < 12; i++) {
      if (i % 3 === 0) clock.advance(1_000);
      created.push((await client.data(CreateListDocument, { input: { name: `List ${i}` } })).createContactList.id);
    }
    const newestFirst = [...created].reverse();

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; ; page++) {
      const { contactLists }: LcListsDetailQuery = await client.data(LcListsDetailDocument, { first: 5, after });
      expect(contactLists.totalCount).toBe(12);
      expect(contactLists.nodes.map((n) => n.id)).toEqual(contactLists.edges.map((e) => e.node.id));
      expect(contactLists.pageInfo.hasPreviousPage).toBe(false);
      expect(contactLists.pageInfo.startCursor).toBe(contactLists.edges[0]!.cursor);
      expect(contactLists.pageInfo.endCursor).toBe(contactLists.edges.at(-1)!.cursor);
      expect(contactLists.edges).toHaveLength(page < 2 ? 5 : 2);
      expect(contactLists.pageInfo.hasNextPage).toBe(page < 2);
      seen.push(...contactLists.nodes.map((n) => n.id));
      if (!contactLists.pageInfo.hasNextPage) break;
      after = contactLists.pageInfo.endCursor!;
    }
    expect(seen).toEqual(newestFirst);

    // Exactly the number of lists: no next page.
    const exact = (await client.data(LcListsDetailDocument, { first: 12 })).contactLists;
    expect(exact.pageInfo.hasNextPage).toBe(false);
    expect(exact.nodes.map((n) => n.id)).toEqual(newestFirst);
    expect((await client.data(LcListsDetailDocument, { first: 11 })).contactLists.pageInfo.hasNextPage).toBe(true);

    // Deleting and adding lists between pages neither repeats nor skips the remaining ones.
    const first = (await client.data(LcListsDetailDocument, { first: 4 })).contactLists;
    await client.data(DeleteListDocument, { id: first.nodes.at(-1)!.id });
    await client.data(DeleteListDocument, { id: newestFirst[6]! });
    clock.advance(1_000);
    const added = (await client.data(CreateListDocument, { input: { name: "Newer" } })).createContactList.id;
    const rest = (await client.data(LcListsDetailDocument, { first: 100, after: first.pageInfo.endCursor })).contactLists;
    expect(rest.nodes.map((n) => n.id)).toEqual(newestFirst.slice(4).filter((id) => id !== newestFirst[6]));
    expect(rest.totalCount).toBe(11);
    expect((await client.data(LcListsDetailDocument, { first: 1 })).contactLists.nodes[0]!.id).toBe(added);
  });

  it("a contactLists page size of 0, 501 or a negative number is refused with BAD_USER_INPUT; 1 and 500 are accepted", async () => {
    const { client } = await startTestServer();
    await client.data(CreateListDocument, { input: { name: "One" } });
    await client.data(CreateListDocument, { input: { name: "Two" } });
    for (const first of [0, 501, -1, -50]) {
      const result = await client.request(LcListsDetailDocument, { first });
      expect({ first, data: result.data ?? null, codes: codes(result.errors ?? []) }).toEqual({ first, data: null, codes: ["BAD_USER_INPUT"] });
    }
    const one = (await client.data(LcListsDetailDocument, { first: 1 })).contactLists;
    expect([one.nodes.length, one.pageInfo.hasNextPage, one.totalCount]).toEqual([1, true, 2]);
    const max = (await client.data(LcListsDetailDocument, { first: 500 })).contactLists;
    expect([max.nodes.length, max.pageInfo.hasNextPage]).toEqual([2, false]);
    const byDefault = (await client.data(LcListsDetailDocument, {})).contactLists;
    expect(byDefault.nodes).toHaveLength(2);
  });

  it("a malformed or foreign contactLists cursor is refused with BAD_USER_INPUT", async () => {
    const { client } = await startTestServer();
    const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Cursor" } });
    await client.data(AddContactDocument, { listId: list.id, input: { email: "cursor@example.com" } });
    const contactCursor = (await client.data(LcContactPageDocument, { listId: list.id, first: 1 })).contactList!.contacts.edges[0]!.cursor;
    const listCursor = (await client.data(LcListsDetailDocument, { first: 1 })).contactLists.edges[0]!.cursor;

    const bad = ["", "garbage!", "%%%", contactCursor, listCursor.slice(0, 6), globalId("l|abc|1"), globalId("l|1"), globalId("l|1|2|3"), globalId(`l|${T0}|x y`), list.id];
    for (const after of bad) {
      const result = await client.request(LcListsDetailDocument, { first: 5, after });
      expect({ after, data: result.data ?? null, codes: codes(result.errors ?? []) }).toEqual({ after, data: null, codes: ["BAD_USER_INPUT"] });
    }
    // The real cursor still works.
    const next = (await client.data(LcListsDetailDocument, { first: 5, after: listCursor })).contactLists;
    expect([next.nodes, next.pageInfo.hasNextPage]).toEqual([[], false]);
  });
});

describe("restart", () => {
  it("a restart on the same database file keeps lists, custom fields, contacts, counts and segments", async () => {
    const clock = new ManualClock(T0);
    const first = await startTestServer({ clock });
    const { client } = first;
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Durable", customFields: [{ key: "score", label: "Score", type: "NUMBER" }, { key: "vip", type: "BOOLEAN" }] },
    });
    const { createContactList: other } = await client.data(CreateListDocument, { input: { name: "Other" } });
    await client.data(AddContactsDocument, {
      listId: list.id,
      contacts: Array.from({ length: 40 }, (_, i) => ({
        email: `durable${i}@example.com`,
        firstName: `D${i}`,
        birthDate: "1990-05-17",
        tags: i % 2 ? ["odd"] : ["even", "x"],
        attributes: { score: i, vip: i % 4 === 0 },
      })),
    });
    const { addContact: gone } = await client.data(AddContactDocument, { listId: list.id, input: { email: "gone@example.com" } });
    await client.data(DeleteContactDocument, { id: gone.id });
    const { createSegment: segment } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Odd", type: "DYNAMIC", condition: { field: "tags", operator: "HAS_ANY", value: ["odd"] } },
    });
    expect(segment.memberCount).toBe(20);

    const listBefore = (await client.data(LcListDetailDocument, { id: list.id, first: 500 })).contactList;
    const otherBefore = (await client.data(LcListDetailDocument, { id: other.id, first: 500 })).contactList;
    const listsBefore = (await client.data(LcListsDetailDocument, { first: 10 })).contactLists;
    const segmentBefore = (await client.data(SegmentByIdDocument, { id: segment.id })).segment;
    expect(listBefore?.contactCount).toBe(40);
    await first.stop();

    const second = await startTestServer({ dbPath: first.dbPath, clock });
    const again = second.client;
    expect((await again.data(LcListDetailDocument, { id: list.id, first: 500 })).contactList).toEqual(listBefore);
    expect((await again.data(LcListDetailDocument, { id: other.id, first: 500 })).contactList).toEqual(otherBefore);
    expect((await again.data(LcListsDetailDocument, { first: 10 })).contactLists).toEqual(listsBefore);
    expect((await again.data(SegmentByIdDocument, { id: segment.id })).segment).toEqual(segmentBefore);
    expect((await again.data(ContactByIdDocument, { id: gone.id })).contact).toBeNull();

    // The restarted service keeps enforcing the rules and hands out new ids.
    expect(codes(await again.errors(AddContactDocument, { listId: list.id, input: { email: "DURABLE3@example.com" } }))).toEqual(["CONFLICT"]);
    expect(codes(await again.errors(UpdateListDocument, { id: list.id, input: { addCustomFields: [{ key: "score", type: "TEXT" }] } }))).toEqual(["CONFLICT"]);
    const { addContact: fresh } = await again.data(AddContactDocument, { listId: list.id, input: { email: "fresh@example.com", tags: ["odd"] } });
    expect(listBefore!.contacts.nodes.map((c) => c.id).concat(gone.id)).not.toContain(fresh.id);
    const after = (await again.data(LcListDetailDocument, { id: list.id, first: 1 })).contactList;
    expect([after?.contactCount, after?.contacts.totalCount]).toEqual([41, 41]);
    expect((await again.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount).toBe(21);
  });
});
