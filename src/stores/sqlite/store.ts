import { type FSWatcher, watch } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import type Database from "better-sqlite3";
import { type Condition, catalogOf, type ContactFacts, type CustomFieldDef, type EvalTime, type FieldCatalog, normalizeText, type StoredCondition } from "../../conditions";
import { conflict, notFound } from "../../common/errors";
import { applyPatch, type ContactData, type ContactPatch, factsOf } from "../../domain/contacts";
import { SegmentCompiler } from "../../engine/membership";
import type { ContactState } from "../../engine/step-tx";
import type {
  ApiKeyRecord,
  ContactQuery,
  ContactRecord,
  EngineStatus,
  EngineStepInput,
  EngineStepResult,
  EventFilter,
  InsertContactsResult,
  ListRecord,
  MembershipEvent,
  NewContact,
  Mark,
  HistoryFilter,
  MemberEdit,
  MemberRuns,
  MembershipChange,
  MembershipOverride,
  Page,
  PruneSlice,
  SegmentRecord,
  SegmentType,
  Store,
  TimeKey,
  VerifyReport,
  Written,
  WebhookDeliveryRecord,
  WebhookEventFilter,
  WebhookProgress,
  WebhookRecord,
  ImportBatch,
  ImportCut,
  ImportJobRecord,
  ImportJobUpdate,
  ImportPruneSlice,
  ImportRowError,
} from "../port";
import { memberCountAt, ROW_SPAN, takeNewestFirst } from "../event-runs";
import { compileSql } from "./condition-sql";
import { BackgroundCheckpointer } from "./checkpointer";
import { SqliteSharedLimits } from "./shared-limits";
import { bumpCatalog, idArray, insertMany, openDatabase, type OpenOptions, rowId, StatementCache, WriteLock } from "./database";
import { SqliteImports } from "./imports";
import { MemberBlocks } from "./member-blocks";
import { SqliteEngine, sqliteMark } from "./step-tx";
import { SqliteWebhooks } from "./webhooks";
import { WriteBatch } from "./write-batch";
import {
  type ApiKeyRow,
  apiKeyFromRow,
  CONTACT_WRITE_COLUMNS,
  changedFacts,
  type ContactRow,
  contactDataFromRow,
  contactFromRow,
  contactFromTuple,
  contactWriteValues,
  type EventRow,
  eventsFromRow,
  type ListRow,
  listFromRow,
  RECORD_COLUMNS,
  type RecordTuple,
  type SegmentRow,
  segmentFromRow,
} from "./rows";
import { verifyDatabase } from "./verify";

const INSERT_CONTACT = `INSERT INTO contacts (list_id, created_at, ${CONTACT_WRITE_COLUMNS.join(", ")})
  VALUES (?, ?, ${CONTACT_WRITE_COLUMNS.map(() => "?").join(", ")})
  ON CONFLICT (list_id, email_n) DO NOTHING`;
const INSERT_CHANGE = "INSERT INTO changes (kind, list_id, contact_id, segment_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)";

/** Rows a housekeeping slice deletes per statement (a slice repeats it until its time is spent). */
const PRUNE_ROWS = 256;

/** Rows by id: one indexed lookup for a single id, `IN (json_each)` for a batch; `raw`: each row as an array of `columns`. */
function rowsById<R>(q: StatementCache, table: string, ids: readonly string[], columns = "*", raw = false): R[] {
  if (ids.length === 1) {
    const row = q.get(`SELECT ${columns} FROM ${table} WHERE id = ?`).raw(raw).get(rowId(ids[0]!)) as R | undefined;
    return row ? [row] : [];
  }
  return q.get(`SELECT ${columns} FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`).raw(raw).all(idArray(ids)) as R[];
}

function byIds<T extends { id: string }>(ids: readonly string[], records: T[]): (T | null)[] {
  const map = new Map(records.map((record) => [record.id, record]));
  return ids.map((id) => map.get(id) ?? null);
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE";
}

/**
 * How often a process looks for commits by other processes on the same file, beside its watch on
 * the WAL: a commit the watch and its rechecks missed (its process held off the CPU between
 * writing the WAL and publishing it) is noticed within this. A look costs a microsecond or two.
 */
const COMMIT_POLL_MS = 5;
/** Looks again after a WAL write that did not move data_version yet (ms after the previous look). */
const WAL_RECHECKS_MS = [1, 2, 4];
/** The same without a watch (an in-memory database, a file system without change notifications). */
const COMMIT_POLL_UNWATCHED_MS = 1;

