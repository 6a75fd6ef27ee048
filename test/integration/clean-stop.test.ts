/**
 * Stopping the service through its real entry point (`node src/main.ts`, as `npm start` runs
 * it): SIGTERM and SIGINT finish the requests in flight, deliver the committed events to
 * subscribers before closing their sockets with 1001, hand the engine lease over at once, and
 * end with "stopped cleanly" and exit code 0; a request that outlives SHUTDOWN_TIMEOUT is cut
 * off and the lease is still released.
 */
import { connect } from "node:net";
import { createClient } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import {
  AddContactsDocument,
  EngineStatusDocument,
  MembershipChangedDocument,
  SegmentByIdDocument,
  SegmentCursorDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { generateContacts, listWithNorwaySegment } from "../support/data";
import { stopAll } from "../support/harness";
import { killAll, type ServerProcess, spawnServer } from "../support/process";
import { leaseHolder, newDatabase, storeEnv } from "../support/stores";

afterAll(async () => {
  await killAll();
  await stopAll();
});

/** Outside the test environment, as `npm start` runs: Apollo's own signal handling would be active there. */
const START_ENV = { NODE_ENV: "development" };

const leading = async (client: GraphQLTestClient) => (await client.data(EngineStatusDocument)).membershipEngine.leader;

/** The lines a process logged as JSON, parsed. */
const jsonLines = (server: ServerProcess) => server.logs.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { level: number; msg: string });

describe("stopping the service", () => {
  it("SIGTERM finishes the request in flight, delivers its events, closes sockets with 1001, frees the lease at once and exits 0", async () => {
    const dbPath = newDatabase("stop");
    const first = await spawnServer({ ...START_ENV, ...storeEnv(dbPath) });
    const { list, segment } = await listWithNorwaySegment(first.client, "Stop");
    const { segment: current } = await first.client.data(SegmentCursorDocument, { id: segment.id });

    const received: { change: string; reason: string }[] = [];
    let closeCode: number | undefined;
    const ws = createClient({ url: first.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    ws.on("closed", (event) => (closeCode = (event as { code: number }).code));
    ws.subscribe(
      { query: print(MembershipChangedDocument), variables: { segmentId: segment.id, after: current!.eventCursor } },
      { next: (result) => void received.push((result.data as { segmentMembershipChanged: { change: string; reason: string } }).segmentMembershipChanged), error: () => undefined, complete: () => undefined },
    );

    // 6,000 contacts, a third of them Norwegian: the stop arrives while the call is in flight.
    const rows = generateContacts("stop", 6_000, 5).map(({ email, firstName, birthDate }, i) => ({
      email,
      firstName,
      birthDate,
      country: i % 3 === 0 ? "Norway" : "Sweden",
    }));
    let answered = false;
    const call = first.client.request(AddContactsDocument, { listId: list.id, contacts: rows }).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(answered).toBe(false);
    const signalled = Date.now();
    first.child.kill("SIGTERM");

    const result = await call;
    expect(result.errors).toBeUndefined();
    expect(result.data!.addContacts.added).toBe(6_000);
    expect(await first.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(closeCode).toBe(1001);
    // Every transition the engine committed reached the subscriber before its socket closed.
    expect(received).toHaveLength(2_000);
    expect(received.every((event) => event.change === "ENTERED" && event.reason === "CONTACT_ADDED")).toBe(true);
    const lines = jsonLines(first);
    expect(lines.at(-1)!.msg).toBe("stopped cleanly");
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    await ws.dispose();

    // The lease was handed over: a process started on the same file leads at once.
    expect(await leaseHolder(dbPath)).toBeNull();
    const second = await spawnServer({ ...START_ENV, ...storeEnv(dbPath) });
    expect(await leading(second.client)).toBe(true);
    expect((await second.client.data(SegmentByIdDocument, { id: segment.id })).segment!.memberCount).toBe(2_000);
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
    expect(jsonLines(second).at(-1)!.msg).toBe("stopped cleanly");
  }, 60_000);

  it("a standby takes the engine over within a second of the leader's SIGTERM, long before the lease would expire", async () => {
    const env = { ...START_ENV, ...storeEnv(newDatabase("handover")), ENGINE_LEASE_TTL: "30s" };
    const leader = await spawnServer(env);
    const standby = await spawnServer(env);
    expect(await leading(leader.client)).toBe(true);
    expect(await leading(standby.client)).toBe(false);
    const { list, segment } = await listWithNorwaySegment(standby.client, "Stop");

    leader.child.kill("SIGTERM");
    expect(await leader.exited).toBe(0);
    const exited = Date.now();
    while (!(await leading(standby.client))) {
      expect(Date.now() - exited).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The new leader applies writes at once.
    await standby.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "after@example.com", country: "Norway" }] });
    expect((await standby.client.data(SegmentByIdDocument, { id: segment.id })).segment!.memberCount).toBe(1);
    standby.child.kill("SIGTERM");
    expect(await standby.exited).toBe(0);
  }, 60_000);

  it("a request still running after SHUTDOWN_TIMEOUT is cut off, and the lease is released all the same", async () => {
    const dbPath = newDatabase("timeout");
    const server = await spawnServer({ ...START_ENV, ...storeEnv(dbPath), SHUTDOWN_TIMEOUT: "500ms" });
    expect(await leading(server.client)).toBe(true);
    // A request whose body never finishes arriving: it stays in flight.
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"query\":");
    const socketClosed = new Promise((resolve) => socket.once("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const signalled = Date.now();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const took = Date.now() - signalled;
    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(3_000);
    await socketClosed;
    expect(await leaseHolder(dbPath)).toBeNull();
    expect(jsonLines(server).some((line) => line.level === 40 && /cut off/.test(line.msg))).toBe(true);
  }, 30_000);
});
