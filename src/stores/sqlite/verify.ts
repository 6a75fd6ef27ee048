/**
 * The consistency check behind `npm run verify`: every segment re-evaluated from scratch with
 * the reference predicate, compared with stored memberships, counts and the event log.
 */
import type Database from "better-sqlite3";
import { type CustomFieldDef, evalTime } from "../../conditions";
import type { SegmentCompiler } from "../../engine/membership";
import type { VerifyReport } from "../port";
import { StatementCache } from "./database";
import { liveRow } from "./engine-step";
import { MemberBlocks } from "./member-blocks";
import { type ContactRow, type EventRow, eventsFromRow, factsFromRow, type SegmentRow } from "./rows";

const MAX_REPORTED_PER_SEGMENT = 20;

export function verifyDatabase(db: Database.Database, compiler: SegmentCompiler): VerifyReport {
  // One read transaction: a consistent snapshot even while the engine writes.
  return db.transaction(() => check(db, compiler))();
}

function check(db: Database.Database, compiler: SegmentCompiler): VerifyReport {
  const state = db.prepare("SELECT checkpoint, clock FROM engine_state WHERE id = 1").get() as { checkpoint: number; clock: number };
  const pendingContacts = new Set(
    db.prepare("SELECT DISTINCT contact_id FROM changes WHERE seq > ? AND contact_id IS NOT NULL").pluck().all(state.checkpoint) as number[],
  );
  const pendingSegments = new Set(
    db.prepare("SELECT DISTINCT segment_id FROM changes WHERE seq > ? AND segment_id IS NOT NULL").pluck().all(state.checkpoint) as number[],
  );
  const report: VerifyReport = { segments: 0, contactsChecked: 0, pending: pendingContacts.size, differences: [] };
  const differences = report.differences;
  const blocks = new MemberBlocks(new StatementCache(db));

  const orphans = db
    .prepare("SELECT count(*) FROM member_blocks m WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = m.segment_id)")
    .pluck()
    .get() as number;
  if (orphans > 0) differences.push(`${orphans} membership blocks belong to no segment`);

  const lists = db.prepare("SELECT id, custom_fields, time_zone, contact_count FROM lists ORDER BY id").all() as {
    id: number;
    custom_fields: string;
    time_zone: string;
    contact_count: number;
  }[];
  for (const list of lists) {
    const customFields = JSON.parse(list.custom_fields) as CustomFieldDef[];
    const at = evalTime(state.clock, list.time_zone);
    const counted = db.prepare("SELECT count(*) FROM contacts WHERE list_id = ?").pluck().get(list.id) as number;
    if (counted !== list.contact_count) differences.push(`list ${list.id}: contactCount is ${list.contact_count}, the list holds ${counted}`);

    const segments = db.prepare("SELECT * FROM segments WHERE list_id = ? ORDER BY id").all(list.id) as SegmentRow[];
    const members = new Map<number, Set<number>>();
    for (const segment of segments) {
      report.segments++;
      const ids = blocks.members(segment.id);
      members.set(segment.id, new Set(ids));
      if (ids.length !== segment.member_count) {
        differences.push(`segment ${segment.id}: memberCount is ${segment.member_count}, it has ${ids.length} members`);
      }
    }
    const checked = segments.filter((s) => s.status === "READY" && !pendingSegments.has(s.id));
    const live = checked.map((row) => ({
      row,
      segment: compiler.compile(liveRow(row), customFields, list.time_zone),
      reported: 0,
      seen: new Set<number>(),
    }));
    const note = (entry: (typeof live)[number], message: string) => {
      if (entry.reported++ < MAX_REPORTED_PER_SEGMENT) differences.push(`segment ${entry.row.id}: ${message}`);
    };
    for (const contact of db.prepare("SELECT * FROM contacts WHERE list_id = ?").iterate(list.id) as Iterable<ContactRow>) {
      if (pendingContacts.has(contact.id)) continue;
      report.contactsChecked++;
      const facts = factsFromRow(contact);
      for (const entry of live) {
        const member = members.get(entry.row.id)!.has(contact.id);
        entry.seen.add(contact.id);
        if (entry.row.type !== "DYNAMIC") continue;
        const matches = entry.segment.predicate(facts, at);
        if (matches && !member) note(entry, `contact ${contact.id} matches the condition but is not a member`);
        if (!matches && member) note(entry, `contact ${contact.id} is a member but does not match the condition`);
      }
    }
    for (const entry of live) {
      for (const contactId of members.get(entry.row.id)!) {
        if (!entry.seen.has(contactId) && !pendingContacts.has(contactId)) note(entry, `member ${contactId} is not a contact of the list`);
      }
      checkEvents(db, entry.row.id, members.get(entry.row.id)!, pendingContacts, (message) => note(entry, message));
    }
  }
  return report;
}

/** Per contact, events alternate ENTERED / LEFT and the last one agrees with membership now. */
function checkEvents(
  db: Database.Database,
  segmentId: number,
  members: ReadonlySet<number>,
  pending: ReadonlySet<number>,
  note: (message: string) => void,
): void {
  const last = new Map<number, string>();
  const rows = db
    .prepare("SELECT * FROM events WHERE segment_id = ? AND kind IN ('ENTERED', 'LEFT') ORDER BY seq")
    .iterate(segmentId) as Iterable<EventRow>;
  for (const row of rows) {
    for (const event of eventsFromRow(row)) {
      const contactId = Number(event.contactId);
      if (last.get(contactId) === event.kind) note(`event ${event.seq}: contact ${contactId} ${event.kind} twice in a row`);
      last.set(contactId, event.kind);
    }
  }
  for (const [contactId, kind] of last) {
    if (pending.has(contactId)) continue;
    const member = members.has(contactId);
    if (member && kind === "LEFT") note(`contact ${contactId} is a member but its last event is LEFT`);
    if (!member && kind === "ENTERED") note(`contact ${contactId} is not a member but its last event is ENTERED`);
  }
}
