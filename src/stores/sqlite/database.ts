import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./schema";
import { hasBit } from "./member-blocks";

/** A store id as SQLite's integer key, or null when it cannot name a row here. */
export function rowId(id: string): number | null {
  if (!/^[1-9]\d{0,15}$/.test(id)) return null;
  const value = Number(id);
  return Number.isSafeInteger(value) ? value : null;
}

/** Keeps the ids that can name a row, as a JSON array for `IN (SELECT value FROM json_each(?))`. */
export function idArray(ids: readonly string[]): string {
  return JSON.stringify(ids.map(rowId).filter((id): id is number => id !== null));
}

export interface OpenOptions {
  /** Milliseconds a write waits for another process's transaction before failing. */
  busyTimeoutMs?: number;
  /**
   * WAL checkpoints on a worker thread (the default for files) instead of inside the commit that
   * crosses the threshold, on the event loop (see checkpointer.ts).
   */
  backgroundCheckpoints?: boolean;
  /** The automatic checkpoint threshold when checkpoints run on commit (0: never); WAL_AUTOCHECKPOINT_PAGES by default. */
  walAutocheckpointPages?: number;
  /** Called if the checkpoint worker fails; commits then checkpoint automatically again. */
  onCheckpointError?: (error: unknown) => void;
}

/** The automatic checkpoint threshold, in pages, when checkpoints run on the event loop. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Opens (creating folders and schema as needed) a database in WAL mode, so readers never block
 * the writer and another process can share the file.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // WAL + NORMAL: a committed transaction survives a crash of the process (not of the machine).
  db.pragma("synchronous = NORMAL");
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  db.pragma("cache_size = -65536");
  db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages ?? WAL_AUTOCHECKPOINT_PAGES}`);
  db.pragma("temp_store = MEMORY");
  // inSegment in SQL: whether a member block has a contact's bit (member-blocks.ts).
  db.function("member_bit", { deterministic: true, directOnly: true }, (bits: unknown, contactId: unknown) =>
    bits instanceof Uint8Array && hasBit(bits, Number(contactId)) ? 1 : 0,
  );
  migrate(db);
  return db;
}

/** Prepared statements by SQL text; conditions make dynamic SQL, so the cache is bounded. */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly limit = 1_000,
  ) {}

  get(sql: string): Database.Statement {
    return this.cached(sql, false);
  }

  /** The same, returning each row's only column instead of an object. */
  pluck(sql: string): Database.Statement {
    return this.cached(sql, true);
  }

  private cached(sql: string, pluck: boolean): Database.Statement {
    const key = pluck ? `pluck:${sql}` : sql;
    let statement = this.statements.get(key);
    if (!statement) {
      if (this.statements.size >= this.limit) this.statements.clear();
      statement = this.db.prepare(sql);
      if (pluck) statement.pluck(true);
      this.statements.set(key, statement);
    }
    return statement;
  }
}

/**
 * Runs `INSERT INTO table (columns) VALUES (…), (…), …` over items in chunks: one statement per
 * chunk costs far less than one per row. `columns(item, into, at)` writes an item's values into
 * the parameter array; `inserted(lastRowid, first, count)` follows each chunk (the rowids of one
 * statement's rows are consecutive).
 */
export function insertMany<T>(
  q: StatementCache,
  head: string,
  width: number,
  items: readonly T[],
  columns: (item: T, into: unknown[], at: number) => void,
  inserted?: (lastRowid: number, first: number, count: number) => void,
): void {
  const chunk = Math.max(1, Math.floor(500 / width));
  const tuple = `(${new Array(width).fill("?").join(", ")})`;
  const params: unknown[] = new Array(chunk * width);
  for (let first = 0; first < items.length; first += chunk) {
    const count = Math.min(chunk, items.length - first);
    if (count < chunk) params.length = count * width;
    for (let i = 0; i < count; i++) columns(items[first + i]!, params, i * width);
    const statement = q.get(`${head} VALUES ${count === chunk ? fullTuples(tuple, chunk) : new Array(count).fill(tuple).join(", ")}`);
    const result = statement.run(params);
    inserted?.(Number(result.lastInsertRowid), first, count);
  }
}

const tupleCache = new Map<string, string>();
function fullTuples(tuple: string, count: number): string {
  const key = `${tuple}*${count}`;
  let text = tupleCache.get(key);
  if (text === undefined) tupleCache.set(key, (text = new Array(count).fill(tuple).join(", ")));
  return text;
}

/** Marks segment definitions as changed (see `catalog_version` in schema.ts); call inside the write's transaction. */
export function bumpCatalog(q: StatementCache): void {
  q.get("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalog_version'").run();
}

/** Waits between attempts at a write lock another process holds: a turn of the event loop, then 1–5 ms. */
const LOCK_RETRY_MS = [0, 0, 1, 1, 2, 2, 3, 5];

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT";
}

/**
 * Runs a write transaction (`write` opens it with BEGIN IMMEDIATE) without blocking the event
 * loop while another process holds the file's write lock. SQLite's own busy handler sleeps in
 * this thread, 1, 2, 5, 10, 15, 20, 25 … ms apart, and nothing else of the process runs
 * meanwhile: under writes from several processes that turns into stalls of tens or hundreds of
 * milliseconds. Here the attempt does not wait (busy_timeout 0 for its duration); a busy lock is
 * tried again after a turn of the event loop, then every few milliseconds, until `timeoutMs`.
 * The transaction was not begun when the lock was busy, so nothing is run twice.
 */
export class WriteLock {
  constructor(
    private readonly db: Database.Database,
    private readonly timeoutMs: number,
  ) {}

  /**
   * One attempt: the result, or the busy error when another process holds the lock. (A PRAGMA
   * takes effect when it is prepared, so it cannot be kept as a prepared statement; the pair
   * costs about 5 µs.)
   */
  attempt<T>(write: () => T): { value: T } | { busy: unknown } {
    this.db.pragma("busy_timeout = 0");
    try {
      return { value: write() };
    } catch (error) {
      if (isBusy(error) && !this.db.inTransaction) return { busy: error };
      throw error;
    } finally {
      this.db.pragma(`busy_timeout = ${this.timeoutMs}`);
    }
  }

  async run<T>(write: () => T): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = this.attempt(write);
      if ("value" in outcome) return outcome.value;
      if (Date.now() >= deadline) throw outcome.busy;
      const ms = LOCK_RETRY_MS[Math.min(attempt, LOCK_RETRY_MS.length - 1)]!;
      await new Promise((resolve) => (ms === 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
    }
  }
}
