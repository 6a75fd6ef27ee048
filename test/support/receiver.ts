/**
 * A real webhook receiver for tests: a node:http server on a free loopback port that records
 * every request (headers, raw body, parsed events) and answers as the test scripts it: a status,
 * a redirect, no answer at all, or a closed connection. Everything started here is closed by
 * `closeReceivers()` (call it in afterAll).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface WebhookEventBody {
  cursor: string;
  segmentId: string;
  contactId: string;
  change: "ENTERED" | "LEFT";
  reason: string;
  memberCount: number;
  occurredAt: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: { webhookId: string; events: WebhookEventBody[] };
}

/** How the receiver answers one request. */
export type Answer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  /** Reads the request and never answers (until the receiver closes). */
  | "hang"
  /** Destroys the connection without an answer. */
  | "close";

/**
 * Checks `Segments-Signature` as a receiver does (README): HMAC-SHA256 of "<t>.<raw body>" with
 * the secret, compared in constant time, and `t` within five minutes of now.
 */
export function verifySignature(secret: string, header: string | undefined, raw: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries((header ?? "").split(",").map((part) => part.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300 || !parts.v1) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${raw}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const receivers: Receiver[] = [];

export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** TCP connections accepted. */
  connections = 0;
  private readonly answers: Answer[] = [];
  /** The answer once the script is used up. */
  fallback: Answer = { status: 200 };
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const receiver = new Receiver(server, (server.address() as AddressInfo).port);
    server.on("connection", (socket: Socket) => {
      receiver.connections++;
      receiver.sockets.add(socket);
      socket.on("close", () => receiver.sockets.delete(socket));
    });
    server.on("request", (req, res) => void receiver.handle(req, res));
    receivers.push(receiver);
    return receiver;
  }

  /** The receiver's URL on 127.0.0.1 (or under another host name, for the DNS tests). */
  url(path = "/hook", host = "127.0.0.1", scheme = "http"): string {
    return `${scheme}://${host}:${this.port}${path}`;
  }

  /** Answers to give to the next requests, in order. */
  script(...answers: Answer[]): void {
    this.answers.push(...answers);
  }

  /** Every event received, in arrival order (retries included). */
  get events(): WebhookEventBody[] {
    return this.requests.flatMap((request) => request.body.events);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const answer = this.answers.shift() ?? this.fallback;
    this.requests.push({ method: req.method!, path: req.url!, headers: req.headers, raw, body: raw ? JSON.parse(raw) : { webhookId: "", events: [] } });
    for (const wake of this.waiters.splice(0)) wake();
    if (answer === "hang") return;
    if (answer === "close") return void req.socket.destroy();
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? "");
  }

  /** Resolves once `count` requests have arrived. */
  async waitForRequests(count: number, timeoutMs = 15_000): Promise<ReceivedRequest[]> {
    await this.until(() => this.requests.length >= count, timeoutMs, () => `expected ${count} webhook requests, got ${this.requests.length}`);
    return this.requests.slice(0, count);
  }

  /** Resolves once `count` events have arrived (retries counted again). */
  async waitForEvents(count: number, timeoutMs = 15_000): Promise<WebhookEventBody[]> {
    await this.until(() => this.events.length >= count, timeoutMs, () => `expected ${count} webhook events, got ${this.events.length}`);
    return this.events;
  }

  private async until(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(failure());
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function closeReceivers(): Promise<void> {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
}
