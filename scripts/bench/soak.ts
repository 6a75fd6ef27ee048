/**
 * npm run bench -- --soak [minutes]   (default 10)
 *
 * The service under a steady mixed load for a long while, through its real entry point
 * (NODE_ENV=production, EVENT_RETENTION=2m so retention runs all along): contact updates,
 * additions and deletions; reads of members, segment counts, filtered contacts and previews;
 * graphql-ws subscribers coming and going; and whole list lifecycles (create, import, segment,
 * edit, subscribe, delete). Every minute it records the server's resident memory, its open file
 * descriptors, the event loop's longest delay in that minute (from /metrics, which resets it at
 * each scrape), and the database and WAL sizes.
 *
 * It fails on a climbing memory trend (least-squares slope after the first two minutes above
 * 1 MiB a minute), an event-loop stall over 50 ms, a growing descriptor count (slope above 1 a
 * minute), a failed request, an unclean stop, or a database `verify` finds inconsistent.
 */
import { readdirSync, statSync } from "node:fs";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { openStore } from "../../src/app";
import { loadConfig } from "../../src/config";
import { generateContacts, segmentConditions, utcMidnight, CUSTOM_FIELDS } from "./data";
import { rmDb } from "./support/fixtures";
import { Gql } from "./support/http";
import { type ChildServer, startChildServer, TMP_DIR } from "./support/server";
import { fmt, sleep } from "./support/stats";
import type { BenchContext } from "./support/types";
import { join } from "node:path";

const WARM_UP_MINUTES = 2;
const LIMITS = { rssSlopeMiBPerMinute: 1, stallMs: 50, fdSlopePerMinute: 1 };

interface Sample {
  minute: number;
  rssMiB: number;
  heapMiB: number;
  fds: number;
  stallMs: number;
  dbMiB: number;
  walMiB: number;
  operations: number;
  errors: number;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

const mib = (bytes: number) => bytes / 1_048_576;
const fileMiB = (path: string) => {
  try {
    return mib(statSync(path).size);
  } catch {
    return 0;
  }
};

/** The event loop's longest delay since the previous scrape, and the JavaScript heap in use, from /metrics. */
async function scrape(server: ChildServer): Promise<{ stallMs: number; heapMiB: number }> {
  const text = await (await fetch(server.url.replace(/\/graphql$/, "/metrics"))).text();
  const value = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  return { stallMs: value("nodejs_eventloop_lag_max_seconds") * 1000, heapMiB: mib(value("nodejs_heap_size_used_bytes")) };
}

/** The load: each loop runs until `stop` is set, counting operations and failures. */
class Load {
  stopped = false;
  operations = 0;
  errors: string[] = [];
  private readonly loops: Promise<void>[] = [];
  readonly rand: () => number;

