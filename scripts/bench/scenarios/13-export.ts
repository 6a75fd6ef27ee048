/**
 * 13. CSV export: GET /segments/{id}/members.csv of a segment of 1,000,000 members (quick: 50,000)
 * — the big fixture's list with a DYNAMIC segment that every contact matches — read to its end by
 * a client that counts rows and drops them, timed from the request to the last byte; then GET
 * /lists/{id}/contacts.csv of the same list. The server's resident memory is sampled every 100 ms
 * during each; the figure is its highest value less the value just before.
 *
 * Floors, in this process on the same database, each one core's work every export pays:
 * - the store reads of the segment export (member pages, their contacts and join times, a page of
 *   EXPORT_PAGE at a time), without CSV or HTTP;
 * - csv-stringify alone, with the export's options, on 100,000 of its rows made beforehand.
 *
 * And what an export keeps: the segment export again in this process (ExportService to a sink
 * that drops the bytes), with a full garbage collection every 100 ms, and the highest JavaScript
 * heap after one, less the heap before. The server's RSS also holds garbage not yet collected and
 * SQLite's page cache (64 MiB a connection), which fill whatever the size of the export.
 */
import http from "node:http";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify/sync";
import { Caller } from "../../../src/caller";
import { toGlobalId } from "../../../src/common/ids";
import { csvStream } from "../../../src/modules/exports/csv-output";
import { EXPORT_PAGE } from "../../../src/modules/exports/export.service";
import { OPEN_WORKSPACE } from "../../../src/security/api-keys";
import { retainedHeap } from "../support/floors";
import { measured } from "../support/profile";
import { openApp, startChildServer } from "../support/server";
import { fmt, sleep } from "../support/stats";
import type { Scenario } from "../support/types";

const CREATE_SEGMENT = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
const SEGMENT = `query($id: ID!) { segment(id: $id) { status memberCount } }`;

/** GETs a CSV answer and counts its lines as they arrive (none is kept). */
function download(url: string): Promise<{ status: number; lines: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let [lines, bytes] = [0, 0];
        response.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, lines, bytes }));
        response.on("error", reject);
      })
      .on("error", reject);
  });
}

export const exportCsv: Scenario = {
  id: 13,
  name: "CSV export",
  async run(ctx) {
    const big = await ctx.fixtures.big();
    const dbPath = ctx.fixtures.copy(big, "s13-export");
    const server = await startChildServer(ctx, "s13-export", dbPath);
    const exports: { name: string; rows: number; seconds: number; growthMiB: number; beforeMiB: number; megabytes: number }[] = [];
    let segmentId = "";
    try {
      const base = server.url.replace(/\/graphql$/, "");
      const listId = toGlobalId("ContactList", big.listId);
      const { createSegment } = await server.gql.request(CREATE_SEGMENT, { input: { listId, name: "everyone", type: "DYNAMIC", condition: { field: "email", operator: "IS_SET" } } });
      segmentId = createSegment.id;
      for (;;) {
        const { segment } = await server.gql.request(SEGMENT, { id: segmentId });
        if (segment.status === "READY") break;
        await sleep(50);
      }
      // Warm-up: the first pages of both exports, not timed.
      await download(`${base}/lists/${listId}/contacts.csv?where=${encodeURIComponent(JSON.stringify({ field: "email", operator: "STARTS_WITH", value: "anna" }))}`);
      for (const [name, path] of [
        ["segment members", `/segments/${segmentId}/members.csv`],
        ["list contacts", `/lists/${listId}/contacts.csv`],
      ] as const) {
        const before = server.rssKiB();
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, server.rssKiB())), 100);
        const t0 = performance.now();
        let answer = { status: 0, lines: 0, bytes: 0 };
        try {
          answer = await measured(ctx, `export ${name}`, () => download(`${base}${path}`));
        } finally {
          clearInterval(sampler);
        }
        const seconds = (performance.now() - t0) / 1000;
        peak = Math.max(peak, server.rssKiB());
        if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
        exports.push({
          name,
          rows: answer.lines - 1,
          seconds,
          growthMiB: (peak - before) / 1024,
          beforeMiB: before / 1024,
          megabytes: answer.bytes / 1_048_576,
        });
      }
    } finally {
      await server.stop();
    }
    const floor = await readFloor(dbPath, segmentId);
    const formatting = await stringifyFloor(dbPath, segmentId);
    const ceiling = 1 / (1 / floor.rate + 1 / formatting.rate);
    const kept = await retainedHeap(() => exportInProcess(dbPath, segmentId));
    const [members, contacts] = exports as [(typeof exports)[0], (typeof exports)[0]];
    const count = big.count;
    return {
      figures: [
        { label: "segment export, rows/s", value: Math.round(members.rows / members.seconds), unit: "rows/s", target: { op: ">=", value: 100_000 } },
        { label: "segment export, server RSS growth", value: Math.round(members.growthMiB), unit: "MiB" },
        { label: "JavaScript heap the segment export keeps (in process, after GC)", value: Math.round(kept.growthMiB), unit: "MiB", target: { op: "<=", value: 32 } },
        { label: "list export, rows/s", value: Math.round(contacts.rows / contacts.seconds), unit: "rows/s" },
        { label: "list export, server RSS growth", value: Math.round(contacts.growthMiB), unit: "MiB" },
        { label: "floor: the store reads of the segment export alone", value: Math.round(floor.rate), unit: "rows/s" },
        { label: "floor: csv-stringify alone on its rows", value: Math.round(formatting.rate), unit: "rows/s" },
        { label: "ceiling of the two floors together, one core", value: Math.round(ceiling), unit: "rows/s" },
        { label: "every row exported", value: `${members.rows === count && contacts.rows === count ? "yes" : "NO"}`, unit: "", pass: members.rows === count && contacts.rows === count },
      ],
      notes: exports
        .map(
          (e) =>
            `${e.name}: ${fmt(e.rows)} rows, ${e.megabytes.toFixed(1)} MB of CSV in ${e.seconds.toFixed(2)} s; server RSS ${fmt(e.beforeMiB)} MiB before, at most ${fmt(e.beforeMiB + e.growthMiB)} MiB during it (sampled every 100 ms)`,
        )
        .concat([
          `the store reads alone (pageMembers, getContacts and joinedAt, ${EXPORT_PAGE} a page, this process): ${fmt(floor.ms)} ms = ${fmt(floor.rate)} rows/s`,
          `the segment export again in this process (a full GC every 100 ms, ${fmt(kept.value)} rows): JavaScript heap ${fmt(kept.baseMiB, 1)} MiB before, at most ${fmt(kept.baseMiB + kept.growthMiB, 1)} MiB during it`,
          `csv-stringify alone (escape_formulas, a page of ${EXPORT_PAGE} rows a call, ${fmt(formatting.rows)} rows of the segment export made beforehand, this process): ${fmt(formatting.ms)} ms = ${fmt(formatting.rate)} rows/s; the two in sequence: ${fmt(ceiling)} rows/s before the rows' cells are made and the bytes are sent`,
        ]),
    };
  },
};

