/**
 * `npm run verify` on SQLite: the reads of the consistency check (engine/verify.ts), from one
 * read transaction, so the snapshot is consistent even while the engine writes.
 */
import type Database from "better-sqlite3";
import type { CustomFieldDef } from "../../conditions";
import type { SegmentCompiler } from "../../engine/membership";
import type { ContactState, StoredSegment } from "../../engine/step-tx";
import { type VerifiedList, type VerifyTx, verifyStore } from "../../engine/verify";
import { runSync } from "../../engine/work";
import type { EventFilter, MembershipEvent, MembershipOverride, VerifyReport } from "../port";
import { StatementCache } from "./database";
import { MemberBlocks } from "./member-blocks";
import { type ContactRow, factsFromRow, SEGMENT_SELECT, type SegmentRow } from "./rows";
import { overridesIn, storedSegment } from "./step-tx";

/** The store's reader of the event log. */
type EventReader = (position: number, filter: EventFilter, limit: number) => MembershipEvent[];

class SqliteVerifyTx implements VerifyTx {
  private readonly q: StatementCache;
  private readonly blocks: MemberBlocks;
  private readonly state: { checkpoint: number; clock: number };

  constructor(
    db: Database.Database,
    /** Runs inside this read transaction. */
    private readonly readEvents: EventReader,
  ) {
    this.q = new StatementCache(db);
    this.blocks = new MemberBlocks(this.q);
    this.state = this.q.get("SELECT checkpoint, clock FROM engine_state WHERE id = 1").get() as { checkpoint: number; clock: number };
  }

  clock(): number {
    return this.state.clock;
  }

  pending() {
    const ids = (column: string) =>
      new Set((this.q.pluck(`SELECT DISTINCT ${column} FROM changes WHERE seq > ? AND ${column} IS NOT NULL`).all(this.state.checkpoint) as number[]).map(String));
    return { contacts: ids("contact_id"), segments: ids("segment_id") };
  }

  orphanMemberships(): number {
    return this.q.pluck("SELECT count(*) FROM member_blocks m WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = m.segment_id)").get() as number;
  }

  lists(): VerifiedList[] {
    const rows = this.q.get("SELECT id, custom_fields, time_zone, contact_count FROM lists ORDER BY id").all() as { id: number; custom_fields: string; time_zone: string; contact_count: number }[];
    return rows.map((row) => ({ id: String(row.id), customFields: JSON.parse(row.custom_fields) as CustomFieldDef[], timeZone: row.time_zone, contactCount: row.contact_count }));
  }

  countContacts(listId: string): number {
    return this.q.pluck("SELECT count(*) FROM contacts WHERE list_id = ?").get(Number(listId)) as number;
  }

  segments(listId: string): StoredSegment[] {
    return (this.q.get(`SELECT ${SEGMENT_SELECT} FROM segments s WHERE s.list_id = ? ORDER BY s.id`).all(Number(listId)) as SegmentRow[]).map(storedSegment);
  }

  overridesIn(segmentId: string): Map<string, MembershipOverride> {
    return overridesIn(this.q, segmentId);
  }

  members(segmentId: string): Set<string> {
    return new Set(this.blocks.members(Number(segmentId)).map(String));
  }

  contacts(listId: string, after: string | null, limit: number): ContactState[] {
    const rows = this.q.get("SELECT * FROM contacts WHERE list_id = ? AND id > ? ORDER BY id LIMIT ?").all(Number(listId), after === null ? 0 : Number(after), limit) as ContactRow[];
    return rows.map((row) => ({ id: String(row.id), listId, facts: factsFromRow(row) }));
  }

  events(segmentId: string, after: number, limit: number): MembershipEvent[] {
    return this.readEvents(after, { segmentId }, limit);
  }

}

export function verifyDatabase(db: Database.Database, compiler: SegmentCompiler, readEvents: EventReader): VerifyReport {
  return db.transaction(() => runSync(verifyStore(new SqliteVerifyTx(db, readEvents), compiler)))();
}
