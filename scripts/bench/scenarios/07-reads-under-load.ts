/**
 * 7. Reads under load: autocannon with 200 concurrent keep-alive connections against the server
 * (a child process, so the load generator does not share its event loop), one run per query:
 * segment.members(first: 100) rotating over the list's 100 segments, and
 * contactList.segments { memberCount }. Any transport error (timeouts included), non-2xx status or
 * GraphQL error in a body counts as an error.
 *
 * A third run, `{ __typename }` (no resolver, no store), measures the floor of the HTTP and
 * GraphQL stack at the same concurrency: by Little's law, 200 closed-loop clients see a p99 of at
 * least 200 / throughput, so p99 ≤ 20 ms needs ≥ 10,000 requests/s from the server.
 */
import autocannon from "autocannon";
import { toGlobalId } from "../../../src/common/ids";
import { measured } from "../support/profile";
import { startChildServer } from "../support/server";
import { fmt } from "../support/stats";
import type { BenchContext, Figure, Scenario } from "../support/types";

export const MEMBERS = `query Members($id: ID!) { segment(id: $id) { id memberCount members(first: 100) { nodes { id email firstName lastName country } pageInfo { hasNextPage endCursor } } } }`;
export const SEGMENTS = `query Segments($id: ID!) { contactList(id: $id) { id segments { id name memberCount } } }`;

export async function load(ctx: BenchContext, url: string, label: string, bodies: string[], connections: number, duration: number) {
  let next = 0;
  const options: autocannon.Options = {
    url,
    connections,
    duration,
    method: "POST",
    headers: { "content-type": "application/json" },
    timeout: 10,
    requests: [
      {
        setupRequest(request) {
          request.body = bodies[next++ % bodies.length]!;
          return request;
        },
      },
    ],
    verifyBody: (body) => body.startsWith('{"data"') && !body.includes('"errors"'),
  };
  return measured(ctx, label, () => autocannon(options));
}

export const readsUnderLoad: Scenario = {
  id: 7,
  name: "Reads under load",
  async run(ctx) {
    const fixture = await ctx.fixtures.mid();
    const duration = ctx.quick ? 1.5 : 30;
    const warmUp = ctx.quick ? 0.3 : 2;
    const connections = 200;
    const server = await startChildServer(ctx, "s7-reads", ctx.fixtures.copy(fixture, "s7-reads"));
    try {
      const listId = toGlobalId("ContactList", fixture.listId);
      const queries = [
        { name: "segment.members(first: 100)", bodies: fixture.segments.map((s) => JSON.stringify({ query: MEMBERS, variables: { id: toGlobalId("Segment", s.id) } })) },
        { name: "contactList.segments { memberCount }", bodies: [JSON.stringify({ query: SEGMENTS, variables: { id: listId } })] },
        { name: "floor: { __typename }", bodies: [JSON.stringify({ query: "{ __typename }" })], floor: true },
      ];
      const figures: Figure[] = [];
      const throughput = new Map<string, number>();
      const notes: string[] = [`list of ${fmt(fixture.count)} contacts and ${fixture.segments.length} segments; ${connections} connections, ${duration} s per query after a ${warmUp} s warm-up with 20 connections`];
      for (const query of queries) {
        await load(ctx, server.url, `warm-up ${query.name}`, query.bodies, 20, warmUp);
        const result = await load(ctx, server.url, query.name, query.bodies, connections, duration);
        // autocannon counts timeouts among its errors.
        const errors = result.errors + result.non2xx + result.mismatches;
        const target = <T>(value: T) => ("floor" in query ? undefined : value);
        figures.push({ label: `${query.name}: p99`, value: result.latency.p99, unit: "ms", target: target({ op: "<=", value: 20 }) });
        figures.push({ label: `${query.name}: errors`, value: errors, unit: "", target: target({ op: "==", value: 0 }) });
        figures.push({ label: `${query.name}: throughput`, value: result.requests.average, unit: "req/s" });
        throughput.set(query.name, result.requests.average);
        notes.push(
          `${query.name}: ${fmt(result.requests.total)} requests, ${fmt(result.requests.average)} req/s; latency p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}, bodies with errors ${result.mismatches}; ${connections} connections ÷ ${fmt(result.requests.average)} req/s = ${fmt((connections / result.requests.average) * 1000)} ms mean latency (Little's law)`,
        );
      }
      // The stack's own cost bounds every query: each is judged against the floor of the same run.
      const floor = throughput.get("floor: { __typename }")!;
      for (const query of queries.filter((q) => !("floor" in q))) {
        figures.push({ label: `${query.name}: share of the floor's throughput`, value: Math.round((100 * throughput.get(query.name)!) / floor), unit: "%", target: { op: ">=", value: 50 } });
      }
      return { figures, notes };
    } finally {
      await server.stop();
    }
  },
};