/** The embedded store: one SQLite file in WAL mode, shareable by several processes. */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly q: StatementCache;
  private readonly compiler = new SegmentCompiler();
  private readonly engine: SqliteEngine;
  private readonly memberBlocks: MemberBlocks;

  private readonly checkpointer: BackgroundCheckpointer | null;
  private limits: SqliteSharedLimits | null = null;
  /** The file's commit counter (moves when another connection commits) and this connection's row changes. */
  private readonly dataVersion: Database.Statement;
  private readonly ownChanges: Database.Statement;
  /** Single-contact writes of one event-loop turn share a commit. */
  private readonly writes: WriteBatch;
  /** Takes the file's write lock without blocking the event loop (the hot write paths). */
  private readonly lock: WriteLock;
  private readonly webhooks: SqliteWebhooks;
  private readonly imports: SqliteImports;

  private constructor(
    readonly db: Database.Database,
    private readonly path: string,
    options: OpenOptions,
  ) {
    this.q = new StatementCache(db);
    this.memberBlocks = new MemberBlocks(this.q);
    this.engine = new SqliteEngine(db, this.q, this.memberBlocks, this.compiler);
    this.lock = new WriteLock(db, options.busyTimeoutMs ?? 10_000);
    this.dataVersion = db.prepare("PRAGMA data_version").pluck();
    this.ownChanges = db.prepare("SELECT total_changes()").pluck();
    this.writes = new WriteBatch(db, this.lock);
    this.webhooks = new SqliteWebhooks(db, this.q);
    this.imports = new SqliteImports(db, this.q);
    this.checkpointer =
      path === ":memory:" || options.backgroundCheckpoints === false
        ? null
        : new BackgroundCheckpointer(db, path, { onError: options.onCheckpointError });
  }

  static open(path: string, options: OpenOptions = {}): SqliteStore {
    return new SqliteStore(openDatabase(path, options), path, options);
  }

  // Lists

  async createList(
    input: { workspaceId: string; name: string; customFields: CustomFieldDef[]; timeZone?: string },
    now: number,
  ): Promise<ListRecord> {
    const row = this.q
      .get("INSERT INTO lists (workspace_id, name, custom_fields, time_zone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *")
      .get(input.workspaceId, input.name, JSON.stringify(input.customFields), input.timeZone ?? "UTC", now, now) as ListRow;
    return listFromRow(row);
  }

  async getLists(ids: readonly string[]): Promise<(ListRecord | null)[]> {
    return byIds(ids, rowsById<ListRow>(this.q, "lists", ids).map(listFromRow));
  }

  async pageLists(workspaceId: string, first: number, after?: TimeKey): Promise<Page<ListRecord>> {
    const rows = (
      after
        ? this.q
            .get("SELECT * FROM lists WHERE workspace_id = ? AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?")
            .all(workspaceId, after.createdAt, rowId(after.id) ?? 0, first + 1)
        : this.q.get("SELECT * FROM lists WHERE workspace_id = ? ORDER BY created_at DESC, id DESC LIMIT ?").all(workspaceId, first + 1)
    ) as ListRow[];
    return { items: rows.slice(0, first).map(listFromRow), hasNextPage: rows.length > first };
  }

  async countLists(workspaceId: string): Promise<number> {
    return this.q.pluck("SELECT count(*) FROM lists WHERE workspace_id = ?").get(workspaceId) as number;
  }

  async updateList(id: string, patch: { name?: string; customFields?: CustomFieldDef[] }, now: number): Promise<ListRecord | null> {
    const row = this.q
      .get(
        `UPDATE lists SET name = coalesce(?, name), custom_fields = coalesce(?, custom_fields), updated_at = ?
         WHERE id = ? RETURNING *`,
      )
      .get(patch.name ?? null, patch.customFields ? JSON.stringify(patch.customFields) : null, now, rowId(id)) as ListRow | undefined;
    if (row && patch.customFields) bumpCatalog(this.q);
    return row ? listFromRow(row) : null;
  }

  async deleteList(id: string, now: number): Promise<boolean> {
    const listId = rowId(id);
    return this.db
      .transaction(() => {
        if (!this.q.get("SELECT 1 FROM lists WHERE id = ?").get(listId)) return false;
        const segments = this.q.pluck("SELECT id FROM segments WHERE list_id = ? ORDER BY id").all(listId) as number[];
        const tombstone = this.q.get("INSERT INTO events (kind, list_id, segment_id, occurred_at) VALUES (?, ?, ?, ?)");
        for (const segmentId of segments) {
          this.dropSegmentRows(segmentId);
          tombstone.run("SEGMENT_DELETED", listId, segmentId, now);
          this.compiler.forget(String(segmentId));
        }
        tombstone.run("LIST_DELETED", listId, null, now);
        this.webhooks.deleteOfList(listId!);
        bumpCatalog(this.q);
        this.q.get("DELETE FROM segments WHERE list_id = ?").run(listId);
        this.q.get("DELETE FROM contacts WHERE list_id = ?").run(listId);
        this.q.get("DELETE FROM lists WHERE id = ?").run(listId);
        return true;
      })
      .immediate();
  }

  // Contacts

  async insertContacts(
    list: ListRecord,
    rows: NewContact[],
    upsert: boolean,
    now: number,
    job?: ImportBatch,
  ): Promise<InsertContactsResult> {
    const listId = rowId(list.id);
    const insert = this.q.get(INSERT_CONTACT);
    // The added contacts with their feed entries, for this process's engine once committed.
    let added: { seq: number; contact: ContactState }[] = [];
    const done = await this.lock.run(() =>
      this.db
        .transaction(() => {
          added = [];
          const changes: unknown[][] = [];
          const addedFacts: (ContactFacts | undefined)[] = [];
          // The list's fields as they are now: a long import's may have grown since it began.
          const fields = this.q.pluck("SELECT custom_fields FROM lists WHERE id = ?").get(listId) as string | undefined;
          if (fields === undefined) throw notFound("ContactList", list.id);
          const catalog = catalogOf(JSON.parse(fields) as CustomFieldDef[]);
          const result: InsertContactsResult = { added: 0, updated: 0, ids: [], conflicts: [], mark: null };
          const updates = new Map<number, { existing: ContactRow; before: ContactData; next: ContactData }>();
          rows.forEach(({ data, patch }, index) => {
            const facts = factsOf(data, catalog, now, now);
            const inserted = insert.run(listId, now, ...contactWriteValues(data, facts, now));
            if (inserted.changes === 1) {
              result.added++;
              result.ids.push(String(inserted.lastInsertRowid));
              addedFacts[changes.length] = facts;
              changes.push(["CONTACT_ADDED", listId, inserted.lastInsertRowid, null, now]);
              return;
            }
            if (!upsert) {
              result.ids.push(null);
              result.conflicts.push(index);
              return;
            }
            const existing = this.q
              .get("SELECT * FROM contacts WHERE list_id = ? AND email_n = ?")
              .get(listId, normalizeText(data.email)) as ContactRow;
            // Rows of one email apply in order to what the earlier ones made; the contact is
            // written once, after the last of them.
            let update = updates.get(existing.id);
            if (!update) {
              const before = contactDataFromRow(existing);
              update = { existing, before, next: before };
            }
            update.next = applyPatch(update.next, patch);
            updates.set(existing.id, update);
            result.ids.push(String(existing.id));
            result.updated++;
          });
          for (const { existing, before, next } of updates.values()) {
            // Rows that change nothing, or end where the contact was (a file re-run), leave it as it is: no write, no change to apply.
            if (isDeepStrictEqual(next, before)) continue;
            const { change } = this.rewriteContact(existing, next, catalog, now);
            changes.push(["CONTACT_UPDATED", listId, existing.id, change, now]);
          }
          insertMany(
            this.q,
            "INSERT INTO changes (kind, list_id, contact_id, payload, created_at)",
            5,
            changes,
            (change, into, at) => {
              for (let i = 0; i < 5; i++) into[at + i] = change[i];
            },
            (lastSeq, first, count) => {
              result.mark = sqliteMark(lastSeq);
              for (let i = 0; i < count; i++) {
                const facts = addedFacts[first + i];
                if (facts) added.push({ seq: lastSeq - count + 1 + i, contact: { id: String(changes[first + i]![2]), listId: list.id, facts } });
              }
            },
          );
          if (result.added > 0) this.q.get("UPDATE lists SET contact_count = contact_count + ? WHERE id = ?").run(result.added, listId);
          if (job && !this.imports.update(job.jobId, job.update(result), job.wallNow)) throw conflict(`the import ${job.jobId} is no longer running`);
          return result;
        })
        .immediate(),
    );
    this.engine.written.add(added);
    return done;
  }

  async updateContact(id: string, workspaceId: string, patchFor: (list: ListRecord) => ContactPatch, now: number): Promise<Written<ContactRecord> | null> {
    const contactId = rowId(id);
    return this.writes.run(() => {
      const row = this.q.get("SELECT * FROM contacts WHERE id = ?").get(contactId) as ContactRow | undefined;
      if (!row) return null;
      const listRow = this.q.get("SELECT * FROM lists WHERE id = ? AND workspace_id = ?").get(row.list_id, workspaceId) as ListRow | undefined;
      if (!listRow) return null;
      const list = listFromRow(listRow);
      const catalog = catalogOf(list.customFields);
      const next = applyPatch(contactDataFromRow(row), patchFor(list));
      let written: { updated: ContactRow; change: string };
      try {
        written = this.rewriteContact(row, next, catalog, now);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`another contact of this list already has the email ${next.email}`, { field: "email" });
        throw error;
      }
      const change = this.q.get(INSERT_CHANGE).run("CONTACT_UPDATED", row.list_id, contactId, null, written.change, now);
      return { value: contactFromRow(written.updated), mark: sqliteMark(Number(change.lastInsertRowid)) };
    });
  }

  /**
   * Writes a contact's new data and returns the row as stored. Only the columns that change are
   * written: an index whose columns are not assigned is left alone, and most patches touch no
   * indexed column.
   */
  private rewriteContact(row: ContactRow, next: ContactData, catalog: FieldCatalog, now: number): { updated: ContactRow; change: string } {
    const values = contactWriteValues(next, factsOf(next, catalog, row.created_at, now), now);
    const updated: Record<string, unknown> = { ...row };
    const columns: string[] = [];
    const changed: unknown[] = [];
    CONTACT_WRITE_COLUMNS.forEach((column, i) => {
      if (values[i] === row[column]) return;
      columns.push(column);
      changed.push(values[i]);
      updated[column] = values[i];
    });
    if (columns.length > 0) this.q.get(`UPDATE contacts SET ${columns.map((column) => `${column} = ?`).join(", ")} WHERE id = ?`).run(...changed, row.id);
    // The change-feed payload: the facts that changed, so the engine evaluates only the segments
    // that read one of them.
    const change = JSON.stringify({ changed: changedFacts(row, updated as unknown as ContactRow, columns) });
    return { updated: updated as unknown as ContactRow, change };
  }

  async deleteContact(id: string, now: number): Promise<Written<ContactRecord> | null> {
    const contactId = rowId(id);
    return this.writes.run(() => {
      const row = this.q.get("DELETE FROM contacts WHERE id = ? RETURNING *").get(contactId) as ContactRow | undefined;
      if (!row) return null;
      const change = this.q.get(INSERT_CHANGE).run("CONTACT_DELETED", row.list_id, contactId, null, null, now);
      this.q.get("UPDATE lists SET contact_count = contact_count - 1 WHERE id = ?").run(row.list_id);
      return { value: contactFromRow(row), mark: sqliteMark(Number(change.lastInsertRowid)) };
    });
  }

  async getContacts(ids: readonly string[]): Promise<(ContactRecord | null)[]> {
    return byIds(ids, rowsById<RecordTuple>(this.q, "contacts", ids, RECORD_COLUMNS, true).map(contactFromTuple));
  }

  async pageContacts(listId: string, query: ContactQuery): Promise<Page<ContactRecord>> {
    const params: unknown[] = [rowId(listId)];
    let sql = `SELECT ${RECORD_COLUMNS} FROM contacts c WHERE c.list_id = ?`;
    if (query.after) {
      sql += " AND (c.created_at, c.id) < (?, ?)";
      params.push(query.after.createdAt, rowId(query.after.id) ?? 0);
    }
    if (query.where) {
      const where = compileSql(query.where, query.at);
      sql += ` AND ${where.sql}`;
      params.push(...where.params);
    }
    sql += " ORDER BY c.created_at DESC, c.id DESC LIMIT ?";
    params.push(query.first + 1);
    const rows = this.q.get(sql).raw(true).all(...params) as RecordTuple[];
    return { items: rows.slice(0, query.first).map(contactFromTuple), hasNextPage: rows.length > query.first };
  }

  async countContacts(listId: string, where: Condition | undefined, at: EvalTime): Promise<number> {
    if (!where) {
      return (this.q.pluck("SELECT contact_count FROM lists WHERE id = ?").get(rowId(listId)) as number | undefined) ?? 0;
    }
    const match = compileSql(where, at);
    return this.q.pluck(`SELECT count(*) FROM contacts c WHERE c.list_id = ? AND ${match.sql}`).get(rowId(listId), ...match.params) as number;
  }

  async countEach(listId: string, conditions: readonly Condition[], at: EvalTime): Promise<number[]> {
    if (conditions.length === 0) return [];
    // Every compiled condition is 0 or 1 per contact: their sums are the counts.
    const params: unknown[] = [];
    const sums = conditions.map((condition) => {
      const match = compileSql(condition, at);
      params.push(...match.params);
      return `coalesce(sum(${match.sql}), 0)`;
    });
    return this.q.get(`SELECT ${sums.join(", ")} FROM contacts c WHERE c.list_id = ?`).raw().get(...params, rowId(listId)) as number[];
  }

  // Segments

  async createSegment(
    input: { listId: string; name: string; type: SegmentType; condition: StoredCondition },
    now: number,
  ): Promise<SegmentRecord> {
    return this.db.transaction(() => segmentFromRow(this.insertSegment(rowId(input.listId), input.name, input.type, JSON.stringify(input.condition), now, null)))();
  }

  /**
   * A new segment: BUILDING (its build takes its members in), or with `snapshot`, READY with that
   * many members already stored.
   */
  private insertSegment(listId: number | null, name: string, type: SegmentType, condition: string, now: number, snapshot: { memberCount: number } | null): SegmentRow {
    bumpCatalog(this.q);
    return this.q
      .get(
        `INSERT INTO segments (list_id, name, type, status, condition, member_count, build_cursor, clock_at, built_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(listId, name, type, snapshot ? "READY" : "BUILDING", condition, snapshot?.memberCount ?? 0, snapshot ? null : 0, now, snapshot ? now : null, now, now) as SegmentRow;
  }

  async renameSegment(id: string, name: string, now: number): Promise<SegmentRecord | null> {
    const row = this.q.get("UPDATE segments SET name = ?, updated_at = ? WHERE id = ? RETURNING *").get(name, now, rowId(id)) as
      | SegmentRow
      | undefined;
    return row ? segmentFromRow(row) : null;
  }

  async requestFreeze(id: string, at: number | null, now: number): Promise<Mark> {
    return this.queueSegmentChange("SEGMENT_FREEZE", id, { at }, now);
  }

  async duplicateSegment(sourceId: string, name: string, type: SegmentType, now: number): Promise<SegmentRecord | null> {
    return this.db
      .transaction(() => {
        const source = this.q.get("SELECT * FROM segments WHERE id = ?").get(rowId(sourceId)) as SegmentRow | undefined;
        if (!source) return null;
        if (type === "STATIC") {
          // A snapshot: the source's member blocks as they are, READY at once.
          const row = this.insertSegment(source.list_id, name, "STATIC", source.condition, now, { memberCount: source.member_count });
          this.q.get("INSERT INTO member_blocks (segment_id, block, bits) SELECT ?, block, bits FROM member_blocks WHERE segment_id = ?").run(row.id, source.id);
          return segmentFromRow(row);
        }
        const row = this.insertSegment(source.list_id, name, "DYNAMIC", source.condition, now, null);
        // Its build takes the overrides in.
        if (source.type === "DYNAMIC") {
          this.q.get("INSERT INTO segment_overrides (segment_id, contact_id, included) SELECT ?, contact_id, included FROM segment_overrides WHERE segment_id = ?").run(row.id, source.id);
        }
        return segmentFromRow(row);
      })
      .immediate();
  }

  async requestConditionChange(id: string, condition: StoredCondition, now: number): Promise<Mark> {
    return this.queueSegmentChange("SEGMENT_CONDITION", id, condition, now);
  }

  async requestMemberEdit(segmentId: string, edit: MemberEdit, contactIds: readonly string[], now: number): Promise<Mark> {
    return this.queueSegmentChange("SEGMENT_MEMBERS", segmentId, { edit, contactIds: contactIds.map(Number) }, now);
  }

  /** Writes a change to a segment into the feed, for the engine to apply in its place. */
  private queueSegmentChange(kind: "SEGMENT_CONDITION" | "SEGMENT_MEMBERS" | "SEGMENT_FREEZE", id: string, payload: unknown, now: number): Mark {
    return this.db
      .transaction(() => {
        const listId = this.q.pluck("SELECT list_id FROM segments WHERE id = ?").get(rowId(id)) as number | undefined;
        if (listId === undefined) throw notFound("Segment", id);
        return sqliteMark(Number(this.q.get(INSERT_CHANGE).run(kind, listId, null, rowId(id), JSON.stringify(payload), now).lastInsertRowid));
      })
      .immediate();
  }

  async pageOverrides(segmentId: string, override: MembershipOverride, first: number, afterContactId?: string): Promise<Page<string>> {
    const below = afterContactId === undefined ? Number.MAX_SAFE_INTEGER : (rowId(afterContactId) ?? 0);
    const ids = this.q
      .pluck("SELECT contact_id FROM segment_overrides WHERE segment_id = ? AND included = ? AND contact_id < ? ORDER BY contact_id DESC LIMIT ?")
      .all(rowId(segmentId), override === "INCLUDED" ? 1 : 0, below, first + 1) as number[];
    return { items: ids.slice(0, first).map(String), hasNextPage: ids.length > first };
  }

  async overrideOf(segmentId: string, contactId: string): Promise<MembershipOverride | null> {
    const included = this.q.pluck("SELECT included FROM segment_overrides WHERE segment_id = ? AND contact_id = ?").get(rowId(segmentId), rowId(contactId)) as number | undefined;
    return included === undefined ? null : included ? "INCLUDED" : "EXCLUDED";
  }

  async countOverrides(segmentId: string, override: MembershipOverride): Promise<number> {
    return this.q.pluck("SELECT count(*) FROM segment_overrides WHERE segment_id = ? AND included = ?").get(rowId(segmentId), override === "INCLUDED" ? 1 : 0) as number;
  }

  /** Removes what a deleted segment kept: its members, overrides and join times. */
  private dropSegmentRows(segmentId: number): void {
    this.memberBlocks.deleteSegment(segmentId);
    this.q.get("DELETE FROM segment_overrides WHERE segment_id = ?").run(segmentId);
    this.q.get("DELETE FROM member_joins WHERE segment_id = ?").run(segmentId);
  }

  async deleteSegment(id: string, now: number): Promise<boolean> {
    const segmentId = rowId(id);
    if (segmentId === null) return false;
    return this.db
      .transaction(() => {
        const row = this.q.get("DELETE FROM segments WHERE id = ? RETURNING list_id").get(segmentId) as { list_id: number } | undefined;
        if (!row) return false;
        this.dropSegmentRows(segmentId);
        this.q.get("INSERT INTO events (kind, list_id, segment_id, occurred_at) VALUES ('SEGMENT_DELETED', ?, ?, ?)").run(row.list_id, segmentId, now);
        bumpCatalog(this.q);
        this.compiler.forget(id);
        return true;
      })
      .immediate();
  }

  async getSegments(ids: readonly string[]): Promise<(SegmentRecord | null)[]> {
    return byIds(ids, rowsById<SegmentRow>(this.q, "segments", ids).map(segmentFromRow));
  }

  async segmentsOfLists(listIds: readonly string[]): Promise<SegmentRecord[][]> {
    const rows = this.q
      .get("SELECT * FROM segments WHERE list_id IN (SELECT value FROM json_each(?)) ORDER BY id")
      .all(idArray(listIds)) as SegmentRow[];
    const byList = new Map<string, SegmentRecord[]>();
    for (const row of rows) {
      const segment = segmentFromRow(row);
      const group = byList.get(segment.listId);
      if (group) group.push(segment);
      else byList.set(segment.listId, [segment]);
    }
    return listIds.map((id) => byList.get(id) ?? []);
  }

  async segmentIdsOfContacts(contactIds: readonly string[]): Promise<string[][]> {
    const ids = contactIds.map(rowId).filter((id): id is number => id !== null);
    const byContact = this.memberBlocks.segmentsOf(ids);
    return contactIds.map((id) => (byContact.get(rowId(id) ?? 0) ?? []).map(String));
  }

  async pageMembers(segmentId: string, first: number, afterContactId?: string): Promise<Page<string>> {
    const segment = rowId(segmentId);
    if (segment === null) return { items: [], hasNextPage: false };
    const below = afterContactId !== undefined ? (rowId(afterContactId) ?? 0) : undefined;
    const ids = below === 0 ? [] : this.memberBlocks.page(segment, first + 1, below);
    return { items: ids.slice(0, first).map(String), hasNextPage: ids.length > first };
  }

  async joinedAt(segmentId: string, contactIds: readonly string[]): Promise<Map<string, number>> {
    const rows = this.q
      .get("SELECT contact_id, joined_at FROM member_joins WHERE segment_id = ? AND contact_id IN (SELECT value FROM json_each(?))")
      .raw()
      .all(rowId(segmentId), JSON.stringify(contactIds.map(Number))) as [number, number][];
    return new Map(rows.map(([contactId, joinedAt]) => [String(contactId), joinedAt]));
  }

  // Engine

  async acquireLease(name: string, holder: string, now: number, ttlMs: number, replacing?: string): Promise<boolean> {
    const heldByAnother = () => {
      const other = this.leaseHolderNow(name, now);
      return other !== null && other !== holder && other !== replacing;
    };
    // A standby asks often: a lease plainly held elsewhere is refused without taking the write lock.
    if (heldByAnother()) return false;
    return this.db
      .transaction(() => {
        if (heldByAnother()) return false;
        this.q
          .get("INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at")
          .run(name, holder, now + ttlMs);
        return true;
      })
      .immediate();
  }

  private leaseHolderNow(name: string, now: number): string | null {
    const lease = this.q.get("SELECT holder, expires_at FROM leases WHERE name = ?").get(name) as { holder: string; expires_at: number } | undefined;
    return lease !== undefined && lease.expires_at > now ? lease.holder : null;
  }

  async leaseHolder(name: string, now: number): Promise<string | null> {
    return this.leaseHolderNow(name, now);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.q.get("DELETE FROM leases WHERE name = ? AND holder = ?").run(name, holder);
  }

  async engineStep(input: EngineStepInput): Promise<EngineStepResult> {
    return this.lock.run(() => this.engine.step(input));
  }

  async engineStatus(): Promise<EngineStatus> {
    const state = this.q.get("SELECT checkpoint, clock FROM engine_state WHERE id = 1").get() as { checkpoint: number; clock: number };
    // Feed entries are numbered from 1 without gaps: the newest number is the count written.
    const latest = (this.q.pluck("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").get() as number | undefined) ?? 0;
    const building = this.q.pluck("SELECT count(*) FROM segments WHERE status = 'BUILDING'").get() as number;
    return {
      applied: sqliteMark(state.checkpoint),
      latest: sqliteMark(latest),
      appliedChanges: state.checkpoint,
      pendingChanges: latest - state.checkpoint,
      building,
      clock: state.clock,
      latestEvent: await this.latestEventPosition(),
    };
  }

  // Events

  /** The position of the newest event, or of the end of what retention removed. */
  private async latestEventPosition(): Promise<number> {
    const row = this.q.get("SELECT seq, count FROM events ORDER BY seq DESC LIMIT 1").get() as { seq: number; count: number } | undefined;
    return Math.max(row ? row.seq * ROW_SPAN + row.count - 1 : 0, await this.prunedThrough());
  }

  async eventsAfter(position: number, filter: EventFilter, limit: number): Promise<MembershipEvent[]> {
    return this.readEvents(position, filter, limit);
  }

  private readEvents(position: number, filter: EventFilter, limit: number): MembershipEvent[] {
    const [where, param] =
      filter.segmentId !== undefined
        ? ["segment_id = ? AND ", rowId(filter.segmentId)]
        : filter.listId !== undefined
          ? ["list_id = ? AND ", rowId(filter.listId)]
          : ["", undefined];
    const select = this.q.get(`SELECT * FROM events WHERE ${where}seq >= ? ORDER BY seq LIMIT 50`);
    const events: MembershipEvent[] = [];
    let seq = Math.floor(position / ROW_SPAN);
    for (;;) {
      const rows = (param === undefined ? select.all(seq) : select.all(param, seq)) as EventRow[];
      for (const row of rows) {
        for (const event of eventsFromRow(row)) {
          if (event.seq > position) events.push(event);
          if (events.length === limit) return events;
        }
      }
      if (rows.length < 50) return events;
      seq = rows[rows.length - 1]!.seq + 1;
    }
  }

  async eventsBefore(position: number | null, filter: HistoryFilter, limit: number): Promise<MembershipEvent[]> {
    const [scope, param] = filter.segmentId !== undefined ? ["segment_id = ?", rowId(filter.segmentId)] : ["list_id = ?", rowId(filter.listId ?? "")];
    // A contact's events are found in the runs' id lists without parsing every run.
    const contact = filter.contactId === undefined ? null : rowId(filter.contactId);
    if (param === null || (filter.contactId !== undefined && contact === null)) return [];
    const select = this.q.get(
      `SELECT * FROM events WHERE ${scope} AND seq <= ? AND kind IN ('ENTERED', 'LEFT')${contact === null ? "" : " AND instr(',' || contacts || ',', ?) > 0"} ORDER BY seq DESC LIMIT 50`,
    );
    const events: MembershipEvent[] = [];
    let seq = position === null ? Number.MAX_SAFE_INTEGER : Math.floor(position / ROW_SPAN);
    for (;;) {
      const rows = (contact === null ? select.all(param, seq) : select.all(param, seq, `,${contact},`)) as EventRow[];
      for (const row of rows) if (takeNewestFirst(eventsFromRow(row), position, contact === null ? null : String(contact), events, limit)) return events;
      if (rows.length < 50) return events;
      seq = rows[rows.length - 1]!.seq - 1;
    }
  }

  async memberRuns(segmentId: string, since: number, until: number): Promise<MemberRuns> {
    const segment = rowId(segmentId);
    // The log is in time order: the window is a range of seq, read from the by-segment index.
    const [from, to] = [this.lastEventBefore(since), this.lastEventBefore(until)];
    const runs = (
      this.q
        .get("SELECT kind, count, member_count, occurred_at FROM events WHERE segment_id = ? AND seq > ? AND seq <= ? AND kind IN ('ENTERED', 'LEFT') ORDER BY seq")
        .raw()
        .all(segment, from, to) as [MembershipChange, number, number, number][]
    ).map(([kind, count, memberCount, occurredAt]) => ({ kind, count, memberCountAfter: memberCountAt(kind, memberCount, count - 1), occurredAt }));
    const before = this.q
      .get("SELECT kind, count, member_count FROM events WHERE segment_id = ? AND seq <= ? AND kind IN ('ENTERED', 'LEFT') ORDER BY seq DESC LIMIT 1")
      .raw()
      .get(segment, from) as [MembershipChange, number, number] | undefined;
    const pruned = await this.prunedThrough();
    const oldest = pruned > 0 ? (this.q.pluck("SELECT occurred_at FROM events ORDER BY seq LIMIT 1").get() as number | undefined) : undefined;
    return { runs, countBefore: before ? memberCountAt(before[0], before[2], before[1] - 1) : null, retainedSince: oldest ?? null };
  }

  async prunedThrough(): Promise<number> {
    return Number(this.q.pluck("SELECT value FROM meta WHERE key = 'pruned_through'").get());
  }

  async prune(before: number, budgetMs: number): Promise<PruneSlice> {
    // Bulk deletes wait for a running checkpoint rather than stall on its fsync.
    return this.checkpointer ? this.checkpointer.exclusive(() => this.pruneSlice(before, budgetMs)) : this.pruneSlice(before, budgetMs);
  }

  private pruneSlice(before: number, budgetMs: number): PruneSlice {
    const started = performance.now();
    const spent = () => performance.now() - started >= budgetMs;
    return this.db
      .transaction(() => {
        const slice: PruneSlice = { events: 0, changes: 0, more: false };
        // The engine removes the entries it applies in the step that applies them; these are
        // what a database written by an older version kept after applying them.
        const checkpoint = this.q.pluck("SELECT checkpoint FROM engine_state WHERE id = 1").get() as number;
        for (;;) {
          const oldest = this.q.pluck("SELECT min(seq) FROM changes").get() as number | null;
          if (oldest === null || oldest > checkpoint) break;
          slice.changes += this.q.get("DELETE FROM changes WHERE seq <= ?").run(Math.min(checkpoint, oldest + PRUNE_ROWS - 1)).changes;
          if (spent()) return { ...slice, more: true };
        }
        const cut = this.lastEventBefore(before);
        for (;;) {
          const oldest = this.q.pluck("SELECT min(seq) FROM events").get() as number | null;
          if (oldest === null || oldest > cut) break;
          const through = Math.min(cut, oldest + PRUNE_ROWS - 1);
          const last = this.q.get("SELECT seq, count FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1").get(through) as { seq: number; count: number };
          slice.events += this.q.get("DELETE FROM events WHERE seq <= ?").run(through).changes;
          const position = last.seq * ROW_SPAN + last.count - 1;
          this.q.get("UPDATE meta SET value = ? WHERE key = 'pruned_through' AND CAST(value AS INTEGER) < ?").run(String(position), position);
          if (spent()) return { ...slice, more: through < cut };
        }
        return slice;
      })
      .immediate();
  }

  async pruneImports(cut: ImportCut, budgetMs: number): Promise<ImportPruneSlice> {
    const slice = () => {
      const started = performance.now();
      return this.db.transaction(() => this.imports.prune(cut, PRUNE_ROWS, () => performance.now() - started >= budgetMs)).immediate();
    };
    return this.checkpointer ? this.checkpointer.exclusive(slice) : slice();
  }

  /** The newest event row that occurred before `before` (0: none). Events are appended in time order, so by binary search over seq. */
  private lastEventBefore(before: number): number {
    // Two statements: SQLite answers a lone min() or max() from the index, but both together by a scan.
    const first = this.q.pluck("SELECT min(seq) FROM events").get() as number | null;
    const last = this.q.pluck("SELECT max(seq) FROM events").get() as number | null;
    if (first === null || last === null) return 0;
    const timeAt = this.q.pluck("SELECT occurred_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1");
    let [low, high, cut] = [first, last, 0];
    while (low <= high) {
      const mid = Math.floor((low + high) / 2);
      if ((timeAt.get(mid) as number) < before) {
        cut = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return cut > 0 ? (this.q.pluck("SELECT max(seq) FROM events WHERE seq <= ?").get(cut) as number) : 0;
  }

  async verify(): Promise<VerifyReport> {
    return verifyDatabase(this.db, this.compiler, (position, filter, limit) => this.readEvents(position, filter, limit));
  }

  // API keys

  async createApiKey(input: { workspaceId: string; name: string | null; prefix: string; hash: string }, now: number): Promise<ApiKeyRecord> {
    const row = this.q
      .get("INSERT INTO api_keys (workspace_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *")
      .get(input.workspaceId, input.name, input.prefix, input.hash, now) as ApiKeyRow;
    return apiKeyFromRow(row);
  }

  async revokeApiKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | null> {
    const row = this.q
      .get("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? OR prefix = ? RETURNING *")
      .get(now, rowId(idOrPrefix), idOrPrefix) as ApiKeyRow | undefined;
    return row ? apiKeyFromRow(row) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (this.q.get("SELECT * FROM api_keys ORDER BY id").all() as ApiKeyRow[]).map(apiKeyFromRow);
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.q.get("SELECT * FROM api_keys WHERE hash = ?").get(hash) as ApiKeyRow | undefined;
    return row ? apiKeyFromRow(row) : null;
  }

  async activeApiKeyIds(ids: readonly string[]): Promise<string[]> {
    return (this.q.pluck("SELECT id FROM api_keys WHERE revoked_at IS NULL AND id IN (SELECT value FROM json_each(?))").all(idArray(ids)) as number[]).map(String);
  }

  async countApiKeys(): Promise<number> {
    return this.q.pluck("SELECT count(*) FROM api_keys").get() as number;
  }

  // Webhooks

  async createWebhook(input: { listId: string; segmentIds: string[] | null; url: string; secret: string; position: number }, now: number): Promise<WebhookRecord> {
    return this.webhooks.create(input, now);
  }

  async getWebhooks(ids: readonly string[]): Promise<(WebhookRecord | null)[]> {
    return this.webhooks.get(ids);
  }

  async webhooksOfList(listId: string): Promise<WebhookRecord[]> {
    return this.webhooks.ofList(listId);
  }

  async activeWebhookIds(): Promise<string[]> {
    return this.webhooks.activeIds();
  }

  async setWebhookEnabled(id: string, enabled: boolean, now: number): Promise<WebhookRecord | null> {
    return this.webhooks.setEnabled(id, enabled, now);
  }

  async saveWebhookProgress(id: string, expectedBatch: string | null, progress: WebhookProgress, delivery: WebhookDeliveryRecord | null, now: number): Promise<WebhookRecord | null> {
    return this.webhooks.saveProgress(id, expectedBatch, progress, delivery, now);
  }

  async logWebhookDelivery(id: string, delivery: WebhookDeliveryRecord): Promise<void> {
    this.webhooks.logDelivery(id, delivery);
  }

  async webhookDeliveries(id: string, first: number): Promise<WebhookDeliveryRecord[]> {
    return this.webhooks.deliveries(id, first);
  }

  async deleteWebhook(id: string): Promise<boolean> {
    return this.webhooks.delete(id);
  }

  async countEventsAfter(position: number, filter: WebhookEventFilter): Promise<number> {
    return this.webhooks.countEventsAfter(position, filter);
  }

  // Imports

  async createImportJob(
    input: { workspaceId: string; listId: string; upsert: boolean; columns: string[]; bytesTotal: number | null; owner: string },
    startedAt: number,
    wallNow: number,
  ): Promise<ImportJobRecord> {
    return this.imports.create(input, startedAt, wallNow);
  }

  async updateImportJob(id: string, update: ImportJobUpdate, wallNow: number, staleBefore?: number): Promise<ImportJobRecord | null> {
    return this.imports.update(id, update, wallNow, staleBefore);
  }

  async getImportJobs(ids: readonly string[]): Promise<(ImportJobRecord | null)[]> {
    return this.imports.get(ids);
  }

  async importErrors(jobId: string, afterRow: number, first: number): Promise<ImportRowError[]> {
    return this.imports.errors(jobId, afterRow, first);
  }

  async changeToken(): Promise<string> {
    return String(this.dataVersion.get());
  }

  /**
   * Looks at `PRAGMA data_version`, which changes when another connection commits; reading it
   * costs a look at the WAL index in shared memory (no I/O, no lock). It is read whenever the
   * WAL file is written (a file-system watch: every commit appends to it), and every
   * COMMIT_POLL_MS besides, in case the watch misses one or the file system has none.
   */
  watchCommits(onCommit: () => void): () => void {
    let last = this.dataVersion.get();
    let scheduled = false;
    const check = () => {
      if (!this.db.open) return false;
      const now = this.dataVersion.get();
      if (now === last) return false;
      last = now;
      onCommit();
      return true;
    };
    // A commit appends its frames to the WAL before it publishes them in the WAL index, so the
    // write that wakes the watch may come a moment before data_version moves: look again after
    // 1, 2 and 4 ms before leaving it to the poll.
    let again = false;
    const afterWrite = (attempt: number) => {
      if (check() || attempt === WAL_RECHECKS_MS.length) {
        scheduled = false;
        // Writes seen meanwhile get looks of their own.
        if (again) wake();
        return;
      }
      setTimeout(() => afterWrite(attempt + 1), WAL_RECHECKS_MS[attempt]).unref();
    };
    const wake = () => {
      again = scheduled;
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => afterWrite(0));
    };
    let watcher: FSWatcher | null = null;
    if (this.path !== ":memory:") {
      try {
        // A commit is several writes: one look once they are done.
        watcher = watch(`${this.path}-wal`, { persistent: false }, wake);
        watcher.on("error", () => {
          watcher?.close();
          watcher = null;
        });
      } catch {
        watcher = null;
      }
    }
    const timer = setInterval(() => void check(), watcher ? COMMIT_POLL_MS : COMMIT_POLL_UNWATCHED_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      watcher?.close();
    };
  }

  /** This connection's row changes (its own commits) and the file's data_version (everyone else's). */
  commitGeneration(): string {
    return `${this.ownChanges.get()}:${this.dataVersion.get()}`;
  }

  sharedLimits(): SqliteSharedLimits {
    return (this.limits ??= new SqliteSharedLimits(this.path));
  }

  async close(): Promise<void> {
    await this.limits?.close();
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }
}
