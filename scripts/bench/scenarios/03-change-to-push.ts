/**
 * 3. Change-to-push latency: updateContact over HTTP, each change making its contact enter or
 * leave at least one of the list's 100 DYNAMIC segments; measured from sending the mutation to
 * the first resulting event arriving at a graphql-ws client subscribed to the list. First one
 * update at a time, then an open-loop 1,000 updates/s, checking every expected transition
 * arrives (the bench computes them with the reference predicates).
 */
import { cpus } from "node:os";
import { toGlobalId } from "../../../src/common/ids";
import { evalTime } from "../../../src/conditions";
import { mix, rng } from "../data";
import { ListModel, type Update } from "../support/model";
import { measured } from "../support/profile";
import { type ChildServer, cpuShares, serviceRole, startChildServer, treeCpuMs } from "../support/server";
import { fmt, percentile, sleep } from "../support/stats";
import type { BenchContext, Figure, Scenario } from "../support/types";
import { subscribeList } from "../support/ws";

/** The sustained load's first seconds, reported apart: the jump from one update at a time to the full rate. */
const START_SECONDS = 2;

/** Smallest, median and largest of some figures in ms. */
function fmtSpread(values: readonly number[]): string {
  if (values.length === 0) return "(none)";
  const sorted = [...values].sort((a, b) => a - b);
  return `from ${sorted[0]!.toFixed(0)} to ${sorted[sorted.length - 1]!.toFixed(0)} ms, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms`;
}

const UPDATE = `mutation($id: ID!, $input: ContactPatchInput!) { updateContact(id: $id, input: $input) { id } }`;

interface Tracked {
  update: Update;
  body: string;
  sentAt: number;
  firstAt: number | null;
  /** `${segmentGlobalId}|${kind}` of the transitions still expected. */
  expected: Set<string>;
  unexpected: number;
  onFirst: (() => void) | null;
}

