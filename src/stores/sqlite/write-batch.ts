/**
 * Group commit for single-row writes. Writes asked for in the same turn of the event loop run
 * together at the end of it, in one IMMEDIATE transaction: each in its own savepoint, so one
 * that fails (a conflicting email) is rolled back alone and rejects alone, and every caller is
 * answered only after the shared commit. Under load many requests then share one commit; alone,
 * a write waits for nothing but the rest of its turn.
 */
import type Database from "better-sqlite3";

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteBatch {
  private queue: Pending[] = [];

  constructor(private readonly db: Database.Database) {}

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(item.work)() });
            } catch (error) {
              outcomes.push({ ok: false, value: error });
            }
          }
        })
        .immediate();
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
