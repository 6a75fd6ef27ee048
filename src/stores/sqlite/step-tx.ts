/**
 * The engine step's store operations on SQLite (StepTx), on prepared statements, inside the one
 * better-sqlite3 transaction SqliteEngine runs each step in. Every answer is synchronous.
 */
import type Database from "better-sqlite3";
import type { Condition, CustomFieldDef, EvalTime, FieldRef, StoredCondition } from "../../conditions";
import type { ListState, MembershipWrite, PendingEvent, SegmentCompiler } from "../../engine/membership";
import { engineStep } from "../../engine/step";
import type { ContactState, FeedEntry, IdRange, MembershipView, SegmentProgress, StepTx, StoredList, StoredSegment } from "../../engine/step-tx";
import { runSync } from "../../engine/work";
import { ROW_SPAN } from "../event-runs";
import { ENGINE_LEASE, type EngineStepInput, type EngineStepResult, type Mark, type MemberEdit, type MembershipOverride, type SegmentType } from "../port";
import { compileSql, fieldColumn } from "./condition-sql";
import { bumpCatalog, insertMany, type StatementCache } from "./database";
import { BlockCache, type MemberBlocks } from "./member-blocks";
import { type ContactRow, FACT_COLUMNS, factsFromRow, SEGMENT_SELECT, type SegmentRow } from "./rows";
import { WrittenFacts } from "./written-facts";

/** A change-feed position as a mark: fixed width, so marks compare as strings in feed order. */
export function sqliteMark(seq: number): Mark {
  return String(seq).padStart(16, "0");
}

/** A segment row as the engine reads it. */
export function storedSegment(row: SegmentRow): StoredSegment {
  return {
    id: String(row.id),
    listId: String(row.list_id),
    type: row.type,
    status: row.status,
    condition: JSON.parse(row.condition) as StoredCondition,
    memberCount: row.member_count,
    nextWakeAt: row.next_wake_at,
    hasOverrides: row.has_overrides === 1,
    conditionVersion: row.condition_seq,
    clockAt: row.clock_at,
    buildCursor: row.build_cursor ? String(row.build_cursor) : null,
  };
}

/** A change-feed row as readFeed selects it (a statement in raw mode). */
type ChangeTuple = [seq: number, kind: string, listId: number, contactId: number | null, segmentId: number | null, payload: string | null];

/** Every override in a segment, by contact. */
export function overridesIn(q: StatementCache, segmentId: string): Map<string, MembershipOverride> {
  const rows = q.get("SELECT contact_id, included FROM segment_overrides WHERE segment_id = ?").raw().all(Number(segmentId)) as [number, number][];
  return new Map(rows.map(([contactId, included]) => [String(contactId), included ? "INCLUDED" : "EXCLUDED"]));
}

/** Blocks the engine keeps between steps, at most (512 bytes each). */
const CACHED_BLOCKS = 65_536;

/** A range's ends as row ids: (from, to]. */
function rowRange(range: IdRange): { from: number; to: number } {
  return { from: range.after === null ? 0 : Number(range.after), to: range.upTo === null ? Number.MAX_SAFE_INTEGER : Number(range.upTo) };
}

class SqliteStepTx implements StepTx {
  /** The last feed entry read by this step. */
  private readThrough: number;
  /** Contacts as their last entry read by this step wrote them, where this process wrote it (see WrittenFacts). */
  private readonly known = new Map<string, ContactState>();

  constructor(
    private readonly q: StatementCache,
    private readonly memberBlocks: MemberBlocks,
    readonly compiler: SegmentCompiler,
    readonly lists: Map<string, ListState | null>,
    private readonly blocks: BlockCache,
    private readonly state: { checkpoint: number; clock: number; steps: number },
    private readonly written: WrittenFacts,
  ) {
    this.readThrough = state.checkpoint;
  }

  compareIds(a: string, b: string): number {
    return Number(a) - Number(b);
  }

  holdsLease(holder: string, wallNow: number): boolean {
    const lease = this.q.get("SELECT holder, expires_at FROM leases WHERE name = ?").get(ENGINE_LEASE) as { holder: string; expires_at: number } | undefined;
    return lease !== undefined && lease.holder === holder && lease.expires_at > wallNow;
  }

  clock(): number {
    return this.state.clock;
  }

