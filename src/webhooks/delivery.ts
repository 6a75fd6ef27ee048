/**
 * One webhook request, as http.md describes what the receiver gets: a signed JSON POST of at
 * most 500 events in cursor order, sent with undici to an address the URL policy checked, no
 * redirect followed, answered within the timeout, and at most 64 KiB of the answer read.
 */
import { createHmac } from "node:crypto";
import { Agent, request } from "undici";
import { toGlobalId } from "../common/ids";
import { eventCursor } from "../modules/segments/membership-event.service";
import type { MembershipEvent } from "../stores/port";
import { type UrlPolicy, UrlRefused } from "./url-policy";

/** Events in one request at most. */
export const MAX_BATCH_EVENTS = 500;
/** The most of an answer's body read (the rest is discarded). */
export const MAX_ANSWER_BYTES = 64 * 1_024;
/** Characters of a refusing answer's body kept in the delivery log. */
const ANSWER_EXCERPT = 200;

/** `Segments-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${digest}`;
}

/** The request body: the webhook's id and its events as SegmentMembershipEvent fields. */
export function deliveryBody(webhookId: string, events: readonly MembershipEvent[]): string {
  return JSON.stringify({
    webhookId,
    events: events.map((event) => ({
      cursor: eventCursor(event),
      segmentId: toGlobalId("Segment", event.segmentId!),
      contactId: toGlobalId("Contact", event.contactId!),
      change: event.kind,
      reason: event.reason,
      memberCount: event.memberCount,
      occurredAt: new Date(event.occurredAt).toISOString(),
    })),
  });
}

export interface DeliveryRequest {
  url: string;
  secret: string;
  /** The webhook's global id. */
  webhookId: string;
  /** The same on every attempt at one batch. */
  deliveryId: string;
  body: string;
}

export interface DeliveryOutcome {
  /** A 2xx answer within the timeout. */
  acknowledged: boolean;
  /** The receiver's status; null when no answer came. */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Sends webhook requests; one per connection, so every request's address is checked anew. */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(
    readonly policy: UrlPolicy,
    /** How long a receiver has to answer, from the start of the request to the end of its answer. */
    private readonly timeoutMs = 10_000,
  ) {
    this.agent = new Agent({
      // No keep-alive: each request connects, and so resolves and checks its address, anew.
      pipelining: 0,
      connect: { timeout: timeoutMs, ...(policy.allowPrivate ? {} : { lookup: policy.lookup }) },
    });
  }

  /** Posts one request; never throws (every failure is an outcome). `abort` abandons it. */
  async post(delivery: DeliveryRequest, abort?: AbortSignal): Promise<DeliveryOutcome> {
    const started = performance.now();
    const outcome = (statusCode: number | null, error: string | null): DeliveryOutcome => ({
      acknowledged: error === null && statusCode !== null && statusCode >= 200 && statusCode < 300,
      statusCode,
      error,
      durationMs: Math.round(performance.now() - started),
    });
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = abort ? AbortSignal.any([deadline, abort]) : deadline;
    let statusCode: number | null = null;
    try {
      const url = this.policy.parse(delivery.url);
      // IP literals are not looked up when connecting: they are checked here; names, once, in
      // `lookup` as the connection is made (bounded by the request's deadline).
      if (!this.policy.allowPrivate) this.policy.checkLiteral(url);
      const answer = await request(url, {
        method: "POST",
        dispatcher: this.agent,
        signal,
        headers: {
          "content-type": "application/json",
          "user-agent": "segments-webhooks/1",
          "segments-webhook-id": delivery.webhookId,
          "segments-delivery-id": delivery.deliveryId,
          "segments-signature": signature(delivery.secret, delivery.body, Math.floor(Date.now() / 1000)),
        },
        body: delivery.body,
      });
      statusCode = answer.statusCode;
      const text = await readAtMost(answer.body, MAX_ANSWER_BYTES);
      if (statusCode >= 200 && statusCode < 300) return outcome(statusCode, null);
      const excerpt = text.trim().slice(0, ANSWER_EXCERPT);
      const redirect = statusCode >= 300 && statusCode < 400 ? " (redirects are not followed)" : "";
      return outcome(statusCode, `the receiver answered ${statusCode}${redirect}${excerpt ? `: ${excerpt}` : ""}`);
    } catch (error) {
      return outcome(statusCode, describeFailure(error, { timedOut: deadline.aborted, abandoned: abort?.aborted ?? false, timeoutMs: this.timeoutMs }));
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Reads a body as text up to `limit` bytes, then discards the rest. */
async function readAtMost(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk.subarray(0, limit - size));
    size += Math.min(chunk.length, limit - size);
    if (size >= limit) break;
  }
  body.destroy();
  return Buffer.concat(chunks).toString("utf8");
}

function describeFailure(error: unknown, how: { timedOut: boolean; abandoned: boolean; timeoutMs: number }): string {
  if (error instanceof UrlRefused) return `refused: ${error.message}`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof UrlRefused) return `refused: ${cause.message}`;
  if (how.timedOut) return `no answer within ${how.timeoutMs / 1000} s`;
  if (how.abandoned) return "abandoned: the service stopped while the request was under way";
  const code = (error as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EWEBHOOKURL") return `refused: ${(error as Error).message}`;
  const message = (error as Error).message ?? String(error);
  return code ? `${message} (${code})` : message;
}
