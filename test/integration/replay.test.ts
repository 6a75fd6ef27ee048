import { evalTime } from "../../src/conditions";
import type { Store } from "../../src/stores/port";
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  ListContactsDocument,
  UpdateContactDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import { generateContacts } from "../support/data";
import { startTestServer, stopAll } from "../support/harness";
import { feedRewinder } from "../support/stores";

afterAll(stopAll);

/** Every segment's definition, count and members, and the whole event log, through the store port. */
async function snapshot(store: Store) {
  const [list] = (await store.pageLists("default", 1)).items;
  const segments = [];
  for (const segment of (await store.segmentsOfLists([list!.id]))[0]!) {
    const members: string[] = [];
    for (let after: string | undefined; ; ) {
      const page = await store.pageMembers(segment.id, 500, after);
      members.push(...page.items);
      if (!page.hasNextPage) break;
      after = page.items[page.items.length - 1];
    }
    segments.push({ id: segment.id, condition: segment.condition, memberCount: segment.memberCount, members });
  }
  return { contacts: await store.countContacts(list!.id, undefined, evalTime(Date.now())), segments, events: (await store.eventsAfter(0, {}, 10_000_000)).length };
}

describe("the membership engine", () => {
  it("replaying the whole change feed, condition edits included, changes nothing: no membership, count or event", async () => {
    const server = await startTestServer();
    const { client } = server;
    const rewinder = await feedRewinder(server);
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
    const ids = (await client.data(ListContactsDocument, { listId: list.id, first: 30 })).contactList!.contacts.nodes.map((node) => node.id);
    for (const id of ids.slice(0, 15)) await client.data(UpdateContactDocument, { id, input: { country: "Sweden", attributes: { score: 40 } } });
    for (const id of ids.slice(15)) await client.data(DeleteContactDocument, { id });
    await client.data(UpdateSegmentDocument, { id: norway.id, input: { condition: { field: "country", operator: "IN", value: ["Norway", "Denmark"] } } });
    await client.data(UpdateSegmentDocument, { id: norway.id, input: { condition: { field: "country", operator: "IN", value: ["Norway", "Finland"] } } });

    const before = await snapshot(server.app.store);
    expect(before.events).toBeGreaterThan(1_000);

    const { server: replayed, entries } = await rewinder.replay();
    // Every contact and condition change again: 3,000 added, 15 updated, 15 deleted, 2 edits.
    expect(entries).toBeGreaterThanOrEqual(3_032);
    expect((await replayed.app.engine.lag()).pendingChanges).toBe(0);
    expect(await snapshot(replayed.app.store)).toEqual(before);
    expect((await replayed.app.store.verify()).differences).toEqual([]);
  });
});
