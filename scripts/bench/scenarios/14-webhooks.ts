/**
 * 14. Webhook delivery of a backlog: a list whose DYNAMIC segment takes in 100,000 new contacts
 * (quick: 20,000) while its webhook is disabled, through the real service (a child process);
 * then enableWebhook, and the time until a local receiver (node:http in this process, checking
 * every request's signature, order and duplicates as a receiver would) has acknowledged every
 * event. Batches of at most 500 events, one in flight, each signed, on a new connection.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startChildServer } from "../support/server";
import { fmt, percentile, until } from "../support/stats";
import type { Scenario } from "../support/types";

const ADD = `mutation($listId: ID!, $contacts: [ContactInput!]!) { addContacts(listId: $listId, contacts: $contacts) { added } }`;
const PENDING = `query($listId: ID!) { webhooks(listId: $listId) { id status pendingEvents deliveredCursor } }`;

/** A receiver that verifies each request as the README's snippet does and counts what it got. */
async function startReceiver(secret: () => string) {
  const state = { requests: 0, events: 0, badSignatures: 0, outOfOrder: 0, last: -1, firstAt: 0, lastAt: 0, handlingMs: [] as number[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const started = performance.now();
      const raw = Buffer.concat(chunks).toString("utf8");
      const { t, v1 } = Object.fromEntries(String(req.headers["segments-signature"]).split(",").map((part) => part.split("=", 2))) as { t: string; v1: string };
      const expected = createHmac("sha256", secret()).update(`${t}.${raw}`).digest();
      const given = Buffer.from(v1 ?? "", "hex");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) state.badSignatures++;
      const body = JSON.parse(raw) as { events: { cursor: string }[] };
      for (const event of body.events) {
        const position = Number(Buffer.from(event.cursor, "base64url").toString("utf8").split("|")[1]);
        if (position <= state.last) state.outOfOrder++;
        state.last = Math.max(state.last, position);
      }
      state.requests++;
      state.events += body.events.length;
      state.firstAt ||= performance.now();
      state.lastAt = performance.now();
      state.handlingMs.push(performance.now() - started);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export const webhooks: Scenario = {
  id: 14,
  name: "Webhook delivery",
  async run(ctx) {
    const backlog = ctx.quick ? 20_000 : 100_000;
    let secret = "";
    const receiver = await startReceiver(() => secret);
    const server = await startChildServer(ctx, "s14-webhooks", ctx.fixtures.path("s14-webhooks.db"), { WEBHOOK_ALLOW_PRIVATE_URLS: "true" });
    try {
      const { gql } = server;
      const { createContactList: list } = await gql.request<{ createContactList: { id: string } }>(`mutation { createContactList(input: { name: "Webhook backlog" }) { id } }`);
      await gql.request(`mutation($listId: ID!) { createSegment(input: { listId: $listId, name: "Norway", type: DYNAMIC, condition: { field: "country", operator: EQUALS, value: "Norway" } }) { id } }`, {
        listId: list.id,
      });
      const { createWebhook } = await gql.request<{ createWebhook: { secret: string; webhook: { id: string } } }>(
        `mutation($listId: ID!, $url: String!) { createWebhook(input: { listId: $listId, url: $url }) { secret webhook { id } } }`,
        { listId: list.id, url: receiver.url },
      );
      secret = createWebhook.secret;
      await gql.request(`mutation($id: ID!) { disableWebhook(id: $id) { status } }`, { id: createWebhook.webhook.id });

      const loading = performance.now();
      for (let start = 0; start < backlog; start += 10_000) {
        const contacts = Array.from({ length: Math.min(10_000, backlog - start) }, (_, i) => ({ email: `c${start + i}@example.no`, country: "Norway" }));
        await gql.request(ADD, { listId: list.id, contacts });
      }
      await until(
        async () => ((await gql.request<{ webhooks: { pendingEvents: number }[] }>(PENDING, { listId: list.id })).webhooks[0]!.pendingEvents >= backlog ? true : undefined),
        120_000,
        "the backlog's events",
        200,
      );
      ctx.log(`   ${fmt(backlog)} events waiting for the disabled webhook after ${((performance.now() - loading) / 1000).toFixed(1)} s`);

      const cpuBefore = server.cpuMs();
      const started = performance.now();
      await gql.request(`mutation($id: ID!) { enableWebhook(id: $id) { status } }`, { id: createWebhook.webhook.id });
      await until(() => (receiver.state.events >= backlog ? true : undefined), 300_000, "every event at the receiver", 5);
      const seconds = (receiver.state.lastAt - started) / 1000;
      const cpu = server.cpuMs();
      const after = await until(
        async () => {
          const [hook] = (await gql.request<{ webhooks: { pendingEvents: number; status: string }[] }>(PENDING, { listId: list.id })).webhooks;
          return hook!.pendingEvents === 0 ? hook : undefined;
        },
        30_000,
        "the last acknowledgment",
        20,
      );
      const { state } = receiver;
      const rate = Math.round(backlog / seconds);
      return {
        figures: [
          { label: `${fmt(backlog)}-event backlog delivered`, value: rate, unit: "events/s", target: { op: ">=", value: 20_000 } },
          { label: "time to deliver the backlog", value: Math.round(seconds * 1000), unit: "ms" },
          { label: "requests (≤ 500 events each)", value: state.requests, unit: "" },
          { label: "events delivered twice or out of order", value: state.outOfOrder + (state.events - backlog), unit: "", target: { op: "==", value: 0 } },
          { label: "requests whose signature did not verify", value: state.badSignatures, unit: "", target: { op: "==", value: 0 } },
          { label: "server CPU while delivering (event loop)", value: Math.round(cpu.eventLoop - cpuBefore.eventLoop), unit: "ms" },
        ],
        notes: [
          `first request ${Math.round(state.firstAt - started)} ms after enableWebhook was sent; webhook ${after.status} with 0 events pending afterwards`,
          `the receiver's own handling (parse, HMAC, order check) per request: p50 ${percentile(state.handlingMs, 50).toFixed(2)} ms, p99 ${percentile(state.handlingMs, 99).toFixed(2)} ms`,
        ],
      };
    } finally {
      await server.stop();
      await receiver.close();
    }
  },
};
