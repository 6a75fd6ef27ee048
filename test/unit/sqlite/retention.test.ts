/**
 * What the SQLite store keeps, and how it lets go of the rest: the engine removes change-feed
 * entries in the step that applies them, and retention removes old events (and entries an older
 * version kept) in slices of bounded time, oldest first, by primary key.
 */
import { join } from "node:path";
import { catalogOf } from "../../../src/conditions";
import { cleanContact } from "../../../src/domain/contacts";
import { ROW_SPAN } from "../../../src/stores/event-runs";
import { ENGINE_LEASE } from "../../../src/stores/port";
import { SqliteStore } from "../../../src/stores/sqlite/store";
import { stopAll, tempDir } from "../../support/harness";

afterAll(stopAll);

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

function openStore(): SqliteStore {
  return SqliteStore.open(join(tempDir(), "retention.db"), { backgroundCheckpoints: false });
}

const count = (store: SqliteStore, sql: string, ...params: unknown[]) => store.db.prepare(sql).pluck().get(...params) as number;

/** Fills the tables as a database written by an older version would look: applied entries kept, and events of 20 days. */
function fillHistory(store: SqliteStore, entries: number, eventRows: number): void {
  store.db.transaction(() => {
    const change = store.db.prepare("INSERT INTO changes (kind, list_id, contact_id, created_at) VALUES ('CONTACT_UPDATED', 1, ?, ?)");
    for (let i = 0; i < entries; i++) change.run(i + 1, NOW - DAY);
    store.db.prepare("UPDATE engine_state SET checkpoint = ?").run(entries);
    const event = store.db.prepare("INSERT INTO events (kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at) VALUES ('ENTERED', 1, 1, 'CONTACT_ADDED', ?, 2, 1, ?)");
    for (let i = 0; i < eventRows; i++) event.run(`${2 * i + 1},${2 * i + 2}`, NOW - 20 * DAY + Math.floor((i * 20 * DAY) / eventRows));
  })();
}

test("the engine removes the change-feed entries it applies, in the step that applies them", async () => {
  const store = openStore();
  try {
    const list = await store.createList({ workspaceId: "w", name: "L", customFields: [] }, NOW);
    const catalog = catalogOf([]);
    await store.insertContacts(list, Array.from({ length: 30 }, (_, i) => ({ data: cleanContact({ email: `c${i}@example.com` }, catalog), patch: { fields: {} } })), false, NOW);
    expect(count(store, "SELECT count(*) FROM changes")).toBe(30);
    await store.acquireLease(ENGINE_LEASE, "h", Date.now(), 60_000);
    const step = await store.engineStep({ holder: "h", wallNow: Date.now(), now: NOW, maxChanges: 20, buildChunk: 1_000 });
    expect(step.changes).toBe(20);
    // The ten not yet applied stay, for the next step and for verify.
    expect(store.db.prepare("SELECT seq FROM changes ORDER BY seq").pluck().all()).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    await store.engineStep({ holder: "h", wallNow: Date.now(), now: NOW, maxChanges: 20, buildChunk: 1_000 });
    expect(count(store, "SELECT count(*) FROM changes")).toBe(0);
    expect((await store.engineStatus()).appliedChanges).toBe(30);
  } finally {
    await store.close();
  }
});

