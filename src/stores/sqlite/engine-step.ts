/**
 * One membership-engine step on SQLite: due clock flips, a batch of the change feed, and a
 * chunk of a segment build, committed with the checkpoint in one transaction. Every decision
 * compares a contact's current state with its stored memberships, so replaying a change
 * changes nothing.
 */
import type Database from "better-sqlite3";
import { type CustomFieldDef, evalTime, type TimeTrigger } from "../../conditions";
import {
  flipRanges,
  nextWake,
  reconcileContact,
  type SegmentCompiler,
  segmentsReading,
  type PendingEvent,
  type SegmentRow as LiveSegmentRow,
  type ListState,
  StepLog,
  StepTimes,
} from "../../engine/membership";
import { type ChangeReason, ENGINE_LEASE, type EngineStepInput, type EngineStepResult } from "../port";
import { compileSql, fieldColumn } from "./condition-sql";
import { bumpCatalog, insertMany, type StatementCache } from "./database";
import { eventRuns, ROW_SPAN } from "../event-runs";
import { BlockCache, MemberBlocks } from "./member-blocks";
import { type ContactRow, FACT_COLUMNS, factsFromRow, type SegmentRow } from "./rows";

interface ChangeRow {
  seq: number;
  kind: string;
  list_id: number;
  contact_id: number | null;
  segment_id: number | null;
  payload: string | null;
}

class StepContext extends StepTimes {
  /** Events written by this step, with their sequence numbers. */
  readonly committed: PendingEvent[] = [];
  /** The position of the newest event before this step wrote any. */
  previousEvent = 0;
  constructor(
    clock: number,
    readonly log: StepLog,
    /** Lists and their compiled segments, kept across steps while the catalog is unchanged. */
    readonly lists: Map<number, ListState | null>,
    /** Membership blocks, likewise kept across steps. */
    readonly blocks: BlockCache,
  ) {
    super(clock);
  }
}

/** A segment row as the membership core reads it. */
export function liveRow(row: SegmentRow): LiveSegmentRow {
  return {
    id: String(row.id),
    listId: String(row.list_id),
    type: row.type,
    status: row.status,
    condition: JSON.parse(row.condition),
    memberCount: row.member_count,
    nextWakeAt: row.next_wake_at,
  };
}

/** Blocks the engine keeps between steps, at most (512 bytes each). */
const CACHED_BLOCKS = 65_536;

/** From two ascending id lists: the members that do not match, and the matches that are not members. */
function difference(members: readonly number[], matching: readonly number[]): { left: number[]; entered: number[] } {
  const left: number[] = [];
  const entered: number[] = [];
  let i = 0;
  let j = 0;
  while (i < members.length || j < matching.length) {
    const member = i < members.length ? members[i]! : Infinity;
    const match = j < matching.length ? matching[j]! : Infinity;
    if (member < match) left.push(members[i++]!);
    else if (match < member) entered.push(matching[j++]!);
    else {
      i++;
      j++;
    }
  }
  return { left, entered };
}

export class SqliteEngine {
  private readonly memberBlocks: MemberBlocks;

  constructor(
    private readonly db: Database.Database,
    private readonly q: StatementCache,
    private readonly compiler: SegmentCompiler,
  ) {
    this.memberBlocks = new MemberBlocks(q);
  }

  /**
   * Compiled list states and membership blocks from earlier steps, valid for one catalog
   * version and while this engine ran the last step (`steps` as it left it).
   */
  private cache = this.emptyCache("", -1);

  private emptyCache(version: string, steps: number) {
    return { version, steps, lists: new Map<number, ListState | null>(), blocks: new BlockCache(this.memberBlocks) };
  }

  step(input: EngineStepInput): EngineStepResult {
    try {
      return this.db.transaction(() => this.run(input)).immediate();
    } catch (error) {
      // Cached member counts and blocks may include what the failed step rolled back.
      this.cache = this.emptyCache("", -1);
      throw error;
    }
  }

  /**
   * The cache, dropped when any process changed segment definitions, when another process ran
   * a step since this engine's last one, or when it grew past its bound.
   */
  private validCache(steps: number) {
    const version = this.q.pluck("SELECT value FROM meta WHERE key = 'catalog_version'").get() as string;
    if (version !== this.cache.version || steps !== this.cache.steps) this.cache = this.emptyCache(version, steps);
    else if (this.cache.blocks.size > CACHED_BLOCKS) this.cache.blocks = new BlockCache(this.memberBlocks);
    return this.cache;
  }

