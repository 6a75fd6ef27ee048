/**
 * Several processes on one store: WORKERS=N (node:cluster, one port), and services started by
 * hand on one database file. Exactly one process applies changes; any serves any request and
 * any subscription; a dead leader's lease is taken at once by a process of the same host; rate
 * limits and connection counts hold across the processes.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import WebSocket from "ws";
import { AddContactsDocument, EngineStatusDocument, MembershipChangedDocument, SegmentByIdDocument, SegmentCursorDocument } from "../graphql/generated";
import { GraphQLTestClient } from "../support/client";
import { listWithNorwaySegment } from "../support/data";
import { onMongo, stopAll } from "../support/harness";
import { killAll, type ServerProcess, spawnServer } from "../support/process";
import { leaseHolder, newDatabase, storeEnv } from "../support/stores";
import { openSubscriptions, type SubscriptionClient } from "../support/ws";

const sockets: SubscriptionClient[] = [];
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.dispose()));
  await killAll();
  await stopAll();
});

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = "a condition"): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The JSON lines a process logged with this message. */
function logged(server: ServerProcess, msg: string): Record<string, unknown>[] {
  return server.logs.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.msg === msg ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** The pids of the serving workers alive now, and of the engine worker holding the lease. */
async function workers(server: ServerProcess, count: number): Promise<{ pids: number[]; leader: number }> {
  return until(
    () => {
      const dead = new Set([...logged(server, "a worker died; starting another"), ...logged(server, "stopped cleanly")].map((line) => line.pid as number));
      const alive = logged(server, "worker serving")
        .map((line) => line.pid as number)
        .filter((pid) => !dead.has(pid));
      const leader = [
        ...logged(server, "membership engine: this process holds the lease"),
        ...logged(server, "worker running the engine").filter((line) => line.engine === "leader"),
      ]
        .map((line) => line.pid as number)
        .filter((pid) => !dead.has(pid))
        .pop();
      return alive.length === count && leader !== undefined ? { pids: alive, leader } : undefined;
    },
    20_000,
    `${count} serving workers and an engine worker`,
  );
}

/** One request on a connection of its own, so that the cluster hands each to the next worker. */
function postOnce(url: string, query: string, wholeBody = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/json" } }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode!, body }));
    });
    request.on("error", reject);
    request.end(wholeBody ? query : JSON.stringify({ query }));
  });
}

/** Opens a socket and resolves with its close code, or "open" once the server acknowledged it. */
function connectOnce(wsUrl: string): Promise<{ outcome: number | "open"; socket: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl, "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init" })));
    socket.on("message", (data) => {
      if (JSON.parse(data.toString()).type === "connection_ack") resolve({ outcome: "open", socket });
    });
    socket.on("close", (code) => resolve({ outcome: code, socket }));
  });
}

/** Opens `count` connections at once, then sends one request on each, keeping them all open; resolves once every answer is in. */
async function requestsOnOpenConnections(url: string, count: number, body: string): Promise<net.Socket[]> {
  const { hostname, port, pathname } = new URL(url);
  const sockets = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Socket>((resolve, reject) => net.connect(Number(port), hostname).once("connect", function (this: net.Socket) { resolve(this); }).once("error", reject))),
  );
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve, reject) => {
          let answer = "";
          socket.on("data", (chunk: Buffer) => {
            answer += chunk.toString();
            if (answer.includes("__typename")) resolve();
          });
          socket.once("error", reject);
          socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        }),
    ),
  );
  return sockets;
}

