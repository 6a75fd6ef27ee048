/**
 * Group commit for single-row writes. Writes asked for in the same turn of the event loop run
 * together at the end of it, in one IMMEDIATE transaction: each in its own savepoint, so one
 * that fails (a conflicting email) is rolled back alone and rejects alone, and every caller is
 * answered only after the shared commit. Under load many requests then share one commit; alone,
 * a write waits for nothing but the rest of its turn (and, when another process holds the write
 * lock, for the lock: WriteLock, without blocking the event loop; writes asked for meanwhile form
 * the next batch).
 */
import type Database from "better-sqlite3";
import type { WriteLock } from "./database";

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteBatch {
  private queue: Pending[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly lock: WriteLock,
  ) {}

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    let outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      await this.lock.run(() =>
        this.db
          .transaction(() => {
            outcomes = [];
            for (const item of batch) {
              try {
                outcomes.push({ ok: true, value: this.db.transaction(item.work)() });
              } catch (error) {
                outcomes.push({ ok: false, value: error });
              }
            }
          })
          .immediate(),
      );
    } catch (error) {
      // The transaction itself failed (the database is busy or gone): nothing was written.
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }
}