  readFeed(max: number): FeedEntry[] {
    // Arrays rather than row objects: an ingest reads one entry per contact.
    const rows = this.q
      .get("SELECT seq, kind, list_id, contact_id, segment_id, payload FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
      .raw()
      .all(this.state.checkpoint, max) as ChangeTuple[];
    if (rows.length > 0) this.readThrough = rows[rows.length - 1]![0];
    return rows.map(([seq, kind, listId, contactId, segmentId, payload]): FeedEntry => {
      if (kind === "SEGMENT_CONDITION") {
        return { kind: "condition", segmentId: String(segmentId), condition: JSON.parse(payload!) as StoredCondition, version: seq };
      }
      if (kind === "SEGMENT_FREEZE") {
        return { kind: "freeze", segmentId: String(segmentId), at: (JSON.parse(payload!) as { at: number | null }).at };
      }
      if (kind === "SEGMENT_MEMBERS") {
        const { edit, contactIds } = JSON.parse(payload!) as { edit: MemberEdit; contactIds: number[] };
        return { kind: "members", segmentId: String(segmentId), edit, contactIds: contactIds.map(String) };
      }
      const changed = kind === "CONTACT_UPDATED" && payload !== null ? ((JSON.parse(payload) as { changed?: string[] }).changed ?? null) : null;
      const contact = String(contactId);
      const written = this.written.take(seq, contact);
      if (written) this.known.set(contact, written);
      else if (this.known.size > 0) this.known.delete(contact);
      return { kind: "contact", contactId: contact, listId: String(listId), added: kind === "CONTACT_ADDED", changed };
    });
  }

  saveCheckpoint(clock: number): Mark {
    const { checkpoint } = this.state;
    this.q.get("UPDATE engine_state SET checkpoint = ?, clock = ?, steps = steps + 1 WHERE id = 1").run(this.readThrough, clock);
    // Applied entries are needed by no one: they leave with the step that applied them.
    if (this.readThrough > checkpoint) this.q.get("DELETE FROM changes WHERE seq > ? AND seq <= ?").run(checkpoint, this.readThrough);
    return sqliteMark(this.readThrough);
  }

  readList(listId: string): StoredList | null {
    const list = this.q.get("SELECT custom_fields, time_zone FROM lists WHERE id = ?").get(Number(listId)) as { custom_fields: string; time_zone: string } | undefined;
    if (!list) return null;
    const rows = this.q.get(`SELECT ${SEGMENT_SELECT} FROM segments s WHERE s.list_id = ? ORDER BY s.id`).all(Number(listId)) as SegmentRow[];
    return { customFields: JSON.parse(list.custom_fields) as CustomFieldDef[], timeZone: list.time_zone, segments: rows.map(storedSegment) };
  }

  segment(segmentId: string): StoredSegment | null {
    const row = this.q.get(`SELECT ${SEGMENT_SELECT} FROM segments s WHERE s.id = ?`).get(Number(segmentId)) as SegmentRow | undefined;
    return row ? storedSegment(row) : null;
  }

  dueSegments(clock: number): StoredSegment[] {
    return (this.q.get(`SELECT ${SEGMENT_SELECT} FROM segments s WHERE s.type = 'DYNAMIC' AND s.status = 'READY' AND s.next_wake_at <= ? ORDER BY s.id`).all(clock) as SegmentRow[]).map(
      storedSegment,
    );
  }

  oldestBuilding(): StoredSegment | null {
    const row = this.q.get(`SELECT ${SEGMENT_SELECT} FROM segments s WHERE s.status = 'BUILDING' ORDER BY s.id LIMIT 1`).get() as SegmentRow | undefined;
    return row ? storedSegment(row) : null;
  }

  hasBuilding(): boolean {
    return this.q.get("SELECT 1 FROM segments WHERE status = 'BUILDING' LIMIT 1").get() !== undefined;
  }

  dueFreezes(clock: number): StoredSegment[] {
    return (this.q.get(`SELECT ${SEGMENT_SELECT} FROM segments s WHERE s.type = 'DYNAMIC' AND s.status = 'READY' AND s.freeze_at <= ? ORDER BY s.id`).all(clock) as SegmentRow[]).map(
      storedSegment,
    );
  }

  setFreezeAt(segmentId: string, at: number | null): void {
    this.q.get("UPDATE segments SET freeze_at = ? WHERE id = ?").run(at, Number(segmentId));
  }

  freeze(segmentId: string, clock: number): void {
    bumpCatalog(this.q);
    this.q
      .get("UPDATE segments SET type = 'STATIC', frozen_at = ?, freeze_at = NULL, next_wake_at = NULL, updated_at = ? WHERE id = ?")
      .run(clock, clock, Number(segmentId));
    this.q.get("DELETE FROM segment_overrides WHERE segment_id = ?").run(Number(segmentId));
  }

  nextWakeAt(): number | null {
    return this.q.pluck("SELECT min(coalesce(min(next_wake_at, freeze_at), next_wake_at, freeze_at)) FROM segments WHERE type = 'DYNAMIC' AND status = 'READY'").get() as number | null;
  }

  private contactRows(ids: readonly (string | number)[]): ContactRow[] {
    if (ids.length === 1) {
      const row = this.q.get(`SELECT ${FACT_COLUMNS} FROM contacts WHERE id = ?`).get(Number(ids[0])) as ContactRow | undefined;
      return row ? [row] : [];
    }
    const rows: ContactRow[] = [];
    const select = this.q.get(`SELECT ${FACT_COLUMNS} FROM contacts WHERE id IN (SELECT value FROM json_each(?))`);
    for (let i = 0; i < ids.length; i += 5_000) rows.push(...(select.all(JSON.stringify(ids.slice(i, i + 5_000).map(Number))) as ContactRow[]));
    return rows;
  }

  contacts(ids: readonly string[]): Map<string, ContactState> {
    const contacts = new Map<string, ContactState>();
    let unknown = ids;
    if (this.known.size > 0) {
      const unread: string[] = [];
      for (const id of ids) {
        const contact = this.known.get(id);
        if (contact) contacts.set(id, contact);
        else unread.push(id);
      }
      unknown = unread;
    }
    for (const row of this.contactRows(unknown)) contacts.set(String(row.id), { id: String(row.id), listId: String(row.list_id), facts: factsFromRow(row) });
    return contacts;
  }

  existing(ids: readonly string[]): Set<string> {
    const found = new Set<string>();
    const select = this.q.pluck("SELECT id FROM contacts WHERE id IN (SELECT value FROM json_each(?))");
    for (let i = 0; i < ids.length; i += 5_000) for (const id of select.all(JSON.stringify(ids.slice(i, i + 5_000).map(Number))) as number[]) found.add(String(id));
    return found;
  }

  memberships(): MembershipView {
    // Blocks are read as asked and kept for the step (and the next ones, see SqliteEngine).
    const { blocks } = this;
    return {
      of(contactId) {
        const id = Number(contactId);
        return { has: (segmentId) => blocks.has(segmentId, id) };
      },
    };
  }

  contactsInRange(listId: string, field: FieldRef, above: string | number, upTo: string | number): ContactState[] {
    const column = fieldColumn(field);
    const ids = this.q
      .pluck(`SELECT c.id FROM contacts c WHERE c.list_id = ? AND ${column.sql} > ? AND ${column.sql} <= ?`)
      .all(Number(listId), ...column.params, above, ...column.params, upTo) as number[];
    return this.contactRows(ids).map((row) => ({ id: String(row.id), listId: String(row.list_id), facts: factsFromRow(row) }));
  }

  smallestAbove(listId: string, field: FieldRef, threshold: string | number): string | number | null {
    const column = fieldColumn(field);
    return this.q
      .pluck(`SELECT min(${column.sql}) FROM contacts c WHERE c.list_id = ? AND ${column.sql} > ?`)
      .get(...column.params, Number(listId), ...column.params, threshold) as string | number | null;
  }

  matching(listId: string, condition: Condition, at: EvalTime, range: IdRange, limit: number): string[] {
    const match = compileSql(condition, at);
    const { from, to } = rowRange(range);
    const bounded = Number.isFinite(limit);
    const ids = this.q
      .pluck(`SELECT c.id FROM contacts c WHERE c.list_id = ? AND c.id > ? AND c.id <= ? AND ${match.sql} ORDER BY c.id${bounded ? " LIMIT ?" : ""}`)
      .all(Number(listId), from, to, ...match.params, ...(bounded ? [limit] : [])) as number[];
    return ids.map(String);
  }

  members(segmentId: string, after: string | null, limit: number): string[] {
    return this.memberBlocks.ascending(Number(segmentId), after === null ? 0 : Number(after), limit).map(String);
  }

  chunkEnd(listId: string, after: string | null, count: number): string | null {
    const id = this.q.pluck("SELECT id FROM contacts WHERE list_id = ? AND id > ? ORDER BY id LIMIT 1 OFFSET ?").get(Number(listId), after === null ? 0 : Number(after), count - 1) as
      | number
      | undefined;
    return id === undefined ? null : String(id);
  }

  replaceMembers(segment: { id: string; type: SegmentType }, range: IdRange, ids: readonly string[]): { inserted: number; removed: number } {
    const { from, to } = rowRange(range);
    const replaced = this.memberBlocks.replaceRange(Number(segment.id), from, to, ids.map(Number));
    // Written past the cache: its copies of this segment's blocks are stale.
    this.blocks.evict(segment.id);
    return replaced;
  }

  saveBuild(segmentId: string, cursor: string, memberCount: number): void {
    bumpCatalog(this.q);
    this.q.get("UPDATE segments SET build_cursor = ?, member_count = ? WHERE id = ?").run(Number(cursor), memberCount, Number(segmentId));
  }

  finishBuild(segmentId: string, memberCount: number, nextWakeAt: number | null, clock: number): void {
    bumpCatalog(this.q);
    this.q
      .get("UPDATE segments SET status = 'READY', build_cursor = NULL, member_count = ?, next_wake_at = ?, built_at = ? WHERE id = ?")
      .run(memberCount, nextWakeAt, clock, Number(segmentId));
    this.q.get("DELETE FROM member_joins WHERE segment_id = ?").run(Number(segmentId));
  }

  restartBuild(segmentId: string, condition: StoredCondition, version: number, clock: number): void {
    bumpCatalog(this.q);
    this.q
      .get("UPDATE segments SET condition = ?, condition_seq = ?, build_cursor = 0, clock_at = ?, updated_at = ? WHERE id = ?")
      .run(JSON.stringify(condition), version, clock, clock, Number(segmentId));
  }

  setCondition(segmentId: string, condition: StoredCondition, version: number, clock: number): void {
    bumpCatalog(this.q);
    this.q
      .get("UPDATE segments SET condition = ?, condition_seq = ?, clock_at = ?, updated_at = ? WHERE id = ?")
      .run(JSON.stringify(condition), version, clock, clock, Number(segmentId));
  }

  setClockAt(segmentId: string, clock: number): void {
    this.q.get("UPDATE segments SET clock_at = ? WHERE id = ?").run(clock, Number(segmentId));
  }

  overridesOf(contactIds: readonly string[]): Map<string, Map<string, MembershipOverride>> {
    const byContact = new Map<string, Map<string, MembershipOverride>>();
    const select = this.q.get("SELECT segment_id, contact_id, included FROM segment_overrides WHERE contact_id IN (SELECT value FROM json_each(?))").raw();
    for (let i = 0; i < contactIds.length; i += 5_000) {
      for (const [segmentId, contactId, included] of select.all(JSON.stringify(contactIds.slice(i, i + 5_000).map(Number))) as [number, number, number][]) {
        const key = String(contactId);
        let ofContact = byContact.get(key);
        if (!ofContact) byContact.set(key, (ofContact = new Map()));
        ofContact.set(String(segmentId), included ? "INCLUDED" : "EXCLUDED");
      }
    }
    return byContact;
  }

  overridesIn(segmentId: string): Map<string, MembershipOverride> {
    return overridesIn(this.q, segmentId);
  }

  setOverrides(segmentId: string, overrides: ReadonlyMap<string, MembershipOverride | null>): void {
    const set = this.q.get("INSERT OR REPLACE INTO segment_overrides (segment_id, contact_id, included) VALUES (?, ?, ?)");
    const drop = this.q.get("DELETE FROM segment_overrides WHERE segment_id = ? AND contact_id = ?");
    for (const [contactId, override] of overrides) {
      if (override === null) drop.run(Number(segmentId), Number(contactId));
      else set.run(Number(segmentId), Number(contactId), override === "INCLUDED" ? 1 : 0);
    }
    // Whether a segment has overrides is part of what engines keep of it.
    bumpCatalog(this.q);
  }

  forgetContacts(contactIds: readonly string[], segmentIds: readonly string[]): void {
    const contacts = JSON.stringify(contactIds.map(Number));
    const segments = JSON.stringify(segmentIds.map(Number));
    for (const table of ["segment_overrides", "member_joins"]) {
      this.q
        .get(`DELETE FROM ${table} WHERE segment_id IN (SELECT value FROM json_each(?)) AND contact_id IN (SELECT value FROM json_each(?))`)
        .run(segments, contacts);
    }
  }

  writeMemberships(writes: readonly MembershipWrite[], clock: number): void {
    for (const write of writes) this.blocks.set(write.segmentId, Number(write.contactId), write.member);
    this.blocks.flush();
    // When each member joined is kept with the membership (members a build took in have no row).
    const entries = writes.filter((write) => write.member);
    insertMany(this.q, "INSERT OR REPLACE INTO member_joins (segment_id, contact_id, joined_at)", 3, entries, (write, into, at) => {
      into[at] = Number(write.segmentId);
      into[at + 1] = Number(write.contactId);
      into[at + 2] = clock;
    });
  }

  lastEventPosition(): number {
    const last = this.q.get("SELECT seq, count FROM events ORDER BY seq DESC LIMIT 1").get() as { seq: number; count: number } | undefined;
    return last ? last.seq * ROW_SPAN + last.count - 1 : 0;
  }

  appendEventRuns(runs: readonly PendingEvent[][]): number[] {
    const seqs: number[] = [];
    insertMany(
      this.q,
      "INSERT INTO events (kind, list_id, segment_id, reason, contacts, count, member_count, occurred_at)",
      8,
      runs,
      (run, into, at) => {
        const first = run[0]!;
        into[at] = first.kind;
        into[at + 1] = first.listId;
        into[at + 2] = first.segmentId;
        into[at + 3] = first.reason;
        into[at + 4] = run.map((e) => e.contactId).join(",");
        into[at + 5] = run.length;
        into[at + 6] = first.memberCount;
        into[at + 7] = first.occurredAt;
      },
      // The rowids of one statement's rows are consecutive.
      (lastSeq, _first, count) => {
        for (let r = 0; r < count; r++) seqs.push(lastSeq - count + 1 + r);
      },
    );
    return seqs;
  }

  updateSegments(progress: readonly SegmentProgress[]): void {
    const update = this.q.get("UPDATE segments SET member_count = ?, next_wake_at = ? WHERE id = ?");
    for (const s of progress) update.run(s.memberCount, s.nextWakeAt, Number(s.id));
  }
}

/** Runs engine steps on SQLite, each in one IMMEDIATE transaction, keeping what stays valid between them. */
export class SqliteEngine {
  constructor(
    private readonly db: Database.Database,
    private readonly q: StatementCache,
    private readonly memberBlocks: MemberBlocks,
    private readonly compiler: SegmentCompiler,
  ) {}

