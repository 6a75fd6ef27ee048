/**
 * One switch for the store a test runs on (TEST_STORE, set by the "mongodb" jest project):
 * fresh databases, the environment that points a process or script at one, and direct reads of
 * what the service keeps, through the store port where it has them.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { openStore } from "../../src/app";
import { loadConfig } from "../../src/config";
import type { Store } from "../../src/stores/port";
import { StatementCache } from "../../src/stores/sqlite/database";
import { blockOf, emptyBlock, MemberBlocks, setBit } from "../../src/stores/sqlite/member-blocks";
import type { SqliteStore } from "../../src/stores/sqlite/store";
import { mongoDatabase, onMongo, startTestServer, tempDir, type TestServer } from "./harness";

/** A database no one has used: a SQLite file in a fresh folder, or a new database on MONGODB_URI's deployment. */
export function newDatabase(name = "segments"): string {
  return onMongo ? mongoDatabase() : join(tempDir(), `${name}.db`);
}

/** The environment that points the service or a script at a database. */
export function storeEnv(dbPath: string): Record<string, string> {
  return dbPath.startsWith("mongodb") ? { MONGODB_URI: dbPath } : { SQLITE_PATH: dbPath };
}

/** The store at a database, opened by this process (close it when done). */
export function openStoreAt(dbPath: string): Promise<Store> {
  return openStore(loadConfig({ ...storeEnv(dbPath), LOG_LEVEL: "silent" }));
}