/** csv-stringify on 100,000 rows of the segment export (made first, by the export's own code), a page per call as the export does. */
async function stringifyFloor(dbPath: string, segmentGlobalId: string): Promise<{ ms: number; rate: number; rows: number }> {
  const app = await openApp(dbPath);
  try {
    const csv = await app.services.exports.segmentMembers(new Caller(app.store, OPEN_WORKSPACE), segmentGlobalId);
    const pages: string[][][] = [];
    let rows = 0;
    for await (const page of csv.pages) {
      pages.push(page);
      if ((rows += page.length) >= 100_000) break;
    }
    const t0 = performance.now();
    for (const page of pages) stringify(page, { escape_formulas: true });
    const ms = performance.now() - t0;
    return { ms, rate: rows / (ms / 1000), rows };
  } finally {
    await app.stop();
  }
}

/** The segment export through ExportService and csvStream to a sink that drops the bytes; its rows. */
async function exportInProcess(dbPath: string, segmentGlobalId: string): Promise<number> {
  const app = await openApp(dbPath);
  try {
    const csv = await app.services.exports.segmentMembers(new Caller(app.store, OPEN_WORKSPACE), segmentGlobalId);
    let lines = 0;
    await pipeline(
      csvStream(csv.header, csv.pages),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
          done();
        },
      }),
    );
    return lines - 1;
  } finally {
    await app.stop();
  }
}

/** The store reads of a segment export, without CSV or HTTP. */
async function readFloor(dbPath: string, segmentGlobalId: string): Promise<{ ms: number; rate: number }> {
  const app = await openApp(dbPath);
  try {
    const segmentId = Buffer.from(segmentGlobalId, "base64url").toString("utf8").split(":")[1]!;
    const t0 = performance.now();
    let rows = 0;
    for (let after: string | undefined; ; ) {
      const page = await app.store.pageMembers(segmentId, EXPORT_PAGE, after);
      const [found] = await Promise.all([app.store.getContacts(page.items), app.store.joinedAt(segmentId, page.items)]);
      rows += found.length;
      if (!page.hasNextPage) break;
      after = page.items[page.items.length - 1];
    }
    const ms = performance.now() - t0;
    return { ms, rate: rows / (ms / 1000) };
  } finally {
    await app.stop();
  }
}