describe("WORKERS=2: one port, two processes, one engine", () => {
  it("refuses to start, with exit code 2 and the reason, when the port is taken", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await expect(spawnServer({ ...storeEnv(newDatabase("taken")), WORKERS: "2", PORT: String(port) })).rejects.toThrow(
        new RegExp(`exited \\(2\\) before serving[\\s\\S]*cannot listen on 127\\.0\\.0\\.1:${port}`),
      );
    } finally {
      taken.close();
    }
  });

  it("hands connections opened one after another, each closed before the next, to the serving workers in turn", async () => {
    const server = await spawnServer({ ...storeEnv(newDatabase("in-turn")), WORKERS: "2" });
    const { pids } = await workers(server, 2);
    for (let i = 0; i < 6; i++) {
      expect((await postOnce(server.url, "query InTurn { __typename }")).status).toBe(200);
      // The worker has closed the connection and told the primary: both workers have none open.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const served = await until(() => {
      const lines = logged(server, "operation").filter((line) => line.operationName === "InTurn");
      return lines.length === 6 ? lines : undefined;
    });
    expect(pids.map((pid) => served.filter((line) => line.pid === pid).length)).toEqual([3, 3]);
  });

  it("spreads connections opened at once evenly over the serving workers, a busy one included", async () => {
    const server = await spawnServer({ ...storeEnv(newDatabase("spread")), WORKERS: "2" });
    const { pids } = await workers(server, 2);
    const { list } = await listWithNorwaySegment(server.client, "spread");
    // One worker busy with a large write while the connections arrive (node:cluster's own round
    // robin hands each new connection to a worker that is free to take it: all to the other one).
    const contacts = Array.from({ length: 10_000 }, (_, i) => ({ email: `spread${i}@example.com`, country: i % 2 ? "Norway" : "Sweden", tags: ["a", "b"] }));
    const busy = postOnce(server.url, JSON.stringify({ query: "mutation Busy($listId: ID!, $contacts: [ContactInput!]!) { addContacts(listId: $listId, contacts: $contacts) { added } }", variables: { listId: list.id, contacts } }), true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sockets = await requestsOnOpenConnections(server.url, 24, JSON.stringify({ query: "query Spread { __typename }" }));
    expect((await busy).status).toBe(200);
    // One request per connection: the workers' logs say which one took each connection.
    const served = await until(() => {
      const lines = logged(server, "operation").filter((line) => line.operationName === "Spread");
      return lines.length === 24 ? lines : undefined;
    });
    // 25 connections in all, the large write's included: 12 or 13 each.
    for (const pid of pids) expect(served.filter((line) => line.pid === pid).length).toBeGreaterThanOrEqual(11);
    for (const socket of sockets) socket.destroy();
  });

  it("serves requests and subscriptions from both workers; every subscriber gets every event, in order", async () => {
    const dbPath = newDatabase("workers");
    const server = await spawnServer({ ...storeEnv(dbPath), WORKERS: "2" });
    const { pids, leader } = await workers(server, 2);
    expect(new Set(pids).size).toBe(2);
    // The engine runs in a worker of its own, beside the two that serve.
    expect(pids).not.toContain(leader);

    // Each request on its own connection: the cluster hands connections to the serving workers in turn.
    for (let i = 0; i < 6; i++) expect((await postOnce(server.url, "{ __typename }")).status).toBe(200);
    const served = new Set(logged(server, "operation").map((line) => line.pid));
    expect(served).toEqual(new Set(pids));

    // No serving worker leads: the engine worker does.
    const leaders = await Promise.all(Array.from({ length: 6 }, () => postOnce(server.url, "{ membershipEngine { leader } }")));
    const answers = leaders.map((answer) => (JSON.parse(answer.body) as { data: { membershipEngine: { leader: boolean } } }).data.membershipEngine.leader);
    expect(answers).toEqual(Array.from({ length: 6 }, () => false));

    const { list, segment } = await listWithNorwaySegment(server.client, "Workers");
    const { segment: current } = await server.client.data(SegmentCursorDocument, { id: segment.id });
    // Four sockets, four connections: two land on each worker.
    const subscriptions = Array.from({ length: 4 }, () => {
      const socket = openSubscriptions(server.wsUrl);
      sockets.push(socket);
      return socket.subscribe(MembershipChangedDocument, { segmentId: segment.id, after: current!.eventCursor });
    });
    for (let i = 0; i < 40; i++) {
      const answer = await postOnce(
        server.url,
        `mutation { addContacts(listId: "${list.id}", contacts: [{ email: "w${i}@example.com", country: "${i % 2 === 0 ? "Norway" : "Sweden"}" }]) { added } }`,
      );
      expect(answer.status).toBe(200);
    }
    for (const subscription of subscriptions) {
      const events = await subscription.waitFor(20, 10_000);
      expect(events.map((event) => event.segmentMembershipChanged.contact?.email)).toEqual(Array.from({ length: 20 }, (_, i) => `w${i * 2}@example.com`));
    }
    expect((await server.client.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount).toBe(20);

    // A scrape answered by either worker reports the cluster: one leader, every worker's streams.
    for (let i = 0; i < 2; i++) {
      const text = await new Promise<string>((resolve, reject) =>
        http.get(server.url.replace(/\/graphql$/, "/metrics"), { agent: false }, (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString()));
          response.on("end", () => resolve(body));
        }).on("error", reject),
      );
      const value = (name: string) => Number(text.split("\n").find((line) => line.startsWith(`${name} `))?.split(" ")[1]);
      expect(value("segments_engine_leader")).toBe(1);
      expect(value("segments_subscription_streams")).toBe(4);
      expect(value("segments_engine_pending_changes")).toBe(0);
    }
    expect(await server.kill("SIGTERM")).toBe(0);
    // Two serving workers, the engine worker, the primary.
    expect(logged(server, "stopped cleanly")).toHaveLength(4);
    expect(await leaseHolder(dbPath)).toBeNull();
  });

  it("a SIGTERM while the workers start stops them all cleanly as soon as they have started", async () => {
    const child = spawn(process.execPath, ["-r", "@swc-node/register", "src/main.ts"], {
      cwd: join(__dirname, "..", ".."),
      env: { ...process.env, ...storeEnv(newDatabase("early-stop")), WORKERS: "2", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", NODE_ENV: "test", SHUTDOWN_TIMEOUT: "1s" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: Record<string, unknown>[] = [];
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    let [signalled, buffered] = [false, ""];
    child.stdout!.on("data", (chunk: Buffer) => {
      const whole = (buffered + chunk.toString()).split("\n");
      buffered = whole.pop()!;
      for (const line of whole.filter(Boolean)) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        // The first word of a worker: the others are still starting.
        if (parsed.worker !== undefined && !signalled) {
          signalled = true;
          child.kill("SIGTERM");
        }
      }
    });
    const code = await Promise.race([exited, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 15_000))]);
    if (code === "hung") child.kill("SIGKILL");
    expect(code).toBe(0);
    const messages = lines.map((line) => line.msg);
    expect(messages).not.toContain("workers still running past the stop budget: killing them");
    expect(messages.slice(messages.indexOf("stopping every worker"))).not.toContainEqual(expect.stringMatching(/^segments is serving/));
    expect(lines.at(-1)).toMatchObject({ msg: "stopped cleanly", exitCode: 0 });
  });

  it("a killed engine worker is replaced and its successor takes the lease at once, not at its expiry; a killed serving worker is replaced", async () => {
    const dbPath = newDatabase("worker-killed");
    const server = await spawnServer({ ...storeEnv(dbPath), WORKERS: "2", ENGINE_LEASE_TTL: "60s" });
    const { leader, pids } = await workers(server, 2);
    const { list, segment } = await listWithNorwaySegment(server.client, "Killed");

    const killedAt = Date.now();
    process.kill(leader, "SIGKILL");
    const takeover = await until(() => logged(server, "membership engine: took over the lease of a process that no longer exists")[0], 10_000, "the takeover");
    expect(takeover.previous).toEqual(expect.stringContaining(`/${leader}/`));
    expect(takeover.pid).not.toBe(leader);
    // Well inside the 60 s lease: the holder was known to be gone.
    expect((takeover.time as number) - killedAt).toBeLessThan(5_000);

    // Writes are applied again.
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "after@example.com", country: "Norway" }] });
    expect((await server.client.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount).toBe(1);

    // A serving worker killed outright has a successor, and the service goes on answering.
    process.kill(pids[0]!, "SIGKILL");
    await until(() => logged(server, "a worker died; starting another").find((line) => line.pid === pids[0]), 10_000, "the primary to see the worker die");
    const after = await workers(server, 2);
    expect(after.pids).not.toContain(pids[0]);
    for (let i = 0; i < 4; i++) expect((await postOnce(server.url, "{ __typename }")).status).toBe(200);
    expect(await server.kill("SIGTERM")).toBe(0);
  });
});

