/**
 * Webhook receivers that fail: retries with backoff (on the app's clock, which these tests
 * move), timeouts, dropped connections, redirects, addresses that turn private, 24 hours of
 * failure, and events lost to retention while a webhook is disabled.
 */
import type { LookupAddress } from "node:dns";
import { ManualClock } from "../../src/common/clock";
import {
  AddContactsDocument,
  CreateWebhookDocument,
  DisableWebhookDocument,
  EnableWebhookDocument,
  WebhookDeliveriesDocument,
  type WebhookDeliveriesQuery,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { listWithNorwaySegment } from "../support/data";
import { type StartOptions, startTestServer, stopAll, type TestServer } from "../support/harness";
import { closeReceivers, Receiver } from "../support/receiver";
import { expireEvents } from "../support/stores";

afterAll(async () => {
  await stopAll();
  await closeReceivers();
});

const START = Date.parse("2026-06-01T10:00:00.000Z");
const HOUR = 3_600_000;
const contacts = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ email: `${prefix}-${i}@example.com`, country: "Norway" }));

/** A server on a clock the test moves; retries wait 1 s, 2 s, 4 s … less a jitter of one eighth (random() = 0.5). */
async function clockedServer(options: StartOptions = {}) {
  const clock = new ManualClock(START);
  const server = await startTestServer({ clock, ...options, env: { WEBHOOK_ALLOW_PRIVATE_URLS: "true", ...options.env }, webhooks: { random: () => 0.5, ...options.webhooks } });
  /** Moves the clock and wakes the dispatcher, as time passing would. */
  const advance = (ms: number) => {
    clock.advance(ms);
    server.app.webhooks.wakeAll();
  };
  return { ...server, clock, advance };
}

