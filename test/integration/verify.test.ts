import Database from "better-sqlite3";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  UpdateContactDocument,
} from "../graphql/generated";
import { generateContacts } from "../support/data";
import { startTestServer, stopAll, tempDir } from "../support/harness";
import { runScript } from "../support/process";
import { StatementCache } from "../../src/stores/sqlite/database";
import { blockOf, emptyBlock, MemberBlocks, setBit } from "../../src/stores/sqlite/member-blocks";

afterAll(stopAll);

/** Sets or clears one membership bit behind the engine's back. */
function setMember(db: Database.Database, segmentId: number, contactId: number, member: boolean): void {
  const blocks = new MemberBlocks(new StatementCache(db));
  const bits = blocks.read(segmentId, blockOf(contactId)) ?? emptyBlock();
  setBit(bits, contactId, member);
  blocks.write(segmentId, blockOf(contactId), bits);
}

const firstMember = (db: Database.Database, segmentId: number) => new MemberBlocks(new StatementCache(db)).members(segmentId)[0]!;

describe("npm run verify", () => {
  let healthy: string;

  beforeAll(async () => {
    const server = await startTestServer();
    const { client } = server;
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Verify", customFields: [{ key: "score", type: "NUMBER" }] },
    });
    await client.data(AddContactsDocument, { listId: list.id, contacts: generateContacts("v", 2_000, 7) });
    await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Adults (static)", type: "STATIC", condition: { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 } },
    });
    await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "High score", type: "DYNAMIC", condition: { field: "attributes.score", operator: "GREATER_THAN", value: 80 } },
    });
    const more = await client.data(AddContactsDocument, { listId: list.id, contacts: generateContacts("w", 500, 8) });
    expect(more.addContacts.added).toBe(500);
    const contacts = (await client.raw<{ contactList: { contacts: { nodes: { id: string }[] } } }>(
      "query($id: ID!) { contactList(id: $id) { contacts(first: 20) { nodes { id } } } }",
      { id: list.id },
    )).data!.contactList.contacts.nodes;
    for (const contact of contacts.slice(0, 10)) await client.data(UpdateContactDocument, { id: contact.id, input: { country: "Norway", attributes: { score: 99 } } });
    for (const contact of contacts.slice(10, 15)) await client.data(DeleteContactDocument, { id: contact.id });
    await server.stop();
    healthy = server.dbPath;
  });

  /** A copy of the healthy database with one deliberate corruption. */
  function corrupted(corrupt: (db: Database.Database) => void): string {
    const path = join(tempDir(), "corrupted.db");
    copyFileSync(healthy, path);
    const db = new Database(path);
    corrupt(db);
    db.close();
    return path;
  }

  it("a healthy database is consistent (exit 0)", async () => {
    const result = await runScript("verify.ts", [], { SQLITE_PATH: healthy });
    expect(result.stdout).toMatch(/checked 3 segments and 2495 contacts/);
    expect(result.stdout).toContain("consistent");
    expect(result.code).toBe(0);
  });

  const cases: [string, (db: Database.Database) => void, RegExp][] = [
    [
      "a member missing from a dynamic segment",
      (db) => setMember(db, 1, firstMember(db, 1), false),
      /matches the condition but is not a member/,
    ],
    [
      "a member that does not match the condition",
      (db) => setMember(db, 1, db.prepare("SELECT id FROM contacts WHERE country_n <> 'norway' LIMIT 1").pluck().get() as number, true),
      /is a member but does not match the condition/,
    ],
    ["a wrong member count", (db) => db.prepare("UPDATE segments SET member_count = member_count + 1 WHERE id = 3").run(), /memberCount is \d+, it has \d+ members/],
    [
      "a doubled ENTERED event",
      (db) =>
        db
          .prepare(
            `INSERT INTO events (kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at)
             SELECT kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at FROM events WHERE kind = 'ENTERED' ORDER BY seq DESC LIMIT 1`,
          )
          .run(),
      /ENTERED twice in a row/,
    ],
    [
      "a static member whose contact is gone",
      (db) => db.prepare("DELETE FROM contacts WHERE id = ?").run(firstMember(db, 2)),
      /is not a contact of the list/,
    ],
  ];

  it.each(cases)("%s is reported and exits 1", async (_name, corrupt, message) => {
    const result = await runScript("verify.ts", [], { SQLITE_PATH: corrupted(corrupt) });
    expect(result.stdout).toMatch(message);
    expect(result.code).toBe(1);
  });
});