function shuffle(count: number, seed: number): number[] {
  const r = rng(seed);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export interface PushLatencyOptions {
  /** The server's name (its log and database copy). */
  name: string;
  /** Environment for the server (WORKERS, …). */
  env?: Record<string, string>;
  /** Whether to run the one-at-a-time part before the sustained one. */
  sequential: boolean;
  /**
   * Seconds at the full rate before the measured sustained part (then a pause of 2 s): the
   * service's first seconds at that rate (its code optimised for it, its heap grown to it, the
   * client's connections opened) reported apart, as `warmUp`.
   */
  warmAtRateSeconds?: number;
}

/** CPU use during the sustained part: the machine's cores, the service's processes, and the bench process (the load and the subscriber), in % of one core but for `busyPercent` (of all cores). */
export interface MachineLoad {
  cores: number;
  busyPercent: number;
  servicePercent: number;
  serviceProcesses: number;
  benchPercent: number;
  /** Each of the service's processes: what it is and its % of a core. */
  byProcess: string[];
}

/** The note line of a MachineLoad. */
export function machineNote(load: MachineLoad): string {
  return `CPU during the sustained part: the machine's ${load.cores} cores ${load.busyPercent.toFixed(0)} % busy; the service's ${load.serviceProcesses} process${load.serviceProcesses === 1 ? "" : "es"} ${load.servicePercent.toFixed(0)} % of a core${load.serviceProcesses > 1 ? ` (${load.byProcess.join(", ")})` : ""}, the bench process (the load and the subscriber) ${load.benchPercent.toFixed(0)} %`;
}

export interface PushLatencyResult {
  figures: Figure[];
  notes: string[];
  /** The sustained part: write→push latency percentiles (ms; the p99 after its first seconds, and each second's), transitions lost, failed requests, answered updates/s, and the machine's CPU meanwhile. */
  sustained: { p50: number; p99: number; p99AfterStart: number; secondP99s: number[]; lost: number; httpErrors: number; throughput: number; machine: MachineLoad };
  /** The unmeasured seconds at the full rate before it (warmAtRateSeconds): p99 write→push (ms) and failed requests. */
  warmUp: { p99: number; httpErrors: number } | null;
}

export const changeToPush: Scenario = {
  id: 3,
  name: "Change-to-push latency",
  run: (ctx) => pushLatency(ctx, { name: "s3-latency", sequential: true }),
};

/**
 * Scenario 3's measurement, also run by scenario 15 against several server processes (where
 * the CPU figures, read from the one process it started, are left out).
 */
export async function pushLatency(ctx: BenchContext, options: PushLatencyOptions): Promise<PushLatencyResult> {
  const fixture = await ctx.fixtures.mid();
  const model = new ListModel(fixture);
  const sequentialCount = !options.sequential ? 0 : ctx.quick ? 200 : 1_000;
  const warmCount = ctx.quick ? 50 : 100;
  const rate = 1_000;
  const seconds = ctx.quick ? 5 : 30;
  const sustainedCount = rate * seconds;
  const warmAtRateCount = rate * (options.warmAtRateSeconds ?? 0);

  // Updates are chosen up front, one per contact (distinct contacts), each causing >= 1 transition.
  const order = shuffle(fixture.count, 4242);
  const r = rng(mix(4242, 1));
  const at = evalTime(Date.now());
  const updates: Update[] = [];
  for (const index of order) {
    if (updates.length >= warmCount + sequentialCount + warmAtRateCount + sustainedCount) break;
    const update = model.propose(index, r, at, (n) => n >= 1);
    if (update) updates.push(update);
  }
  if (updates.length < warmCount + sequentialCount + warmAtRateCount + sustainedCount) throw new Error(`only ${updates.length} updates could be prepared`);
  const transitionsPerUpdate = updates.reduce((s, u) => s + u.transitions.length, 0) / updates.length;
  const tracked = updates.map<Tracked>((update) => ({
    update,
    body: JSON.stringify({ query: UPDATE, variables: { id: toGlobalId("Contact", update.contactId), input: update.input } }),
    sentAt: 0,
    firstAt: null,
    expected: new Set(update.transitions.map((t) => `${toGlobalId("Segment", t.segmentId)}|${t.kind}`)),
    unexpected: 0,
    onFirst: null,
  }));
  const byContact = new Map(tracked.map((t) => [toGlobalId("Contact", t.update.contactId), t]));

  const server = await startChildServer(ctx, options.name, ctx.fixtures.copy(fixture, options.name), options.env);
  let strays = 0;
  const listId = toGlobalId("ContactList", fixture.listId);
  const { contactList } = await server.gql.request(`query($id: ID!) { contactList(id: $id) { eventCursor } }`, { id: listId });
  const subscriber = subscribeList(server.wsUrl, listId, contactList.eventCursor, (arrivedAt, event) => {
    const t = byContact.get(event.contactId);
    if (!t) return void strays++;
    if (!t.expected.delete(`${event.segmentId}|${event.change}`)) t.unexpected++;
    if (t.firstAt === null) {
      t.firstAt = arrivedAt;
      t.onFirst?.();
    }
  });
  try {
    const { gql } = server;
    const sendOne = async (t: Tracked) => {
      const first = new Promise<void>((resolve) => (t.onFirst = resolve));
      t.sentAt = performance.now();
      const response = gql.requestBody(t.body);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 10_000)));
      const outcome = await Promise.race([Promise.all([response, first]), timeout]);
      clearTimeout(timer);
      if (outcome === "timeout") throw new Error(`no event within 10 s for an update of contact ${t.update.contactId} (${subscriber.errors.length} subscription errors: ${JSON.stringify(subscriber.errors).slice(0, 300)})`);
    };

    // Warm-up (not measured); its first event also proves the subscription is live.
    for (const t of tracked.slice(0, warmCount)) await sendOne(t);

    const sequential = tracked.slice(warmCount, warmCount + sequentialCount);
    const seqCpu = await cpuOf(server, () =>
      measured(ctx, "sequential updates", async () => {
        for (const t of sequential) await sendOne(t);
      }),
    );
    const seqLatencies = sequential.map((t) => t.firstAt! - t.sentAt);

    // Sustained: open loop at `rate`/s; a send is never held back by earlier responses. Should the
    // server fall more than 1 s behind (20 times the p99 target; quick: 0.3 s), sending stops
    // there so the run stays bounded; the latencies of what was sent are still reported.
    const backlogLimit = ctx.quick ? 0.3 * rate : rate;
    /** Sends `list` open loop at `rate`/s from `started`; resolves once every response is in. */
    const atRate = async (list: readonly Tracked[], started: number) => {
      const run = { sent: 0, answered: 0, httpErrors: 0, stoppedAt: null as number | null, sendSeconds: 0 };
      const responses: Promise<void>[] = [];
      while (run.sent < list.length && run.stoppedAt === null) {
        const due = Math.min(list.length, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
        for (; run.sent < due; run.sent++) {
          const t = list[run.sent]!;
          t.sentAt = performance.now();
          responses.push(
            gql.post(t.body).then(
              ({ status, text }) => {
                run.answered++;
                if (status !== 200 || text.includes('"errors"')) run.httpErrors++;
              },
              () => {
                run.answered++;
                run.httpErrors++;
              },
            ),
          );
        }
        if (run.sent - run.answered > backlogLimit) run.stoppedAt = (performance.now() - started) / 1000;
        await sleep(1);
      }
      run.sendSeconds = (performance.now() - started) / 1000;
      await Promise.all(responses);
      return run;
    };

    let warmUp: PushLatencyResult["warmUp"] = null;
    if (warmAtRateCount > 0) {
      const list = tracked.slice(warmCount + sequentialCount, warmCount + sequentialCount + warmAtRateCount);
      const run = await atRate(list, performance.now());
      const deadline = performance.now() + 10_000;
      while (list.some((t) => t.expected.size > 0) && performance.now() < deadline) await sleep(20);
      warmUp = { p99: percentile(list.filter((t) => t.firstAt !== null).map((t) => t.firstAt! - t.sentAt), 99), httpErrors: run.httpErrors };
      await sleep(2_000);
    }

    const sustained = tracked.slice(warmCount + sequentialCount + warmAtRateCount);
    const started = performance.now();
    const shares = cpuShares();
    const serviceBefore = treeCpuMs(server.pid);
    let run: Awaited<ReturnType<typeof atRate>> | undefined;
    const susCpu = await cpuOf(server, () =>
      measured(ctx, "sustained 1000/s", async () => {
        run = await atRate(sustained, started);
      }),
    );
    const { sent, httpErrors, stoppedAt, sendSeconds } = run!;
    const answerSeconds = (performance.now() - started) / 1000;
    const { busyPercent, ownCpuMs } = shares();
    const serviceAfter = treeCpuMs(server.pid);
    const machine = {
      cores: cpus().length,
      busyPercent,
      servicePercent: (100 * (serviceAfter.ms - serviceBefore.ms)) / susCpu.wallMs,
      serviceProcesses: serviceAfter.processes,
      benchPercent: (100 * ownCpuMs) / susCpu.wallMs,
      byProcess: [...serviceAfter.byPid].map(([pid, ms]) => `${pid === server.pid && serviceAfter.processes > 1 ? "primary" : serviceRole(pid)}${ctx.profiling ? ` (pid ${pid})` : ""} ${((100 * (ms - (serviceBefore.byPid.get(pid) ?? 0))) / susCpu.wallMs).toFixed(0)} %`),
    };
    // Every expected transition must arrive; give stragglers up to 10 s.
    const sentUpdates = sustained.slice(0, sent);
    const deadline = performance.now() + 10_000;
    while (sentUpdates.some((t) => t.expected.size > 0) && performance.now() < deadline) await sleep(20);
    const lost = sentUpdates.reduce((s, t) => s + t.expected.size, 0);
    const expectedTotal = sentUpdates.reduce((s, t) => s + t.update.transitions.length, 0);
    const unexpected = tracked.reduce((s, t) => s + t.unexpected, 0);
    const susLatencies = sentUpdates.filter((t) => t.firstAt !== null).map((t) => t.firstAt! - t.sentAt);
    // The load starts at once, from the one-at-a-time pace to `rate`: what its first seconds cost
    // apart from the rest, and how the p99 of each second spreads.
    const bySecond: number[][] = [];
    for (const t of sentUpdates) if (t.firstAt !== null) (bySecond[Math.floor((t.sentAt - started) / 1000)] ??= []).push(t.firstAt - t.sentAt);
    const secondP99s = bySecond.filter((values) => values?.length).map((values) => percentile(values, 99));
    const afterStart = bySecond.slice(START_SECONDS).flat();
    const rssAfter = server.rssKiB() / 1024;

    const p = (values: number[], q: number) => percentile(values, q);
    return {
      sustained: { p50: p(susLatencies, 50), p99: p(susLatencies, 99), p99AfterStart: p(afterStart, 99), secondP99s, lost, httpErrors, throughput: sent / answerSeconds, machine },
      warmUp,
      figures: [
        { label: "one at a time: p50", value: p(seqLatencies, 50), unit: "ms", target: { op: "<=", value: 3 } },
        { label: "one at a time: p99", value: p(seqLatencies, 99), unit: "ms", target: { op: "<=", value: 10 } },
        { label: `${fmt(rate)} updates/s for ${seconds} s: p99`, value: p(susLatencies, 99), unit: "ms", target: { op: "<=", value: 50 } },
        { label: "updateContact throughput under that load", value: sent / answerSeconds, unit: "updates/s" },
        { label: "server event-loop CPU per update under that load", value: susCpu.eventLoop / sent, unit: "ms" },
        { label: `${fmt(rate)} updates/s: events lost`, value: lost, unit: "", target: { op: "==", value: 0 }, pass: lost === 0 && httpErrors === 0 },
      ],
      notes: [
        `list of ${fmt(fixture.count)} contacts, ${fixture.segments.length} DYNAMIC segments; one graphql-ws client subscribed with listId; ${transitionsPerUpdate.toFixed(2)} transitions per update on average`,
        `one at a time (${sequential.length} updates after ${warmCount} warm-up): p50 ${p(seqLatencies, 50).toFixed(2)} ms, p90 ${p(seqLatencies, 90).toFixed(2)} ms, p99 ${p(seqLatencies, 99).toFixed(2)} ms, max ${Math.max(...seqLatencies).toFixed(2)} ms`,
        `one at a time, by transitions per update: ${byTransitions(sequential, p)}`,
        `sustained: ${fmt(sent)} of ${fmt(sustained.length)} updates sent in ${sendSeconds.toFixed(1)} s${stoppedAt === null ? "" : ` (sending stopped at ${stoppedAt.toFixed(1)} s: more than ${fmt(backlogLimit)} updates unanswered)`}, all answered after ${answerSeconds.toFixed(1)} s (server throughput ${fmt(sent / answerSeconds)} updates/s); p50 ${p(susLatencies, 50).toFixed(1)} ms, p99 ${p(susLatencies, 99).toFixed(1)} ms, max ${Math.max(...susLatencies).toFixed(1)} ms; ${fmt(expectedTotal)} transitions expected, ${lost} lost, ${unexpected} unexpected, ${strays} stray events, ${httpErrors} HTTP/GraphQL errors, ${subscriber.errors.length} subscription errors`,
        `server CPU per update, event-loop thread / all threads: one at a time ${(seqCpu.eventLoop / sequential.length).toFixed(3)} / ${(seqCpu.process / sequential.length).toFixed(3)} ms; sustained ${(susCpu.eventLoop / sent).toFixed(3)} / ${(susCpu.process / sent).toFixed(3)} ms, the event loop busy ${((100 * susCpu.eventLoop) / susCpu.wallMs).toFixed(0)} % of the ${(susCpu.wallMs / 1000).toFixed(1)} s`,
        ...(warmUp ? [`before it, unmeasured: ${fmt(warmAtRateCount)} updates at ${fmt(rate)}/s from the one-at-a-time pace, p99 ${warmUp.p99.toFixed(1)} ms, ${warmUp.httpErrors} failed requests; then 2 s without updates`] : []),
        `sustained, by second: p99 ${p(bySecond.slice(0, START_SECONDS).flat(), 99).toFixed(1)} ms over the first ${START_SECONDS} s and ${p(afterStart, 99).toFixed(1)} ms over the rest; each second's p99 ${fmtSpread(secondP99s)}`,
        machineNote(machine),
        `server VmRSS after the sustained load: ${rssAfter.toFixed(1)} MiB`,
      ],
    };
  } finally {
    await subscriber.close();
    await server.stop();
  }
}

