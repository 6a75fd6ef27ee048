import { ManualClock } from "../../src/common/clock";
import {
  AddContactDocument,
  AddContactsDocument,
  type ConditionInput,
  CreateListDocument,
  DeleteContactDocument,
  LcContactPageDocument,
  LcContactPageNoFirstDocument,
  LcListsDetailDocument,
  UpdateContactDocument,
} from "../graphql/generated";
import type { GraphQLErrorShape } from "../support/client";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

const T0 = Date.parse("2026-01-20T08:00:00.000Z");
const codes = (errors: GraphQLErrorShape[]) => errors.map((error) => error.extensions?.code);
const cursorOf = (text: string) => Buffer.from(text, "utf8").toString("base64url");

let server: TestServer;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock(T0);
  server = await startTestServer({ clock });
});

async function newList(name = "Paged") {
  const { createContactList } = await server.client.data(CreateListDocument, {
    input: { name, customFields: [{ key: "score", type: "NUMBER" }] },
  });
  return createContactList.id;
}

/**
 * Adds contacts one call at a time, so the order of creation is known: some calls share an
 * instant (the id breaks the tie), some are a batch (all rows share an instant). Returns ids in
 * creation order.
 */
async function addInOrder(listId: string, count: number, prefix: string, extra: (i: number) => Record<string, unknown> = () => ({})) {
  const ids: string[] = [];
  let i = 0;
  while (i < count) {
    if (i % 4 === 0) clock.advance(1_000);
    if (i % 9 === 5 && i + 3 <= count) {
      const rows = [i, i + 1, i + 2].map((n) => ({ email: `${prefix}${n}@paging.example`, ...extra(n) }));
      const { addContacts } = await server.client.data(AddContactsDocument, { listId, contacts: rows });
      expect(addContacts).toEqual({ added: 3, updated: 0, errors: [] });
      const page = await server.client.data(LcContactPageDocument, { listId, first: 3 });
      ids.push(...page.contactList!.contacts.nodes.map((n) => n.id).reverse());
      expect(page.contactList!.contacts.nodes.map((n) => n.email)).toEqual(rows.map((r) => r.email).reverse());
      i += 3;
    } else {
      const { addContact } = await server.client.data(AddContactDocument, { listId, input: { email: `${prefix}${i}@paging.example`, ...extra(i) } });
      ids.push(addContact.id);
      i += 1;
    }
  }
  return ids;
}

type Page = NonNullable<Awaited<ReturnType<typeof readPage>>>;

async function readPage(listId: string, first: number, after: string | null, where?: ConditionInput) {
  const { contactList } = await server.client.data(LcContactPageDocument, { listId, first, after, where });
  return contactList!.contacts;
}

/** Checks what holds on every page: nodes mirror edges, pageInfo names the first and last edge. */
function checkPageShape(page: Page) {
  expect(page.nodes).toEqual(page.edges.map((edge) => ({ id: edge.node.id, email: edge.node.email })));
  expect(page.pageInfo.hasPreviousPage).toBe(false);
  expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
  expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
}

async function readAll(listId: string, first: number, where?: ConditionInput) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await readPage(listId, first, after, where);
    checkPageShape(page);
    ids.push(...page.nodes.map((n) => n.id));
    sizes.push(page.nodes.length);
    if (!page.pageInfo.hasNextPage) return { ids, sizes, totalCount: page.totalCount };
    after = page.pageInfo.endCursor!;
  }
}