async function hookState(client: GraphQLTestClient, listId: string, until: (hook: Hook) => boolean, timeoutMs = 10_000): Promise<Hook> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hook = (await client.data(WebhookDeliveriesDocument, { listId, first: 100 })).webhooks[0]!;
    if (until(hook)) return hook;
    if (Date.now() > deadline) throw new Error(`webhook state not reached: ${JSON.stringify(hook)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
type Hook = WebhookDeliveriesQuery["webhooks"][number];

async function webhookFor(server: TestServer, receiver: Receiver, name: string, url = receiver.url()) {
  const { list } = await listWithNorwaySegment(server.client, name);
  const { createWebhook } = await server.client.data(CreateWebhookDocument, { input: { listId: list.id, url } });
  return { list, webhook: createWebhook.webhook, secret: createWebhook.secret };
}

describe("webhook retries", () => {
  it("three 500s then success: the batch is retried after 1 s, 2 s and 4 s (jittered) with the same delivery id and events, FAILING meanwhile, and delivered once", async () => {
    const server = await clockedServer();
    const receiver = await Receiver.start();
    receiver.script({ status: 500, body: "oops" }, { status: 500 }, { status: 500 });
    const { list } = await webhookFor(server, receiver, "Three failures");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("first", 5) });

    await receiver.waitForRequests(1);
    const failing = await hookState(server.client, list.id, (hook) => hook.deliveries.length === 1);
    expect(failing).toMatchObject({ status: "FAILING", deliveredCursor: null, pendingEvents: 5 });
    expect(failing.deliveries[0]).toMatchObject({ attempt: 1, eventCount: 5, statusCode: 500, error: "the receiver answered 500: oops" });

    // Nothing is retried before its time.
    server.advance(874);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(receiver.requests).toHaveLength(1);
    server.advance(1);
    await receiver.waitForRequests(2);
    await hookState(server.client, list.id, (hook) => hook.deliveries.length === 2);
    server.advance(1_750);
    await receiver.waitForRequests(3);
    await hookState(server.client, list.id, (hook) => hook.deliveries.length === 3);
    server.advance(3_500);
    await receiver.waitForRequests(4);

    const done = await hookState(server.client, list.id, (hook) => hook.status === "ACTIVE" && hook.deliveredCursor !== null);
    expect(done.deliveries.map((delivery) => [delivery.attempt, delivery.statusCode]).reverse()).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 200],
    ]);
    const at = done.deliveries.map((delivery) => Date.parse(delivery.at)).reverse();
    expect(at.slice(1).map((time, i) => time - at[i]!)).toEqual([875, 1_750, 3_500]);
    expect(new Set(receiver.requests.map((request) => request.headers["segments-delivery-id"]))).toEqual(new Set([done.deliveries[0]!.id]));
    expect(new Set(receiver.requests.map((request) => JSON.stringify(request.body)))).toEqual(new Set([receiver.requests[0]!.raw]));
    expect(done).toMatchObject({ pendingEvents: 0, deliveredCursor: receiver.requests[0]!.body.events[4]!.cursor });

    // The next batch carries only what came after: nothing is delivered twice once acknowledged.
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("second", 2) });
    const [, , , , fifth] = await receiver.waitForRequests(5);
    expect(fifth!.headers["segments-delivery-id"]).not.toBe(done.deliveries[0]!.id);
    expect(fifth!.body.events).toHaveLength(2);
    const cursors = receiver.requests.slice(3).flatMap((request) => request.body.events.map((event) => event.cursor));
    expect(new Set(cursors).size).toBe(7);
  });

  it("a receiver that does not answer times out and is retried; other webhooks are not held up meanwhile", async () => {
    const server = await clockedServer({ webhooks: { timeoutMs: 300 } });
    const hanging = await Receiver.start();
    const healthy = await Receiver.start();
    hanging.script("hang");
    const slow = await webhookFor(server, hanging, "Hanging");
    const fast = await webhookFor(server, healthy, "Healthy");
    await server.client.data(AddContactsDocument, { listId: slow.list.id, contacts: contacts("slow", 3) });
    await hanging.waitForRequests(1);
    // While the first receiver holds its request, the other webhook delivers.
    await server.client.data(AddContactsDocument, { listId: fast.list.id, contacts: contacts("fast", 4) });
    await healthy.waitForEvents(4);

    const timedOut = await hookState(server.client, slow.list.id, (hook) => hook.deliveries.length === 1);
    expect(timedOut.status).toBe("FAILING");
    expect(timedOut.deliveries[0]).toMatchObject({ attempt: 1, statusCode: null, error: "no answer within 0.3 s" });
    server.advance(1_000);
    await hanging.waitForRequests(2);
    const recovered = await hookState(server.client, slow.list.id, (hook) => hook.status === "ACTIVE" && hook.pendingEvents === 0);
    expect(recovered.deliveries.map((delivery) => [delivery.attempt, delivery.statusCode])).toEqual([
      [2, 200],
      [1, null],
    ]);
    expect(hanging.requests[1]!.raw).toBe(hanging.requests[0]!.raw);
  });

  it("a receiver that closes the connection without answering is retried", async () => {
    const server = await clockedServer();
    const receiver = await Receiver.start();
    receiver.script("close");
    const { list } = await webhookFor(server, receiver, "Closing");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("c", 2) });
    const dropped = await hookState(server.client, list.id, (hook) => hook.deliveries.length === 1);
    expect(dropped.deliveries[0]).toMatchObject({ attempt: 1, statusCode: null });
    expect(dropped.deliveries[0]!.error).toMatch(/closed/);
    server.advance(1_000);
    const delivered = await hookState(server.client, list.id, (hook) => hook.pendingEvents === 0 && hook.status === "ACTIVE");
    expect(delivered.deliveries[0]).toMatchObject({ attempt: 2, statusCode: 200, eventCount: 2 });
    expect(receiver.requests).toHaveLength(2);
  });

  it("a redirect is not followed: it is a failed attempt, retried at the webhook's own URL", async () => {
    const server = await clockedServer();
    const receiver = await Receiver.start();
    const elsewhere = await Receiver.start();
    receiver.script({ status: 307, headers: { location: elsewhere.url("/moved") } });
    const { list } = await webhookFor(server, receiver, "Redirected");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("r", 2) });
    const redirected = await hookState(server.client, list.id, (hook) => hook.deliveries.length === 1);
    expect(redirected.status).toBe("FAILING");
    expect(redirected.deliveries[0]).toMatchObject({ statusCode: 307, error: "the receiver answered 307 (redirects are not followed)" });
    server.advance(1_000);
    await hookState(server.client, list.id, (hook) => hook.pendingEvents === 0 && hook.status === "ACTIVE");
    expect(receiver.requests.map((request) => request.path)).toEqual(["/hook", "/hook"]);
    expect(elsewhere.requests).toEqual([]);
    expect(elsewhere.connections).toBe(0);
  });

  it("after 24 hours of failure the webhook is DISABLED; enabling it resumes from the acknowledged cursor with every event", async () => {
    const server = await clockedServer();
    const receiver = await Receiver.start();
    receiver.fallback = { status: 500 };
    const { list, webhook } = await webhookFor(server, receiver, "Down for a day");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("ok", 2) });
    receiver.script({ status: 200 });
    await receiver.waitForEvents(2);
    const acknowledged = (await hookState(server.client, list.id, (hook) => hook.deliveredCursor !== null)).deliveredCursor;

    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("late", 3) });
    await hookState(server.client, list.id, (hook) => hook.status === "FAILING");
    server.advance(23 * HOUR);
    await hookState(server.client, list.id, (hook) => hook.deliveries.length === 3);
    expect((await hookState(server.client, list.id, () => true)).status).toBe("FAILING");
    server.advance(HOUR);
    const disabled = await hookState(server.client, list.id, (hook) => hook.status === "DISABLED");
    expect(disabled.deliveries.map((delivery) => delivery.attempt)).toEqual([3, 2, 1, 1]);
    expect(disabled).toMatchObject({ deliveredCursor: acknowledged, pendingEvents: 3 });

    // Disabled: no more attempts, however long.
    const sent = receiver.requests.length;
    server.advance(48 * HOUR);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(receiver.requests).toHaveLength(sent);

    receiver.fallback = { status: 200 };
    expect((await server.client.data(EnableWebhookDocument, { id: webhook.id })).enableWebhook.status).toBe("ACTIVE");
    const resumed = await hookState(server.client, list.id, (hook) => hook.pendingEvents === 0 && hook.status === "ACTIVE");
    const last = receiver.requests[receiver.requests.length - 1]!;
    expect(last.body.events.map((event) => event.cursor)).toEqual(receiver.requests[1]!.body.events.map((event) => event.cursor));
    expect(last.headers["segments-delivery-id"]).not.toBe(receiver.requests[1]!.headers["segments-delivery-id"]);
    expect(resumed.deliveries[0]).toMatchObject({ attempt: 1, statusCode: 200, eventCount: 3 });
  });

  it("disabled and enabled while a batch's request is failing, the webhook sends that batch's events again, then what came after", async () => {
    const server = await clockedServer();
    const receiver = await Receiver.start();
    receiver.script({ status: 500, delayMs: 300 });
    const { list, webhook } = await webhookFor(server, receiver, "Toggled mid-request");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("first", 3) });
    const [failed] = await receiver.waitForRequests(1);
    // Both while the first request waits for its 500.
    await server.client.data(DisableWebhookDocument, { id: webhook.id });
    await server.client.data(EnableWebhookDocument, { id: webhook.id });
    await receiver.waitForRequests(2);
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("second", 2) });

    const done = await hookState(server.client, list.id, (hook) => hook.pendingEvents === 0 && hook.deliveries.some((delivery) => delivery.statusCode === 200 && delivery.eventCount === 2));
    const acknowledged = receiver.requests.slice(1).flatMap((request) => request.body.events.map((event) => event.cursor));
    expect(acknowledged.slice(0, 3)).toEqual(failed!.body.events.map((event) => event.cursor));
    expect(new Set(acknowledged).size).toBe(5);
    expect(done.deliveredCursor).toBe(acknowledged[4]);
  });

  it("events removed by retention while a webhook was disabled are reported in its delivery log, and delivery continues after them", async () => {
    const server = await clockedServer({ env: { EVENT_RETENTION: "1d" } });
    const receiver = await Receiver.start();
    const { list, webhook } = await webhookFor(server, receiver, "Retention");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("seen", 1) });
    await receiver.waitForEvents(1);
    await server.client.data(DisableWebhookDocument, { id: webhook.id });
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("lost", 3) });
    server.clock.advance(2 * 24 * HOUR);
    await server.app.engine.drain();
    await expireEvents(server, server.clock.now() - 24 * HOUR);
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("kept", 2) });

    await server.client.data(EnableWebhookDocument, { id: webhook.id });
    const resumed = await hookState(server.client, list.id, (hook) => hook.pendingEvents === 0 && hook.deliveries.length === 3);
    expect(resumed.deliveries[1]).toMatchObject({ eventCount: 0, statusCode: null });
    expect(resumed.deliveries[1]!.error).toMatch(/retention \(EVENT_RETENTION\) removed events before this webhook read them: any of its own among them are lost/);
    expect(resumed.deliveries[0]).toMatchObject({ eventCount: 2, statusCode: 200 });
    expect(receiver.events).toHaveLength(3);
  });
});

describe("webhook addresses checked at every delivery", () => {
  it("a name that resolved to a public address at creation and to 127.0.0.1 or 169.254.169.254 at delivery is refused without connecting", async () => {
    const dns = new Map<string, string>([["hooks.example.test", "93.184.216.34"]]);
    const resolver = async (hostname: string): Promise<LookupAddress[]> => [{ address: dns.get(hostname) ?? "0.0.0.0", family: 4 }];
    const clock = new ManualClock(START);
    const server = await startTestServer({ clock, webhooks: { resolver, random: () => 0.5 } });
    const receiver = await Receiver.start();
    const { list } = await webhookFor(server, receiver, "Rebinding", receiver.url("/hook", "hooks.example.test", "https"));

    dns.set("hooks.example.test", "127.0.0.1");
    await server.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("d", 2) });
    const loopback = await hookState(server.client, list.id, (hook) => hook.deliveries.length === 1);
    expect(loopback.status).toBe("FAILING");
    expect(loopback.deliveries[0]).toMatchObject({
      statusCode: null,
      error: "refused: hooks.example.test resolves to 127.0.0.1, which is not a public address (loopback); webhooks may only reach public addresses",
    });

    dns.set("hooks.example.test", "169.254.169.254");
    clock.advance(1_000);
    server.app.webhooks.wakeAll();
    const metadata = await hookState(server.client, list.id, (hook) => hook.deliveries.length === 2);
    expect(metadata.deliveries[0]!.error).toMatch(/resolves to 169\.254\.169\.254, which is not a public address \(linkLocal\)/);
    expect(metadata.pendingEvents).toBe(2);
    expect(receiver.connections).toBe(0);
  });
});