  private run({ holder, wallNow, now, maxChanges, buildChunk }: EngineStepInput): EngineStepResult {
    const lease = this.q.get("SELECT holder, expires_at FROM leases WHERE name = ?").get(ENGINE_LEASE) as
      | { holder: string; expires_at: number }
      | undefined;
    if (!lease || lease.holder !== holder || lease.expires_at <= wallNow) {
      return { leader: false, changes: 0, events: [], previousEvent: 0, more: false, nextWakeAt: null };
    }
    const state = this.q.get("SELECT checkpoint, clock, steps FROM engine_state WHERE id = 1").get() as {
      checkpoint: number;
      clock: number;
      steps: number;
    };
    const clock = Math.max(state.clock, now);
    const cache = this.validCache(state.steps);
    const ctx = new StepContext(clock, new StepLog(clock), cache.lists, cache.blocks);

    const due = this.q
      .get("SELECT * FROM segments WHERE type = 'DYNAMIC' AND status = 'READY' AND next_wake_at <= ? ORDER BY id")
      .all(clock) as SegmentRow[];
    for (const row of due) this.clockStep(ctx, row);
    // A contact may flip back in the same step: persist the clock flips first.
    this.flush(ctx);

    const changes = this.q
      .get("SELECT seq, kind, list_id, contact_id, segment_id, payload FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
      .all(state.checkpoint, maxChanges) as ChangeRow[];
    let contactChanges: ChangeRow[] = [];
    for (const change of changes) {
      if (change.kind === "SEGMENT_CONDITION") {
        this.contactStep(ctx, contactChanges);
        contactChanges = [];
        this.conditionStep(ctx, change);
      } else {
        contactChanges.push(change);
      }
    }
    this.contactStep(ctx, contactChanges);

    const feedDrained = changes.length < maxChanges;
    const building = feedDrained ? this.buildStep(ctx, buildChunk) : this.hasBuilding();
    this.flush(ctx);

    const checkpoint = changes.length > 0 ? changes[changes.length - 1]!.seq : state.checkpoint;
    this.q.get("UPDATE engine_state SET checkpoint = ?, clock = ?, steps = steps + 1 WHERE id = 1").run(checkpoint, clock);
    // Applied entries are needed by no one: they leave with the step that applied them.
    if (changes.length > 0) this.q.get("DELETE FROM changes WHERE seq > ? AND seq <= ?").run(state.checkpoint, checkpoint);
    cache.steps = state.steps + 1;
    const { next } = this.q
      .get("SELECT min(next_wake_at) AS next FROM segments WHERE type = 'DYNAMIC' AND status = 'READY'")
      .get() as { next: number | null };
    return {
      leader: true,
      changes: changes.length,
      events: ctx.committed,
      previousEvent: ctx.previousEvent,
      more: !feedDrained || building,
      nextWakeAt: next,
    };
  }

  private hasBuilding(): boolean {
    return this.q.get("SELECT 1 FROM segments WHERE status = 'BUILDING' LIMIT 1").get() !== undefined;
  }

  private listState(ctx: StepContext, listId: number): ListState | null {
    let state = ctx.lists.get(listId);
    if (state === undefined) {
      const list = this.q.get("SELECT custom_fields, time_zone FROM lists WHERE id = ?").get(listId) as
        | { custom_fields: string; time_zone: string }
        | undefined;
      if (!list) {
        state = null;
      } else {
        const customFields = JSON.parse(list.custom_fields) as CustomFieldDef[];
        const timeZone = list.time_zone;
        const rows = this.q.get("SELECT * FROM segments WHERE list_id = ? ORDER BY id").all(listId) as SegmentRow[];
        state = { customFields, timeZone, segments: rows.map((row) => this.compiler.compile(liveRow(row), customFields, timeZone)) };
      }
      ctx.lists.set(listId, state);
    }
    return state;
  }

  /** Persists what the log holds, so SQL that reads memberships sees it. */
  private flush(ctx: StepContext): void {
    const { log, blocks } = ctx;
    log.settleWakes();
    for (const write of log.writes) blocks.set(Number(write.segmentId), Number(write.contactId), write.member);
    blocks.flush();
    const runs = eventRuns(log.events);
    if (runs.length > 0 && ctx.committed.length === 0) {
      const last = this.q.get("SELECT seq, count FROM events ORDER BY seq DESC LIMIT 1").get() as { seq: number; count: number } | undefined;
      ctx.previousEvent = last ? last.seq * ROW_SPAN + last.count - 1 : 0;
    }
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
      (lastSeq, first, count) => {
        for (let r = 0; r < count; r++) {
          const seq = lastSeq - count + 1 + r;
          runs[first + r]!.forEach((event, i) => {
            event.seq = seq * ROW_SPAN + i;
            ctx.committed.push(event);
          });
        }
      },
    );
    const segment = this.q.get("UPDATE segments SET member_count = ?, next_wake_at = ? WHERE id = ?");
    for (const s of log.touched) segment.run(s.memberCount, s.nextWakeAt, s.id);
    log.clear();
  }

