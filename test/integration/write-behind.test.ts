/**
 * A WebSocket sender's write callback runs at once while its socket holds little unsent, so a
 * change's messages leave together; a reader that stops reading still holds its sender back once
 * WRITE_BEHIND_BYTES wait for it. Real `ws` server and client on loopback; the sender is written
 * the way graphql-ws sends (the next message after the previous one's callback).
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { coalesceSends, WRITE_BEHIND_BYTES } from "../../src/graphql/ws-server";
import { countWrites } from "../support/ws";

const MESSAGE = "x".repeat(4 * 1024);
/** Far more than loopback's socket buffers and WRITE_BEHIND_BYTES together. */
const COUNT = 12_000;

let httpServer: http.Server;
let wsServer: WebSocketServer;
let url: string;

beforeAll(async () => {
  httpServer = http.createServer();
  wsServer = new WebSocketServer({ server: httpServer });
  wsServer.on("connection", (socket, request) => coalesceSends(socket, request.socket));
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of wsServer.clients) client.terminate();
  wsServer.close();
  httpServer.close();
  await once(httpServer, "close");
});

const sendWithCallback = (socket: WebSocket, data: string) => new Promise<void>((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())));

async function connect() {
  const serverSide = once(wsServer, "connection") as Promise<[WebSocket]>;
  const client = new WebSocket(url);
  await once(client, "open");
  const [socket] = await serverSide;
  return { client, socket };
}

it("holds a sender back once WRITE_BEHIND_BYTES wait for a reader that stopped, and loses nothing", async () => {
  const { client, socket } = await connect();
  const received: number[] = [];
  client.on("message", (data) => received.push(data.toString().length));
  // The reader stops reading: its kernel buffers fill, then the server's.
  (client as unknown as { _socket: import("node:net").Socket })._socket.pause();

  let sent = 0;
  let mostUnsent = 0;
  const sending = (async () => {
    for (; sent < COUNT; sent++) {
      await sendWithCallback(socket, MESSAGE);
      mostUnsent = Math.max(mostUnsent, socket.bufferedAmount);
    }
  })();
  // Wait until the sender is stuck on a callback: sent stops moving.
  let last = -1;
  while (sent !== last) {
    last = sent;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(sent).toBeLessThan(COUNT);
  expect(socket.bufferedAmount).toBeGreaterThanOrEqual(WRITE_BEHIND_BYTES);
  // At most one message past the mark is ever held, however far the reader falls behind.
  expect(mostUnsent).toBeLessThan(WRITE_BEHIND_BYTES + 2 * MESSAGE.length);

  (client as unknown as { _socket: import("node:net").Socket })._socket.resume();
  await sending;
  while (received.length < COUNT) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(received.length).toBe(COUNT);
  expect(received.every((length) => length === MESSAGE.length)).toBe(true);
  client.close();
});

it("runs the callback at once while little is unsent, so a turn's messages leave in one write after the first", async () => {
  const { client, socket } = await connect();
  const received: string[] = [];
  client.on("message", (data) => received.push(data.toString()));
  const counter = countWrites("message ");
  try {
    for (let i = 0; i < 5; i++) await sendWithCallback(socket, `message ${i}`);
    while (received.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    counter.stop();
  }
  expect(received).toEqual([0, 1, 2, 3, 4].map((i) => `message ${i}`));
  // The first message is written at once; the other four leave together when the turn ends.
  expect(counter.writes).toEqual([1, 4]);
  client.close();
});
