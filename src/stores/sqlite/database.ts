import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./schema";

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
}

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
  db.pragma("temp_store = MEMORY");
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
