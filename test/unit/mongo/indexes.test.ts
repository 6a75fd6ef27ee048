/**
 * What the MongoDB store creates at startup: every collection and index with its options.
 * A change here is a change to production indexes (and to what `ensureIndexes` builds).
 */
import { indexDefinitions } from "../../../src/stores/mongo/models";

const WEEK = 604_800;

test("indexDefinitions(604800): every collection and index with options", () => {
  expect(indexDefinitions(WEEK)).toEqual({
    lists: [[{ workspaceId: 1, createdAt: -1, _id: -1 }, {}]],
    contacts: [
      [{ listId: 1, "n.email": 1 }, { unique: true }],
      [{ listId: 1, _id: 1 }, {}],
      [{ listId: 1, createdAt: -1, _id: -1 }, {}],
      [{ listId: 1, updatedAt: 1 }, {}],
      [{ listId: 1, "n.country": 1 }, {}],
      [{ listId: 1, birthDate: 1 }, {}],
      [{ listId: 1, "n.tags": 1 }, {}],
    ],
    segments: [
      [{ listId: 1 }, {}],
      [{ status: 1 }, {}],
      [{ type: 1, status: 1, nextWakeAt: 1 }, {}],
      [{ type: 1, status: 1, freezeAt: 1 }, {}],
    ],
    memberships: [
      [{ segmentId: 1, contactId: 1 }, { unique: true }],
      [{ contactId: 1 }, {}],
    ],
    segment_members: [
      [{ segmentId: 1, bucket: 1 }, { unique: true }],
      [{ contactIds: 1 }, {}],
    ],
    segment_commands: [],
    segment_overrides: [
      [{ segmentId: 1, contactId: 1 }, { unique: true }],
      [{ contactId: 1 }, {}],
    ],
    member_joins: [[{ segmentId: 1, contactId: 1 }, { unique: true }]],
    events: [
      [{ segmentId: 1, _id: 1 }, {}],
      [{ listId: 1, _id: 1 }, {}],
      [{ occurredAt: 1 }, { expireAfterSeconds: WEEK, name: "events_retention" }],
    ],
    counters: [],
    engine_state: [],
    leases: [],
    api_keys: [
      [{ hash: 1 }, { unique: true }],
      [{ prefix: 1 }, {}],
    ],
    webhooks: [[{ listId: 1 }, {}]],
    webhook_deliveries: [[{ webhookId: 1, _id: -1 }, {}]],
    import_jobs: [],
    import_errors: [[{ jobId: 1, row: 1 }, { unique: true }]],
  });
});

test("key order is part of each index (compound indexes are ordered)", () => {
  const defs = indexDefinitions(WEEK) as Record<string, [Record<string, number>, Record<string, unknown>][]>;
  const keys = (collection: string) => defs[collection]!.map(([fields]) => Object.keys(fields).join(","));
  expect(keys("contacts")).toEqual(["listId,n.email", "listId,_id", "listId,createdAt,_id", "listId,updatedAt", "listId,n.country", "listId,birthDate", "listId,n.tags"]);
  expect(keys("lists")).toEqual(["workspaceId,createdAt,_id"]);
  expect(keys("memberships")).toEqual(["segmentId,contactId", "contactId"]);
  expect(keys("segment_members")).toEqual(["segmentId,bucket", "contactIds"]);
  expect(keys("events")).toEqual(["segmentId,_id", "listId,_id", "occurredAt"]);
});

test("the unique indexes", () => {
  const defs = indexDefinitions(WEEK) as Record<string, [Record<string, number>, Record<string, unknown>][]>;
  const unique = Object.entries(defs).flatMap(([collection, indexes]) => indexes.filter(([, options]) => options.unique === true).map(([fields]) => [collection, fields]));
  expect(unique).toEqual([
    ["contacts", { listId: 1, "n.email": 1 }],
    ["memberships", { segmentId: 1, contactId: 1 }],
    ["segment_members", { segmentId: 1, bucket: 1 }],
    ["segment_overrides", { segmentId: 1, contactId: 1 }],
    ["member_joins", { segmentId: 1, contactId: 1 }],
    ["api_keys", { hash: 1 }],
    ["import_errors", { jobId: 1, row: 1 }],
  ]);
});

test("changing the retention changes only the TTL index's expireAfterSeconds", () => {
  const week = indexDefinitions(WEEK);
  const day = indexDefinitions(86_400);
  const { events: weekEvents, ...weekRest } = week;
  const { events: dayEvents, ...dayRest } = day;
  expect(dayRest).toEqual(weekRest);
  expect(dayEvents).toEqual([
    [{ segmentId: 1, _id: 1 }, {}],
    [{ listId: 1, _id: 1 }, {}],
    [{ occurredAt: 1 }, { expireAfterSeconds: 86_400, name: "events_retention" }],
  ]);
  expect((weekEvents as unknown[]).slice(0, 2)).toEqual((dayEvents as unknown[]).slice(0, 2));
  // The TTL index's name stays, so a restart with another retention updates it in place (collMod).
  expect((weekEvents as [unknown, { name: string }][])[2]![1].name).toBe("events_retention");
});

test("building the definitions does not leak the TTL index into the shared events schema", () => {
  indexDefinitions(1);
  indexDefinitions(2);
  const events = indexDefinitions(3).events as [unknown, Record<string, unknown>][];
  expect(events.filter(([, options]) => "expireAfterSeconds" in options)).toEqual([[{ occurredAt: 1 }, { expireAfterSeconds: 3, name: "events_retention" }]]);
});
