/**
 * npm run verify on a healthy database, and on copies of it each damaged behind the engine's
 * back in one way: every kind of damage is reported, and the exit code says so.
 */
import { fromGlobalId } from "../../src/common/ids";
import { evalTime } from "../../src/conditions";
import { AddContactsDocument, CreateListDocument, CreateSegmentDocument, DeleteContactDocument, ListContactsDocument, UpdateContactDocument } from "../graphql/generated";
import { generateContacts } from "../support/data";
import { startTestServer, stopAll } from "../support/harness";
import { runScript } from "../support/process";
import { copyDatabase, damage, storeEnv, withStore } from "../support/stores";

afterAll(stopAll);

describe("npm run verify", () => {
  let healthy: string;
  const segments: Record<"norway" | "adults" | "highScore", string> = { norway: "", adults: "", highScore: "" };

  beforeAll(async () => {
    const server = await startTestServer();
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Verify", customFields: [{ key: "score", type: "NUMBER" }] },
    });
    await client.data(AddContactsDocument, { listId: list.id, contacts: generateContacts("v", 2_000, 7) });
    const segment = async (name: string, type: "DYNAMIC" | "STATIC", condition: object) =>
      fromGlobalId((await client.data(CreateSegmentDocument, { input: { listId: list.id, name, type, condition } })).createSegment.id, "Segment")!;
    segments.norway = await segment("Norway", "DYNAMIC", { field: "country", operator: "EQUALS", value: "Norway" });
    segments.adults = await segment("Adults (static)", "STATIC", { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 });
    segments.highScore = await segment("High score", "DYNAMIC", { field: "attributes.score", operator: "GREATER_THAN", value: 80 });
    const more = await client.data(AddContactsDocument, { listId: list.id, contacts: generateContacts("w", 500, 8) });
    expect(more.addContacts.added).toBe(500);
    const contacts = (await client.data(ListContactsDocument, { listId: list.id, first: 20 })).contactList!.contacts.nodes;
    for (const contact of contacts.slice(0, 10)) await client.data(UpdateContactDocument, { id: contact.id, input: { country: "Norway", attributes: { score: 99 } } });
    for (const contact of contacts.slice(10, 15)) await client.data(DeleteContactDocument, { id: contact.id });
    await server.stop();
    healthy = server.dbPath;
  });

  const verify = (dbPath: string) => runScript("verify.ts", [], storeEnv(dbPath));

  /** A contact of the list by a test on its stored record. */
  const contactWhere = (dbPath: string, test: (country: string | null) => boolean) =>
    withStore(dbPath, async (store) => {
      const [list] = (await store.pageLists("default", 1)).items;
      const page = await store.pageContacts(list!.id, { first: 500, at: evalTime(Date.now()) });
      return page.items.find((contact) => test(contact.country))!.id;
    });
  const firstMember = (dbPath: string, segmentId: string) => withStore(dbPath, async (store) => (await store.pageMembers(segmentId, 1)).items[0]!);

  it("a healthy database is consistent (exit 0)", async () => {
    const result = await verify(healthy);
    expect(result.stdout).toMatch(/checked 3 segments and 2495 contacts/);
    expect(result.stdout).toContain("consistent");
    expect(result.code).toBe(0);
  });

  const cases: [string, (dbPath: string) => Promise<void>, RegExp][] = [
    [
      "a member missing from a dynamic segment",
      async (dbPath) => damage.setMember(dbPath, segments.norway, await firstMember(dbPath, segments.norway), false),
      /matches the condition but is not a member/,
    ],
    [
      "a member that does not match the condition",
      async (dbPath) => damage.setMember(dbPath, segments.norway, await contactWhere(dbPath, (country) => country !== "Norway"), true),
      /is a member but does not match the condition/,
    ],
    ["a wrong member count", (dbPath) => damage.miscount(dbPath, segments.highScore), /memberCount is \d+, it has \d+ members/],
    ["a doubled ENTERED event", (dbPath) => damage.repeatLastEntered(dbPath), /ENTERED twice in a row/],
    ["a static member whose contact is gone", async (dbPath) => damage.deleteContact(dbPath, await firstMember(dbPath, segments.adults)), /is not a contact of the list/],
  ];

  it.each(cases)("%s is reported and exits 1", async (_name, corrupt, message) => {
    const copy = await copyDatabase(healthy);
    await corrupt(copy);
    const result = await verify(copy);
    expect(result.stdout).toMatch(message);
    expect(result.code).toBe(1);
  });
});
