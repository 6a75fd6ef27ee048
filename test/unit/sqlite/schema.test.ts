/** Schema migrations on a real SQLite database. */
import { openDatabase } from "../../../src/stores/sqlite/database";
import { listFromRow, type ListRow } from "../../../src/stores/sqlite/rows";
import { migrate } from "../../../src/stores/sqlite/schema";

test("lists stored before time zones read as UTC after the migration that adds them", () => {
  const db = openDatabase(":memory:");
  try {
    const version = db.pragma("user_version", { simple: true }) as number;
    // The database as it was before the time_zone column: one list, one version lower.
    db.exec("ALTER TABLE lists DROP COLUMN time_zone");
    db.pragma(`user_version = ${version - 1}`);
    db.prepare("INSERT INTO lists (workspace_id, name, created_at, updated_at) VALUES ('w', 'Old', 1, 1)").run();

    migrate(db);
    expect(db.pragma("user_version", { simple: true })).toBe(version);
    const row = db.prepare("SELECT * FROM lists").get() as ListRow;
    expect(listFromRow(row)).toMatchObject({ name: "Old", timeZone: "UTC" });
    db.prepare("INSERT INTO lists (workspace_id, name, time_zone, created_at, updated_at) VALUES ('w', 'New', 'Europe/Oslo', 2, 2)").run();
    expect((db.prepare("SELECT time_zone FROM lists ORDER BY id").pluck().all() as string[])).toEqual(["UTC", "Europe/Oslo"]);
  } finally {
    db.close();
  }
});
