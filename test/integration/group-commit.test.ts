/**
 * Concurrent single-contact writes share their work: updates handled in the same turn of the
 * event loop commit together (SQLite: one transaction, a savepoint each) and are applied by one
 * engine step, yet every mutation answers with its own change already applied to its segments,
 * and one refused write changes nothing of the others. Engine steps are counted by wrapping the
 * real store's engineStep (the real store still does the work).
 */
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  ListContactIdsDocument,
  ListContactsDocument,
  UpdateContactWithSegmentsDocument,
} from "../graphql/generated";
import { fromGlobalId } from "../../src/common/ids";
import { createContext } from "../../src/graphql/context";
import { OPEN_WORKSPACE } from "../../src/security/api-keys";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

afterAll(stopAll);

const COUNT = 40;

async function setUp(server: TestServer) {
  const { createContactList: list } = await server.client.data(CreateListDocument, { input: { name: "grouped" } });
  const norway = await server.client.data(CreateSegmentDocument, {
    input: { listId: list.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  });
  const contacts = Array.from({ length: COUNT }, (_, i) => ({ email: `c${i}@group.example`, country: "Sweden" }));
  await server.client.data(AddContactsDocument, { listId: list.id, contacts });
  const { contactList } = await server.client.data(ListContactIdsDocument, { id: list.id });
  const nodes = [...contactList!.contacts.nodes].sort((a, b) => a.email.localeCompare(b.email, "en", { numeric: true }));
  return { listId: list.id, segmentId: norway.createSegment.id, contacts: nodes };
}

function countSteps(server: TestServer) {
  const store = server.app.store as unknown as { engineStep: (...args: unknown[]) => Promise<{ changes: number }> };
  const real = store.engineStep.bind(store);
  const steps: number[] = [];
  store.engineStep = async (...args: unknown[]) => {
    const result = await real(...args);
    steps.push(result.changes);
    return result;
  };
  return steps;
}

describe("concurrent single-contact writes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });

  it("each answer with its own change already applied to its segments", async () => {
    const { segmentId, contacts } = await setUp(server);
    const results = await Promise.all(
      contacts.map((contact) => server.client.request(UpdateContactWithSegmentsDocument, { id: contact.id, input: { country: "Norway" } })),
    );
    for (const [i, result] of results.entries()) {
      expect(result.errors).toBeUndefined();
      expect(result.data!.updateContact).toMatchObject({ id: contacts[i]!.id, country: "Norway", segments: [{ id: segmentId }] });
    }
  });

  it("asked for in the same turn of the event loop are applied by one engine step, each exactly once", async () => {
    const { segmentId, contacts } = await setUp(server);
    const steps = countSteps(server);
    const ctx = () => createContext(server.app.services, OPEN_WORKSPACE, "test");
    const updated = await Promise.all(contacts.map((contact) => server.app.services.contacts.update(ctx(), contact.id, { country: "Norway" })));
    expect(updated.map((contact) => contact.country)).toEqual(contacts.map(() => "Norway"));
    expect(steps).toEqual([COUNT]);
    const members = await server.app.store.pageMembers(fromGlobalId(segmentId, "Segment")!, 100);
    expect([...members.items].sort()).toEqual(contacts.map((contact) => fromGlobalId(contact.id, "Contact")!).sort());
  });

  it("move a contact in the indexes of the columns they change, and leave the others as they were", async () => {
    const { listId, contacts } = await setUp(server);
    const [moved, renamed] = contacts;
    await Promise.all([
      server.client.data(UpdateContactWithSegmentsDocument, { id: moved!.id, input: { country: "Denmark" } }),
      server.client.data(UpdateContactWithSegmentsDocument, { id: renamed!.id, input: { email: "renamed@group.example" } }),
    ]);
    const inCountry = async (country: string) => {
      const { contactList } = await server.client.data(ListContactsDocument, {
        listId,
        first: 100,
        where: { field: "country", operator: "EQUALS", value: country },
      });
      return contactList!.contacts.nodes.map((contact) => contact.id);
    };
    expect(await inCountry("Denmark")).toEqual([moved!.id]);
    expect(await inCountry("Sweden")).not.toContain(moved!.id);
    expect(await inCountry("Sweden")).toHaveLength(COUNT - 1);
    // The old email is free again, the new one taken.
    const reuse = await server.client.request(UpdateContactWithSegmentsDocument, { id: contacts[2]!.id, input: { email: renamed!.email } });
    expect(reuse.errors).toBeUndefined();
    const taken = await server.client.request(UpdateContactWithSegmentsDocument, { id: contacts[3]!.id, input: { email: "renamed@group.example" } });
    expect(taken.errors?.map((error) => error.extensions?.code)).toEqual(["CONFLICT"]);
    // Every index agrees with its table.
    const db = (server.app.store as unknown as { db: { pragma(sql: string, options: { simple: true }): unknown } }).db;
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  });

  it("refuse a conflicting write alone: the writes beside it are applied, it changes nothing", async () => {
    const { contacts } = await setUp(server);
    const [first, second, third] = contacts;
    const results = await Promise.all([
      server.client.request(UpdateContactWithSegmentsDocument, { id: first!.id, input: { country: "Norway" } }),
      // Takes the third contact's email: refused.
      server.client.request(UpdateContactWithSegmentsDocument, { id: second!.id, input: { email: third!.email, country: "Norway" } }),
      server.client.request(UpdateContactWithSegmentsDocument, { id: third!.id, input: { country: "Norway" } }),
    ]);
    expect(results[0]!.data!.updateContact.segments).toHaveLength(1);
    expect(results[1]!.errors?.map((error) => error.extensions?.code)).toEqual(["CONFLICT"]);
    expect(results[2]!.data!.updateContact.segments).toHaveLength(1);
    const after = await server.app.store.getContacts([first!, second!, third!].map((contact) => fromGlobalId(contact.id, "Contact")!));
    expect(after.map((contact) => [contact!.email, contact!.country])).toEqual([
      [first!.email, "Norway"],
      [second!.email, "Sweden"],
      [third!.email, "Norway"],
    ]);
  });
});
