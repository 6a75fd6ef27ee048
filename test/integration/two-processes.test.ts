/**
 * Two processes on one database file: a bulk-import script writing beside the server, and two
 * servers of which exactly one runs the membership engine, with a standby taking over.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AddContactsDocument,
  EngineStatusDocument,
  MembershipChangedDocument,
  SegmentByIdDocument,
  SegmentCursorDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { listWithNorwaySegment } from "../support/data";
import { stopAll, tempDir } from "../support/harness";
import { killAll, runScript, spawnServer } from "../support/process";
import { newDatabase, storeEnv } from "../support/stores";
import { openSubscriptions } from "../support/ws";

const sockets: { dispose(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.dispose()));
  await killAll();
  await stopAll();
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("two processes, one database", () => {
  it("contacts written by a bulk-import process are picked up and published by the server's engine", async () => {
    const dir = tempDir();
    const dbPath = newDatabase("shared");
    const server = await spawnServer(storeEnv(dbPath));
    const { list, segment } = await listWithNorwaySegment(server.client, "Shared");
    const ws = openSubscriptions(server.wsUrl);
    sockets.push(ws);
    const { segment: current } = await server.client.data(SegmentCursorDocument, { id: segment.id });
    const subscription = ws.subscribe(MembershipChangedDocument, { segmentId: segment.id, after: current!.eventCursor });
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "first@example.com", country: "Norway" }] });
    await subscription.waitFor(1);

    const file = join(dir, "import.csv");
    writeFileSync(file, `email,country\n${Array.from({ length: 1_000 }, (_, i) => `imported-${i}@example.com,${i % 2 === 0 ? "Norway" : "Sweden"}`).join("\n")}\n`);
    const imported = await runScript("import.ts", ["--list", list.id, file], storeEnv(dbPath));
    expect(imported.code).toBe(0);
    expect(imported.stdout.trim().split("\n").pop()).toMatch(/^DONE: 1,000 rows read, 1,000 added, 0 updated, 0 failed in /);

    const events = await subscription.waitFor(501, 20_000);
    expect(events.slice(1).every((e) => e.segmentMembershipChanged.change === "ENTERED" && e.segmentMembershipChanged.reason === "CONTACT_ADDED")).toBe(true);
    expect((await server.client.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount).toBe(501);
    await server.kill("SIGTERM");
  });

  it("exactly one of two servers runs the engine; when it dies the standby takes over", async () => {
    const dbPath = newDatabase("pair");
    const env = { ...storeEnv(dbPath), ENGINE_LEASE_TTL: "1s" };
    const first = await spawnServer(env);
    const second = await spawnServer(env);
    const leaderOf = async (client: GraphQLTestClient) => (await client.data(EngineStatusDocument)).membershipEngine.leader;
    expect([await leaderOf(first.client), await leaderOf(second.client)].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = (await leaderOf(first.client)) ? [first, second] : [second, first];

    const { list, segment } = await listWithNorwaySegment(standby.client, "Shared");
    // A write through the standby is applied by the leader's engine.
    await standby.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "a@example.com", country: "Norway" }] });
    await until(async () => ((await standby.client.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount === 1 ? true : undefined));

    await leader.kill("SIGKILL");
    const ws = openSubscriptions(standby.wsUrl);
    sockets.push(ws);
    const { segment: current } = await standby.client.data(SegmentCursorDocument, { id: segment.id });
    const subscription = ws.subscribe(MembershipChangedDocument, { segmentId: segment.id, after: current!.eventCursor });
    await standby.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "b@example.com", country: "Norway" }] });
    await until(async () => ((await leaderOf(standby.client)) ? true : undefined));
    const [event] = await subscription.waitFor(1, 20_000);
    expect(event!.segmentMembershipChanged).toMatchObject({ change: "ENTERED", memberCount: 2, contact: { email: "b@example.com" } });

    const verified = await runScript("verify.ts", [], storeEnv(dbPath));
    expect(verified.code).toBe(0);
    await standby.kill("SIGTERM");
  });
});