describe("contacts(first, after)", () => {
  it("returns contacts newest first (createdAt, then id) and every contact exactly once across pages", async () => {
    const listId = await newList();
    const created = await addInOrder(listId, 37, "order");
    const newestFirst = [...created].reverse();

    for (const first of [1, 5, 12, 36, 37, 50]) {
      const { ids, sizes, totalCount } = await readAll(listId, first);
      expect({ first, ids }).toEqual({ first, ids: newestFirst });
      expect(totalCount).toBe(37);
      const pages = Math.ceil(37 / first);
      expect(sizes).toEqual(Array.from({ length: pages }, (_, i) => (i < pages - 1 ? first : 37 - first * (pages - 1))));
    }
    const page = await readPage(listId, 10, null);
    const times = page.edges.map((edge) => Date.parse(edge.node.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("stays stable when contacts are added and deleted between page requests: none seen twice, none of the remaining ones skipped", async () => {
    const listId = await newList();
    const created = await addInOrder(listId, 60, "stable");
    const newestFirst = [...created].reverse();
    const seen: string[] = [];
    const deleted = new Set<string>();
    const deletedUnseen = new Set<string>();
    const addedLater = new Set<string>();

    let page = await readPage(listId, 7, null);
    seen.push(...page.nodes.map((n) => n.id));
    let round = 0;
    while (page.pageInfo.hasNextPage) {
      round++;
      // Newer contacts arrive, some in a batch at the same instant as the last one.
      clock.advance(round % 2 ? 0 : 1_000);
      const { addContact } = await server.client.data(AddContactDocument, { listId, input: { email: `late${round}@paging.example` } });
      addedLater.add(addContact.id);
      if (round % 3 === 0) {
        const { addContacts } = await server.client.data(AddContactsDocument, {
          listId,
          contacts: [1, 2].map((n) => ({ email: `late${round}-${n}@paging.example` })),
        });
        expect(addContacts.added).toBe(2);
      }
      // One contact not yet seen goes, and so does the contact the cursor points at, or one seen earlier.
      const unseen = newestFirst.filter((id) => !seen.includes(id) && !deleted.has(id));
      const victims = [unseen[round % unseen.length]!, round % 2 ? seen.at(-1)! : seen[round]!];
      for (const id of victims) {
        if (deleted.has(id)) continue;
        await server.client.data(DeleteContactDocument, { id });
        deleted.add(id);
        if (!seen.includes(id)) deletedUnseen.add(id);
      }
      // An update does not move a contact in the order.
      const stillThere = unseen.filter((id) => !deleted.has(id));
      if (stillThere.length > 0) await server.client.data(UpdateContactDocument, { id: stillThere.at(-1)!, input: { firstName: `touched ${round}` } });

      page = await readPage(listId, 7, page.pageInfo.endCursor);
      checkPageShape(page);
      seen.push(...page.nodes.map((n) => n.id));
    }

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => addedLater.has(id))).toEqual([]);
    const remaining = newestFirst.filter((id) => !deleted.has(id));
    expect(seen.filter((id) => remaining.includes(id))).toEqual(remaining);
    // Nothing deleted before its page was read shows up.
    expect(deletedUnseen.size).toBeGreaterThan(3);
    expect(seen.filter((id) => deletedUnseen.has(id))).toEqual([]);
    expect(round).toBeGreaterThan(3);
  });

  it("a cursor keeps working after its contact is deleted", async () => {
    const listId = await newList();
    const created = await addInOrder(listId, 10, "gone");
    const newestFirst = [...created].reverse();
    const first = await readPage(listId, 4, null);
    await server.client.data(DeleteContactDocument, { id: first.nodes.at(-1)!.id });
    const rest = await readPage(listId, 10, first.pageInfo.endCursor);
    expect(rest.nodes.map((n) => n.id)).toEqual(newestFirst.slice(4));
    expect(rest.totalCount).toBe(9);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it("the page after the last contact is empty, and an empty list has an empty page with null cursors", async () => {
    const listId = await newList();
    const empty = await readPage(listId, 10, null);
    expect(empty).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      edges: [],
      nodes: [],
    });
    await addInOrder(listId, 3, "last");
    const all = await readPage(listId, 3, null);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const after = await readPage(listId, 3, all.pageInfo.endCursor);
    expect(after).toEqual({ ...empty, totalCount: 3 });
  });

  it("without `first` a page holds 50 contacts", async () => {
    const listId = await newList();
    const { addContacts } = await server.client.data(AddContactsDocument, {
      listId,
      contacts: Array.from({ length: 55 }, (_, i) => ({ email: `default${i}@paging.example` })),
    });
    expect(addContacts.added).toBe(55);
    const { contactList } = await server.client.data(LcContactPageNoFirstDocument, { listId });
    expect(contactList!.contacts.nodes).toHaveLength(50);
    expect(contactList!.contacts.pageInfo.hasNextPage).toBe(true);
    expect(contactList!.contacts.totalCount).toBe(55);
  });

  it("`first` of 0, 501 or a negative number is refused with BAD_USER_INPUT; 1 and 500 are accepted", async () => {
    const listId = await newList();
    await addInOrder(listId, 3, "bounds");
    for (const first of [0, 501, -1, -500, 1_000_000]) {
      const result = await server.client.request(LcContactPageDocument, { listId, first });
      expect({ first, contactList: result.data?.contactList ?? null, codes: codes(result.errors ?? []) }).toEqual({ first, contactList: null, codes: ["BAD_USER_INPUT"] });
    }
    const one = await readPage(listId, 1, null);
    expect([one.nodes.length, one.pageInfo.hasNextPage]).toEqual([1, true]);
    const max = await readPage(listId, 500, null);
    expect([max.nodes.length, max.pageInfo.hasNextPage]).toEqual([3, false]);
  });

  it("a malformed `after` cursor is refused with BAD_USER_INPUT", async () => {
    const listId = await newList();
    await addInOrder(listId, 3, "cursor");
    const good = (await readPage(listId, 1, null)).pageInfo.endCursor!;
    const listCursor = (await server.client.data(LcListsDetailDocument, { first: 1 })).contactLists.pageInfo.endCursor!;
    const bad = [
      "",
      "not a cursor",
      "%%%",
      "x".repeat(300),
      good.slice(0, 6),
      `${good}=`,
      listCursor,
      listId,
      cursorOf("c"),
      cursorOf("c|123"),
      cursorOf("c|abc|1"),
      cursorOf("c|1|2|3"),
      cursorOf(`c|${T0}|1 OR 1=1`),
      cursorOf(`c|${"9".repeat(20)}|1`),
    ];
    for (const after of bad) {
      const result = await server.client.request(LcContactPageDocument, { listId, first: 2, after });
      expect({ after, contactList: result.data?.contactList ?? null, codes: codes(result.errors ?? []) }).toEqual({ after, contactList: null, codes: ["BAD_USER_INPUT"] });
    }
    expect((await readPage(listId, 5, good)).nodes).toHaveLength(2);
  });
});

describe("contacts(where)", () => {
  it("`where` filters the contacts, pages through the matches newest first, and totalCount counts only the matches", async () => {
    const listId = await newList();
    const created = await addInOrder(listId, 30, "where", (i) => ({ country: i % 3 === 0 ? "Norway" : "Sweden", attributes: { score: i } }));
    const newestFirst = [...created].reverse();
    const norwegians = newestFirst.filter((_, i) => (29 - i) % 3 === 0);
    expect(norwegians).toHaveLength(10);

    const byCountry = { field: "country", operator: "EQUALS", value: "norway" } as const;
    const { ids, sizes, totalCount } = await readAll(listId, 3, byCountry);
    expect(ids).toEqual(norwegians);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(totalCount).toBe(10);

    const scoreAtLeast20 = { field: "attributes.score", operator: "GREATER_THAN_OR_EQUAL", value: 20 } as const;
    const both = { and: [byCountry, scoreAtLeast20] };
    const filtered = await readAll(listId, 2, both);
    expect(filtered.ids).toEqual(newestFirst.slice(0, 10).filter((id) => norwegians.includes(id)));
    expect(filtered.totalCount).toBe(3);

    const none = await readPage(listId, 5, null, { field: "country", operator: "EQUALS", value: "Atlantis" });
    expect(none).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      edges: [],
      nodes: [],
    });

    // The list itself still counts everyone.
    const { contactList } = await server.client.data(LcContactPageDocument, { listId, first: 1, where: byCountry });
    expect(contactList!.contactCount).toBe(30);

    // totalCount follows writes.
    await server.client.data(UpdateContactDocument, { id: newestFirst[1]!, input: { country: "NORWAY" } });
    await server.client.data(DeleteContactDocument, { id: norwegians[0]! });
    expect((await readPage(listId, 1, null, byCountry)).totalCount).toBe(10);
    expect((await readAll(listId, 4, byCountry)).ids).toEqual([newestFirst[1]!, ...norwegians.slice(1)]);
  });

  it("an invalid `where` condition is refused with BAD_USER_INPUT", async () => {
    const listId = await newList();
    await addInOrder(listId, 2, "badwhere");
    const bad: ConditionInput[] = [
      { field: "nope", operator: "EQUALS", value: "x" },
      { field: "attributes.undeclared", operator: "EQUALS", value: 1 },
      { field: "country", operator: "GREATER_THAN", value: "x" },
      { field: "attributes.score", operator: "EQUALS", value: "high" },
      { and: [] },
      { field: "country", operator: "EQUALS", value: "x", and: [{ field: "city", operator: "IS_SET" }] },
    ];
    for (const where of bad) {
      const result = await server.client.request(LcContactPageDocument, { listId, first: 5, where });
      expect({ where, contactList: result.data?.contactList ?? null, codes: codes(result.errors ?? []) }).toEqual({ where, contactList: null, codes: ["BAD_USER_INPUT"] });
    }
  });
});
