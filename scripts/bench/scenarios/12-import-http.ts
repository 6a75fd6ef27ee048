/**
 * 12. CSV import over HTTP: a 1,000,000-row CSV file (about 100 MB; quick: 100,000 rows) POSTed
 * to /lists/{id}/imports, streamed from disk, into a list with the 4 custom fields and 20 DYNAMIC
 * segments (created while it is empty). Timed from the first byte sent until the answer ends (the
 * job DONE: every row committed, each batch applied by the engine before the next is written),
 * and until the engine reports nothing pending. The server's resident memory is sampled every
 * 100 ms; the figure is its highest value less the value just before the upload. Afterwards the
 * job's counts are checked against the file, and every segment's member count against a fresh
 * count of its condition.
 *
 * Floors, measured in this process on the same rows, each one core's work the import pays
 * whatever else happens:
 * - csv-parse alone: the file read and parsed into records, nothing else;
 * - the store write alone: the rows, validated beforehand, written by the store port's
 *   insertContacts in batches of 5,000 into a fresh database (no segments, no engine, no HTTP);
 * - the import alone: the same file through ImportService (the code behind the endpoint) into a
 *   list without segments on a fresh database in this process, no HTTP.
 *
 * And what the import keeps: the same in-process import again (a list with the 20 segments this
 * time), with a full garbage collection every 100 ms, and the highest JavaScript heap after one,
 * less the heap before. The server's RSS also holds garbage not yet collected and SQLite's page
 * cache (64 MiB a connection), which fill whatever the size of the file.
 */
import { createReadStream, createWriteStream, statSync } from "node:fs";
import http from "node:http";
import { pipeline } from "node:stream/promises";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify";
import { Caller } from "../../../src/caller";
import { toGlobalId } from "../../../src/common/ids";
import { OPEN_WORKSPACE } from "../../../src/security/api-keys";
import { CUSTOM_FIELDS, generateContacts, type SegmentSpec, segmentConditions, utcMidnight } from "../data";
import { rmDb } from "../support/fixtures";
import { retainedHeap, storeWriteFloor } from "../support/floors";
import { measured } from "../support/profile";
import { openApp, startChildServer } from "../support/server";
import { fmt, sleep } from "../support/stats";
import type { Scenario } from "../support/types";

const SEED = 1212;
const COLUMNS = ["email", "firstName", "lastName", "phone", "country", "city", "gender", "birthDate", "tags", "score", "plan", "lastPurchase", "newsletter"];
const CREATE_LIST = `mutation($input: CreateContactListInput!) { createContactList(input: $input) { id } }`;
const CREATE_SEGMENT = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
const ENGINE = `{ membershipEngine { pendingChanges buildingSegments } }`;
const JOB = `query($id: ID!) { importJob(id: $id) { status rowsRead added updated failed bytesRead failure } }`;

/** Writes `total` generated contacts as a CSV file, with csv-stringify. */
async function writeCsv(path: string, total: number, today: number): Promise<void> {
  async function* rows() {
    yield COLUMNS;
    for (let start = 0; start < total; start += 10_000) {
      for (const contact of generateContacts(SEED, start, Math.min(10_000, total - start), { today })) {
        const a = contact.attributes;
        yield [
          contact.email,
          contact.firstName,
          contact.lastName,
          contact.phone,
          contact.country,
          contact.city,
          contact.gender,
          contact.birthDate,
          contact.tags.join(";"),
          a.score ?? "",
          a.plan ?? "",
          a.lastPurchase ?? "",
          a.newsletter ?? "",
        ].map((value) => (value === null || value === undefined ? "" : String(value)));
      }
    }
  }
  await pipeline(rows(), stringify(), createWriteStream(path));
}

/** POSTs a file as the body (Content-Length set) and resolves with the answer once it ends; `sent` is told the bytes sent so far. */
function upload(url: string, path: string, sent: (bytes: number) => void = () => {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", headers: { "content-type": "text/csv", "content-length": statSync(path).size } }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
      response.on("error", reject);
    });
    request.on("error", reject);
    let bytes = 0;
    createReadStream(path)
      .on("data", (chunk) => sent((bytes += chunk.length)))
      .pipe(request);
  });
}

