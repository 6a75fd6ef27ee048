/** Schema migrations on a real SQLite database. */
import Database from "better-sqlite3";
import { StatementCache } from "../../../src/stores/sqlite/database";
import { MemberBlocks } from "../../../src/stores/sqlite/member-blocks";
import { listFromRow, type ListRow } from "../../../src/stores/sqlite/rows";
import { migrate, MIGRATIONS } from "../../../src/stores/sqlite/schema";

/** A database as an older release left it: the first `version` migrations applied. */
function databaseAt(version: number): Database.Database {
  const db = new Database(":memory:");
  for (const migration of MIGRATIONS.slice(0, version)) {
    if (typeof migration === "string") db.exec(migration);
    else migration(db);
  }
  db.pragma(`user_version = ${version}`);
  return db;
}

test("lists stored before time zones read as UTC after the migration that adds them", () => {
  const db = databaseAt(1);
  try {
    db.prepare("INSERT INTO lists (workspace_id, name, created_at, updated_at) VALUES ('w', 'Old', 1, 1)").run();

    migrate(db);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    const row = db.prepare("SELECT * FROM lists").get() as ListRow;
    expect(listFromRow(row)).toMatchObject({ name: "Old", timeZone: "UTC" });
    db.prepare("INSERT INTO lists (workspace_id, name, time_zone, created_at, updated_at) VALUES ('w', 'New', 'Europe/Oslo', 2, 2)").run();
    expect((db.prepare("SELECT time_zone FROM lists ORDER BY id").pluck().all() as string[])).toEqual(["UTC", "Europe/Oslo"]);
  } finally {
    db.close();
  }
});

test("membership rows become membership blocks holding the same members", () => {
  const db = databaseAt(2);
  try {
    db.prepare("INSERT INTO lists (id, workspace_id, name, created_at, updated_at) VALUES (1, 'w', 'L', 1, 1)").run();
    // Ids on both sides of block boundaries (4,096 ids a block), and far apart.
    const ids = [1, 2, 4_095, 4_096, 4_097, 8_191, 12_288, 1_000_000];
    const contact = db.prepare("INSERT INTO contacts (id, list_id, email, email_n, created_at, updated_at) VALUES (?, 1, ?, ?, 1, 1)");
    for (const id of ids) contact.run(id, `c${id}@example.com`, `c${id}@example.com`);
    const segment = db.prepare("INSERT INTO segments (id, list_id, name, type, status, condition, member_count, clock_at, created_at, updated_at) VALUES (?, 1, ?, 'STATIC', 'READY', '{}', ?, 1, 1, 1)");
    const members: Record<number, number[]> = { 1: ids, 2: [4_096, 1_000_000], 3: [] };
    for (const [id, of] of Object.entries(members)) segment.run(Number(id), `S${id}`, of.length);
    const row = db.prepare("INSERT INTO memberships (segment_id, contact_id) VALUES (?, ?)");
    for (const [id, of] of Object.entries(members)) for (const contactId of of) row.run(Number(id), contactId);

    migrate(db);

    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'memberships'").pluck().get()).toBe(0);
    expect(db.prepare("SELECT steps FROM engine_state").pluck().get()).toBe(0);
    const blocks = new MemberBlocks(new StatementCache(db));
    for (const [id, of] of Object.entries(members)) expect(blocks.members(Number(id))).toEqual(of);
    expect(db.prepare("SELECT count(*) FROM member_blocks WHERE segment_id = 1").pluck().get()).toBe(4);
    expect(blocks.segmentsOf([4_096, 2, 5])).toEqual(new Map([[4_096, [1, 2]], [2, [1]]]));
  } finally {
    db.close();
  }
});