  private loadContacts(ids: readonly number[]): Map<number, ContactRow> {
    const rows = new Map<number, ContactRow>();
    if (ids.length === 1) {
      const row = this.q.get(`SELECT ${FACT_COLUMNS} FROM contacts WHERE id = ?`).get(ids[0]) as ContactRow | undefined;
      if (row) rows.set(row.id, row);
      return rows;
    }
    const select = this.q.get(`SELECT ${FACT_COLUMNS} FROM contacts WHERE id IN (SELECT value FROM json_each(?))`);
    for (let i = 0; i < ids.length; i += 5_000) {
      for (const row of select.all(JSON.stringify(ids.slice(i, i + 5_000))) as ContactRow[]) rows.set(row.id, row);
    }
    return rows;
  }

  private contactStep(ctx: StepContext, changes: readonly ChangeRow[]): void {
    if (changes.length === 0) return;
    // Per contact: whether it was added, and the facts its changes changed (null: all, for an
    // added or deleted contact, or unknown, for entries that do not name them).
    const touched = new Map<number, { listId: number; added: boolean; changed: Set<string> | null }>();
    for (const change of changes) {
      if (change.contact_id === null) continue;
      const changed = change.kind === "CONTACT_UPDATED" && change.payload !== null ? (JSON.parse(change.payload) as { changed?: string[] }).changed : undefined;
      const entry = touched.get(change.contact_id);
      if (!entry) {
        touched.set(change.contact_id, { listId: change.list_id, added: change.kind === "CONTACT_ADDED", changed: changed ? new Set(changed) : null });
      } else {
        entry.added ||= change.kind === "CONTACT_ADDED";
        if (entry.changed && changed) for (const fact of changed) entry.changed.add(fact);
        else entry.changed = null;
      }
    }
    const ids = [...touched.keys()];
    const rows = this.loadContacts(ids);
    for (const [id, { listId, added, changed }] of touched) {
      const list = this.listState(ctx, listId);
      if (!list) continue;
      const row = rows.get(id);
      const reason: ChangeReason = !row ? "CONTACT_DELETED" : added ? "CONTACT_ADDED" : "CONTACT_UPDATED";
      const before = { has: (segmentId: string) => ctx.blocks.has(Number(segmentId), id) };
      const segments = row && changed ? segmentsReading(list, changed) : list.segments;
      reconcileContact(String(id), row ? factsFromRow(row) : null, before, segments, ctx.at(list), reason, ctx.log);
    }
  }

  /** The smallest stored value above a threshold, per list, for computing wake-ups. */
  private smallestAbove(listId: number) {
    return (trigger: TimeTrigger, threshold: string | number): string | number | null => {
      const column = fieldColumn(trigger.field);
      const row = this.q
        .get(`SELECT min(${column.sql}) AS value FROM contacts c WHERE c.list_id = ? AND ${column.sql} > ?`)
        .get(...column.params, listId, ...column.params, threshold) as { value: string | number | null };
      return row.value;
    };
  }

  /** Applies the flips of one clock-dependent segment from its last instant to now. */
  private clockStep(ctx: StepContext, row: SegmentRow): void {
    const list = this.listState(ctx, row.list_id);
    const segment = list?.segments.find((s) => s.id === String(row.id));
    if (!list || !segment) return;
    const at = ctx.at(list);
    const candidates = new Set<number>();
    for (const range of flipRanges(segment, evalTime(row.clock_at, list.timeZone), at)) {
      const column = fieldColumn(range.trigger.field);
      const ids = this.q
        .pluck(`SELECT c.id FROM contacts c WHERE c.list_id = ? AND ${column.sql} > ? AND ${column.sql} <= ?`)
        .all(row.list_id, ...column.params, range.above, ...column.params, range.upTo) as number[];
      for (const id of ids) candidates.add(id);
    }
    const ids = [...candidates];
    const rows = this.loadContacts(ids);
    for (const id of ids) {
      const contact = rows.get(id);
      if (!contact) continue;
      const member = ctx.blocks.has(row.id, id);
      const matches = segment.predicate(factsFromRow(contact), at);
      if (matches && !member) ctx.log.enter(segment, String(id), "TIME_PASSED");
      else if (!matches && member) ctx.log.leave(segment, String(id), "TIME_PASSED");
    }
    segment.nextWakeAt = nextWake(segment, at, this.smallestAbove(row.list_id));
    ctx.log.touched.add(segment);
    this.q.get("UPDATE segments SET clock_at = ? WHERE id = ?").run(ctx.clock, row.id);
  }

