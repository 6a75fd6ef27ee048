/**
 * CSV imports: a byte stream (an HTTP upload, a file) read record by record into batches that are
 * written by the same code as addContacts, so membership and events follow each committed batch
 * exactly as they follow addContacts. Reading waits while a batch commits, so a fast client is
 * held back by TCP instead of by the server's memory. Each batch commits with the job's progress
 * and its refused rows in one transaction; the job lives in the store, so any process can follow
 * it, and a job whose process stopped reads FAILED once its heartbeat is older than
 * `importStaleAfterMs`.
 */
import { hostname } from "node:os";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { DomainError, ErrorCode, notFound } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import type { Caller } from "../../caller";
import type { ContactInputShape } from "../../domain/contacts";
import type { ServiceDeps } from "../../services";
import type { ImportJobRecord, ImportJobUpdate, ImportRowError, ListRecord } from "../../stores/port";
import { ContactService, type WriteOutcome } from "../contacts/contact.service";
import { requireList } from "../lists/list.service";
import { type ColumnTarget, contactOfRow, mapColumns } from "./csv-columns";
import { CsvFailure, CsvRecords, UploadInterrupted } from "./csv-records";

/** Rows written per batch (one transaction, one engine catch-up). */
const BATCH_ROWS = 5_000;
/** Cell characters held before a batch is written early, so that large rows keep memory bounded. */
const BATCH_CHARS = 16 * 1024 * 1024;
/** How often a running import renews its heartbeat and writes bytesRead; rows trickling in are committed at least this often. */
const HEARTBEAT_MS = 1_000;
const STALE_AFTER_MS = 10_000;
/** How often importProgress reads its job, and the longest it stays silent while the job runs. */
const POLL_MS = 200;
const SILENT_MS = 800;
/** The refused rows ImportJob.errors shows at most (errors.csv has them all). */
export const SHOWN_ERRORS = 1_000;

const STOPPED = "the import stopped without finishing: the process running it ended";

export interface ImportOptions {
  upsert: boolean;
  /** Skip columns that name no field instead of refusing the file. */
  ignoreUnknownColumns: boolean;
  /** The upload's size, when known (Content-Length, a file's size). */
  bytesTotal: number | null;
  /** Told the job's state after each batch and heartbeat. */
  onProgress?: (job: ImportJobRecord) => void;
  /** Told of an unexpected failure (the job then ends FAILED saying only that). */
  onInternalError?: (error: unknown) => void;
}

export interface StartedImport {
  /** The job as created: RUNNING, or FAILED when the file has no usable header. */
  job: ImportJobRecord;
  /** Resolves with the job as it ended (the rows go on after `start` returns). */
  finished: Promise<ImportJobRecord>;
}

/** One state of a job as importProgress sends it; `seq` tells states apart (shared subscriptions key results by it). */
export interface ImportProgress {
  seq: number;
  job: ImportJobRecord;
}

let progressSeq = 0;

/** No record yet: the source is slow. */
const WAITING = Symbol("waiting");

/** How a job ends. */
type Ending = { status: "DONE" | "FAILED"; failure: string | null };

interface PendingRow {
  row: number;
  cells: string[];
  input: ContactInputShape | null;
  /** Why the row is refused before it is written (ragged). */
  error: { code: string; message: string } | null;
}

export class ImportService {
  /** Jobs running in this process, with the promise of their end. */
  private readonly running = new Map<string, Promise<ImportJobRecord>>();
  private readonly contacts: ContactService;
  private readonly owner = `${hostname()}:${process.pid}`;

  constructor(private readonly deps: ServiceDeps) {
    this.contacts = new ContactService(deps);
  }

  private get staleAfterMs(): number {
    return this.deps.settings.importStaleAfterMs ?? STALE_AFTER_MS;
  }

  /** The job behind a global id, if it exists in the caller's workspace (ended as FAILED when its process stopped). */
  async find(ctx: Caller, id: string): Promise<ImportJobRecord | null> {
    const storeId = fromGlobalId(id, "ImportJob");
    const [job] = storeId === null ? [null] : await this.deps.store.getImportJobs([storeId]);
    return job && job.workspaceId === ctx.workspaceId ? this.current(job) : null;
  }

  async require(ctx: Caller, id: string): Promise<ImportJobRecord> {
    const job = await this.find(ctx, id);
    if (!job) throw notFound("ImportJob", id);
    return job;
  }

  /** A RUNNING job whose heartbeat stopped (its process ended) is ended FAILED. */
  private async current(job: ImportJobRecord): Promise<ImportJobRecord> {
    const staleBefore = Date.now() - this.staleAfterMs;
    if (job.status !== "RUNNING" || job.heartbeatAt >= staleBefore || this.running.has(job.id)) return job;
    const ended = await this.deps.store.updateImportJob(job.id, { end: { status: "FAILED", failure: STOPPED, at: this.deps.clock.now() } }, Date.now(), staleBefore);
    return ended ?? (await this.deps.store.getImportJobs([job.id]))[0] ?? job;
  }