export const importHttp: Scenario = {
  id: 12,
  name: "CSV import over HTTP",
  async run(ctx) {
    const total = ctx.quick ? 100_000 : 1_000_000;
    const today = utcMidnight(Date.now());
    const file = ctx.fixtures.path("s12-import.csv");
    const warmFile = ctx.fixtures.path("s12-warm.csv");
    const generated = performance.now();
    await writeCsv(file, total, today);
    await writeCsv(warmFile, 5_000, today);
    const bytes = statSync(file).size;
    ctx.log(`   ${fmt(total)} rows, ${(bytes / 1_048_576).toFixed(1)} MB written in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

    const specs = segmentConditions(20, 11);
    const dbPath = ctx.fixtures.path("s12-import.db");
    rmDb(dbPath);
    const server = await startChildServer(ctx, "s12-import", dbPath);
    let result;
    try {
      const { gql } = server;
      const base = server.url.replace(/\/graphql$/, "");
      const createList = async (name: string) => {
        const { createContactList } = await gql.request(CREATE_LIST, { input: { name, customFields: CUSTOM_FIELDS.map(({ key, label, type }) => ({ key, label, type })) } });
        for (const spec of specs) await gql.request(CREATE_SEGMENT, { input: { listId: createContactList.id, name: spec.name, type: "DYNAMIC", condition: spec.condition } });
        return createContactList.id as string;
      };
      const caughtUp = async () => {
        for (;;) {
          const { membershipEngine } = await gql.request(ENGINE);
          if (membershipEngine.pendingChanges === 0 && membershipEngine.buildingSegments === 0) return;
          await sleep(5);
        }
      };
      // Warm-up on another list with the same segments, not timed.
      const warm = await upload(`${base}/lists/${await createList("import warm-up")}/imports`, warmFile);
      if (warm.status !== 202) throw new Error(`warm-up import answered ${warm.status}: ${warm.text}`);
      const listId = await createList("import");
      await caughtUp();

      const before = server.rssKiB();
      let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, server.rssKiB())), 100);
      const started = performance.now();
      let answered = 0;
      let answer = { status: 0, text: "" };
      try {
        await measured(ctx, "import", async () => {
          answer = await upload(`${base}/lists/${listId}/imports`, file);
          answered = performance.now();
          await caughtUp();
        });
      } finally {
        clearInterval(sampler);
      }
      const applied = performance.now();
      peak = Math.max(peak, server.rssKiB());
      if (answer.status !== 202) throw new Error(`the import answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      const { importJob } = await gql.request(JOB, { id: JSON.parse(answer.text).importId });
      const jobExact = importJob.status === "DONE" && importJob.rowsRead === total && importJob.added === total && importJob.failed === 0 && importJob.bytesRead === bytes;

      // Exactness: stored member counts against a fresh evaluation of each condition (SQL, via segmentPreview).
      const { contactList } = await gql.request<{ contactList: { contactCount: number; segments: { memberCount: number; status: string; condition: unknown }[] } }>(
        `query($id: ID!) { contactList(id: $id) { contactCount segments { memberCount status condition } } }`,
        { id: listId },
      );
      let mismatches = 0;
      for (const segment of contactList.segments) {
        const { segmentPreview } = await gql.request(`query($listId: ID!, $condition: ConditionInput!) { segmentPreview(listId: $listId, condition: $condition, sample: 0) { count } }`, {
          listId,
          condition: segment.condition,
        });
        if (segmentPreview.count !== segment.memberCount || segment.status !== "READY") mismatches++;
      }
      result = {
        seconds: (answered - started) / 1000,
        appliedSeconds: (applied - started) / 1000,
        growthMiB: (peak - before) / 1024,
        beforeMiB: before / 1024,
        jobExact,
        importJob,
        contactCount: contactList.contactCount,
        mismatches,
        segments: contactList.segments.length,
      };
    } finally {
      await server.stop();
    }

    // The floors last, in this process.
    const parsing = await parseFloor(file);
    const batches = function* () {
      for (let start = 0; start < total; start += 5_000) yield generateContacts(SEED, start, Math.min(5_000, total - start), { today });
    };
    const write = await storeWriteFloor(batches(), ctx.fixtures.path("s12-store-write.db"));
    const alone = await importFloor(file, total, ctx.fixtures.path("s12-import-alone.db"), []);
    const kept = await retainedHeap(() => importFloor(file, total, ctx.fixtures.path("s12-import-heap.db"), specs));
    const ceiling = 1 / (1 / parsing.rate + 1 / write.rate);
    const rate = total / result.seconds;
    return {
      figures: [
        { label: "rows/s, end to end (until the job is DONE)", value: Math.round(rate), unit: "rows/s", target: { op: ">=", value: 40_000 } },
        { label: "server RSS growth during the import", value: Math.round(result.growthMiB), unit: "MiB", target: { op: "<=", value: 150 } },
        { label: "JavaScript heap the import keeps (in process, after GC)", value: Math.round(kept.growthMiB), unit: "MiB", target: { op: "<=", value: 32 } },
        { label: "floor: csv-parse alone", value: Math.round(parsing.rate), unit: "rows/s" },
        { label: "floor: store write alone (insertContacts, no segments)", value: Math.round(write.rate), unit: "rows/s" },
        { label: "ceiling of the two floors together, one core", value: Math.round(ceiling), unit: "rows/s" },
        { label: "the import alone (ImportService, no HTTP, no segments)", value: Math.round(alone.rate), unit: "rows/s" },
        { label: "job counts and segments exact at the end", value: `${result.jobExact && result.contactCount === total ? "job ok" : "JOB WRONG"}, ${result.segments - result.mismatches}/${result.segments} segments`, unit: "", pass: result.jobExact && result.contactCount === total && result.mismatches === 0 },
      ],
      notes: [
        `${fmt(total)} rows (${(statSync(file).size / 1_048_576).toFixed(1)} MB) in one POST into a list with ${specs.length} DYNAMIC segments: answer ended (job ${result.importJob.status}) after ${result.seconds.toFixed(2)} s, engine caught up after ${result.appliedSeconds.toFixed(2)} s`,
        `server RSS ${fmt(result.beforeMiB)} MiB before the upload, at most ${fmt(result.beforeMiB + result.growthMiB)} MiB during it (sampled every 100 ms)`,
        `the same import in this process (the 20 segments, a full GC every 100 ms): JavaScript heap ${fmt(kept.baseMiB, 1)} MiB before, at most ${fmt(kept.baseMiB + kept.growthMiB, 1)} MiB during it`,
        `csv-parse alone (same file, this process): ${fmt(parsing.ms)} ms = ${fmt(parsing.rate)} rows/s`,
        `store write alone (same rows validated beforehand, insertContacts in batches of 5,000 into a fresh file, no segments, engine not running): ${fmt(write.ms)} ms = ${fmt(write.rate)} rows/s; with csv-parse in sequence: ${fmt(ceiling)} rows/s before validation, the job's writes and any membership work`,
        `the import alone (ImportService from the file into a list without segments, fresh file, this process, no HTTP): ${fmt(alone.ms)} ms = ${fmt(alone.rate)} rows/s`,
      ],
    };
  },
};

