import { fromGlobalId } from "../../src/common/ids";
import { generateApiKey } from "../../src/security/api-keys";
import {
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  CreateWebhookDocument,
  DeleteListDocument,
  DeleteWebhookDocument,
  DisableWebhookDocument,
  EnableWebhookDocument,
  MembershipChangedDocument,
  PingWebhookDocument,
  WebhookDeliveriesDocument,
  WebhookNodeDocument,
  WebhooksDocument,
} from "../graphql/generated";
import type { GraphQLTestClient } from "../support/client";
import { listWithNorwaySegment } from "../support/data";
import { startTestServer, stopAll, type TestServer } from "../support/harness";
import { closeReceivers, Receiver, verifySignature } from "../support/receiver";
import { streamsOpen } from "../support/ws";

afterAll(async () => {
  await stopAll();
  await closeReceivers();
});

const PRIVATE_OK = { WEBHOOK_ALLOW_PRIVATE_URLS: "true" };

const contacts = (prefix: string, count: number, country = "Norway") => Array.from({ length: count }, (_, i) => ({ email: `${prefix}-${i}@example.com`, country }));

/** The position a public event cursor names. */
const position = (cursor: string) => Number(Buffer.from(cursor, "base64url").toString("utf8").split("|")[1]);

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function deliveriesOf(client: GraphQLTestClient, listId: string, first = 100) {
  return (await client.data(WebhookDeliveriesDocument, { listId, first })).webhooks[0]!;
}