test("retention removes old events and applied entries in slices, oldest first, and keeps the rest", async () => {
  const store = openStore();
  try {
    fillHistory(store, 5_000, 4_000);
    // An entry not applied yet is kept whatever its age.
    store.db.prepare("INSERT INTO changes (kind, list_id, contact_id, created_at) VALUES ('CONTACT_UPDATED', 1, 1, ?)").run(NOW - 30 * DAY);
    const before = NOW - 7 * DAY;
    const expectedEvents = count(store, "SELECT count(*) FROM events WHERE occurred_at < ?", before);
    const lastExpired = store.db.prepare("SELECT seq, count FROM events WHERE occurred_at < ? ORDER BY seq DESC LIMIT 1").get(before) as { seq: number; count: number };

    let slices = 0;
    const total = { events: 0, changes: 0 };
    for (;;) {
      // A budget of zero: each slice does one statement's worth of work and asks for another.
      const slice = await store.prune(before, 0);
      slices++;
      total.events += slice.events;
      total.changes += slice.changes;
      expect(slice.events + slice.changes).toBeLessThanOrEqual(256);
      if (!slice.more) break;
    }
    expect(slices).toBeGreaterThan(30);
    expect(total).toEqual({ events: expectedEvents, changes: 5_000 });
    expect(store.db.prepare("SELECT seq FROM changes").pluck().all()).toEqual([5_001]);
    expect(count(store, "SELECT count(*) FROM events WHERE occurred_at < ?", before)).toBe(0);
    expect(count(store, "SELECT count(*) FROM events")).toBe(4_000 - expectedEvents);
    // Cursors up to the last removed event now read as expired.
    expect(await store.prunedThrough()).toBe(lastExpired.seq * ROW_SPAN + lastExpired.count - 1);
    // Nothing is left to do.
    expect(await store.prune(before, 5)).toEqual({ events: 0, changes: 0, more: false });
  } finally {
    await store.close();
  }
});

test("a slice stops when its time is spent and the next one goes on where it stopped", async () => {
  const store = openStore();
  try {
    fillHistory(store, 20_000, 0);
    const first = await store.prune(NOW, 1);
    expect(first.more).toBe(true);
    expect(first.changes).toBeLessThan(20_000);
    expect(count(store, "SELECT min(seq) FROM changes")).toBe(first.changes + 1);
    let removed = first.changes;
    for (let slice = await store.prune(NOW, 1); ; slice = await store.prune(NOW, 1)) {
      removed += slice.changes;
      if (!slice.more) break;
    }
    expect(removed).toBe(20_000);
  } finally {
    await store.close();
  }
});

test("import retention removes ended jobs and jobs whose process went silent, with their refused rows, and keeps the rest", async () => {
  const store = openStore();
  try {
    const job = (owner: string, wallNow: number) =>
      store.createImportJob({ workspaceId: "w", listId: "1", upsert: false, columns: ["email"], bytesTotal: null, owner }, NOW - 40 * DAY, wallNow);
    const errors = Array.from({ length: 700 }, (_, i) => ({ row: i + 1, code: "BAD_USER_INPUT", message: "not an email", cells: [`x${i}`] }));
    const ended = await job("a", NOW - 40 * DAY);
    await store.updateImportJob(ended.id, { errors, end: { status: "DONE", failure: null, at: NOW - 31 * DAY } }, NOW - 31 * DAY);
    const endedLately = await job("b", NOW - 40 * DAY);
    await store.updateImportJob(endedLately.id, { errors, end: { status: "FAILED", failure: "stopped", at: NOW - 29 * DAY } }, NOW - 29 * DAY);
    const silent = await job("c", NOW - 31 * DAY);
    const alive = await job("d", NOW - 29 * DAY);
    expect(count(store, "SELECT count(*) FROM import_errors")).toBe(1_400);

    const cut = { endedBefore: NOW - 30 * DAY, silentSince: NOW - 30 * DAY };
    const total = { jobs: 0, errors: 0, slices: 0 };
    for (;;) {
      // A budget of 0: one statement a slice.
      const slice = await store.pruneImports(cut, 0);
      total.jobs += slice.jobs;
      total.errors += slice.errors;
      total.slices++;
      if (!slice.more) break;
    }
    expect(total).toEqual({ jobs: 2, errors: 700, slices: 5 });
    expect((await store.getImportJobs([ended.id, endedLately.id, silent.id, alive.id])).map((record) => record?.owner ?? null)).toEqual([null, "b", null, "d"]);
    expect(count(store, "SELECT count(*) FROM import_errors WHERE job_id = ?", Number(endedLately.id))).toBe(700);
    expect(await store.pruneImports(cut, 5)).toEqual({ jobs: 0, errors: 0, more: false });
  } finally {
    await store.close();
  }
});
