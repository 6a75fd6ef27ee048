/**
 * Kills the service with SIGKILL at five points — mid-import, mid-build, mid-condition-edit, in
 * the middle of a change flowing through segments that reference each other, mid-bulk-hand-edit —
 * each time checking that the kill landed mid-work, restarts it on the same database, and checks
 * that membership equals a full re-evaluation (npm run verify) and that every transition is in
 * the event log exactly once.
 */
import { fromGlobalId, toGlobalId } from "../../src/common/ids";
import { catalogOf, evalTime, parseCondition } from "../../src/conditions";
import type { Store } from "../../src/stores/port";
import {
  AddContactsDocument,
  AddSegmentMembersDocument,
  CreateListDocument,
  CreateSegmentDocument,
  EngineStatusDocument,
  ListSegmentsDocument,
  SegmentByIdDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { generateContacts } from "../support/data";
import { stopAll } from "../support/harness";
import { killAll, runScript, type ServerProcess, spawnServer } from "../support/process";
import { newDatabase, segmentChangesWaiting, storeEnv, withStore } from "../support/stores";

afterAll(async () => {
  await killAll();
  await stopAll();
});

/** Polls `probe` until it returns a value, failing the test after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Kills the server as soon as a change to a segment of this kind is written, before the engine applies it. */
async function killWhenWritten(server: ServerProcess, dbPath: string, kind: "condition" | "members"): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await segmentChangesWaiting(dbPath, kind)) === 0) {
    if (Date.now() > deadline) throw new Error(`the ${kind} change was never seen written`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await server.kill("SIGKILL");
}

async function caughtUp(client: GraphQLTestClient): Promise<void> {
  await until("the engine to catch up", async () => {
    const { membershipEngine: engine } = await client.data(EngineStatusDocument);
    return engine.leader && engine.pendingChanges === 0 && engine.buildingSegments === 0 ? true : undefined;
  });
}

async function verify(dbPath: string): Promise<void> {
  const result = await runScript("verify.ts", [], storeEnv(dbPath));
  expect(result.stdout).toContain("consistent");
  expect(result.code).toBe(0);
}

/** Transitions in the event log, through the store port. */
async function transitions(store: Store, segmentId: string, reason: string, change?: string): Promise<number> {
  const events = await store.eventsAfter(0, { segmentId }, 10_000_000);
  return events.filter((event) => event.reason === reason && (change === undefined || event.kind === change)).length;
}

describe("crash safety", () => {
  it("SIGKILL mid-import, mid-build, mid-condition-edit, mid-propagation and mid-hand-edit loses and doubles nothing", async () => {
    const dbPath = newDatabase("crash");
    const env = { ...storeEnv(dbPath), ENGINE_LEASE_TTL: "1s", ENGINE_BUILD_CHUNK: "100" };
    let server: ServerProcess = await spawnServer(env);

    const { createContactList: list } = await server.client.data(CreateListDocument, {
      input: { name: "Crash", customFields: [{ key: "score", type: "NUMBER" }] },
    });
    const listId = fromGlobalId(list.id, "ContactList")!;
    const segment = async (name: string, condition: object) =>
      (await server.client.data(CreateSegmentDocument, { input: { listId: list.id, name, type: "DYNAMIC", condition } })).createSegment;
    const norway = await segment("Norway", { field: "country", operator: "EQUALS", value: "Norway" });
    await segment("VIP adults", {
      and: [
        { field: "age", operator: "BETWEEN", value: [18, 65] },
        { field: "tags", operator: "HAS_ANY", value: ["vip"] },
      ],
    });
    await segment("High score or not Nordic", {
      or: [
        { field: "attributes.score", operator: "GREATER_THAN", value: 50 },
        { not: { field: "country", operator: "IN", value: ["Sweden", "Denmark", "Finland", "Iceland", "Norway"] } },
      ],
    });

    // 1. Mid-import: ten calls of 10,000 rows, three in flight at a time; killed as the fourth returns.
    const batches = Array.from({ length: 10 }, (_, i) => generateContacts(`import${i}`, 10_000, i + 1));
    let returned = 0;
    let failed = 0;
    let next = 0;
    await new Promise<void>((resolve) => {
      const worker = async () => {
        while (next < batches.length && returned < 4) {
          const batch = batches[next++]!;
          const result = await server.client.request(AddContactsDocument, { listId: list.id, contacts: batch }).catch(() => null);
          if (result?.data) returned++;
          else failed++;
          if (returned === 4) {
            await server.kill("SIGKILL");
            resolve();
          }
        }
      };
      for (let i = 0; i < 3; i++) void worker();
    });
    // The kill landed mid-import: the calls in flight got no answer.
    await until("the calls in flight to fail", async () => (failed > 0 ? true : undefined), 10_000);

    server = await spawnServer(env);
    await caughtUp(server.client);
    await verify(dbPath);
    const afterImport = (await server.client.data(SegmentByIdDocument, { id: norway.id })).segment!;
    const imported = await withStore(dbPath, (store) => store.countContacts(listId, undefined, evalTime(Date.now())));
    // Each addContacts call is one transaction: all of its rows or none.
    expect(imported % 10_000).toBe(0);
    expect(imported).toBeGreaterThanOrEqual(40_000);

    // 2. Mid-build: a new segment over the imported contacts, killed while it is BUILDING.
    const create = server.client.request(CreateSegmentDocument, {
      input: { listId: list.id, name: "Score over 90", type: "DYNAMIC", condition: { field: "attributes.score", operator: "GREATER_THAN", value: 90 } },
    });
    await until("the build to start", async () => ((await server.client.data(EngineStatusDocument)).membershipEngine.buildingSegments > 0 ? true : undefined));
    await server.kill("SIGKILL");
    expect((await create.catch(() => null))?.data).toBeFalsy();
    // The kill landed mid-build: the segment is stored, still BUILDING.
    const built = await withStore(dbPath, async (store) => (await store.segmentsOfLists([listId]))[0]!.find((s) => s.name === "Score over 90"));
    expect(built?.status).toBe("BUILDING");

    server = await spawnServer(env);
    await caughtUp(server.client);
    await verify(dbPath);
    const segments = (await server.client.data(ListSegmentsDocument, { listId: list.id })).contactList!.segments;
    expect(segments.find((s) => s.name === "Score over 90")?.status).toBe("READY");

    // 3. Mid-condition-edit: Norway becomes "not Iceland", which most contacts enter in one step;
    // killed as soon as the change is written, while that step runs.
    const notIceland = { not: { field: "country", operator: "EQUALS" as const, value: "Iceland" } };
    const edit = server.client.request(UpdateSegmentDocument, { id: norway.id, input: { condition: notIceland } });
    await killWhenWritten(server, dbPath, "condition");
    await edit.catch(() => undefined);
    // The kill landed mid-edit: the change is written and not applied.
    expect(await segmentChangesWaiting(dbPath)).toBe(1);

    server = await spawnServer(env);
    await caughtUp(server.client);
    expect(await segmentChangesWaiting(dbPath)).toBe(0);
    await verify(dbPath);
    const edited = (await server.client.data(SegmentByIdDocument, { id: norway.id })).segment!;
    expect(edited.condition).toEqual(notIceland);
    const segmentId = fromGlobalId(norway.id, "Segment")!;
    await withStore(dbPath, async (store) => {
      const count = (condition: object) => store.countContacts(listId, parseCondition(condition, catalogOf([{ key: "score", label: null, type: "NUMBER" }])).ast, evalTime(Date.now()));
      const norwegians = await count({ field: "country", operator: "EQUALS", value: "Norway" });
      const members = await count(notIceland);
      // The segment existed before the import: each Norwegian entered exactly once, as it was added.
      expect(await transitions(store, segmentId, "CONTACT_ADDED", "ENTERED")).toBe(norwegians);
      // The edit published each new member's entry exactly once, and no exit.
      expect(await transitions(store, segmentId, "SEGMENT_UPDATED", "ENTERED")).toBe(members - norwegians);
      expect(await transitions(store, segmentId, "SEGMENT_UPDATED", "LEFT")).toBe(0);
      expect(edited.memberCount).toBe(members);
      expect(afterImport.memberCount).toBe(norwegians);
    });

    // 4. Mid-propagation through references: two segments built on Norway ("not Iceland" now);
    // Norway goes back to Norwegians only, and most contacts leave it and, through it, both
    // users, in the step that applies the edit; killed as soon as the edit is written.
    const adults = await segment("Norway adults", { and: [{ inSegment: norway.id }, { field: "age", operator: "BETWEEN", value: [18, 65] }] });
    const vips = await segment("Norway adult VIPs", { and: [{ inSegment: adults.id }, { field: "tags", operator: "HAS_ANY", value: ["vip"] }] });
    await caughtUp(server.client);
    const countOf = async (id: string) => (await server.client.data(SegmentByIdDocument, { id })).segment!.memberCount;
    const before = { adults: await countOf(adults.id), vips: await countOf(vips.id) };
    expect(before.vips).toBeGreaterThan(0);
    const back = server.client.request(UpdateSegmentDocument, { id: norway.id, input: { condition: { field: "country", operator: "EQUALS", value: "Norway" } } });
    await killWhenWritten(server, dbPath, "condition");
    await back.catch(() => undefined);
    expect(await segmentChangesWaiting(dbPath)).toBe(1);

    server = await spawnServer(env);
    await caughtUp(server.client);
    await verify(dbPath);
    const after = { adults: await countOf(adults.id), vips: await countOf(vips.id) };
    expect(after.adults).toBeLessThan(before.adults);
    await withStore(dbPath, async (store) => {
      for (const [key, { id }] of [["adults", adults], ["vips", vips]] as const) {
        const storeId = fromGlobalId(id, "Segment")!;
        // Each member that left through Norway left once, with the cause's reason, and no one entered.
        expect(await transitions(store, storeId, "SEGMENT_UPDATED", "LEFT")).toBe(before[key] - after[key]);
        expect(await transitions(store, storeId, "SEGMENT_UPDATED", "ENTERED")).toBe(0);
      }
    });

    // 5. Mid-bulk-manual-add: 10,000 contacts added by hand to "Score over 90"; killed as soon as
    // the edit is written.
    const scored = segments.find((s) => s.name === "Score over 90")!;
    const scoredBefore = await countOf(scored.id);
    const picked = await withStore(dbPath, async (store) => (await store.pageContacts(listId, { first: 10_000, at: evalTime(Date.now()) })).items.map((c) => c.id));
    expect(picked).toHaveLength(10_000);
    const scoredId = fromGlobalId(scored.id, "Segment")!;
    const newcomers = await withStore(dbPath, async (store) => (await store.segmentIdsOfContacts(picked)).filter((ids) => !ids.includes(scoredId)).length);
    const add = server.client.request(AddSegmentMembersDocument, { segmentId: scored.id, contactIds: picked.map((contactId) => toGlobalId("Contact", contactId)) });
    await killWhenWritten(server, dbPath, "members");
    await add.catch(() => undefined);
    expect(await segmentChangesWaiting(dbPath, "members")).toBe(1);

    server = await spawnServer(env);
    await caughtUp(server.client);
    expect(await segmentChangesWaiting(dbPath, "members")).toBe(0);
    await verify(dbPath);
    expect(newcomers).toBeGreaterThan(0);
    expect(await countOf(scored.id)).toBe(scoredBefore + newcomers);
    await withStore(dbPath, async (store) => {
      expect(await transitions(store, scoredId, "MANUAL", "ENTERED")).toBe(newcomers);
      expect(await transitions(store, scoredId, "MANUAL", "LEFT")).toBe(0);
    });
    await server.kill("SIGTERM");
  }, 300_000);
});