/** The file parsed by csv-parse, records counted and dropped. */
async function parseFloor(path: string): Promise<{ ms: number; rate: number }> {
  const t0 = performance.now();
  let records = 0;
  for await (const _record of createReadStream(path).pipe(parse({ bom: true, relax_column_count: true }))) records++;
  const ms = performance.now() - t0;
  return { ms, rate: (records - 1) / (ms / 1000) };
}

/** The file through ImportService into a list with these segments, in this process. */
async function importFloor(path: string, total: number, dbPath: string, segments: readonly SegmentSpec[]): Promise<{ ms: number; rate: number }> {
  rmDb(dbPath);
  const app = await openApp(dbPath);
  try {
    const ctx = new Caller(app.store, OPEN_WORKSPACE);
    const list = await app.services.lists.create(ctx, { name: "import alone", customFields: CUSTOM_FIELDS });
    const listId = toGlobalId("ContactList", list.id);
    for (const spec of segments) await app.services.segments.create(ctx, { listId, name: spec.name, type: "DYNAMIC", condition: spec.condition });
    const t0 = performance.now();
    const started = await app.services.imports.start(ctx, listId, createReadStream(path), { upsert: false, ignoreUnknownColumns: false, bytesTotal: null });
    const job = await started.finished;
    const ms = performance.now() - t0;
    if (job.status !== "DONE" || job.added !== total) throw new Error(`import floor: ${job.status}, ${job.added} of ${total} added (${job.failure})`);
    return { ms, rate: total / (ms / 1000) };
  } finally {
    await app.stop();
    rmDb(dbPath);
  }
}