describe("services started by hand on one database file", () => {
  it("a subscriber of the standby receives the leader's events, all of them, in order", async () => {
    const dbPath = newDatabase("by-hand");
    const first = await spawnServer(storeEnv(dbPath));
    const second = await spawnServer(storeEnv(dbPath));
    const leaderOf = async (client: GraphQLTestClient) => (await client.data(EngineStatusDocument)).membershipEngine.leader;
    const [leader, standby] = (await leaderOf(first.client)) ? [first, second] : [second, first];
    expect(await leaderOf(standby.client)).toBe(false);

    const { list, segment } = await listWithNorwaySegment(leader.client, "By hand");
    const socket = openSubscriptions(standby.wsUrl);
    sockets.push(socket);
    const { segment: current } = await standby.client.data(SegmentCursorDocument, { id: segment.id });
    const subscription = socket.subscribe(MembershipChangedDocument, { segmentId: segment.id, after: current!.eventCursor });
    for (let i = 0; i < 100; i++) {
      await leader.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: `h${i}@example.com`, country: "Norway" }] });
    }
    const events = await subscription.waitFor(100, 10_000);
    expect(events.map((event) => event.segmentMembershipChanged.contact?.email)).toEqual(Array.from({ length: 100 }, (_, i) => `h${i}@example.com`));
  });

  it("a service killed with SIGKILL and started again applies changes at once, without waiting out the dead process's lease", async () => {
    const dbPath = newDatabase("restart");
    const env = { ...storeEnv(dbPath), ENGINE_LEASE_TTL: "60s" };
    const first = await spawnServer(env);
    const { list, segment } = await listWithNorwaySegment(first.client, "Restarted");
    await first.kill("SIGKILL");
    expect(await leaseHolder(dbPath)).toEqual(expect.stringContaining(`/${first.child.pid}/`));

    const second = await spawnServer(env);
    expect((await second.client.data(EngineStatusDocument)).membershipEngine.leader).toBe(true);
    await second.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "again@example.com", country: "Norway" }] });
    expect((await second.client.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount).toBe(1);
    expect(logged(second, "membership engine: took over the lease of a process that no longer exists")).toHaveLength(1);
  });

  it("a whole cluster killed with SIGKILL and started again leads at once", async () => {
    const dbPath = newDatabase("cluster-restart");
    const env = { ...storeEnv(dbPath), WORKERS: "2", ENGINE_LEASE_TTL: "60s" };
    const first = await spawnServer(env);
    const { pids, leader } = await workers(first, 2);
    const { list, segment } = await listWithNorwaySegment(first.client, "Cluster restarted");
    for (const pid of [leader, ...pids]) process.kill(pid, "SIGKILL");
    await first.kill("SIGKILL");

    const second = await spawnServer(env);
    await workers(second, 2);
    await second.client.data(AddContactsDocument, { listId: list.id, contacts: [{ email: "again@example.com", country: "Norway" }] });
    expect((await second.client.data(SegmentByIdDocument, { id: segment.id })).segment?.memberCount).toBe(1);
  });
});

