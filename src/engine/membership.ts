/**
 * The store-independent heart of the membership engine: given segments, a contact's current
 * state and its stored memberships (the "before" state), derive the transitions. Adapters load
 * the inputs and persist what a StepLog collects, in one transaction per step.
 */
import {
  catalogOf,
  type Condition,
  type ContactFacts,
  compilePredicate,
  type CustomFieldDef,
  type EvalTime,
  evalTime,
  factsRead,
  parseCondition,
  segmentRefs,
  type Predicate,
  type StoredCondition,
  type TimeTrigger,
  timeTriggers,
} from "../conditions";
import type { ChangeReason, MembershipChange, MembershipOverride, SegmentStatus, SegmentType } from "../stores/port";

export interface SegmentRow {
  id: string;
  listId: string;
  type: SegmentType;
  status: SegmentStatus;
  condition: StoredCondition;
  memberCount: number;
  nextWakeAt: number | null;
  /** Whether any contact has an override in it (its evaluations then ask for them). */
  hasOverrides: boolean;
}

/** A segment ready for evaluation; memberCount and nextWakeAt move as a step goes. */
export interface LiveSegment extends SegmentRow {
  ast: Condition;
  predicate: Predicate;
  triggers: TimeTrigger[];
  /** The facts the condition reads (see factsRead). */
  reads: ReadonlySet<string>;
  /** The segments the condition references with inSegment (store ids). */
  refs: readonly string[];
  /** Changes made while BUILDING are not events: the initial members are not changes. */
  silent: boolean;
}

interface Compiled {
  key: string;
  ast: Condition;
  predicate: Predicate;
  triggers: TimeTrigger[];
  reads: ReadonlySet<string>;
  refs: readonly string[];
}

/** Compiles each segment's condition once and reuses it until the condition changes. */
export class SegmentCompiler {
  private readonly cache = new Map<string, Compiled>();

  /** `timeZone` is the list's: conditions and their triggers are compiled for it. */
  compile(row: SegmentRow, customFields: readonly CustomFieldDef[], timeZone = "UTC"): LiveSegment {
    const key = `${timeZone} ${JSON.stringify(row.condition)}`;
    let compiled = this.cache.get(row.id);
    if (!compiled || compiled.key !== key) {
      const { ast } = parseCondition(row.condition, catalogOf(customFields), { timeZone });
      compiled = { key, ast, predicate: compilePredicate(ast), triggers: timeTriggers(ast, timeZone), reads: factsRead(ast), refs: [...segmentRefs(ast)] };
      this.cache.set(row.id, compiled);
    }
    return {
      ...row,
      ast: compiled.ast,
      predicate: compiled.predicate,
      triggers: compiled.triggers,
      reads: compiled.reads,
      refs: compiled.refs,
      silent: row.status === "BUILDING",
    };
  }

  forget(segmentId: string): void {
    this.cache.delete(segmentId);
  }
}

export interface PendingEvent {
  /** Set when the event is written. */
  seq: number;
  kind: MembershipChange;
  listId: string;
  segmentId: string;
  contactId: string;
  reason: ChangeReason;
  memberCount: number;
  occurredAt: number;
}

export interface MembershipWrite {
  segmentId: string;
  /** Stores may keep the members of each type differently (MongoDB: STATIC ones in buckets). */
  type: SegmentType;
  contactId: string;
  member: boolean;
}

/**
 * A list as a step evaluates it: its custom fields, its time zone and its compiled segments in
 * dependency order (a segment after those its condition references; see dependencyOrder).
 */
export interface ListState {
  customFields: CustomFieldDef[];
  timeZone: string;
  segments: LiveSegment[];
  /** segmentsReading's answers, by set of changed facts. */
  reading?: Map<string, LiveSegment[]>;
}

/**
 * Segments ordered so that each comes after every segment its condition references: evaluating
 * a contact in this order, with the memberships decided so far, carries a change through any
 * chain of references in one pass. Otherwise in the given order. (Cycles are refused when a
 * condition is written; one met here is broken where it is found.)
 */
