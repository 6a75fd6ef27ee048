/**
 * The consistency check behind `npm run verify`, for every store: each segment re-evaluated from
 * scratch with the reference predicate and compared with the stored memberships, member counts
 * and the event log. Contacts and segments with changes the engine has not applied yet are left
 * out of the comparison.
 */
import { type CustomFieldDef, evalTime } from "../conditions";
import type { MembershipEvent, MembershipOverride, VerifyReport } from "../stores/port";
import { belongs, dependencyOrder, factsFor, type LiveSegment, type SegmentCompiler } from "./membership";
import type { ContactState, StoredSegment } from "./step-tx";
import { type Answer, ask, type Work } from "./work";

export interface VerifiedList {
  id: string;
  customFields: CustomFieldDef[];
  timeZone: string;
  contactCount: number;
}

/** What verify reads; a store answers from one consistent snapshot where it can. */
export interface VerifyTx {
  /** The engine's clock at its last step: conditions are evaluated at it. */
  clock(): Answer<number>;
  /** Contacts and segments with changes not applied yet. */
  pending(): Answer<{ contacts: ReadonlySet<string>; segments: ReadonlySet<string> }>;
  /** Stored memberships of segments that do not exist. */
  orphanMemberships(): Answer<number>;
  lists(): Answer<VerifiedList[]>;
  countContacts(listId: string): Answer<number>;
  segments(listId: string): Answer<StoredSegment[]>;
  members(segmentId: string): Answer<ReadonlySet<string>>;
  /** A segment's overrides, by contact. */
  overridesIn(segmentId: string): Answer<ReadonlyMap<string, MembershipOverride>>;
  /** The list's contacts after an id, ascending, at most `limit`. */
  contacts(listId: string, after: string | null, limit: number): Answer<ContactState[]>;
  /** A segment's events after a position, in order, at most `limit`. */
  events(segmentId: string, after: number, limit: number): Answer<MembershipEvent[]>;
}

const MAX_REPORTED_PER_SEGMENT = 20;
const PAGE = 5_000;

interface Checked {
  segment: StoredSegment;
  live: LiveSegment;
  members: ReadonlySet<string>;
  overrides: ReadonlyMap<string, MembershipOverride>;
  reported: number;
}

export function* verifyStore(tx: VerifyTx, compiler: SegmentCompiler): Work<VerifyReport> {
  const clock = yield* ask(tx.clock());
  const pending = yield* ask(tx.pending());
  const report: VerifyReport = { segments: 0, contactsChecked: 0, pending: pending.contacts.size, differences: [] };
  const { differences } = report;
  const orphans = yield* ask(tx.orphanMemberships());
  if (orphans > 0) differences.push(`${orphans} stored memberships belong to no segment`);

  for (const list of yield* ask(tx.lists())) {
    const at = evalTime(clock, list.timeZone);
    const counted = yield* ask(tx.countContacts(list.id));
    if (counted !== list.contactCount) differences.push(`list ${list.id}: contactCount is ${list.contactCount}, the list holds ${counted}`);

    const segments = yield* ask(tx.segments(list.id));
    const membersOf = new Map<string, ReadonlySet<string>>();
    for (const segment of segments) {
      report.segments++;
      const members = yield* ask(tx.members(segment.id));
      membersOf.set(segment.id, members);
      if (members.size !== segment.memberCount) differences.push(`segment ${segment.id}: memberCount is ${segment.memberCount}, it has ${members.size} members`);
    }
    // A segment is checked when it and every segment it references are settled; its condition
    // sees the stored memberships of those (each checked on its own).
    const checked: Checked[] = [];
    const unchecked = new Set<string>();
    const byId = new Map(segments.map((segment) => [segment.id, segment]));
    for (const live of dependencyOrder(segments.map((segment) => compiler.compile(segment, list.customFields, list.timeZone)))) {
      const segment = byId.get(live.id)!;
      if (segment.status !== "READY" || pending.segments.has(segment.id) || live.refs.some((ref) => unchecked.has(ref))) {
        unchecked.add(segment.id);
        continue;
      }
      const overrides = segment.type === "DYNAMIC" && segment.hasOverrides ? yield* ask(tx.overridesIn(segment.id)) : new Map<string, MembershipOverride>();
      checked.push({ segment, live, members: membersOf.get(segment.id)!, overrides, reported: 0 });
    }
    const note = (entry: Checked, message: string) => {
      if (entry.reported++ < MAX_REPORTED_PER_SEGMENT) differences.push(`segment ${entry.segment.id}: ${message}`);
    };

    const contactsOfList = new Set<string>();
    for (let after: string | null = null; ; ) {
      const page: ContactState[] = yield* ask(tx.contacts(list.id, after, PAGE));
      for (const contact of page) {
        contactsOfList.add(contact.id);
        if (pending.contacts.has(contact.id)) continue;
        report.contactsChecked++;
        const memberOf = { has: (segmentId: string) => membersOf.get(segmentId)?.has(contact.id) ?? false };
        for (const entry of checked) {
          if (entry.segment.type !== "DYNAMIC") continue;
          const member = entry.members.has(contact.id);
          const override = entry.overrides.get(contact.id);
          const matches = belongs(entry.live, factsFor(entry.live, contact.facts, memberOf), at, override);
          const why = override === undefined ? "the condition" : `its override (${override})`;
          if (matches && !member) note(entry, `contact ${contact.id} matches ${why} but is not a member`);
          if (!matches && member) note(entry, `contact ${contact.id} is a member but does not match ${why}`);
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }

    for (const entry of checked) {
      for (const contactId of entry.members) {
        if (!contactsOfList.has(contactId) && !pending.contacts.has(contactId)) note(entry, `member ${contactId} is not a contact of the list`);
      }
      yield* checkEvents(tx, entry, pending.contacts, (message) => note(entry, message));
    }
  }
  return report;
}

/** Per contact, events alternate ENTERED / LEFT and the last one agrees with membership now. */
function* checkEvents(tx: VerifyTx, entry: Checked, pending: ReadonlySet<string>, note: (message: string) => void): Work<void> {
  const last = new Map<string, string>();
  for (let after = 0; ; ) {
    const events: MembershipEvent[] = yield* ask(tx.events(entry.segment.id, after, PAGE));
    for (const event of events) {
      if (event.kind !== "ENTERED" && event.kind !== "LEFT") continue;
      const contactId = event.contactId!;
      if (last.get(contactId) === event.kind) note(`event ${event.seq}: contact ${contactId} ${event.kind} twice in a row`);
      last.set(contactId, event.kind);
    }
    if (events.length < PAGE) break;
    after = events[events.length - 1]!.seq;
  }
  for (const [contactId, kind] of last) {
    if (pending.has(contactId)) continue;
    const member = entry.members.has(contactId);
    if (member && kind === "LEFT") note(`contact ${contactId} is a member but its last event is LEFT`);
    if (!member && kind === "ENTERED") note(`contact ${contactId} is not a member but its last event is ENTERED`);
  }
}