describe("webhooks: delivery", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: PRIVATE_OK });
  });

  it("delivers every membership change of the list, in cursor order, signed with the secret, exactly as subscribers see them", async () => {
    const { client, ws, app } = server;
    const receiver = await Receiver.start();
    const { list } = await listWithNorwaySegment(client, "Signed");
    const { createWebhook } = await client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    expect(createWebhook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(createWebhook.webhook).toMatchObject({ url: receiver.url(), status: "ACTIVE", deliveredCursor: null, pendingEvents: 0, list: { id: list.id }, segments: null });

    const subscription = ws().subscribe(MembershipChangedDocument, { listId: list.id });
    await streamsOpen(app, 1);
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("a", 30) });
    await client.data(AddContactsDocument, { listId: list.id, contacts: [...contacts("b", 5), ...contacts("se", 5, "Sweden")] });
    const seen = (await subscription.waitFor(35)).map(({ segmentMembershipChanged: { cursor, segmentId, contactId, change, reason, memberCount, occurredAt } }) => ({
      cursor,
      segmentId,
      contactId,
      change,
      reason,
      memberCount,
      occurredAt,
    }));

    const delivered = await receiver.waitForEvents(35);
    expect(delivered).toEqual(seen);
    const positions = delivered.map((event) => position(event.cursor));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));

    for (const request of receiver.requests) {
      expect(request.method).toBe("POST");
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["segments-webhook-id"]).toBe(createWebhook.webhook.id);
      expect(request.headers["segments-delivery-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(request.body.webhookId).toBe(createWebhook.webhook.id);
      expect(verifySignature(createWebhook.secret, request.headers["segments-signature"] as string, request.raw)).toBe(true);
      // Another secret, or a body changed by one byte, does not verify.
      expect(verifySignature("whsec_other", request.headers["segments-signature"] as string, request.raw)).toBe(false);
      expect(verifySignature(createWebhook.secret, request.headers["segments-signature"] as string, request.raw.replace("ENTERED", "ENTEREd"))).toBe(false);
    }
    expect(new Set(receiver.requests.map((request) => request.headers["segments-delivery-id"])).size).toBe(receiver.requests.length);

    const state = await eventually(
      () => deliveriesOf(client, list.id),
      (hook) => hook.deliveredCursor === delivered[34]!.cursor,
    );
    expect(state).toMatchObject({ status: "ACTIVE", pendingEvents: 0 });
    expect(state.deliveries.map((delivery) => [delivery.attempt, delivery.statusCode, delivery.error])).toEqual(receiver.requests.map(() => [1, 200, null]));
    expect(state.deliveries.reduce((sum, delivery) => sum + delivery.eventCount, 0)).toBe(35);
  });

  it("a webhook of some segments receives only their events", async () => {
    const { client } = server;
    const receiver = await Receiver.start();
    const { list, segment: norway } = await listWithNorwaySegment(client, "Filtered");
    const { createSegment: sweden } = await client.data(CreateSegmentDocument, {
      input: { listId: list.id, name: "Sweden", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Sweden" } },
    });
    const { createWebhook } = await client.data(CreateWebhookDocument, { input: { listId: list.id, segmentIds: [sweden.id], url: receiver.url() } });
    expect(createWebhook.webhook.segments).toEqual([{ id: sweden.id }]);
    await client.data(AddContactsDocument, { listId: list.id, contacts: [...contacts("no", 20), ...contacts("se", 3, "Sweden"), ...contacts("no2", 20)] });
    const events = await receiver.waitForEvents(3);
    // Nothing else arrives once the later Norway events are behind the webhook too.
    await eventually(
      () => deliveriesOf(client, list.id),
      (hook) => hook.pendingEvents === 0 && hook.deliveredCursor !== null,
    );
    expect(receiver.events).toHaveLength(3);
    expect(events.every((event) => event.segmentId === sweden.id && event.change === "ENTERED")).toBe(true);
    expect(norway.id).not.toBe(sweden.id);
  });

  it("one request carries at most 500 events; a larger change arrives in several, in order", async () => {
    const { client } = server;
    const receiver = await Receiver.start();
    const { list } = await listWithNorwaySegment(client, "Large");
    await client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("big", 1_234) });
    const events = await receiver.waitForEvents(1_234);
    expect(receiver.requests.every((request) => request.body.events.length <= 500)).toBe(true);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(3);
    const positions = events.map((event) => position(event.cursor));
    expect(new Set(positions).size).toBe(1_234);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it("pingWebhook sends a signed request with no events and reports its outcome, which the delivery log keeps too", async () => {
    const { client } = server;
    const receiver = await Receiver.start();
    const { list } = await listWithNorwaySegment(client, "Ping");
    const { createWebhook } = await client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url("/ping-me") } });
    receiver.script({ status: 204 }, { status: 503, body: "down for maintenance" });
    const ok = (await client.data(PingWebhookDocument, { id: createWebhook.webhook.id })).pingWebhook;
    expect(ok).toMatchObject({ attempt: 1, eventCount: 0, statusCode: 204, error: null });
    const [request] = await receiver.waitForRequests(1);
    expect(request!.path).toBe("/ping-me");
    expect(request!.body).toEqual({ webhookId: createWebhook.webhook.id, events: [] });
    expect(request!.headers["segments-delivery-id"]).toBe(ok.id);
    expect(verifySignature(createWebhook.secret, request!.headers["segments-signature"] as string, request!.raw)).toBe(true);

    const failed = (await client.data(PingWebhookDocument, { id: createWebhook.webhook.id })).pingWebhook;
    expect(failed).toMatchObject({ statusCode: 503, error: "the receiver answered 503: down for maintenance" });
    expect((await deliveriesOf(client, list.id)).deliveries.map((delivery) => delivery.id)).toEqual([failed.id, ok.id]);
  });

  it("a ping whose webhook is deleted while it waits for the receiver leaves no entry behind", async () => {
    const { client } = server;
    const receiver = await Receiver.start();
    const { list } = await listWithNorwaySegment(client, "Ping, then gone");
    const { createWebhook } = await client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    receiver.script({ status: 204, delayMs: 300 });
    const ping = client.data(PingWebhookDocument, { id: createWebhook.webhook.id });
    await receiver.waitForRequests(1);
    await client.data(DeleteWebhookDocument, { id: createWebhook.webhook.id });
    await ping.catch(() => undefined);
    const storeId = fromGlobalId(createWebhook.webhook.id, "Webhook")!;
    expect(await server.app.store.webhookDeliveries(storeId, 100)).toEqual([]);
  });

  it("the delivery log keeps the last 100 entries, newest first", async () => {
    const { client } = server;
    const receiver = await Receiver.start();
    const { list } = await listWithNorwaySegment(client, "Log");
    const { createWebhook } = await client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    const ids: string[] = [];
    for (let i = 0; i < 103; i++) ids.push((await client.data(PingWebhookDocument, { id: createWebhook.webhook.id })).pingWebhook.id);
    const log = (await deliveriesOf(client, list.id, 100)).deliveries;
    expect(log.map((delivery) => delivery.id)).toEqual(ids.slice(3).reverse());
    expect((await client.data(WebhookDeliveriesDocument, { listId: list.id })).webhooks[0]!.deliveries).toHaveLength(20);
    const tooMany = await client.errors(WebhookDeliveriesDocument, { listId: list.id, first: 101 });
    expect(tooMany[0]!.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("a disabled webhook sends nothing; enabling it delivers what it missed, from the acknowledged cursor", async () => {
    const { client } = server;
    const receiver = await Receiver.start();
    const { list } = await listWithNorwaySegment(client, "Paused");
    const { createWebhook } = await client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    const id = createWebhook.webhook.id;
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("before", 3) });
    await receiver.waitForEvents(3);
    const disabled = (await client.data(DisableWebhookDocument, { id })).disableWebhook;
    expect(disabled.status).toBe("DISABLED");
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("while", 4) });
    expect((await client.data(WebhooksDocument, { listId: list.id })).webhooks[0]!.pendingEvents).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.events).toHaveLength(3);

    const enabled = (await client.data(EnableWebhookDocument, { id })).enableWebhook;
    expect(enabled.status).toBe("ACTIVE");
    const events = await receiver.waitForEvents(7);
    expect(events.map((event) => position(event.cursor))).toEqual([...new Set(events.map((event) => position(event.cursor)))].sort((a, b) => a - b));
    await eventually(
      () => deliveriesOf(client, list.id),
      (hook) => hook.pendingEvents === 0 && hook.deliveredCursor === events[6]!.cursor,
    );
  });
});