/** The server's CPU time (ms) over what `fn` waits for, and the wall time it took. */
async function cpuOf(server: ChildServer, fn: () => Promise<unknown>): Promise<{ eventLoop: number; process: number; wallMs: number }> {
  const before = server.cpuMs();
  const started = performance.now();
  await fn();
  const wallMs = performance.now() - started;
  const after = server.cpuMs();
  return { eventLoop: after.eventLoop - before.eventLoop, process: after.process - before.process, wallMs };
}

/** Latency percentiles of the updates grouped by how many transitions each caused. */
function byTransitions(updates: readonly Tracked[], p: (values: number[], q: number) => number): string {
  const groups: { label: string; test: (n: number) => boolean }[] = [
    { label: "1–2", test: (n) => n <= 2 },
    { label: "3–6", test: (n) => n >= 3 && n <= 6 },
    { label: "7 or more", test: (n) => n >= 7 },
  ];
  return groups
    .map(({ label, test }) => {
      const latencies = updates.filter((t) => test(t.update.transitions.length)).map((t) => t.firstAt! - t.sentAt);
      if (latencies.length === 0) return `${label}: none`;
      return `${label}: ${latencies.length} updates, p50 ${p(latencies, 50).toFixed(2)} ms, p99 ${p(latencies, 99).toFixed(2)} ms`;
    })
    .join("; ");
}
