/**
 * Webhooks across processes: the real service (src/main.ts) killed with SIGKILL in the middle of
 * a backlog resumes from the acknowledged cursor, and two processes on one database never both
 * send.
 */
import { AddContactsDocument, CreateWebhookDocument, WebhookDeliveriesDocument } from "../graphql/generated";
import { listWithNorwaySegment } from "../support/data";
import { stopAll } from "../support/harness";
import { killAll, spawnServer } from "../support/process";
import { closeReceivers, Receiver } from "../support/receiver";
import { newDatabase, storeEnv } from "../support/stores";

afterAll(async () => {
  await killAll();
  await stopAll();
  await closeReceivers();
});

const contacts = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ email: `${prefix}-${i}@example.com`, country: "Norway" }));
const position = (cursor: string) => Number(Buffer.from(cursor, "base64url").toString("utf8").split("|")[1]);

describe("webhooks and processes", () => {
  it("a service SIGKILLed with a backlog resumes after a restart from the acknowledged cursor: nothing is skipped, and only the batch in flight is sent again, with its delivery id", async () => {
    const env = { ...storeEnv(newDatabase()), WEBHOOK_ALLOW_PRIVATE_URLS: "true" };
    const receiver = await Receiver.start();
    // A slow receiver, so the kill lands while a batch is in flight.
    receiver.fallback = { status: 200, delayMs: 500 };
    const first = await spawnServer(env);
    const { list } = await listWithNorwaySegment(first.client, "Backlog");
    await first.client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    await first.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("backlog", 3_000) });
    await receiver.waitForRequests(3);
    await first.kill("SIGKILL");
    const beforeKill = receiver.requests.length;
    expect(beforeKill).toBeLessThan(6);

    const second = await spawnServer(env);
    await receiver.waitForEvents(3_000, 30_000);
    const done = await (async () => {
      for (;;) {
        const hook = (await second.client.data(WebhookDeliveriesDocument, { listId: list.id })).webhooks[0]!;
        if (hook.pendingEvents === 0 && hook.status === "ACTIVE") return hook;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    // Every event arrived, in cursor order where first seen; the acknowledged cursor is the last.
    const cursors = receiver.events.map((event) => event.cursor);
    const firstSeen = [...new Set(cursors)];
    expect(firstSeen).toHaveLength(3_000);
    expect(firstSeen.map(position)).toEqual(firstSeen.map(position).sort((a, b) => a - b));
    expect(done.deliveredCursor).toBe(firstSeen[2_999]);

    // What came twice is one batch, sent again whole under the delivery id it had.
    const byDelivery = new Map<string, string[]>();
    let repeated = 0;
    for (const request of receiver.requests) {
      const id = request.headers["segments-delivery-id"] as string;
      const batch = request.body.events.map((event) => event.cursor);
      if (byDelivery.has(id)) {
        expect(batch).toEqual(byDelivery.get(id));
        repeated += batch.length;
      } else {
        byDelivery.set(id, batch);
      }
    }
    expect(receiver.requests.length - byDelivery.size).toBe(1);
    expect(cursors.length - 3_000).toBe(repeated);
    expect(second.errorLines()).toEqual([]);
  });

  it("two processes on one database: one sends, the other takes over when it stops, and no batch is sent by both", async () => {
    const env = { ...storeEnv(newDatabase()), WEBHOOK_ALLOW_PRIVATE_URLS: "true" };
    const receiver = await Receiver.start();
    const first = await spawnServer(env);
    const second = await spawnServer(env);
    const { list } = await listWithNorwaySegment(second.client, "Two processes");
    // Made through the process that may not be the sender: the sender finds it.
    await second.client.data(CreateWebhookDocument, { input: { listId: list.id, url: receiver.url() } });
    await second.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("one", 40) });
    await receiver.waitForEvents(40);
    await first.kill("SIGTERM");
    await second.client.data(AddContactsDocument, { listId: list.id, contacts: contacts("two", 40) });
    const events = await receiver.waitForEvents(80);
    expect(new Set(events.map((event) => event.cursor)).size).toBe(80);
    expect(new Set(receiver.requests.map((request) => request.headers["segments-delivery-id"])).size).toBe(receiver.requests.length);
    expect(first.errorLines()).toEqual([]);
  });
});
