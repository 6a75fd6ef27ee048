/**
 * New connections are not starved by a saturated server. The server is the service started as
 * `npm start` starts it, in its own process; this process is its clients. Node accepts one
 * connection per turn of the event loop, and without fair admission every turn serves each busy
 * keep-alive connection once: a burst of new connections then waits one such turn per connection,
 * while the busy ones are served over and over. The test counts, rather than times, what the busy
 * connections get served until every new connection has its first answer.
 */
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { stopAll, tempDir } from "../support/harness";
import { killAll, type ServerProcess, spawnServer } from "../support/process";

afterAll(async () => {
  await killAll();
  await stopAll();
});

const BUSY = 20;
const BURST = 40;
const BODY = JSON.stringify({ query: "{ __typename }" });

function post(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(BODY);
  });
}

/** Raw HTTP: a request sent on a new connection, which is closed as soon as the request is out. */
function sendAndLeave(url: string): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.end(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on("error", reject);
  });
}

describe("admission while the server is saturated", () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await spawnServer({ SQLITE_PATH: join(tempDir(), "fair.db") });
  });

  /** Runs `during` while BUSY keep-alive connections keep the server saturated; returns how many of their requests were served meanwhile. */
  async function underLoad(during: () => Promise<void>): Promise<number> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: BUSY });
    let served = 0;
    let running = true;
    const busy = Array.from({ length: BUSY }, async () => {
      while (running) {
        expect(await post(server.url, agent)).toBe(200);
        served += 1;
      }
    });
    try {
      // Every busy connection is open and has been served before `during` starts.
      while (served < BUSY * 10) await new Promise((resolve) => setImmediate(resolve));
      const before = served;
      await during();
      return served - before;
    } finally {
      running = false;
      await Promise.all(busy);
      agent.destroy();
    }
  }

  it("accepts a burst of new connections while busy keep-alive connections are served a few times, not once per new connection each", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: BURST });
    let statuses: number[] = [];
    const meanwhile = await underLoad(async () => {
      statuses = await Promise.all(Array.from({ length: BURST }, () => post(server.url, agent)));
    });
    agent.destroy();
    expect(statuses).toEqual(Array(BURST).fill(200));
    // Starved, the busy connections are served about BUSY times per new connection accepted
    // (800 here); admitted fairly, about once per turn that accepts one, plus a round or two.
    expect(meanwhile).toBeLessThan(BURST * 4);
  });

  it("handles requests whose clients left while they waited without an error, and serves the next", async () => {
    await underLoad(() => Promise.all(Array.from({ length: BURST }, () => sendAndLeave(server.url))).then(() => undefined));
    expect(await post(server.url, new http.Agent())).toBe(200);
    expect(server.errorLines()).toEqual([]);
    expect(server.child.exitCode).toBeNull();
  });
});