/** Runs `read` on the store at a database, then closes it. */
export async function withStore<T>(dbPath: string, read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStoreAt(dbPath);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

async function mongo<T>(dbPath: string, work: (db: import("mongodb").Db) => Promise<T>): Promise<T> {
  const { MongoClient } = await import("mongodb");
  const client = await MongoClient.connect(dbPath);
  try {
    return await work(client.db());
  } finally {
    await client.close();
  }
}

function sqlite<T>(dbPath: string, work: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/**
 * Applies event retention now: events that occurred before `before` are removed, as the SQLite
 * store's housekeeping does in slices and MongoDB's TTL monitor does in its own time (here at once).
 */
export async function expireEvents(server: TestServer, before: number): Promise<void> {
  if (onMongo) {
    await mongo(server.dbPath, (db) => db.collection("events").deleteMany({ occurredAt: { $lt: new Date(before) } }));
    return;
  }
  while ((await server.app.store.prune(before, 50)).more);
}

/** Who holds the engine lease (null: no one). */
export function leaseHolder(dbPath: string): Promise<string | null> {
  if (onMongo) return mongo(dbPath, async (db) => (await db.collection<{ _id: string; holder: string }>("leases").findOne({ _id: "engine" }))?.holder ?? null);
  return Promise.resolve(sqlite(dbPath, (db) => (db.prepare("SELECT holder FROM leases WHERE name = 'engine'").pluck().get() as string | undefined) ?? null));
}

/**
 * Changes to segments written and not applied yet: condition changes, or hand edits of members
 * (`members`). Both stores drop a change once the engine has applied it, in the step that
 * applies it.
 */
export function segmentChangesWaiting(dbPath: string, kind: "condition" | "members" = "condition"): Promise<number> {
  if (onMongo) {
    const filter = kind === "members" ? { kind: "members" } : { kind: { $in: [null, "condition"] } };
    return mongo(dbPath, (db) => db.collection("segment_commands").countDocuments(filter));
  }
  const stored = kind === "members" ? "SEGMENT_MEMBERS" : "SEGMENT_CONDITION";
  return Promise.resolve(sqlite(dbPath, (db) => db.prepare("SELECT count(*) FROM changes WHERE kind = ?").pluck().get(stored) as number));
}

/** A copy of a database (of a service that is not running), to change without touching the original. */
export async function copyDatabase(dbPath: string): Promise<string> {
  const copy = newDatabase("copy");
  if (!onMongo) {
    sqlite(dbPath, (db) => db.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`));
    return copy;
  }
  await mongo(dbPath, async (from) =>
    mongo(copy, async (to) => {
      for (const { name } of await from.listCollections({}, { nameOnly: true }).toArray()) {
        const docs = await from.collection(name).find().toArray();
        if (docs.length > 0) await to.collection(name).insertMany(docs);
        for (const index of await from.collection(name).indexes()) {
          if (index.name === "_id_") continue;
          const { key, name: indexName, v: _v, ...options } = index;
          await to.collection(name).createIndex(key, { name: indexName, ...options });
        }
      }
    }),
  );
  return copy;
}

/** Deliberate damage behind the engine's back, for verify's tests: one operation per kind of inconsistency. */
export const damage = {
  /** Sets or clears one DYNAMIC membership. */
  setMember(dbPath: string, segmentId: string, contactId: string, member: boolean): Promise<void> {
    if (onMongo) {
      return mongo(dbPath, async (db) => {
        const { ObjectId } = await import("mongodb");
        const doc = { segmentId: new ObjectId(segmentId), contactId: new ObjectId(contactId) };
        if (member) await db.collection("memberships").insertOne(doc);
        else await db.collection("memberships").deleteOne(doc);
      });
    }
    return Promise.resolve(
      sqlite(dbPath, (db) => {
        const blocks = new MemberBlocks(new StatementCache(db));
        const bits = blocks.read(Number(segmentId), blockOf(Number(contactId))) ?? emptyBlock();
        setBit(bits, Number(contactId), member);
        blocks.write(Number(segmentId), blockOf(Number(contactId)), bits);
      }),
    );
  },
  /** Adds one to a segment's stored member count. */
  miscount(dbPath: string, segmentId: string): Promise<void> {
    if (onMongo) return mongo(dbPath, async (db) => void (await db.collection("segments").updateOne({ _id: new (await import("mongodb")).ObjectId(segmentId) }, { $inc: { memberCount: 1 } })));
    return Promise.resolve(void sqlite(dbPath, (db) => db.prepare("UPDATE segments SET member_count = member_count + 1 WHERE id = ?").run(Number(segmentId))));
  },
  /** Appends a copy of the newest ENTERED run of the log. */
  repeatLastEntered(dbPath: string): Promise<void> {
    if (onMongo) {
      return mongo(dbPath, async (db) => {
        const events = db.collection<{ _id: number; kind: string }>("events");
        const last = await events.find({ kind: "ENTERED" }).sort({ _id: -1 }).limit(1).next();
        const counter = await db.collection<{ _id: string; seq: number }>("counters").findOneAndUpdate({ _id: "events" }, { $inc: { seq: 1 } }, { returnDocument: "after" });
        await events.insertOne({ ...last!, _id: counter!.seq });
      });
    }
    return Promise.resolve(
      void sqlite(dbPath, (db) =>
        db
          .prepare(
            `INSERT INTO events (kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at)
             SELECT kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at FROM events WHERE kind = 'ENTERED' ORDER BY seq DESC LIMIT 1`,
          )
          .run(),
      ),
    );
  },
  /** Deletes a contact without a change-feed entry. */
  deleteContact(dbPath: string, contactId: string): Promise<void> {
    if (onMongo) return mongo(dbPath, async (db) => void (await db.collection("contacts").deleteOne({ _id: new (await import("mongodb")).ObjectId(contactId) })));
    return Promise.resolve(void sqlite(dbPath, (db) => db.prepare("DELETE FROM contacts WHERE id = ?").run(Number(contactId))));
  },
};

/**
 * Remembers where the engine's change feed stands; `replay` later makes the engine read and
 * apply everything written since then again (SQLite: the applied entries, copied as they were
 * written, are put back and the checkpoint rewound; MongoDB: the engine resumes its change
 * stream from the remembered position, in a restarted app). Resolves with the server to read
 * from and how many feed entries were applied again.
 */
export async function feedRewinder(server: TestServer): Promise<{ replay(): Promise<{ server: TestServer; entries: number }> }> {
  if (!onMongo) {
    const { db } = server.app.store as SqliteStore;
    db.exec(`CREATE TABLE written_changes AS SELECT * FROM changes WHERE 0;
      CREATE TRIGGER keep_changes AFTER INSERT ON changes BEGIN INSERT INTO written_changes SELECT * FROM changes WHERE seq = NEW.seq; END;`);
    return {
      async replay() {
        db.exec("INSERT INTO changes SELECT * FROM written_changes WHERE seq NOT IN (SELECT seq FROM changes); UPDATE engine_state SET checkpoint = 0;");
        const entries = (await server.app.engine.lag()).pendingChanges;
        await server.app.engine.drain();
        return { server, entries };
      },
    };
  }
  type State = { _id: string; resumeToken: unknown; startAtOperationTime: unknown; processed: number };
  const saved = await mongo(server.dbPath, (db) => db.collection<State>("engine_state").findOne({ _id: "engine" }));
  return {
    async replay() {
      await server.stop();
      const processed = await mongo(server.dbPath, async (db) => {
        const state = db.collection<State>("engine_state");
        const before = (await state.findOne({ _id: "engine" }))?.processed ?? 0;
        await state.updateOne({ _id: "engine" }, { $set: { resumeToken: saved?.resumeToken ?? null, startAtOperationTime: saved?.startAtOperationTime ?? null } });
        return before;
      });
      const restarted = await startTestServer({ dbPath: server.dbPath });
      await restarted.app.engine.drain();
      return { server: restarted, entries: (await restarted.app.engine.lag()).appliedChanges - processed };
    },
  };
}
