/**
 * Limits shared by the processes on one SQLite file, kept in a small side database beside it
 * (`<file>-limits`). A side file has its own write lock: a rate-limit count, taken on every
 * request, never waits behind the engine's transactions on the main file, and they never wait
 * behind it. Its contents are counters of the last seconds, so it skips fsync.
 */
import Database from "better-sqlite3";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterSQLite } from "rate-limiter-flexible";
import type { SharedLimits } from "../port";

export class SqliteSharedLimits implements SharedLimits {
  private readonly db: Database.Database | null;

  constructor(path: string) {
    if (path === ":memory:") {
      this.db = null;
      return;
    }
    this.db = new Database(`${path}-limits`);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = OFF");
    this.db.pragma("busy_timeout = 1000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS connections (
        key TEXT NOT NULL, holder TEXT NOT NULL, open INTEGER NOT NULL, seen_at INTEGER NOT NULL,
        PRIMARY KEY (key, holder)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS connections_holder ON connections (holder);
      -- rate-limiter-flexible's table, made here rather than by the limiter: it makes it in a
      -- later turn, and counts asked for before then would fall to each process's own memory.
      CREATE TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER);
    `);
  }

  rateLimiter({ points, durationSec, keyPrefix }: { points: number; durationSec: number; keyPrefix: string }): RateLimiterAbstract {
    // An in-memory database is one process's: its own memory is as shared as it gets.
    if (!this.db) return new RateLimiterMemory({ points, duration: durationSec, keyPrefix });
    const db = this.db;
    const statements = new Map<string, Database.Statement>();
    // The limiter prepares its SQL on every call and wraps its one upsert in a transaction. Its
    // statements are prepared once here instead, and the upsert (one INSERT … ON CONFLICT …
    // RETURNING statement, atomic by itself) runs without the wrapper: a count costs one write.
    const client = {
      prepare(sql: string) {
        let statement = statements.get(sql);
        if (!statement) statements.set(sql, (statement = db.prepare(sql)));
        return statement;
      },
      transaction<T>(fn: () => T): () => T {
        return fn;
      },
    };
    return new RateLimiterSQLite({
      storeClient: client,
      storeType: "better-sqlite3",
      tableName: "rate_limits",
      tableCreated: true,
      points,
      duration: durationSec,
      keyPrefix,
      clearExpiredByTimeout: true,
      // Should the side file fail, each process limits on its own rather than refusing everyone.
      insuranceLimiter: new RateLimiterMemory({ points, duration: durationSec, keyPrefix }),
    });
  }

  async openConnection(key: string, holder: string, max: number, wallNow: number, staleBefore: number): Promise<boolean> {
    const db = this.db;
    if (!db) return true;
    return db
      .transaction(() => {
        const open = db.prepare("SELECT coalesce(sum(open), 0) FROM connections WHERE key = ? AND (holder = ? OR seen_at >= ?)").pluck().get(key, holder, staleBefore) as number;
        if (open >= max) return false;
        db.prepare(
          "INSERT INTO connections (key, holder, open, seen_at) VALUES (?, ?, 1, ?) ON CONFLICT (key, holder) DO UPDATE SET open = open + 1, seen_at = excluded.seen_at",
        ).run(key, holder, wallNow);
        return true;
      })
      .immediate();
  }

  async closeConnection(key: string, holder: string): Promise<void> {
    if (!this.db) return;
    this.db.prepare("UPDATE connections SET open = open - 1 WHERE key = ? AND holder = ?").run(key, holder);
    this.db.prepare("DELETE FROM connections WHERE key = ? AND holder = ? AND open <= 0").run(key, holder);
  }

  async heartbeat(holder: string, wallNow: number): Promise<string[]> {
    if (!this.db) return [];
    this.db.prepare("UPDATE connections SET seen_at = ? WHERE holder = ?").run(wallNow, holder);
    return this.db.prepare("SELECT DISTINCT holder FROM connections WHERE holder <> ?").pluck().all(holder) as string[];
  }

  async dropHolder(holder: string): Promise<void> {
    this.db?.prepare("DELETE FROM connections WHERE holder = ?").run(holder);
  }

  async close(): Promise<void> {
    if (this.db?.open) this.db.close();
  }
}