  /** Contacts this process wrote, for this engine's next steps while it leads. */
  readonly written = new WrittenFacts();

  /**
   * Compiled list states and membership blocks from earlier steps, valid for one catalog
   * version and while this engine ran the last step (`steps` as it left it).
   */
  private cache = this.emptyCache("", -1);

  private emptyCache(version: string, steps: number) {
    return { version, steps, lists: new Map<string, ListState | null>(), blocks: new BlockCache(this.memberBlocks) };
  }

  step(input: EngineStepInput): EngineStepResult {
    let began = false;
    try {
      return this.db
        .transaction(() => {
          began = true;
          return this.run(input);
        })
        .immediate();
    } catch (error) {
      // Cached member counts and blocks may include what the failed step rolled back (a step
      // that could not begin, the write lock being busy, changed nothing).
      if (began) this.cache = this.emptyCache("", -1);
      throw error;
    }
  }

  private run(input: EngineStepInput): EngineStepResult {
    const state = this.q.get("SELECT checkpoint, clock, steps FROM engine_state WHERE id = 1").get() as { checkpoint: number; clock: number; steps: number };
    // Dropped when any process changed segment definitions, another process ran a step since
    // this engine's last one, or the blocks outgrew their bound.
    const version = this.q.pluck("SELECT value FROM meta WHERE key = 'catalog_version'").get() as string;
    if (version !== this.cache.version || state.steps !== this.cache.steps) this.cache = this.emptyCache(version, state.steps);
    else if (this.cache.blocks.size > CACHED_BLOCKS) this.cache.blocks = new BlockCache(this.memberBlocks);
    const cache = this.cache;
    const tx = new SqliteStepTx(this.q, this.memberBlocks, this.compiler, cache.lists, cache.blocks, state, this.written);
    const result = runSync(engineStep(tx, input));
    if (result.leader) cache.steps = state.steps + 1;
    this.written.setLeading(result.leader);
    if (result.applied !== null) this.written.applied(Number(result.applied));
    return result;
  }
}
