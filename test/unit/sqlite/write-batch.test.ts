/** Group commit of single-row writes, on a real SQLite file (its WAL is read to count commits). */
import { join } from "node:path";
import type Database from "better-sqlite3";
import { openDatabase, WriteLock } from "../../../src/stores/sqlite/database";
import { WriteBatch } from "../../../src/stores/sqlite/write-batch";
import { stopAll, tempDir } from "../../support/harness";
import { walStats } from "../../support/wal";

afterAll(stopAll);

function scratch(): { db: Database.Database; path: string; batch: WriteBatch } {
  const path = join(tempDir(), "batch.db");
  const db = openDatabase(path);
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
  return { db, path, batch: new WriteBatch(db, new WriteLock(db, 10_000)) };
}

const insert = (db: Database.Database, v: string) => () => Number(db.prepare("INSERT INTO t (v) VALUES (?)").run(v).lastInsertRowid);

describe("WriteBatch", () => {
  it("commits the writes asked for in one turn once, and answers each with its own result", async () => {
    const { db, path, batch } = scratch();
    const before = walStats(path).commits;
    const ids = await Promise.all(["a", "b", "c", "d"].map((v) => batch.run(insert(db, v))));
    expect(ids).toEqual([1, 2, 3, 4]);
    expect(walStats(path).commits - before).toBe(1);
    // Writes of later turns are later commits.
    await batch.run(insert(db, "e"));
    await batch.run(insert(db, "f"));
    expect(walStats(path).commits - before).toBe(3);
    db.close();
  });

  it("rolls back and rejects a failing write alone; the others of its turn commit", async () => {
    const { db, batch } = scratch();
    const outcomes = await Promise.allSettled([
      batch.run(insert(db, "x")),
      batch.run(() => {
        insert(db, "half")();
        return insert(db, "x")(); // unique violation: "half" goes with it
      }),
      batch.run(insert(db, "y")),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    expect(db.prepare("SELECT v FROM t ORDER BY id").pluck().all()).toEqual(["x", "y"]);
    db.close();
  });

  it("sees, in each write, the writes queued before it in the same turn", async () => {
    const { db, batch } = scratch();
    const count = () => db.prepare("SELECT count(*) FROM t").pluck().get();
    const seen = await Promise.all([batch.run(() => (insert(db, "p")(), count())), batch.run(() => (insert(db, "q")(), count()))]);
    expect(seen).toEqual([1, 2]);
    db.close();
  });

  it("rejects every write of a turn whose transaction cannot start, and writes nothing", async () => {
    const { db, path, batch } = scratch();
    const other = openDatabase(path, { busyTimeoutMs: 0 });
    const lock = other.prepare("BEGIN IMMEDIATE");
    lock.run();
    db.pragma("busy_timeout = 0");
    const outcomes = await Promise.allSettled([batch.run(insert(db, "m")), batch.run(insert(db, "n"))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect((outcomes[0] as PromiseRejectedResult).reason.code).toBe("SQLITE_BUSY");
    other.prepare("ROLLBACK").run();
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(0);
    other.close();
    db.close();
  });
});

describe("WriteLock", () => {
  it("waits for a write lock another connection holds without blocking the event loop, then writes once", async () => {
    const { db, path, batch } = scratch();
    const other = openDatabase(path);
    other.prepare("BEGIN IMMEDIATE").run();
    other.prepare("INSERT INTO t (v) VALUES ('theirs')").run();
    const mine = batch.run(insert(db, "mine"));
    // The event loop keeps turning while the write waits: timers fire, and the other
    // connection commits from one of them.
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (++ticks === 20) {
          clearInterval(timer);
          other.prepare("COMMIT").run();
          resolve();
        }
      }, 1);
    });
    expect(await mine).toBe(2);
    expect(db.prepare("SELECT v FROM t ORDER BY id").pluck().all()).toEqual(["theirs", "mine"]);
    other.close();
  });

  it("gives up after its timeout with SQLite's busy error, and nothing is written", async () => {
    const { db, path } = scratch();
    const lock = new WriteLock(db, 50);
    const other = openDatabase(path);
    other.prepare("BEGIN IMMEDIATE").run();
    await expect(lock.run(() => db.transaction(insert(db, "late")).immediate())).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    other.prepare("ROLLBACK").run();
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(0);
    other.close();
  });
});