export function dependencyOrder(segments: readonly LiveSegment[]): LiveSegment[] {
  if (segments.every((segment) => segment.refs.length === 0)) return [...segments];
  const byId = new Map(segments.map((segment) => [segment.id, segment]));
  const ordered: LiveSegment[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const visit = (segment: LiveSegment) => {
    if (placed.has(segment.id) || visiting.has(segment.id)) return;
    visiting.add(segment.id);
    for (const ref of segment.refs) {
      const referenced = byId.get(ref);
      if (referenced) visit(referenced);
    }
    visiting.delete(segment.id);
    placed.add(segment.id);
    ordered.push(segment);
  };
  for (const segment of segments) visit(segment);
  return ordered;
}

/**
 * The DYNAMIC segments whose membership can follow a change of these segments' members: those
 * referencing one of them, directly or through other such segments, in dependency order.
 */
export function usersOf(list: ListState, changed: ReadonlySet<string>): LiveSegment[] {
  const reached = new Set(changed);
  const users: LiveSegment[] = [];
  for (const segment of list.segments) {
    if (segment.type !== "DYNAMIC" || segment.refs.length === 0 || reached.has(segment.id)) continue;
    if (segment.refs.some((ref) => reached.has(ref))) {
      reached.add(segment.id);
      users.push(segment);
    }
  }
  return users;
}

/** The facts a segment's condition sees for a contact: with its memberships when the condition references segments. */
export function factsFor(segment: LiveSegment, facts: ContactFacts, memberOf: { has(segmentId: string): boolean }): ContactFacts {
  return segment.refs.length === 0 ? facts : { ...facts, segments: memberOf };
}

/**
 * The list's segments whose conditions read at least one of the changed facts, in list order:
 * the only ones a contact update can move it into or out of (the clock aside, which the clock
 * step applies). An update's changed facts come from few distinct sets, so answers are kept on
 * the list state.
 */
export function segmentsReading(list: ListState, changed: ReadonlySet<string>): readonly LiveSegment[] {
  const key = [...changed].sort().join("\n");
  list.reading ??= new Map();
  let segments = list.reading.get(key);
  if (!segments) {
    if (list.reading.size >= 1_000) list.reading.clear();
    const reading = new Set(list.segments.filter((segment) => [...segment.reads].some((fact) => changed.has(fact))).map((segment) => segment.id));
    // Users of those segments may follow them (usersOf).
    for (const user of usersOf(list, reading)) reading.add(user.id);
    segments = list.segments.filter((segment) => reading.has(segment.id));
    list.reading.set(key, segments);
  }
  return segments;
}

/** A step's instant, evaluated once in each time zone the step meets: every list is evaluated at it, in its own zone. */
export class StepTimes {
  private readonly times = new Map<string, EvalTime>();
  constructor(readonly clock: number) {}

  /** The step's evaluation time in a list's time zone. */
  at(list: { timeZone: string }): EvalTime {
    let at = this.times.get(list.timeZone);
    if (!at) this.times.set(list.timeZone, (at = evalTime(this.clock, list.timeZone)));
    return at;
  }
}

/** What one engine step decided: membership writes, events in order, touched segments. */
export class StepLog {
  /**
   * The membership rows to change, in order. Each (segment, contact) flips at most once between
   * two flushes: the engine flushes between the parts of a step that may touch a pair again.
   */
  readonly writes: MembershipWrite[] = [];
  readonly events: PendingEvent[] = [];
  readonly touched = new Set<LiveSegment>();

  constructor(readonly occurredAt: number) {}

  enter(segment: LiveSegment, contactId: string, reason: ChangeReason): void {
    segment.memberCount += 1;
    this.writes.push({ segmentId: segment.id, type: segment.type, contactId, member: true });
    this.record(segment, contactId, "ENTERED", reason);
  }

  leave(segment: LiveSegment, contactId: string, reason: ChangeReason): void {
    segment.memberCount -= 1;
    this.writes.push({ segmentId: segment.id, type: segment.type, contactId, member: false });
    this.record(segment, contactId, "LEFT", reason);
  }

  /** Empties the log after its writes have been persisted. */
  clear(): void {
    this.upcoming.clear();
    this.writes.length = 0;
    this.events.length = 0;
    this.touched.clear();
  }

  /**
   * Per clock-dependent segment and trigger, the smallest field value above the trigger's
   * threshold among the contacts evaluated: its first instant is the earliest flip among them
   * (first instants grow with the value), computed once per step instead of per contact.
   */
  private readonly upcoming = new Map<LiveSegment, (string | number | null)[]>();

  /** Notes a contact's values for the segment's next wake-up. */
  noteUpcoming(segment: LiveSegment, facts: ContactFacts, at: EvalTime): void {
    let smallest = this.upcoming.get(segment);
    if (!smallest) this.upcoming.set(segment, (smallest = segment.triggers.map(() => null)));
    segment.triggers.forEach((trigger, i) => {
      const value = trigger.read(facts);
      if (value !== null && value > trigger.threshold(at) && (smallest![i] === null || value < smallest![i]!)) smallest![i] = value;
    });
  }

  /** Lowers each noted segment's next wake-up to its contacts' earliest flip. */
  settleWakes(): void {
    for (const [segment, smallest] of this.upcoming) {
      segment.triggers.forEach((trigger, i) => {
        const instant = smallest[i] === null ? null : trigger.firstInstant(smallest[i]!);
        if (instant !== null && (segment.nextWakeAt === null || instant < segment.nextWakeAt)) {
          segment.nextWakeAt = instant;
          this.touched.add(segment);
        }
      });
    }
    this.upcoming.clear();
  }

  private record(segment: LiveSegment, contactId: string, kind: MembershipChange, reason: ChangeReason): void {
    this.touched.add(segment);
    if (segment.silent) return;
    this.events.push({
      seq: 0,
      kind,
      listId: segment.listId,
      segmentId: segment.id,
      contactId,
      reason,
      memberCount: segment.memberCount,
      occurredAt: this.occurredAt,
    });
  }
}

/**
 * Brings one contact's memberships up to date. `facts` is its current state (null: deleted);
 * `before` the segments it belongs to now. A deleted contact leaves every segment, STATIC
 * ones included; otherwise only DYNAMIC segments follow the condition. After an update,
 * `segments` may be narrowed to those reading a changed fact (segmentsReading). Segments come in
 * dependency order, and each sees the memberships decided before it in the same pass.
 */
export function reconcileContact(
  contactId: string,
  facts: ContactFacts | null,
  before: { has(segmentId: string): boolean },
  segments: readonly LiveSegment[],
  at: EvalTime,
  reason: ChangeReason,
  log: StepLog,
  overrides?: ReadonlyMap<string, MembershipOverride>,
): void {
  if (facts === null) {
    for (const segment of segments) if (before.has(segment.id)) log.leave(segment, contactId, "CONTACT_DELETED");
    return;
  }
  // Memberships as decided so far: a segment referencing another sees its new membership.
  let decided: Map<string, boolean> | undefined;
  let seen: ContactFacts | undefined;
  for (const segment of segments) {
    if (segment.type !== "DYNAMIC") continue;
    const member = before.has(segment.id);
    const evaluated = segment.refs.length === 0 ? facts : (seen ??= factsFor(segment, facts, { has: (segmentId) => decided?.get(segmentId) ?? before.has(segmentId) }));
    const matches = belongs(segment, evaluated, at, overrides?.get(segment.id));
    if (matches !== member) (decided ??= new Map()).set(segment.id, matches);
    if (matches && !member) log.enter(segment, contactId, reason);
    else if (!matches && member) log.leave(segment, contactId, reason);
    if (segment.triggers.length > 0 && !segment.silent) log.noteUpcoming(segment, facts, at);
  }
}

/** Whether a contact belongs to a DYNAMIC segment: its override decides, else the condition. */
export function belongs(segment: LiveSegment, facts: ContactFacts, at: EvalTime, override: MembershipOverride | undefined): boolean {
  return override === undefined ? segment.predicate(facts, at) : override === "INCLUDED";
}

/** A range of one field's values whose contacts may have flipped between two instants. */
export interface FlipRange {
  trigger: TimeTrigger;
  /** Exclusive. */
  above: string | number;
  /** Inclusive. */
  upTo: string | number;
}

/** Where to look for contacts whose clock-dependent membership may change from `from` to `to`. */
export function flipRanges(segment: LiveSegment, from: EvalTime, to: EvalTime): FlipRange[] {
  const ranges: FlipRange[] = [];
  for (const trigger of segment.triggers) {
    const above = trigger.threshold(from);
    const upTo = trigger.threshold(to);
    if (upTo > above) ranges.push({ trigger, above, upTo });
  }
  return ranges;
}

/**
 * The next instant after `at` when any contact of the segment can flip, given for each trigger
 * the smallest stored value above its threshold (null when there is none).
 */
export function nextWake(
  segment: LiveSegment,
  at: EvalTime,
  smallestAbove: (trigger: TimeTrigger, threshold: string | number) => string | number | null,
): number | null {
  let next: number | null = null;
  for (const trigger of segment.triggers) {
    const value = smallestAbove(trigger, trigger.threshold(at));
    if (value === null) continue;
    const instant = trigger.firstInstant(value);
    if (instant !== null && (next === null || instant < next)) next = instant;
  }
  return next;
}