  /** Applies a new condition and its exact membership difference together. */
  private conditionStep(ctx: StepContext, change: ChangeRow): void {
    this.flush(ctx);
    const row = this.q.get("SELECT * FROM segments WHERE id = ?").get(change.segment_id) as SegmentRow | undefined;
    const list = row ? this.listState(ctx, row.list_id) : null;
    if (!row || !list || row.type !== "DYNAMIC" || change.payload === null || change.seq <= row.condition_seq) return;
    ctx.lists.delete(row.list_id);
    bumpCatalog(this.q);
    if (row.status === "BUILDING") {
      this.q
        .get("UPDATE segments SET condition = ?, condition_seq = ?, build_cursor = 0, clock_at = ?, updated_at = ? WHERE id = ?")
        .run(change.payload, change.seq, ctx.clock, ctx.clock, row.id);
      return;
    }
    const at = ctx.at(list);
    const segment = this.compiler.compile({ ...liveRow(row), condition: JSON.parse(change.payload) }, list.customFields, list.timeZone);
    const match = compileSql(segment.ast, at);
    const matching = this.q
      .pluck(`SELECT c.id FROM contacts c WHERE c.list_id = ? AND ${match.sql} ORDER BY c.id`)
      .all(row.list_id, ...match.params) as number[];
    const { left: unmatched, entered } = difference(this.memberBlocks.members(row.id), matching);
    // A member whose row is gone leaves with its own pending CONTACT_DELETED change.
    const left = this.q
      .pluck("SELECT id FROM contacts WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id")
      .all(JSON.stringify(unmatched)) as number[];
    for (const id of left) ctx.log.leave(segment, String(id), "SEGMENT_UPDATED");
    for (const id of entered) ctx.log.enter(segment, String(id), "SEGMENT_UPDATED");
    segment.nextWakeAt = segment.triggers.length > 0 ? nextWake(segment, at, this.smallestAbove(row.list_id)) : null;
    ctx.log.touched.add(segment);
    this.q
      .get("UPDATE segments SET condition = ?, condition_seq = ?, clock_at = ?, updated_at = ? WHERE id = ?")
      .run(change.payload, change.seq, ctx.clock, ctx.clock, row.id);
    this.flush(ctx);
  }

  /** Evaluates the next chunk of the oldest building segment. Returns whether builds remain. */
  private buildStep(ctx: StepContext, chunk: number): boolean {
    // First the step's contact changes: a building segment's member count moves with them, and
    // the chunk counts its entries and exits from the count as stored.
    this.flush(ctx);
    const row = this.q.get("SELECT * FROM segments WHERE status = 'BUILDING' ORDER BY id LIMIT 1").get() as SegmentRow | undefined;
    if (!row) return false;
    const list = this.listState(ctx, row.list_id);
    if (!list) return true;
    ctx.lists.delete(row.list_id);
    bumpCatalog(this.q);
    const segment = this.compiler.compile(liveRow(row), list.customFields, list.timeZone);
    // Every chunk evaluates at the build's start; flips since then are applied when it is READY.
    const buildAt = evalTime(row.clock_at, list.timeZone);
    const match = compileSql(segment.ast, buildAt);
    const from = row.build_cursor ?? 0;
    const bound = this.q
      .pluck("SELECT id FROM contacts WHERE list_id = ? AND id > ? ORDER BY id LIMIT 1 OFFSET ?")
      .get(row.list_id, from, chunk - 1) as number | undefined;
    const last = bound === undefined;
    const to = bound ?? Number.MAX_SAFE_INTEGER;
    const matching = this.q
      .pluck(`SELECT c.id FROM contacts c WHERE c.list_id = ? AND c.id > ? AND c.id <= ? AND ${match.sql} ORDER BY c.id`)
      .all(row.list_id, from, to, ...match.params) as number[];
    const { inserted, removed } = this.memberBlocks.replaceRange(row.id, from, to, matching);
    ctx.blocks.evict(row.id);
    const memberCount = row.member_count + inserted - removed;
    if (!last) {
      this.q.get("UPDATE segments SET build_cursor = ?, member_count = ? WHERE id = ?").run(to, memberCount, row.id);
      return true;
    }
    segment.memberCount = memberCount;
    const wake = row.type === "DYNAMIC" && segment.triggers.length > 0 ? nextWake(segment, buildAt, this.smallestAbove(row.list_id)) : null;
    this.q
      .get("UPDATE segments SET status = 'READY', build_cursor = NULL, member_count = ?, next_wake_at = ? WHERE id = ?")
      .run(memberCount, wake, row.id);
    if (wake !== null && wake <= ctx.clock) {
      // Flips that fell due while the segment was building are applied now, as events.
      this.clockStep(ctx, { ...row, status: "READY", member_count: memberCount, next_wake_at: wake, build_cursor: null });
      this.flush(ctx);
    }
    return this.hasBuilding();
  }
}
