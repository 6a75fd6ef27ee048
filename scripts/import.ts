/**
 * npm run import -- --list <list id> [--upsert] [--ignore-unknown-columns] [--workspace <name>] <file.csv>
 *
 * Imports a CSV file into a list of the database the service uses (SQLITE_PATH or MONGODB_URI),
 * through the same code as POST /lists/{listId}/imports: the job can be followed with importJob
 * and importProgress, and its refused rows read at GET /imports/{id}/errors.csv. It only writes:
 * the membership engine of the running service applies the rows (or of the next one to start).
 * On a terminal it shows a progress bar (rows, rows/s, ETA); otherwise one line a second.
 * Exit code: 0 when every row was imported, 1 when rows were refused or the file could not be
 * read to the end, 2 when nothing could start.
 */
import "reflect-metadata";
import { createReadStream, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { Presets, SingleBar } from "cli-progress";
import { createApp } from "../src/app";
import { Caller } from "../src/caller";
import { DomainError } from "../src/common/errors";
import { toGlobalId } from "../src/common/ids";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { findList } from "../src/modules/lists/list.service";
import { OPEN_WORKSPACE } from "../src/security/api-keys";
import type { ImportJobRecord } from "../src/stores/port";
import { runMain } from "./cli";

const USAGE = "usage: npm run import -- --list <list id> [--upsert] [--ignore-unknown-columns] [--workspace <name>] <file.csv>";
/** Refused rows printed at the end; the rest are in errors.csv. */
const SHOWN_ERRORS = 20;

const count = (n: number) => n.toLocaleString("en-US");
const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** Rows per second since `startedAt`, and the seconds left from the share of bytes read. */
function pace(job: ImportJobRecord, startedAt: number, size: number) {
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  const rate = job.rowsRead / seconds;
  const eta = job.bytesRead > 0 && job.bytesRead < size ? Math.round((seconds * (size - job.bytesRead)) / job.bytesRead) : 0;
  return { seconds, rate: Math.round(rate), eta };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      list: { type: "string" },
      upsert: { type: "boolean", default: false },
      "ignore-unknown-columns": { type: "boolean", default: false },
      workspace: { type: "string", default: OPEN_WORKSPACE },
    },
  });
  const file = positionals[0];
  if (!values.list || !file || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const size = statSync(file).size;
  const config = { ...loadConfig(), engineEnabled: false };
  // Writes only: the service's engine applies the rows, so no batch waits for it here.
  const app = await createApp(config, createLogger("warn"), { settings: { writeSettleMs: 0 } });
  try {
    const ctx = new Caller(app.store, values.workspace!);
    const list = await findList(ctx, values.list);
    if (!list) {
      console.error(`no list ${values.list} in workspace ${values.workspace}`);
      return 2;
    }
    const tty = process.stdout.isTTY === true;
    const bar = tty ? new SingleBar({ format: "{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta}s", hideCursor: true }, Presets.shades_classic) : null;
    const startedAt = Date.now();
    let printedAt = 0;
    const show = (job: ImportJobRecord) => {
      const { rate, eta } = pace(job, startedAt, size);
      if (bar) return bar.update(job.bytesRead, { rows: count(job.rowsRead), rate: count(rate), eta });
      if (Date.now() - printedAt < 1_000) return;
      printedAt = Date.now();
      console.log(`${count(job.rowsRead)} rows read (${count(job.added)} added, ${count(job.updated)} updated, ${count(job.failed)} failed), ${megabytes(job.bytesRead)} of ${megabytes(size)}, ${count(rate)} rows/s, ETA ${eta} s`);
    };
    let started;
    try {
      started = await app.services.imports.start(ctx, values.list, createReadStream(file), {
        upsert: values.upsert!,
        ignoreUnknownColumns: values["ignore-unknown-columns"]!,
        bytesTotal: size,
        onProgress: show,
        onInternalError: (error) => console.error(error),
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      console.error(error.message);
      return 2;
    }
    const id = toGlobalId("ImportJob", started.job.id);
    console.log(`import ${id} into ${JSON.stringify(list.name)}: ${started.job.status}, ${file} (${megabytes(size)})`);
    bar?.start(size, 0, { rows: "0", rate: "0", eta: "?" });
    const job = await started.finished;
    if (bar) {
      bar.update(job.bytesRead, { rows: count(job.rowsRead), rate: count(pace(job, startedAt, size).rate), eta: 0 });
      bar.stop();
    }
    for (const error of await app.services.imports.errors(job, SHOWN_ERRORS)) console.log(`row ${error.row}: ${error.code} ${error.message}`);
    if (job.failed > SHOWN_ERRORS) console.log(`… ${count(job.failed - SHOWN_ERRORS)} more refused rows: GET /imports/${id}/errors.csv has them all`);
    const { seconds, rate } = pace(job, startedAt, size);
    console.log(
      `${job.status}: ${count(job.rowsRead)} rows read, ${count(job.added)} added, ${count(job.updated)} updated, ${count(job.failed)} failed ` +
        `in ${seconds.toFixed(1)} s (${count(rate)} rows/s)${job.failure ? ` — ${job.failure}` : ""}`,
    );
    return job.status === "DONE" && job.failed === 0 ? 0 : 1;
  } finally {
    await app.stop();
  }
}

runMain(main);
