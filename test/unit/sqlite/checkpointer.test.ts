/** WAL checkpoints on a worker thread, on a real SQLite file. */
import { statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BackgroundCheckpointer } from "../../../src/stores/sqlite/checkpointer";
import { openDatabase } from "../../../src/stores/sqlite/database";
import { stopAll, tempDir } from "../../support/harness";
import { walStats } from "../../support/wal";

afterAll(stopAll);

/** 40 commits of 64 KiB each (16 pages), with pauses the worker can checkpoint in. */
async function write(db: ReturnType<typeof openDatabase>): Promise<number> {
  db.exec("CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO blobs (data) VALUES (?)");
  for (let i = 0; i < 40; i++) {
    insert.run(Buffer.alloc(64 * 1024, i));
    await sleep(5);
  }
  return 40 * 16;
}

describe("BackgroundCheckpointer", () => {
  it("keeps the WAL short with the commit's own checkpoint off: the worker checkpoints, the writer reuses the file", async () => {
    const path = join(tempDir(), "bg.db");
    const db = openDatabase(path);
    const checkpointer = new BackgroundCheckpointer(db, path, { intervalMs: 10 });
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    const pages = await write(db);
    await sleep(50);
    // Without checkpoints the WAL would hold every page written; here it holds a few commits' worth.
    expect(walStats(path).frames).toBeLessThan(pages / 2);
    await checkpointer.stop();
    expect(db.prepare("SELECT count(*) FROM blobs").pluck().get()).toBe(40);
    db.close();
  });

  it("without the worker and with the commit's checkpoint off, the WAL holds every page written (the comparison above)", async () => {
    const path = join(tempDir(), "none.db");
    const db = openDatabase(path);
    db.pragma("wal_autocheckpoint = 0");
    const pages = await write(db);
    expect(walStats(path).frames).toBeGreaterThanOrEqual(pages);
    db.close();
  });

  it("runs no checkpoint while an exclusive write holds the lock, and checkpoints again once it is released", async () => {
    const path = join(tempDir(), "exclusive.db");
    const db = openDatabase(path);
    const checkpointer = new BackgroundCheckpointer(db, path, { intervalMs: 5 });
    const size = () => statSync(path).size;
    await write(db);
    await sleep(50);
    const checkpointed = size();
    const result = await checkpointer.exclusive(() => {
      db.prepare("INSERT INTO blobs (data) VALUES (?)").run(Buffer.alloc(1024 * 1024, 7));
      // Held for 300 ms, sixty of the worker's turns: the new pages stay in the WAL.
      const until = Date.now() + 300;
      while (Date.now() < until);
      return size();
    });
    expect(result).toBe(checkpointed);
    for (let i = 0; i < 100 && size() === checkpointed; i++) await sleep(10);
    expect(size()).toBeGreaterThan(checkpointed + 1024 * 1024);
    await checkpointer.stop();
    db.close();
  });

  it("turns the commit's own checkpoint back on and reports the error when the worker fails", async () => {
    const dir = tempDir();
    const path = join(dir, "main.db");
    const db = openDatabase(path);
    const errors: unknown[] = [];
    // The worker cannot open a database inside a folder that does not exist.
    const checkpointer = new BackgroundCheckpointer(db, join(dir, "missing", "x.db"), { fallbackPages: 321, onError: (error) => errors.push(error) });
    for (let i = 0; i < 200 && errors.length === 0; i++) await sleep(10);
    expect(errors).toHaveLength(1);
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(321);
    await checkpointer.stop();
    db.close();
  });
});
