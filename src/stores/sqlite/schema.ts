import type Database from "better-sqlite3";
import { blockOf, emptyBlock, setBit } from "./member-blocks";

/**
 * Schema migrations, applied in order inside one transaction at open. Each entry is final once
 * released: change the schema by appending a new one.
 */
export const MIGRATIONS: (string | ((db: Database.Database) => void))[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    custom_fields TEXT NOT NULL DEFAULT '[]',
    contact_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX lists_by_workspace ON lists (workspace_id, created_at DESC, id DESC);

  -- Each text field is kept as given and in normal form (*_n: NFC, lower case) for conditions.
  CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT, last_name TEXT, phone TEXT, country TEXT, city TEXT, gender TEXT,
    birth_date TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}',
    email_n TEXT NOT NULL,
    first_name_n TEXT, last_name_n TEXT, phone_n TEXT, country_n TEXT, city_n TEXT, gender_n TEXT,
    tags_n TEXT NOT NULL DEFAULT '[]',
    attributes_n TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX contacts_by_email ON contacts (list_id, email_n);
  CREATE INDEX contacts_by_list ON contacts (list_id);
  CREATE INDEX contacts_newest ON contacts (list_id, created_at DESC, id DESC);
  CREATE INDEX contacts_by_country ON contacts (list_id, country_n);
  CREATE INDEX contacts_by_birth_date ON contacts (list_id, birth_date);

  CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    condition TEXT NOT NULL,
    -- The change-feed entry that set the condition: older entries are not applied again.
    condition_seq INTEGER NOT NULL DEFAULT 0,
    member_count INTEGER NOT NULL DEFAULT 0,
    -- BUILDING: the last contact id evaluated so far.
    build_cursor INTEGER,
    -- The instant clock-dependent membership was last brought up to date.
    clock_at INTEGER NOT NULL,
    -- The earliest instant a clock-dependent membership can change.
    next_wake_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX segments_by_list ON segments (list_id);

  CREATE TABLE memberships (
    segment_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    PRIMARY KEY (segment_id, contact_id)
  ) WITHOUT ROWID;
  CREATE INDEX memberships_by_contact ON memberships (contact_id);

  -- The change feed: written in the same transaction as the change it describes.
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    contact_id INTEGER,
    segment_id INTEGER,
    payload TEXT,
    created_at INTEGER NOT NULL
  );

  -- The membership event log. A row holds a run of transitions of one segment with the same
  -- kind and reason, committed together: contact ids in order, and the member count after the
  -- first (each next one is one more for ENTERED, one less for LEFT). Event i of row seq has the
  -- position seq * 65536 + i, which is what cursors name. SEGMENT_DELETED and LIST_DELETED rows
  -- end the streams of what was deleted.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    segment_id INTEGER,
    reason TEXT,
    contacts TEXT,
    count INTEGER NOT NULL DEFAULT 1,
    member_count INTEGER NOT NULL DEFAULT 0,
    occurred_at INTEGER NOT NULL
  );
  CREATE INDEX events_by_segment ON events (segment_id, seq);
  CREATE INDEX events_by_list ON events (list_id, seq);

  CREATE TABLE engine_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint INTEGER NOT NULL,
    clock INTEGER NOT NULL
  );
  INSERT INTO engine_state (id, checkpoint, clock) VALUES (1, 0, 0);

  CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);

  -- API keys are stored only as SHA-256 hashes; the prefix identifies a key to people.
  CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    name TEXT,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );

  INSERT INTO meta (key, value) VALUES ('pruned_through', '0');
  -- Bumped by every change to what the engine evaluates (segments, their conditions, custom
  -- fields), so the engine can keep compiled segments between steps.
  INSERT INTO meta (key, value) VALUES ('catalog_version', '0');
  -- Seed the sequences so "latest" reads work before the first row.
  INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', 0), ('events', 0);
  `,
  `
  -- The IANA time zone a list's calendar conditions are evaluated in.
  ALTER TABLE lists ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
  `,
  (db) => {
    // Memberships as bitmaps (see member-blocks.ts), converted from the (segment, contact) rows.
    db.exec(`
      CREATE TABLE member_blocks (
        segment_id INTEGER NOT NULL,
        block INTEGER NOT NULL,
        bits BLOB NOT NULL,
        PRIMARY KEY (segment_id, block)
      ) WITHOUT ROWID;
      -- Counts engine steps, so an engine can tell whether its cached blocks are still current.
      ALTER TABLE engine_state ADD COLUMN steps INTEGER NOT NULL DEFAULT 0;
    `);
    const blocks = new Map<string, { segment: number; block: number; bits: Buffer }>();
    for (const [segment, contact] of db.prepare("SELECT segment_id, contact_id FROM memberships").raw().iterate() as Iterable<[number, number]>) {
      const key = `${segment}:${blockOf(contact)}`;
      let entry = blocks.get(key);
      if (!entry) blocks.set(key, (entry = { segment, block: blockOf(contact), bits: emptyBlock() }));
      setBit(entry.bits, contact, true);
    }
    const insert = db.prepare("INSERT INTO member_blocks (segment_id, block, bits) VALUES (?, ?, ?)");
    for (const { segment, block, bits } of blocks.values()) insert.run(segment, block, bits);
    db.exec("DROP TABLE memberships");
  },
  `
  -- A DYNAMIC segment's decisions by hand, over its condition: included 1 (INCLUDED) or 0 (EXCLUDED).
  CREATE TABLE segment_overrides (
    segment_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    included INTEGER NOT NULL,
    PRIMARY KEY (segment_id, contact_id)
  ) WITHOUT ROWID;
  CREATE INDEX segment_overrides_by_contact ON segment_overrides (contact_id);
  -- A DYNAMIC segment's scheduled freeze, and when a segment became STATIC by freezing.
  ALTER TABLE segments ADD COLUMN freeze_at INTEGER;
  ALTER TABLE segments ADD COLUMN frozen_at INTEGER;
  -- When a segment's build took its members in (segments built before this column: their creation).
  ALTER TABLE segments ADD COLUMN built_at INTEGER;
  UPDATE segments SET built_at = created_at WHERE status = 'READY';
  -- When each member last entered its segment; members a build took in have no row (they joined at built_at).
  CREATE TABLE member_joins (
    segment_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (segment_id, contact_id)
  ) WITHOUT ROWID;
  `,
  `
  -- Webhooks: each is a position in the event log (everything of its list, or of its segments,
  -- up to it is acknowledged) and the batch it is delivering, retried until acknowledged.
  CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL,
    segment_ids TEXT,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    position INTEGER NOT NULL,
    acknowledged_through INTEGER,
    batch_id TEXT,
    batch_through INTEGER,
    batch_attempts INTEGER NOT NULL DEFAULT 0,
    failing_since INTEGER,
    next_attempt_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX webhooks_by_list ON webhooks (list_id);
  -- The last requests to each webhook's receiver (and notes on delivery).
  CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL,
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
  `,
  `
  -- CSV imports: where each stands, and the process running it with its last heartbeat (a job
  -- whose heartbeat stops reads FAILED). Jobs outlive their list, so that an import into a list
  -- deleted meanwhile still tells what happened.
  CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    upsert INTEGER NOT NULL,
    columns TEXT NOT NULL,
    rows_read INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    bytes_read INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER,
    failure TEXT,
    owner TEXT NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  -- Every refused row of an import, with its cells as read (a JSON array).
  CREATE TABLE import_errors (
    job_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    cells TEXT NOT NULL,
    PRIMARY KEY (job_id, row)
  );
  `,
];

export function migrate(db: Database.Database): void {
  // Read under the write lock: processes started together (WORKERS) migrate one after another,
  // and each of the others finds the work done.
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the database schema (version ${version}) is newer than this program (version ${MIGRATIONS.length})`);
    }
    for (let next = version; next < MIGRATIONS.length; next++) {
      const migration = MIGRATIONS[next]!;
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
      db.pragma(`user_version = ${next + 1}`);
    }
  }).immediate();
}