describe("the WAL with WORKERS=2", () => {
  // SQLite's: MongoDB has no WAL to checkpoint.
  (onMongo ? it.skip : it)("is checkpointed into the database file, by the engine worker alone", async () => {
    const dbPath = newDatabase("checkpoints");
    const server = await spawnServer({ ...storeEnv(dbPath), WORKERS: "2" });
    await workers(server, 2);
    const before = statSync(dbPath).size;
    const { list } = await listWithNorwaySegment(server.client, "checkpointed");
    const contacts = Array.from({ length: 2_000 }, (_, i) => ({ email: `wal${i}@example.com`, country: "Norway", city: "Bergen ".repeat(20).trim() }));
    await server.client.data(AddContactsDocument, { listId: list.id, contacts });
    // The serving workers never checkpoint (SEGMENTS_CHECKPOINTS): the contacts reach the database
    // file itself, not only its WAL, through the engine worker's checkpoints.
    await until(() => (statSync(dbPath).size > before + 500_000 ? true : undefined), 10_000, "a checkpoint");
  });
});

describe("limits hold across processes", () => {
  it("WORKERS=2 gives a key its rate limit once, not once per worker", async () => {
    const server = await spawnServer({ ...storeEnv(newDatabase("rate")), WORKERS: "2", RATE_LIMIT_PER_SECOND: "5" });
    await workers(server, 2);
    // The key's window opens at its first request; thirty on their own connections arrive within it.
    const answers = await Promise.all(Array.from({ length: 30 }, () => postOnce(server.url, "{ __typename }")));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(25);
  });

  it("a key's connections are counted across two services on one file; a closed one frees its slot", async () => {
    const dbPath = newDatabase("connections");
    const env = { ...storeEnv(dbPath), MAX_CONNECTIONS_PER_KEY: "3" };
    const first = await spawnServer(env);
    const second = await spawnServer(env);
    const opened = [await connectOnce(first.wsUrl), await connectOnce(second.wsUrl), await connectOnce(first.wsUrl)];
    expect(opened.map((connection) => connection.outcome)).toEqual(["open", "open", "open"]);
    expect((await connectOnce(second.wsUrl)).outcome).toBe(4429);
    expect((await connectOnce(first.wsUrl)).outcome).toBe(4429);

    opened[0]!.socket.close();
    const replacement = await until(async () => {
      const attempt = await connectOnce(second.wsUrl);
      return attempt.outcome === "open" ? attempt : undefined;
    }, 5_000, "a freed slot");
    expect((await connectOnce(first.wsUrl)).outcome).toBe(4429);

    // A service killed outright: its connections stop counting once the others see it is gone.
    await first.kill("SIGKILL");
    const third = await until(async () => {
      const attempt = await connectOnce(second.wsUrl);
      return attempt.outcome === "open" ? attempt : undefined;
    }, 15_000, "the killed service's slots");
    for (const connection of [opened[1]!, replacement, third]) connection.socket.close();
  });
});