  constructor(
    readonly gql: Gql,
    seed: number,
  ) {
    let state = seed;
    this.rand = () => ((state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  async call<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T | undefined> {
    try {
      const data = await this.gql.request<T>(query, variables);
      this.operations++;
      return data;
    } catch (error) {
      this.errors.push((error as Error).message.slice(0, 300));
      return undefined;
    }
  }

  /** Runs `body` every `everyMs` (or back to back when it takes longer) until stopped. */
  every(everyMs: number, body: () => Promise<void>): void {
    this.loops.push(
      (async () => {
        while (!this.stopped) {
          const started = performance.now();
          await body();
          const left = everyMs - (performance.now() - started);
          if (left > 0) await sleep(left);
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

export async function runSoak(ctx: BenchContext, minutes: number): Promise<number> {
  const { log } = ctx;
  const dbPath = join(TMP_DIR, "soak.db");
  rmDb(dbPath);
  const server = await startChildServer(ctx, "soak", dbPath, { EVENT_RETENTION: "2m" });
  const load = new Load(server.gql, 2026);
  const subscribers: { close(): Promise<void> }[] = [];
  let subscriberErrors = 0;
  let failed = false;
  try {
    // A working list: 5,000 contacts and 12 segments, 10 DYNAMIC and 2 STATIC.
    const today = utcMidnight(Date.now());
    const { createContactList: list } = (await server.gql.request(`mutation($input: CreateContactListInput!) { createContactList(input: $input) { id } }`, {
      input: { name: "soak", customFields: CUSTOM_FIELDS.map(({ key, type }) => ({ key, type })) },
    })) as { createContactList: { id: string } };
    const rows = generateContacts(42, 0, 5_000, { today });
    for (let i = 0; i < rows.length; i += 1_000) {
      await server.gql.request(`mutation($listId: ID!, $contacts: [ContactInput!]!) { addContacts(listId: $listId, contacts: $contacts) { added } }`, {
        listId: list.id,
        contacts: rows.slice(i, i + 1_000),
      });
    }
    const segmentIds: string[] = [];
    for (const [i, spec] of segmentConditions(12, 11).entries()) {
      const { createSegment } = (await server.gql.request(`mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, {
        input: { listId: list.id, name: spec.name, type: i < 10 ? "DYNAMIC" : "STATIC", condition: spec.condition },
      })) as { createSegment: { id: string } };
      segmentIds.push(createSegment.id);
    }
    const contactIds: string[] = [];
    let after: string | null = null;
    do {
      const page = (await server.gql.request(`query($id: ID!, $after: String) { contactList(id: $id) { contacts(first: 500, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }`, {
        id: list.id,
        after,
      })) as { contactList: { contacts: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } };
      contactIds.push(...page.contactList.contacts.nodes.map((n) => n.id));
      after = page.contactList.contacts.pageInfo.hasNextPage ? page.contactList.contacts.pageInfo.endCursor : null;
    } while (after);
    log(`   soak list: ${fmt(contactIds.length)} contacts, ${segmentIds.length} segments; load for ${minutes} min`);

    // Writes: 50 updates a second, and 5 additions and 5 deletions, so the list keeps its size.
    let added = 0;
    const fresh: string[] = [];
    const countries = ["Norway", "Sweden", "Denmark", "Finland", "Germany"];
    load.every(20, async () => {
      const id = load.pick(contactIds);
      await load.call(`mutation($id: ID!, $input: ContactPatchInput!) { updateContact(id: $id, input: $input) { id } }`, {
        id,
        input: { country: load.pick(countries), attributes: { score: Math.floor(load.rand() * 100) }, tags: load.rand() < 0.5 ? ["vip"] : ["newsletter"] },
      });
    });
    load.every(200, async () => {
      const data = await load.call<{ addContact: { id: string } }>(`mutation($listId: ID!, $input: ContactInput!) { addContact(listId: $listId, input: $input) { id } }`, {
        listId: list.id,
        input: { email: `soak-${added++}@example.com`, country: load.pick(countries), birthDate: "1990-05-17" },
      });
      if (data) fresh.push(data.addContact.id);
      if (fresh.length > 20) await load.call(`mutation($id: ID!) { deleteContact(id: $id) }`, { id: fresh.shift() });
    });
    // Reads: about 60 a second.
    load.every(50, async () => {
      await load.call(`query($id: ID!) { segment(id: $id) { memberCount members(first: 50) { nodes { id email } } } }`, { id: load.pick(segmentIds) });
    });
    load.every(50, async () => {
      await load.call(`query($id: ID!) { contactList(id: $id) { contactCount segments { id memberCount status } } }`, { id: list.id });
    });
    load.every(100, async () => {
      await load.call(`query($id: ID!, $where: ConditionInput) { contactList(id: $id) { contacts(first: 20, where: $where) { totalCount nodes { id } } } }`, {
        id: list.id,
        where: { field: "country", operator: "EQUALS", value: load.pick(countries) },
      });
    });
    load.every(500, async () => {
      await load.call(`query($listId: ID!, $condition: ConditionInput!) { segmentPreview(listId: $listId, condition: $condition, sample: 5) { count } }`, {
        listId: list.id,
        condition: { and: [{ field: "tags", operator: "HAS_ANY", value: ["vip"] }, { field: "attributes.score", operator: "GREATER_THAN", value: 50 }] },
      });
    });
    // Subscribers: about 20 at a time, one joining and the oldest leaving every half second.
    const subscribe = (segmentId: string, wsCursor: string | null) => {
      const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => subscriberErrors++ });
      client.subscribe(
        { query: `subscription($id: ID, $after: String) { segmentMembershipChanged(segmentId: $id, after: $after) { cursor change contact { email } } }`, variables: { id: segmentId, after: wsCursor } },
        { next: () => undefined, error: () => subscriberErrors++, complete: () => undefined },
      );
      return { close: () => client.dispose() as Promise<void> };
    };
    load.every(500, async () => {
      const segmentId = load.pick(segmentIds);
      const cursor = load.rand() < 0.5 ? (await load.call<{ segment: { eventCursor: string } }>(`query($id: ID!) { segment(id: $id) { eventCursor } }`, { id: segmentId }))?.segment.eventCursor : null;
      subscribers.push(subscribe(segmentId, cursor ?? null));
      if (subscribers.length > 20) await subscribers.shift()!.close();
    });
    // List lifecycles: every 15 s a list is made, filled, segmented, edited, watched and deleted.
    let lifecycles = 0;
    load.every(15_000, async () => {
      const n = lifecycles++;
      const made = await load.call<{ createContactList: { id: string } }>(`mutation($input: CreateContactListInput!) { createContactList(input: $input) { id } }`, {
        input: { name: `lifecycle ${n}`, timeZone: "Europe/Oslo", customFields: CUSTOM_FIELDS.map(({ key, type }) => ({ key, type })) },
      });
      if (!made) return;
      const id = made.createContactList.id;
      // 500 contacts in calls of 100, as a client syncing a list sends them.
      for (let start = 0; start < 500; start += 100) {
        await load.call(`mutation($listId: ID!, $contacts: [ContactInput!]!) { addContacts(listId: $listId, contacts: $contacts) { added } }`, {
          listId: id,
          contacts: generateContacts(1_000 + n, start, 100, { today }),
        });
      }
      const segments: string[] = [];
      for (const spec of segmentConditions(3, n)) {
        const segment = await load.call<{ createSegment: { id: string } }>(`mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, {
          input: { listId: id, name: spec.name, type: "DYNAMIC", condition: spec.condition },
        });
        if (segment) segments.push(segment.createSegment.id);
      }
      const watcher = segments[0] ? subscribe(segments[0], null) : null;
      if (segments[0]) {
        await load.call(`mutation($id: ID!, $input: UpdateSegmentInput!) { updateSegment(id: $id, input: $input) { id } }`, {
          id: segments[0],
          input: { condition: { field: "country", operator: "IN", value: ["Norway", "Sweden"] } },
        });
      }
      await sleep(2_000);
      await load.call(`mutation($id: ID!) { deleteContactList(id: $id) }`, { id });
      await watcher?.close();
    });

    // Samples: at the start and at the end of every minute.
    const samples: Sample[] = [];
    const sample = async (minute: number) => {
      const fds = readdirSync(`/proc/${server.pid}/fd`).length;
      const s: Sample = {
        minute,
        rssMiB: server.rssKiB() / 1024,
        fds,
        ...(await scrape(server)),
        dbMiB: fileMiB(dbPath),
        walMiB: fileMiB(`${dbPath}-wal`),
        operations: load.operations,
        errors: load.errors.length,
      };
      samples.push(s);
      log(
        `   minute ${String(minute).padStart(3)}: RSS ${s.rssMiB.toFixed(1)} MiB (heap ${s.heapMiB.toFixed(1)} MiB), ${s.fds} descriptors, longest event-loop delay ${s.stallMs.toFixed(1)} ms, ` +
          `database ${s.dbMiB.toFixed(1)} MiB + WAL ${s.walMiB.toFixed(1)} MiB, ${fmt(s.operations)} operations, ${s.errors} failed`,
      );
      if (s.errors > (samples.at(-2)?.errors ?? 0)) log(`     latest failure: ${load.errors.at(-1)}`);
    };
    await sample(0);
    const started = performance.now();
    for (let minute = 1; minute <= minutes; minute++) {
      await sleep(Math.max(0, started + minute * 60_000 - performance.now()));
      await sample(minute);
    }
    await load.stop();
    await Promise.all(subscribers.splice(0).map((s) => s.close()));

    // Verdicts.
    const steady = samples.filter((s) => s.minute >= WARM_UP_MINUTES);
    const rssSlope = slope(steady.map((s) => ({ x: s.minute, y: s.rssMiB })));
    const fdSlope = slope(steady.map((s) => ({ x: s.minute, y: s.fds })));
    const worstStall = Math.max(...samples.slice(1).map((s) => s.stallMs));
    const judged = steady.length >= 3;
    const checks: [string, boolean][] = [
      [`memory trend after minute ${WARM_UP_MINUTES}: ${rssSlope.toFixed(2)} MiB/min (limit ${LIMITS.rssSlopeMiBPerMinute})${judged ? "" : " — too short to judge"}`, !judged || rssSlope <= LIMITS.rssSlopeMiBPerMinute],
      [`descriptor trend after minute ${WARM_UP_MINUTES}: ${fdSlope.toFixed(2)}/min (limit ${LIMITS.fdSlopePerMinute})${judged ? "" : " — too short to judge"}`, !judged || fdSlope <= LIMITS.fdSlopePerMinute],
      [`longest event-loop stall: ${worstStall.toFixed(1)} ms (limit ${LIMITS.stallMs})`, worstStall <= LIMITS.stallMs],
      [`failed requests: ${load.errors.length}${load.errors[0] ? ` (first: ${load.errors[0]})` : ""}; subscriber errors: ${subscriberErrors}`, load.errors.length === 0 && subscriberErrors === 0],
    ];
    const { stoppedCleanly } = await server.stop();
    checks.push([`stopped cleanly on SIGTERM: ${stoppedCleanly ? "yes" : "no"}`, stoppedCleanly]);
    const store = await openStore(loadConfig({ SQLITE_PATH: dbPath, LOG_LEVEL: "silent" }));
    try {
      const report = await store.verify();
      checks.push([`verify: ${report.segments} segments, ${fmt(report.contactsChecked)} contacts, ${report.differences.length} differences`, report.differences.length === 0]);
    } finally {
      await store.close();
    }
    log("");
    log(`soak: ${minutes} min, ${fmt(load.operations)} operations (${fmt(load.operations / (minutes * 60))}/s), ${lifecycles} list lifecycles`);
    log("| minute | RSS (MiB) | heap used (MiB) | descriptors | longest event-loop delay (ms) | database (MiB) | WAL (MiB) |");
    log("|---|---|---|---|---|---|---|");
    for (const s of samples) log(`| ${s.minute} | ${s.rssMiB.toFixed(1)} | ${s.heapMiB.toFixed(1)} | ${s.fds} | ${s.minute === 0 ? "" : s.stallMs.toFixed(1)} | ${s.dbMiB.toFixed(1)} | ${s.walMiB.toFixed(1)} |`);
    for (const [text, ok] of checks) log(`${ok ? "PASS" : "FAIL"} ${text}`);
    failed = checks.some(([, ok]) => !ok);
    return failed ? 1 : 0;
  } finally {
    load.stopped = true;
    await Promise.all(subscribers.map((s) => s.close().catch(() => undefined)));
    await server.stop();
    if (!failed) rmDb(dbPath);
  }
}