  /**
   * Starts importing a CSV stream into a list: reads its header, makes the job and returns it with
   * the promise of its end, while the rows go on. A header naming a column the list has no field
   * for is refused (BAD_USER_INPUT) before any job is made; a file without a usable header (empty,
   * binary, no email column …) makes a job that is FAILED at once.
   */
  async start(ctx: Caller, listId: string, source: Readable, options: ImportOptions): Promise<StartedImport> {
    const list = await requireList(ctx, listId);
    const csv = new CsvRecords(source);
    const create = (columns: string[]) =>
      this.deps.store.createImportJob(
        { workspaceId: ctx.workspaceId, listId: list.id, upsert: options.upsert, columns, bytesTotal: options.bytesTotal, owner: this.owner },
        this.deps.clock.now(),
        Date.now(),
      );
    let header: string[];
    let targets: ColumnTarget[];
    try {
      header = await csv.header();
      targets = mapColumns(header, list.customFields, options.ignoreUnknownColumns);
    } catch (error) {
      csv.close();
      if (error instanceof CsvFailure) return this.failedAtStart(await create([]), error.message, csv);
      throw error;
    }
    const job = await create(header);
    if (!targets.some((target) => target.kind === "field" && target.field === "email")) {
      csv.close();
      return this.failedAtStart(job, `the header names no email column (its columns: ${header.map((name) => JSON.stringify(name)).join(", ")})`, csv);
    }
    const run = new ImportRun(this.deps, this.contacts, list, job, csv, targets, options);
    const finished = run.run().finally(() => this.running.delete(job.id));
    this.running.set(job.id, finished);
    return { job, finished };
  }

  private async failedAtStart(job: ImportJobRecord, failure: string, csv: CsvRecords): Promise<StartedImport> {
    const ended = (await this.deps.store.updateImportJob(job.id, { bytesRead: csv.bytesRead, end: { status: "FAILED", failure, at: this.deps.clock.now() } }, Date.now())) ?? job;
    return { job: ended, finished: Promise.resolve(ended) };
  }

  /** Resolves once every import running in this process has written how it ended. */
  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  /** The job's states for importProgress: at least every second while it runs, then its final state, then the end. */
  async watch(ctx: Caller, id: string): Promise<AsyncIterableIterator<ImportProgress>> {
    const job = await this.require(ctx, id);
    // The context lives as long as the stream: an idle subscriber holds no loaders.
    ctx.dropLoaders();
    return this.states(job);
  }

  private async *states(first: ImportJobRecord): AsyncGenerator<ImportProgress> {
    let job = first;
    let shown = "";
    let shownAt = 0;
    for (;;) {
      const state = `${job.status}:${job.rowsRead}:${job.bytesRead}`;
      if (state !== shown || Date.now() - shownAt >= SILENT_MS || job.status !== "RUNNING") {
        yield { seq: ++progressSeq, job };
        [shown, shownAt] = [state, Date.now()];
      }
      if (job.status !== "RUNNING") return;
      await sleep(POLL_MS);
      const [read] = await this.deps.store.getImportJobs([job.id]);
      job = read ? await this.current(read) : job;
    }
  }

  /** The first refused rows of a job, for ImportJob.errors (at most SHOWN_ERRORS). */
  errors(job: ImportJobRecord, first: number): Promise<ImportRowError[]> {
    return this.deps.store.importErrors(job.id, 0, Math.min(first, SHOWN_ERRORS));
  }

  /** Every refused row of a job, in row order, a page at a time. */
  async *allErrors(job: ImportJobRecord): AsyncGenerator<ImportRowError[]> {
    for (let after = 0; ; ) {
      const page = await this.deps.store.importErrors(job.id, after, 500);
      yield page;
      if (page.length < 500) return;
      after = page[page.length - 1]!.row;
    }
  }
}

