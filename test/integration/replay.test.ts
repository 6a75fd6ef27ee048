import type { SqliteStore } from "../../src/stores/sqlite/store";
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  UpdateContactDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import { generateContacts } from "../support/data";
import { startTestServer, stopAll } from "../support/harness";

afterAll(stopAll);

describe("the membership engine", () => {
  it("replaying the whole change feed, condition edits included, changes nothing: no membership, count or event", async () => {
    const { client, app } = await startTestServer();
    const db = (app.store as SqliteStore).db;
    // The engine removes the feed entries it applies: a copy of each is kept here, to replay them.
    db.exec(`CREATE TABLE written_changes AS SELECT * FROM changes WHERE 0;
      CREATE TRIGGER keep_changes AFTER INSERT ON changes BEGIN INSERT INTO written_changes SELECT * FROM changes WHERE seq = NEW.seq; END;`);
    const { createContactList: list } = await client.data(CreateListDocument, {
      input: { name: "Replay", customFields: [{ key: "score", type: "NUMBER" }] },
    });
    const { createSegment: norway } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Scores", type: "DYNAMIC", condition: { field: "attributes.score", operator: "BETWEEN", value: [20, 60] } },
    });
    await client.data(AddContactsDocument, { listId: list.id, contacts: generateContacts("r", 3_000, 3) });
    const ids = (await client.raw<{ contactList: { contacts: { nodes: { id: string }[] } } }>(
      "query($id: ID!) { contactList(id: $id) { contacts(first: 30) { nodes { id } } } }",
      { id: list.id },
    )).data!.contactList.contacts.nodes.map((node) => node.id);
    for (const id of ids.slice(0, 15)) await client.data(UpdateContactDocument, { id, input: { country: "Sweden", attributes: { score: 40 } } });
    for (const id of ids.slice(15)) await client.data(DeleteContactDocument, { id });
    await client.data(UpdateSegmentDocument, { id: norway.id, input: { condition: { field: "country", operator: "IN", value: ["Norway", "Denmark"] } } });
    await client.data(UpdateSegmentDocument, { id: norway.id, input: { condition: { field: "country", operator: "IN", value: ["Norway", "Finland"] } } });

    const snapshot = () => ({
      memberships: db.prepare("SELECT segment_id, block, hex(bits) FROM member_blocks ORDER BY 1, 2").all(),
      counts: db.prepare("SELECT id, member_count, condition FROM segments ORDER BY id").all(),
      events: db.prepare("SELECT sum(count) FROM events").pluck().get(),
    });
    const before = snapshot();
    expect(before.events).toBeGreaterThan(1_000);

    expect(db.prepare("SELECT count(*) FROM changes").pluck().get()).toBe(0);
    db.exec("INSERT INTO changes SELECT * FROM written_changes; UPDATE engine_state SET checkpoint = 0;");
    expect((await app.engine.lag()).pendingChanges).toBeGreaterThan(3_000);
    await app.engine.drain();

    expect((await app.engine.lag()).pendingChanges).toBe(0);
    expect(snapshot()).toEqual(before);
    expect((await app.store.verify()).differences).toEqual([]);
  });
});
