import WebSocket from "ws";
import { print } from "graphql";
import { ManualClock } from "../../src/common/clock";
import {
  AddContactsDocument,
  MembershipChangedDocument,
} from "../graphql/generated";
import { listWithNorwaySegment } from "../support/data";
import { onMongo, startTestServer, stopAll } from "../support/harness";
import { streamsOpen } from "../support/ws";

afterAll(stopAll);

const contacts = (prefix: string, count: number, country = "Norway") =>
  Array.from({ length: count }, (_, i) => ({ email: `${prefix}-${i}@example.com`, country }));

describe("the event log and resumable subscriptions", () => {
  it("resuming after a cursor mid-stream, while writes continue, misses nothing and repeats nothing", async () => {
    const { client, ws, app } = await startTestServer();
    const { list } = await listWithNorwaySegment(client, "Events");
    const reference = ws().subscribe(MembershipChangedDocument, { listId: list.id });
    await streamsOpen(app, 1);
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("first", 50) });
    const firstFifty = await reference.waitFor(50);
    const resumeAt = firstFifty[19]!.segmentMembershipChanged.cursor;

    // Writes keep flowing while the second subscriber replays and switches to live.
    const writes = (async () => {
      for (let batch = 0; batch < 20; batch++) {
        await client.data(AddContactsDocument, { listId: list.id, contacts: contacts(`more-${batch}`, 10) });
      }
    })();
    const resumed = ws().subscribe(MembershipChangedDocument, { listId: list.id, after: resumeAt });
    await writes;

    const all = await reference.waitFor(250);
    const rest = await resumed.waitFor(230);
    const cursors = (events: typeof all) => events.map((e) => e.segmentMembershipChanged.cursor);
    expect(cursors(rest)).toEqual(cursors(all).slice(20));
    expect(new Set(cursors(all)).size).toBe(250);
  });

  // On MongoDB retention is a TTL index, which the server applies about once a minute: not testable here.
  (onMongo ? it.skip : it)("a cursor older than the retained log is refused with CURSOR_EXPIRED; a recent one still resumes", async () => {
    const clock = new ManualClock(Date.parse("2026-05-01T10:00:00.000Z"));
    const { client, ws, app } = await startTestServer({ clock, env: { EVENT_RETENTION: "7d" } });
    const { list } = await listWithNorwaySegment(client, "Events");
    const reference = ws().subscribe(MembershipChangedDocument, { listId: list.id });
    await streamsOpen(app, 1);
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("old", 3) });
    clock.set(Date.parse("2026-05-06T10:00:00.000Z"));
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("recent", 2) });
    const events = await reference.waitFor(5);

    // Eight days after the first events: they fall out of the 7-day retention.
    clock.set(Date.parse("2026-05-09T10:00:00.001Z"));
    await app.engine.drain();
    await app.engine.housekeep();

    const expired = ws().subscribe(MembershipChangedDocument, { listId: list.id, after: events[0]!.segmentMembershipChanged.cursor });
    await expired.done();
    expect(expired.errors.map((e) => e.extensions?.code)).toEqual(["CURSOR_EXPIRED"]);

    const resumed = ws().subscribe(MembershipChangedDocument, { listId: list.id, after: events[2]!.segmentMembershipChanged.cursor });
    const replayed = await resumed.waitFor(2);
    expect(replayed.map((e) => e.segmentMembershipChanged.contact?.email)).toEqual(["recent-0@example.com", "recent-1@example.com"]);
  });

  it("malformed cursors and cursors ahead of the log are refused with BAD_USER_INPUT", async () => {
    const { client, ws } = await startTestServer();
    const { list } = await listWithNorwaySegment(client, "Events");
    for (const after of ["not a cursor", Buffer.from("e|999999").toString("base64url"), Buffer.from("c|1|1").toString("base64url")]) {
      const subscription = ws().subscribe(MembershipChangedDocument, { listId: list.id, after });
      await subscription.done();
      expect(subscription.errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it("a subscriber that stops reading is served from the log when it falls behind, and then gets every event in order", async () => {
    // A small in-memory ring, so the stalled reader falls behind it.
    const { client, app, server } = await startTestServer({ eventRing: 100 });
    const { list } = await listWithNorwaySegment(client, "Events");
    const socket = new WebSocket(server.wsUrl, "graphql-transport-ws");
    const received: { cursor: string }[] = [];
    let acknowledged = false;
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "connection_ack") acknowledged = true;
      if (message.type === "next") received.push(message.payload.data.segmentMembershipChanged);
    });
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init" }));
    await until(() => acknowledged);
    socket.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: print(MembershipChangedDocument), variables: { listId: list.id } },
      }),
    );
    await streamsOpen(app, 1);
    // Stop reading from the TCP socket: the server's writes back up.
    const tcp = (socket as unknown as { _socket: import("node:net").Socket })._socket;
    tcp.pause();
    const total = 20_000;
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("burst-a", 10_000) });
    await client.data(AddContactsDocument, { listId: list.id, contacts: contacts("burst-b", 10_000) });
    expect(received.length).toBeLessThan(total);

    tcp.resume();
    await until(() => received.length >= total, 30_000);
    expect(app.services.events.replaysFromStore).toBeGreaterThan(0);
    const seqs = received.map((event) => Number(Buffer.from(event.cursor, "base64url").toString().split("|")[1]));
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    expect(received).toHaveLength(total);
    socket.close();
  });
});

function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error("timed out"));
      setTimeout(tick, 5);
    };
    tick();
  });
}
