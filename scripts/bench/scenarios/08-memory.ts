/**
 * 8. Memory: the server (a child process: `node -r @swc-node/register src/main.ts`,
 * NODE_ENV=production) on a copy of the 1,000,000-contact database builds 20 DYNAMIC segments
 * created over HTTP; its resident memory (VmRSS from /proc/<pid>/status) is read once every
 * segment is READY, after a few reads, with the peak (VmHWM) beside it.
 */
import { existsSync, statSync } from "node:fs";
import { toGlobalId } from "../../../src/common/ids";
import { segmentConditions } from "../data";
import { measured } from "../support/profile";
import { startChildServer } from "../support/server";
import { fmt, sleep } from "../support/stats";
import type { Scenario } from "../support/types";

const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id status } }`;
const ENGINE = `{ membershipEngine { pendingChanges buildingSegments } }`;

export const memory: Scenario = {
  id: 8,
  name: "Memory after the build",
  async run(ctx) {
    const fixture = await ctx.fixtures.big();
    const specs = segmentConditions(20, 11);
    const dbPath = ctx.fixtures.copy(fixture, "s8-memory");
    const server = await startChildServer(ctx, "s8-memory", dbPath);
    try {
      const { gql } = server;
      const listId = toGlobalId("ContactList", fixture.listId);
      await gql.request(`query($id: ID!) { contactList(id: $id) { contactCount } }`, { id: listId });
      const rssStart = server.rssKiB();
      const started = performance.now();
      await measured(ctx, "build 20 segments", async () => {
        for (const spec of specs) await gql.request(CREATE, { input: { listId, name: spec.name, type: "DYNAMIC", condition: spec.condition } });
        for (;;) {
          const { membershipEngine } = await gql.request(ENGINE);
          if (membershipEngine.buildingSegments === 0 && membershipEngine.pendingChanges === 0) break;
          await sleep(50);
        }
      });
      const buildSeconds = (performance.now() - started) / 1000;
      const { contactList } = await gql.request(`query($id: ID!) { contactList(id: $id) { contactCount segments { id status memberCount } } }`, { id: listId });
      for (const segment of contactList.segments.slice(0, 5)) {
        await gql.request(`query($id: ID!) { segment(id: $id) { members(first: 100) { nodes { id email } } } }`, { id: segment.id });
      }
      const settleMs = ctx.quick ? 500 : 2_000;
      await sleep(settleMs);
      const rss = server.rssKiB();
      const peak = server.peakKiB();
      const members = contactList.segments.reduce((s: number, x: { memberCount: number }) => s + x.memberCount, 0);
      // What a million contacts cost on disk: the database with its WAL, as the server left them.
      const onDisk = ["", "-wal"].reduce((sum, suffix) => sum + (existsSync(dbPath + suffix) ? statSync(dbPath + suffix).size : 0), 0);
      return {
        figures: [
          { label: `server RSS after the build (${fmt(fixture.count)} contacts, 20 segments)`, value: (rss * 1024) / 1e6, unit: "MB", target: { op: "<=", value: 500 } },
          { label: "server peak RSS (VmHWM)", value: (peak * 1024) / 1e6, unit: "MB" },
          { label: "database and WAL on disk", value: onDisk / 1e6, unit: "MB" },
        ],
        notes: [
          `VmRSS ${fmt((rssStart * 1024) / 1e6, 1)} MB after start-up and a first read, ${fmt((rss * 1024) / 1e6, 1)} MB after the build (${settleMs / 1000} s after the last read), peak ${fmt((peak * 1024) / 1e6, 1)} MB (MB = 10^6 bytes)`,
          `20 DYNAMIC segments built over HTTP in ${buildSeconds.toFixed(1)} s (${fmt(members)} memberships); the database file is ${fmt(fixture.count)} contacts preloaded through the store port`,
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
