/**
 * Kills the service with SIGKILL at several points — mid-import, mid-build, mid-condition-edit —
 * restarts it on the same file, and checks that membership equals a full re-evaluation and that
 * every transition is in the event log exactly once.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  EngineStatusDocument,
  ListSegmentsDocument,
  SegmentByIdDocument,
  UpdateSegmentDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { generateContacts } from "../support/data";
import { stopAll, tempDir } from "../support/harness";
import { killAll, runScript, type ServerProcess, spawnServer } from "../support/process";

afterAll(async () => {
  await killAll();
  await stopAll();
});

async function caughtUp(client: GraphQLTestClient, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const { membershipEngine: engine } = await client.data(EngineStatusDocument);
    if (engine.leader && engine.pendingChanges === 0 && engine.buildingSegments === 0) return;
    if (Date.now() - started > timeoutMs) throw new Error(`engine did not catch up: ${JSON.stringify(engine)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function verify(dbPath: string): Promise<string> {
  const result = await runScript("verify.ts", [], { SQLITE_PATH: dbPath });
  expect(result.stdout).toContain("consistent");
  expect(result.code).toBe(0);
  return result.stdout;
}

describe("crash safety", () => {
  it("SIGKILL mid-import, mid-build and mid-condition-edit loses and doubles nothing", async () => {
    const dbPath = join(tempDir(), "crash.db");
    const env = { SQLITE_PATH: dbPath, ENGINE_LEASE_TTL: "1s", ENGINE_BUILD_CHUNK: "100" };
    let server: ServerProcess = await spawnServer(env);

    const { createContactList: list } = await server.client.data(CreateListDocument, {
      input: { name: "Crash", customFields: [{ key: "score", type: "NUMBER" }] },
    });
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

    // 1. Mid-import: ten calls of 10,000 rows, three in flight at a time; killed after the fourth returns.
    const batches = Array.from({ length: 10 }, (_, i) => generateContacts(`import${i}`, 10_000, i + 1));
    let returned = 0;
    let next = 0;
    const killed = new Promise<void>((resolve) => {
      const worker = async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          const result = await server.client.request(AddContactsDocument, { listId: list.id, contacts: batch }).catch(() => null);
          if (result?.data) returned++;
          if (returned === 4) {
            await server.kill("SIGKILL");
            resolve();
            return;
          }
        }
      };
      for (let i = 0; i < 3; i++) void worker();
    });
    await killed;

    server = await spawnServer(env);
    await caughtUp(server.client);
    await verify(dbPath);
    const afterImport = (await server.client.data(SegmentByIdDocument, { id: norway.id })).segment!;
    const db = () => new Database(dbPath, { readonly: true, fileMustExist: true });
    {
      const conn = db();
      const contacts = conn.prepare("SELECT count(*) FROM contacts").pluck().get() as number;
      // Each addContacts call is one transaction: all of its rows or none.
      expect(contacts % 10_000).toBe(0);
      expect(contacts).toBeGreaterThanOrEqual(40_000);
      conn.close();
    }

    // 2. Mid-build: a new segment over the imported contacts, killed while it is BUILDING.
    const create = server.client.request(CreateSegmentDocument, {
      input: { listId: list.id, name: "Score over 90", type: "DYNAMIC", condition: { field: "attributes.score", operator: "GREATER_THAN", value: 90 } },
    });
    for (;;) {
      const { membershipEngine } = await server.client.data(EngineStatusDocument);
      if (membershipEngine.buildingSegments > 0) break;
    }
    await server.kill("SIGKILL");
    await create.catch(() => undefined);

    server = await spawnServer(env);
    await caughtUp(server.client);
    await verify(dbPath);
    const segments = (await server.client.data(ListSegmentsDocument, { listId: list.id })).contactList!.segments;
    expect(segments.find((s) => s.name === "Score over 90")?.status).toBe("READY");

    // 3. Mid-condition-edit: Norway becomes Norway or Sweden; killed as soon as the change is queued.
    const before = (await server.client.data(EngineStatusDocument)).membershipEngine.latestChange;
    const edit = server.client.request(UpdateSegmentDocument, {
      id: norway.id,
      input: { condition: { field: "country", operator: "IN", value: ["Norway", "Sweden"] } },
    });
    for (;;) {
      const { membershipEngine } = await server.client.data(EngineStatusDocument);
      if (membershipEngine.latestChange > before) break;
    }
    await server.kill("SIGKILL");
    await edit.catch(() => undefined);

    server = await spawnServer(env);
    await caughtUp(server.client);
    await verify(dbPath);
    const edited = (await server.client.data(SegmentByIdDocument, { id: norway.id })).segment!;
    expect(edited.condition).toEqual({ field: "country", operator: "IN", value: ["Norway", "Sweden"] });
    {
      const conn = db();
      const segmentId = Number(Buffer.from(norway.id, "base64url").toString().split(":")[1]);
      const count = (sql: string, ...params: unknown[]) => conn.prepare(sql).pluck().get(...params) as number;
      const swedes = count("SELECT count(*) FROM contacts WHERE country_n = 'sweden'");
      const norwegians = count("SELECT count(*) FROM contacts WHERE country_n = 'norway'");
      // The segment existed before the import: each Norwegian entered exactly once, as it was added.
      expect(count("SELECT sum(count) FROM events WHERE segment_id = ? AND kind = 'ENTERED' AND reason = 'CONTACT_ADDED'", segmentId)).toBe(norwegians);
      // The edit published each Swede's entry exactly once.
      expect(count("SELECT sum(count) FROM events WHERE segment_id = ? AND reason = 'SEGMENT_UPDATED'", segmentId)).toBe(swedes);
      expect(edited.memberCount).toBe(norwegians + swedes);
      expect(afterImport.memberCount).toBe(norwegians);
      conn.close();
    }
    await server.kill("SIGTERM");
  }, 240_000);
});