describe("webhooks: the API", () => {
  let server: TestServer;
  let acme: GraphQLTestClient;
  let rival: GraphQLTestClient;
  beforeAll(async () => {
    server = await startTestServer({ env: PRIVATE_OK });
    const key = async (workspaceId: string) => {
      const { key, prefix, hash } = generateApiKey();
      await server.app.store.createApiKey({ workspaceId, name: null, prefix, hash }, Date.now());
      return server.client.withHeaders({ authorization: `Bearer ${key}` });
    };
    acme = await key("acme");
    rival = await key("rival");
  });

  it("create, list, read as a node, disable, enable and delete", async () => {
    const { list } = await listWithNorwaySegment(acme, "CRUD");
    const first = (await acme.data(CreateWebhookDocument, { input: { listId: list.id, url: "http://127.0.0.1:9/one" } })).createWebhook.webhook;
    const second = (await acme.data(CreateWebhookDocument, { input: { listId: list.id, url: "http://127.0.0.1:9/two" } })).createWebhook.webhook;
    expect((await acme.data(WebhooksDocument, { listId: list.id })).webhooks.map((hook) => hook.id)).toEqual([first.id, second.id]);
    expect((await acme.data(WebhookNodeDocument, { id: first.id })).node).toMatchObject({ id: first.id, url: "http://127.0.0.1:9/one", status: "ACTIVE" });

    expect((await acme.data(DisableWebhookDocument, { id: first.id })).disableWebhook.status).toBe("DISABLED");
    // Disabling twice, or enabling an active webhook, changes nothing.
    expect((await acme.data(DisableWebhookDocument, { id: first.id })).disableWebhook.status).toBe("DISABLED");
    expect((await acme.data(EnableWebhookDocument, { id: first.id })).enableWebhook.status).toBe("ACTIVE");
    expect((await acme.data(EnableWebhookDocument, { id: first.id })).enableWebhook.status).toBe("ACTIVE");

    expect((await acme.data(DeleteWebhookDocument, { id: first.id })).deleteWebhook).toBe(first.id);
    expect((await acme.data(WebhooksDocument, { listId: list.id })).webhooks.map((hook) => hook.id)).toEqual([second.id]);
    expect((await acme.data(WebhookNodeDocument, { id: first.id })).node).toBeNull();
    expect((await acme.errors(DeleteWebhookDocument, { id: first.id }))[0]!.extensions?.code).toBe("NOT_FOUND");

    // Deleting the list deletes its webhooks.
    await acme.data(DeleteListDocument, { id: list.id });
    expect((await acme.data(WebhookNodeDocument, { id: second.id })).node).toBeNull();
  });

  it("another workspace's webhooks read exactly like webhooks that do not exist", async () => {
    const { list } = await listWithNorwaySegment(acme, "Private");
    const hook = (await acme.data(CreateWebhookDocument, { input: { listId: list.id, url: "http://127.0.0.1:9/private" } })).createWebhook.webhook;
    expect((await rival.data(WebhookNodeDocument, { id: hook.id })).node).toBeNull();
    for (const errors of [
      await rival.errors(WebhooksDocument, { listId: list.id }),
      await rival.errors(DisableWebhookDocument, { id: hook.id }),
      await rival.errors(EnableWebhookDocument, { id: hook.id }),
      await rival.errors(PingWebhookDocument, { id: hook.id }),
      await rival.errors(DeleteWebhookDocument, { id: hook.id }),
      await rival.errors(CreateWebhookDocument, { input: { listId: list.id, url: "http://127.0.0.1:9/steal" } }),
    ]) {
      expect(errors.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
    }
    const { list: theirs } = await listWithNorwaySegment(rival, "Theirs");
    const { segment: mine } = await listWithNorwaySegment(acme, "Mine");
    expect((await rival.errors(CreateWebhookDocument, { input: { listId: theirs.id, segmentIds: [mine.id], url: "http://127.0.0.1:9/x" } }))[0]!.extensions?.code).toBe("NOT_FOUND");
    expect((await acme.data(WebhooksDocument, { listId: list.id })).webhooks.map((found) => found.status)).toEqual(["ACTIVE"]);
  });

  it("bad input is refused with BAD_USER_INPUT or NOT_FOUND, naming the problem, and creates nothing", async () => {
    const { list, segment } = await listWithNorwaySegment(acme, "Refusals");
    const { createContactList: other } = await acme.data(CreateListDocument, { input: { name: "Other" } });
    const { createSegment: elsewhere } = await acme.data(CreateSegmentDocument, {
      input: { listId: other.id, name: "Elsewhere", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ url: "not a url" }, "BAD_USER_INPUT", /is not a URL/],
      [{ url: "ftp://127.0.0.1/x" }, "BAD_USER_INPUT", /must start with https:\/\/ or http:\/\//],
      [{ url: "http://user:secret@127.0.0.1/x" }, "BAD_USER_INPUT", /must not contain credentials/],
      [{ url: `https://127.0.0.1/${"x".repeat(2_100)}` }, "BAD_USER_INPUT", /longer than 2048/],
      [{ url: "http://127.0.0.1:9/x", segmentIds: [] }, "BAD_USER_INPUT", /at least one segment/],
      [{ url: "http://127.0.0.1:9/x", segmentIds: [elsewhere.id] }, "BAD_USER_INPUT", /belongs to another list/],
      [{ url: "http://127.0.0.1:9/x", segmentIds: [segment.id, list.id] }, "NOT_FOUND", /does not exist/],
      [{ url: "http://127.0.0.1:9/x", listId: segment.id }, "NOT_FOUND", /does not exist/],
    ];
    for (const [input, code, message] of cases) {
      const errors = await acme.errors(CreateWebhookDocument, { input: { listId: list.id, url: "", ...input } as never });
      expect({ input, code: errors[0]!.extensions?.code }).toEqual({ input, code });
      expect(errors[0]!.message).toMatch(message);
    }
    expect((await acme.data(WebhooksDocument, { listId: list.id })).webhooks).toEqual([]);
    for (const id of ["nope", list.id, Buffer.from("Webhook:999999").toString("base64url")]) {
      expect((await acme.errors(PingWebhookDocument, { id }))[0]!.extensions?.code).toBe("NOT_FOUND");
    }
  });
});

describe("webhooks: target addresses without WEBHOOK_ALLOW_PRIVATE_URLS", () => {
  it("http://, loopback, private, link-local (metadata) and carrier-grade NAT targets are refused at creation, by address or by what a name resolves to", async () => {
    const dns = new Map<string, string[]>([
      ["loopback.example.test", ["127.0.0.1"]],
      ["metadata.example.test", ["169.254.169.254"]],
      ["mixed.example.test", ["93.184.216.34", "10.1.2.3"]],
      ["v6.example.test", ["::1"]],
      ["public.example.test", ["93.184.216.34"]],
    ]);
    const { client } = await startTestServer({
      webhooks: {
        resolver: async (hostname) => {
          const addresses = dns.get(hostname);
          if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
          return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
        },
      },
    });
    const { list } = await listWithNorwaySegment(client, "Public only");
    const refused: [string, RegExp][] = [
      ["http://public.example.test/hook", /must start with https:\/\//],
      ["https://127.0.0.1/hook", /127\.0\.0\.1 is not a public address \(loopback\)/],
      ["https://169.254.169.254/latest/meta-data", /169\.254\.169\.254 is not a public address \(linkLocal\)/],
      ["https://10.0.0.8/hook", /\(private\)/],
      ["https://172.20.1.1/hook", /\(private\)/],
      ["https://192.168.1.1/hook", /\(private\)/],
      ["https://100.100.100.200/hook", /\(carrierGradeNat\)/],
      ["https://[::1]/hook", /\(loopback\)/],
      ["https://[fd00:ec2::254]/hook", /\(uniqueLocal\)/],
      ["https://[fe80::1]/hook", /\(linkLocal\)/],
      ["https://[::ffff:127.0.0.1]/hook", /\(loopback\)/],
      ["https://2130706433/hook", /127\.0\.0\.1 is not a public address/],
      ["https://loopback.example.test/hook", /loopback\.example\.test resolves to 127\.0\.0\.1/],
      ["https://metadata.example.test/hook", /metadata\.example\.test resolves to 169\.254\.169\.254/],
      ["https://mixed.example.test/hook", /resolves to 10\.1\.2\.3/],
      ["https://v6.example.test/hook", /resolves to ::1/],
      ["https://unknown.example.test/hook", /could not be resolved \(ENOTFOUND\)/],
    ];
    for (const [url, message] of refused) {
      const errors = await client.errors(CreateWebhookDocument, { input: { listId: list.id, url } });
      expect({ url, code: errors[0]!.extensions?.code }).toEqual({ url, code: "BAD_USER_INPUT" });
      expect(errors[0]!.message).toMatch(message);
    }
    expect((await client.data(WebhooksDocument, { listId: list.id })).webhooks).toEqual([]);
    const accepted = await client.data(CreateWebhookDocument, { input: { listId: list.id, url: "https://public.example.test/hook" } });
    expect(accepted.createWebhook.webhook.url).toBe("https://public.example.test/hook");
  });
});
