/**
 * 6. Fan-out: 10,000 graphql-ws connections, each with one subscription (listId filter), on one
 * server process (a child, so its memory is its own). Resident memory per idle subscriber is
 * the growth of the server's VmRSS from before connecting to all subscribed and idle, divided
 * by the subscriber count. Then single updates, each causing exactly one membership transition,
 * are timed from sending the mutation to the event's arrival at every subscriber.
 */
import { toGlobalId } from "../../../src/common/ids";
import { evalTime } from "../../../src/conditions";
import { mix, rng } from "../data";
import { ListModel, type Update } from "../support/model";
import { measured } from "../support/profile";
import { startChildServer } from "../support/server";
import { fmt, percentile, sleep } from "../support/stats";
import type { Scenario } from "../support/types";
import { LIST_EVENTS, RawSubscriber } from "../support/ws";

const UPDATE = `mutation($id: ID!, $input: ContactPatchInput!) { updateContact(id: $id, input: $input) { id } }`;

export const fanOut: Scenario = {
  id: 6,
  name: "Fan-out to graphql-ws subscribers",
  async run(ctx) {
    const fixture = await ctx.fixtures.mid();
    const model = new ListModel(fixture);
    const count = ctx.quick ? 1_000 : 10_000;
    const measuredChanges = ctx.quick ? 2 : 3;
    const r = rng(mix(6006, 6));
    const at = evalTime(Date.now());
    const updates: Update[] = [];
    for (let index = 0; updates.length < measuredChanges + 1 && index < fixture.count; index++) {
      const update = model.propose((index * 7 + 1) % fixture.count, r, at, (n) => n === 1);
      if (update) updates.push(update);
    }

    const server = await startChildServer(ctx, "s6-fanout", ctx.fixtures.copy(fixture, "s6-fanout"));
    const subscribers: RawSubscriber[] = [];
    try {
      const { gql } = server;
      const listId = toGlobalId("ContactList", fixture.listId);
      for (let i = 0; i < 10; i++) await gql.request(`query($id: ID!) { contactList(id: $id) { segments { memberCount } } }`, { id: listId });
      await sleep(ctx.quick ? 300 : 1_000);
      const rssBefore = server.rssKiB();

      const connectStarted = performance.now();
      const wave = 250;
      for (let i = 0; i < count; i += wave) {
        const group = Array.from({ length: Math.min(wave, count - i) }, () => new RawSubscriber(server.wsUrl, LIST_EVENTS, { listId }));
        subscribers.push(...group);
        await Promise.all(group.map((s) => s.ready));
      }
      const connectSeconds = (performance.now() - connectStarted) / 1000;
      const settleMs = ctx.quick ? 500 : 3_000;
      await sleep(settleMs);
      const rssIdle = server.rssKiB();
      const perSubscriberKB = ((rssIdle - rssBefore) * 1024) / 1000 / count;

      /** Sends one update and waits until every subscriber received its event; returns per-subscriber latencies. */
      const fanOutOnce = async (update: Update) => {
        const contactId = toGlobalId("Contact", update.contactId);
        const arrivals = new Array<number>(count).fill(Number.NaN);
        let arrived = 0;
        let done: () => void = () => undefined;
        const all = new Promise<void>((resolve) => (done = resolve));
        subscribers.forEach((s, i) => {
          s.onMessage = (arrivedAt, data) => {
            if (Number.isNaN(arrivals[i]!) && data.includes(contactId)) {
              arrivals[i] = arrivedAt;
              if (++arrived === count) done();
            }
          };
        });
        const sentAt = performance.now();
        await gql.request(UPDATE, { id: contactId, input: update.input });
        await Promise.race([all, sleep(30_000)]);
        model.apply(update);
        return { latencies: arrivals.filter((x) => !Number.isNaN(x)).map((x) => x - sentAt), missing: count - arrived };
      };

      const warm = await fanOutOnce(updates[0]!);
      const runs: { p50: number; p99: number; max: number; missing: number }[] = [];
      await measured(ctx, "fan-out", async () => {
        for (const update of updates.slice(1)) {
          await sleep(ctx.quick ? 200 : 500);
          const { latencies, missing } = await fanOutOnce(update);
          runs.push({ p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), missing });
        }
      });
      const worst = runs.reduce((a, b) => (b.p99 > a.p99 ? b : a));
      const missing = runs.reduce((s, x) => s + x.missing, 0);
      const errors = subscribers.reduce((s, x) => s + x.errors, 0);
      return {
        figures: [
          { label: `one change to ${fmt(count)} subscribers: p99`, value: worst.p99, unit: "ms", target: { op: "<=", value: 500 } },
          { label: "resident memory per idle subscriber", value: perSubscriberKB, unit: "KB", target: { op: "<=", value: 20 } },
          { label: "subscribers reached", value: `${fmt(count * runs.length - missing)}/${fmt(count * runs.length)}`, unit: "", pass: missing === 0 && warm.missing === 0 && errors === 0 },
        ],
        notes: [
          `${fmt(count)} WebSocket connections (graphql-transport-ws, one listId subscription each) opened in ${connectSeconds.toFixed(1)} s; server VmRSS ${fmt((rssBefore * 1024) / 1e6, 1)} MB before, ${fmt((rssIdle * 1024) / 1e6, 1)} MB with all subscribed and idle (${settleMs / 1000} s after the last subscribe)`,
          `per change (each one transition, ${runs.length} measured after a warm-up): ${runs.map((x) => `p50 ${x.p50.toFixed(0)} / p99 ${x.p99.toFixed(0)} / max ${x.max.toFixed(0)} ms`).join("; ")}; the worst p99 is reported`,
          `warm-up change: ${fmt(count - warm.missing)} of ${fmt(count)} subscribers reached, p99 ${percentile(warm.latencies, 99).toFixed(0)} ms; ${errors} subscriber errors`,
        ],
      };
    } finally {
      await Promise.all(subscribers.map((s) => s.close()));
      await server.stop();
    }
  },
};