/** One import in this process, from the first data row to the job's end. */
class ImportRun {
  private counts = { rowsRead: 0, added: 0, updated: 0, failed: 0 };
  private batch: PendingRow[] = [];
  private batchChars = 0;
  private lastWrite = Date.now();
  /** A write of the job is under way (a heartbeat then waits for the next beat). */
  private writing = false;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly contacts: ContactService,
    private readonly list: ListRecord,
    private job: ImportJobRecord,
    private readonly csv: CsvRecords,
    private readonly targets: ColumnTarget[],
    private readonly options: ImportOptions,
  ) {}

  async run(): Promise<ImportJobRecord> {
    const heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    heartbeat.unref();
    let end: Ending;
    try {
      for (let next = this.csv.next(); ; next = this.csv.next()) {
        // Rows that trickle in, or wait for the rest of a stalled upload, are committed within a heartbeat.
        let cells = await this.within(next, HEARTBEAT_MS);
        while (cells === WAITING) {
          await this.flush(null);
          cells = await this.within(next, HEARTBEAT_MS);
        }
        if (cells === null) break;
        this.take(cells);
        if (this.batch.length >= BATCH_ROWS || this.batchChars >= BATCH_CHARS || Date.now() - this.lastWrite >= HEARTBEAT_MS) await this.flush(null);
      }
      end = { status: "DONE", failure: null };
    } catch (error) {
      end = { status: "FAILED", failure: this.failureOf(error) };
    } finally {
      clearInterval(heartbeat);
      this.csv.close();
    }
    try {
      // The rows read before the end are kept, in the same transaction as the job's end.
      await (this.batch.length > 0 ? this.flush(end) : this.write({ end: this.ending(end) }));
    } catch (error) {
      await this.write({ end: this.ending({ status: "FAILED", failure: this.failureOf(error) }) });
    }
    const [ended] = await this.deps.store.getImportJobs([this.job.id]);
    return ended ?? this.job;
  }

  /** The next record, or WAITING when rows are pending and it takes longer than `ms`. */
  private async within(next: Promise<string[] | null>, ms: number): Promise<string[] | null | typeof WAITING> {
    if (this.batch.length === 0) return next;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([next, new Promise<typeof WAITING>((resolve) => (timer = setTimeout(() => resolve(WAITING), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  private take(cells: string[]): void {
    const row = this.csv.rows;
    let chars = 0;
    for (const cell of cells) chars += cell.length;
    this.batchChars += chars;
    if (cells.length !== this.targets.length) {
      const message = `the row has ${cells.length} ${cells.length === 1 ? "cell" : "cells"} where the header has ${this.targets.length} columns`;
      this.batch.push({ row, cells, input: null, error: { code: ErrorCode.BadUserInput, message } });
    } else {
      this.batch.push({ row, cells, input: contactOfRow(cells, this.targets), error: null });
    }
  }

  /** Writes the pending rows, with the job's progress (and its end, when given) in their transaction. */
  private async flush(end: Ending | null): Promise<void> {
    const entries = this.batch;
    const valid = entries.filter((entry) => entry.input !== null);
    let counts = this.counts;
    this.writing = true;
    try {
      await this.contacts.write(
        this.list,
        valid.map((entry) => entry.input!),
        this.job.upsert,
        {
          rowNumbers: valid.map((entry) => entry.row),
          job: {
            id: this.job.id,
            progress: (outcome) => {
              const update = this.progress(entries, valid, outcome, end);
              counts = update.counts!;
              return update;
            },
          },
        },
      );
    } catch (error) {
      // Rows whose write failed are not read: the job counts only what is committed.
      this.batch = [];
      throw error;
    } finally {
      this.writing = false;
    }
    this.counts = counts;
    this.batch = [];
    this.batchChars = 0;
    this.lastWrite = Date.now();
    this.job = { ...this.job, ...counts, bytesRead: this.csv.bytesRead, heartbeatAt: Date.now() };
    this.options.onProgress?.(this.job);
  }

  /** The job's update for a written batch (pure: a retried transaction asks again). */
  private progress(entries: readonly PendingRow[], valid: readonly PendingRow[], outcome: WriteOutcome, end: Ending | null): ImportJobUpdate {
    const errors: ImportRowError[] = [
      ...entries.filter((entry) => entry.error !== null).map((entry) => ({ row: entry.row, cells: entry.cells, ...entry.error! })),
      ...outcome.errors.map((error) => ({ row: valid[error.index]!.row, code: error.code, message: error.message, cells: valid[error.index]!.cells })),
    ].sort((a, b) => a.row - b.row);
    const counts = {
      rowsRead: this.counts.rowsRead + entries.length,
      added: this.counts.added + outcome.added,
      updated: this.counts.updated + outcome.updated,
      failed: this.counts.failed + errors.length,
    };
    return { counts, bytesRead: this.csv.bytesRead, errors, ...(end ? { end: this.ending(end) } : {}) };
  }

  private ending(end: Ending): NonNullable<ImportJobUpdate["end"]> {
    return { ...end, at: this.deps.clock.now() };
  }

  /** Writes the job alone (a heartbeat, or its end); a job that is no longer RUNNING (ended as stale elsewhere) is left as it is. */
  private async write(update: ImportJobUpdate): Promise<void> {
    const job = await this.deps.store.updateImportJob(this.job.id, { ...update, bytesRead: this.csv.bytesRead }, Date.now());
    if (job) {
      this.job = job;
      this.options.onProgress?.(job);
    }
  }

  private async beat(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      await this.write({});
    } catch (error) {
      this.options.onInternalError?.(error);
    } finally {
      this.writing = false;
    }
  }

  private failureOf(error: unknown): string {
    if (error instanceof CsvFailure || error instanceof UploadInterrupted) return error.message;
    if (error instanceof DomainError && error.code === ErrorCode.NotFound) return "the list was deleted during the import";
    if (error instanceof DomainError && error.code === ErrorCode.Conflict) return error.message;
    this.options.onInternalError?.(error);
    return "the import stopped on an internal error";
  }
}
