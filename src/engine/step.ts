/**
 * One membership-engine step, for every store: due clock flips, a batch of the change feed in
 * feed order (contact changes, and condition changes with their exact membership difference),
 * and a chunk of a segment build, committed with the checkpoint in the store's one transaction.
 * Every decision compares a contact's current state with its stored memberships, so applying a
 * change twice changes nothing.
 */
import { type Condition, type EvalTime, evalTime, type TimeTrigger } from "../conditions";
import type { ChangeReason, EngineStepInput, EngineStepResult } from "../stores/port";
import { eventRuns, ROW_SPAN } from "../stores/event-runs";
import {
  belongs,
  dependencyOrder,
  factsFor,
  flipRanges,
  type ListState,
  type LiveSegment,
  nextWake,
  type PendingEvent,
  reconcileContact,
  segmentsReading,
  StepLog,
  StepTimes,
  usersOf,
} from "./membership";
import type { ContactState, FeedEntry, IdRange, StepTx, StoredSegment } from "./step-tx";
import { ask, type Work } from "./work";

/** Ids read per page when comparing a member set with a match set. */
const PAGE = 50_000;

class StepContext extends StepTimes {
  readonly log: StepLog;
  /** Events written by this step, with their positions. */
  readonly committed: PendingEvent[] = [];
  /** The position of the newest event before this step wrote any. */
  previousEvent = 0;

  constructor(
    readonly tx: StepTx,
    clock: number,
  ) {
    super(clock);
    this.log = new StepLog(clock);
  }
}

const notLeader = (): EngineStepResult => ({ leader: false, changes: 0, events: [], previousEvent: 0, more: false, nextWakeAt: null, applied: null });

export function* engineStep(tx: StepTx, { holder, wallNow, now, maxChanges, buildChunk }: EngineStepInput): Work<EngineStepResult> {
  if (!(yield* ask(tx.holdsLease(holder, wallNow)))) return notLeader();
  const clock = Math.max(yield* ask(tx.clock()), now);
  const ctx = new StepContext(tx, clock);

  for (const segment of yield* ask(tx.dueSegments(clock))) yield* clockStep(ctx, segment);
  // A contact may flip back in the same step: the clock's flips are persisted first.
  yield* flush(ctx);

  const entries = yield* ask(tx.readFeed(maxChanges));
  let contactEntries: FeedEntry[] = [];
  for (const entry of entries) {
    if (entry.kind === "contact") {
      contactEntries.push(entry);
      continue;
    }
    yield* contactStep(ctx, contactEntries);
    contactEntries = [];
    if (entry.kind === "condition") yield* conditionStep(ctx, entry);
    else if (entry.kind === "members") yield* membersStep(ctx, entry);
    else yield* freezeRequestStep(ctx, entry);
  }
  yield* contactStep(ctx, contactEntries);

  const feedDrained = entries.length < maxChanges;
  const building = feedDrained ? yield* buildStep(ctx, buildChunk) : yield* ask(tx.hasBuilding());
  // A freeze keeps the members as they are once every change written before it is applied.
  if (feedDrained) for (const segment of yield* ask(tx.dueFreezes(clock))) yield* freezeStep(ctx, segment);
  yield* flush(ctx);
  const applied = yield* ask(tx.saveCheckpoint(clock));
  return {
    leader: true,
    changes: entries.length,
    events: ctx.committed,
    previousEvent: ctx.previousEvent,
    more: !feedDrained || building,
    nextWakeAt: yield* ask(tx.nextWakeAt()),
    applied,
  };
}

/** A list with its segments compiled, from the store's cache or read now. */
function* listState(ctx: StepContext, listId: string): Work<ListState | null> {
  const { tx } = ctx;
  let state = tx.lists.get(listId);
  if (state === undefined) {
    const list = yield* ask(tx.readList(listId));
    state = list
      ? {
          customFields: list.customFields,
          timeZone: list.timeZone,
          segments: dependencyOrder(list.segments.map((row) => tx.compiler.compile(row, list.customFields, list.timeZone))),
        }
      : null;
    tx.lists.set(listId, state);
  }
  return state;
}

/** A segment as its list evaluates it, with the list. */
function* liveSegment(ctx: StepContext, listId: string, segmentId: string): Work<{ list: ListState; segment: LiveSegment } | null> {
  const list = yield* listState(ctx, listId);
  const segment = list?.segments.find((s) => s.id === segmentId);
  return list && segment ? { list, segment } : null;
}

/** Persists what the log holds (memberships, event runs, segment counts and wake-ups), so later reads see it. */
function* flush(ctx: StepContext): Work<void> {
  const { log, tx } = ctx;
  log.settleWakes();
  if (log.writes.length > 0) yield* ask(tx.writeMemberships(log.writes, ctx.clock));
  const runs = eventRuns(log.events);
  if (runs.length > 0) {
    if (ctx.committed.length === 0) ctx.previousEvent = yield* ask(tx.lastEventPosition());
    const seqs = yield* ask(tx.appendEventRuns(runs));
    runs.forEach((run, r) =>
      run.forEach((event, i) => {
        event.seq = seqs[r]! * ROW_SPAN + i;
        ctx.committed.push(event);
      }),
    );
  }
  if (log.touched.size > 0) yield* ask(tx.updateSegments([...log.touched].map(({ id, memberCount, nextWakeAt }) => ({ id, memberCount, nextWakeAt }))));
  log.clear();
}

/** Brings the contacts of a run of contact changes up to date. */
function* contactStep(ctx: StepContext, entries: readonly FeedEntry[]): Work<void> {
  if (entries.length === 0) return;
  // Per contact: its list, whether it was added, and the facts its changes changed (null: all).
  const touched = new Map<string, { listId: string | null; added: boolean; changed: Set<string> | null }>();
  for (const entry of entries) {
    if (entry.kind !== "contact") continue;
    const seen = touched.get(entry.contactId);
    if (!seen) {
      touched.set(entry.contactId, { listId: entry.listId, added: entry.added, changed: entry.changed ? new Set(entry.changed) : null });
    } else {
      seen.listId ??= entry.listId;
      seen.added ||= entry.added;
      if (seen.changed && entry.changed) for (const fact of entry.changed) seen.changed.add(fact);
      else seen.changed = null;
    }
  }
  const ids = [...touched.keys()];
  const contacts = yield* ask(ctx.tx.contacts(ids));
  const memberships = yield* ask(ctx.tx.memberships(ids));
  const lists = new Map<string, ListState>();
  for (const [id, { listId }] of touched) {
    const ofList = contacts.get(id)?.listId ?? listId;
    const list = ofList === null ? null : yield* listState(ctx, ofList);
    if (list) lists.set(id, list);
  }
  // Overrides are asked for only where a segment of the contacts' lists has any.
  const overrides = [...new Set(lists.values())].some((list) => list.segments.some((s) => s.hasOverrides)) ? yield* ask(ctx.tx.overridesOf(ids)) : null;
  const gone: string[] = [];
  for (const [id, { added, changed }] of touched) {
    const list = lists.get(id);
    if (!list) continue;
    const contact = contacts.get(id);
    if (!contact) gone.push(id);
    const reason: ChangeReason = !contact ? "CONTACT_DELETED" : added ? "CONTACT_ADDED" : "CONTACT_UPDATED";
    const segments = contact && changed ? segmentsReading(list, changed) : list.segments;
    reconcileContact(id, contact ? contact.facts : null, memberships.of(id), segments, ctx.at(list), reason, ctx.log, overrides?.get(id));
  }
  // A deleted contact's overrides and join times go with it.
  if (gone.length > 0) {
    const segmentIds = new Set(gone.flatMap((id) => lists.get(id)!.segments.map((segment) => segment.id)));
    if (segmentIds.size > 0) yield* ask(ctx.tx.forgetContacts(gone, [...segmentIds]));
  }
}

/** The next instant the segment's contacts can flip, after `at`. */
function* nextWakeOf(ctx: StepContext, segment: LiveSegment, at: EvalTime): Work<number | null> {
  const smallest = new Map<TimeTrigger, string | number | null>();
  for (const trigger of segment.triggers) smallest.set(trigger, yield* ask(ctx.tx.smallestAbove(segment.listId, trigger.field, trigger.threshold(at))));
  return nextWake(segment, at, (trigger) => smallest.get(trigger) ?? null);
}

/** Applies the flips of one clock-dependent segment from its last instant to now. */
function* clockStep(ctx: StepContext, row: StoredSegment): Work<void> {
  const found = yield* liveSegment(ctx, row.listId, row.id);
  if (!found) return;
  const { list, segment } = found;
  const at = ctx.at(list);
  const candidates = new Map<string, ContactState>();
  for (const range of flipRanges(segment, evalTime(row.clockAt, list.timeZone), at)) {
    for (const contact of yield* ask(ctx.tx.contactsInRange(row.listId, range.trigger.field, range.above, range.upTo))) candidates.set(contact.id, contact);
  }
  const memberships = yield* ask(ctx.tx.memberships([...candidates.keys()]));
  const overrides = segment.hasOverrides ? yield* ask(ctx.tx.overridesIn(row.id)) : null;
  const flipped: string[] = [];
  for (const [id, contact] of candidates) {
    const member = memberships.of(id).has(row.id);
    const matches = belongs(segment, factsFor(segment, contact.facts, memberships.of(id)), at, overrides?.get(id));
    if (matches !== member) flipped.push(id);
    if (matches && !member) ctx.log.enter(segment, id, "TIME_PASSED");
    else if (!matches && member) ctx.log.leave(segment, id, "TIME_PASSED");
  }
  segment.nextWakeAt = yield* nextWakeOf(ctx, segment, at);
  ctx.log.touched.add(segment);
  yield* ask(ctx.tx.setClockAt(row.id, ctx.clock));
  yield* propagate(ctx, list, segment, flipped, "TIME_PASSED");
}

/**
 * Carries a change of a segment's members on to the segments that reference it, in dependency
 * order, for the contacts that moved, with the reason of the cause: in the same step, so no
 * reader sees one updated and the other not.
 */
function* propagate(ctx: StepContext, list: ListState, segment: LiveSegment, moved: readonly string[], reason: ChangeReason): Work<void> {
  const users = usersOf(list, new Set([segment.id]));
  if (users.length === 0 || moved.length === 0) return;
  // The users read the segment's memberships as they now are.
  yield* flush(ctx);
  const { tx } = ctx;
  const contacts = yield* ask(tx.contacts(moved));
  const memberships = yield* ask(tx.memberships(moved));
  const overrides = users.some((user) => user.hasOverrides) ? yield* ask(tx.overridesOf(moved)) : null;
  const at = ctx.at(list);
  for (const id of moved) {
    const contact = contacts.get(id);
    if (contact?.listId !== segment.listId) continue;
    reconcileContact(id, contact.facts, memberships.of(id), users, at, reason, ctx.log, overrides?.get(id));
  }
  yield* flush(ctx);
}

/** Brings every segment that references a segment up to its condition (after the segment's members were rebuilt). */
function* refreshUsers(ctx: StepContext, list: ListState, segment: LiveSegment, reason: ChangeReason): Work<void> {
  const at = ctx.at(list);
  for (const user of usersOf(list, new Set([segment.id]))) {
    if (user.status !== "READY") continue;
    yield* applyDifference(ctx, user, at, reason);
    yield* flush(ctx);
  }
}

/**
 * Logs the difference between a DYNAMIC segment's stored members and its condition (its
 * overrides honoured) with a reason; a member whose contact is gone is left to its own
 * CONTACT_DELETED change. Returns the contacts that moved.
 */
function* applyDifference(ctx: StepContext, segment: LiveSegment, at: EvalTime, reason: ChangeReason): Work<string[]> {
  const { unmatched, entered } = yield* overriddenDifference(ctx.tx, segment, segment.ast, at);
  const existing = unmatched.length > 0 ? yield* ask(ctx.tx.existing(unmatched)) : new Set<string>();
  const leaving = unmatched.filter((id) => existing.has(id));
  for (const id of leaving) ctx.log.leave(segment, id, reason);
  for (const id of entered) ctx.log.enter(segment, id, reason);
  return [...leaving, ...entered];
}

/**
 * The members that do not match a condition and the matches that are not members, each
 * ascending: both sets are read a page at a time and merged, so neither is held whole.
 */
function* difference(tx: StepTx, segmentId: string, listId: string, condition: Condition, at: EvalTime): Work<{ unmatched: string[]; entered: string[] }> {
  const unmatched: string[] = [];
  const entered: string[] = [];
  const source = (read: (after: string | null) => Work<string[]>) => {
    let page: string[] = [];
    let i = 0;
    let done = false;
    return {
      *peek(): Work<string | null> {
        if (i === page.length && !done) {
          const after = page.length > 0 ? page[page.length - 1]! : null;
          page = yield* read(after);
          i = 0;
          done = page.length < PAGE;
        }
        return i < page.length ? page[i]! : null;
      },
      skip() {
        i++;
      },
    };
  };
  const members = source((after) => ask(tx.members(segmentId, after, PAGE)));
  const matches = source((after) => ask(tx.matching(listId, condition, at, { after, upTo: null }, PAGE)));
  for (;;) {
    const member = yield* members.peek();
    const match = yield* matches.peek();
    if (member === null && match === null) break;
    const order = member === null ? 1 : match === null ? -1 : tx.compareIds(member, match);
    if (order < 0) {
      unmatched.push(member!);
      members.skip();
    } else if (order > 0) {
      entered.push(match!);
      matches.skip();
    } else {
      members.skip();
      matches.skip();
    }
  }
  return { unmatched, entered };
}

/**
 * The difference a DYNAMIC segment's stored members have with its condition, its overrides
 * honoured: an INCLUDED contact stays, an EXCLUDED one does not enter.
 */
function* overriddenDifference(tx: StepTx, segment: LiveSegment, condition: Condition, at: EvalTime): Work<{ unmatched: string[]; entered: string[] }> {
  const found = yield* difference(tx, segment.id, segment.listId, condition, at);
  if (!segment.hasOverrides) return found;
  const overrides = yield* ask(tx.overridesIn(segment.id));
  return {
    unmatched: found.unmatched.filter((id) => overrides.get(id) !== "INCLUDED"),
    entered: found.entered.filter((id) => overrides.get(id) !== "EXCLUDED"),
  };
}

/**
 * Applies a hand edit of a segment's members. STATIC: the contacts join or leave the fixed set.
 * DYNAMIC: each gets an INCLUDED or EXCLUDED override (or loses its override), and its membership
 * follows. Every entry and exit is published with reason MANUAL.
 */
function* membersStep(ctx: StepContext, entry: Extract<FeedEntry, { kind: "members" }>): Work<void> {
  const { tx } = ctx;
  yield* flush(ctx);
  const row = yield* ask(tx.segment(entry.segmentId));
  const found = row ? yield* liveSegment(ctx, row.listId, row.id) : null;
  if (!row || !found) return;
  const { list, segment } = found;
  const ids = [...new Set(entry.contactIds)];
  const contacts = yield* ask(tx.contacts(ids));
  const ofList = ids.filter((id) => contacts.get(id)?.listId === row.listId);
  const memberships = yield* ask(tx.memberships(ofList));
  const override = entry.edit === "add" ? "INCLUDED" : entry.edit === "remove" ? "EXCLUDED" : undefined;
  if (row.type === "DYNAMIC") {
    yield* ask(tx.setOverrides(row.id, new Map(ofList.map((id) => [id, override ?? null]))));
    tx.lists.delete(row.listId);
    segment.hasOverrides = true;
  }
  // While a segment builds, its build takes the overrides in; it publishes nothing.
  if (row.status === "BUILDING") return;
  const at = ctx.at(list);
  const moved: string[] = [];
  for (const id of ofList) {
    const member = memberships.of(id).has(row.id);
    const wanted =
      row.type === "STATIC"
        ? entry.edit === "clear"
          ? member
          : entry.edit === "add"
        : belongs(segment, factsFor(segment, contacts.get(id)!.facts, memberships.of(id)), at, override);
    if (wanted !== member) moved.push(id);
    if (wanted && !member) ctx.log.enter(segment, id, "MANUAL");
    else if (!wanted && member) ctx.log.leave(segment, id, "MANUAL");
  }
  yield* flush(ctx);
  yield* propagate(ctx, list, segment, moved, "MANUAL");
}

/**
 * Applies a freeze request in its place in the feed: schedules (or cancels) it, and freezes at
 * once when it is due and the segment is READY (a BUILDING one freezes once built).
 */
function* freezeRequestStep(ctx: StepContext, entry: Extract<FeedEntry, { kind: "freeze" }>): Work<void> {
  const row = yield* ask(ctx.tx.segment(entry.segmentId));
  if (!row || row.type !== "DYNAMIC") return;
  if (entry.at !== null && entry.at <= ctx.clock && row.status === "READY") yield* freezeStep(ctx, row);
  else yield* ask(ctx.tx.setFreezeAt(row.id, entry.at));
}

/** Turns a DYNAMIC segment STATIC with the members it has now: no events. */
function* freezeStep(ctx: StepContext, row: StoredSegment): Work<void> {
  yield* flush(ctx);
  yield* ask(ctx.tx.freeze(row.id, ctx.clock));
  ctx.tx.lists.delete(row.listId);
}

/** Applies a new condition and its exact membership difference together. */
function* conditionStep(ctx: StepContext, entry: Extract<FeedEntry, { kind: "condition" }>): Work<void> {
  const { tx } = ctx;
  yield* flush(ctx);
  const row = yield* ask(tx.segment(entry.segmentId));
  const list = row ? yield* listState(ctx, row.listId) : null;
  if (!row || !list || row.type !== "DYNAMIC" || entry.version <= row.conditionVersion) return;
  tx.lists.delete(row.listId);
  if (row.status === "BUILDING") {
    yield* ask(tx.restartBuild(row.id, entry.condition, entry.version, ctx.clock));
    return;
  }
  const at = ctx.at(list);
  const segment = tx.compiler.compile({ ...row, condition: entry.condition }, list.customFields, list.timeZone);
  const moved = yield* applyDifference(ctx, segment, at, "SEGMENT_UPDATED");
  segment.nextWakeAt = segment.triggers.length > 0 ? yield* nextWakeOf(ctx, segment, at) : null;
  ctx.log.touched.add(segment);
  yield* ask(tx.setCondition(row.id, entry.condition, entry.version, ctx.clock));
  yield* flush(ctx);
  // The list is read again, with the new condition (its dependency order may have changed).
  const updated = yield* liveSegment(ctx, row.listId, row.id);
  if (updated) yield* propagate(ctx, updated.list, updated.segment, moved, "SEGMENT_UPDATED");
}

/** The members a DYNAMIC segment's build takes in within a range: the matches, its overrides honoured (ascending). */
function* withOverrides(tx: StepTx, row: StoredSegment, range: IdRange, matching: readonly string[]): Work<string[]> {
  const overrides = yield* ask(tx.overridesIn(row.id));
  const inRange = (id: string) => (range.after === null || tx.compareIds(id, range.after) > 0) && (range.upTo === null || tx.compareIds(id, range.upTo) <= 0);
  const included = [...overrides].filter(([id, override]) => override === "INCLUDED" && inRange(id)).map(([id]) => id);
  const existing = included.length > 0 ? yield* ask(tx.existing(included)) : new Set<string>();
  const members = new Set(matching.filter((id) => overrides.get(id) !== "EXCLUDED"));
  for (const id of included) if (existing.has(id)) members.add(id);
  return [...members].sort((a, b) => tx.compareIds(a, b));
}

/** Evaluates the next chunk of the oldest building segment. Returns whether builds remain. */
function* buildStep(ctx: StepContext, chunk: number): Work<boolean> {
  const { tx } = ctx;
  // First the step's contact changes: a building segment's member count moves with them, and
  // the chunk counts its entries and exits from the count as stored.
  yield* flush(ctx);
  const row = yield* ask(tx.oldestBuilding());
  if (!row) return false;
  const list = yield* listState(ctx, row.listId);
  if (!list) return true;
  tx.lists.delete(row.listId);
  const segment = tx.compiler.compile(row, list.customFields, list.timeZone);
  // Every chunk evaluates at the build's start; flips since then are applied when it is READY.
  const buildAt = evalTime(row.clockAt, list.timeZone);
  const range = { after: row.buildCursor, upTo: yield* ask(tx.chunkEnd(row.listId, row.buildCursor, chunk)) };
  let matching = yield* ask(tx.matching(row.listId, segment.ast, buildAt, range, Number.POSITIVE_INFINITY));
  if (row.type === "DYNAMIC" && row.hasOverrides) matching = yield* withOverrides(tx, row, range, matching);
  const { inserted, removed } = yield* ask(tx.replaceMembers(row, range, matching));
  const memberCount = row.memberCount + inserted - removed;
  if (range.upTo !== null) {
    yield* ask(tx.saveBuild(row.id, range.upTo, memberCount));
    return true;
  }
  segment.memberCount = memberCount;
  const wake = row.type === "DYNAMIC" && segment.triggers.length > 0 ? yield* nextWakeOf(ctx, segment, buildAt) : null;
  yield* ask(tx.finishBuild(row.id, memberCount, wake, ctx.clock));
  if (wake !== null && wake <= ctx.clock) {
    // Flips that fell due while the segment was building are applied now, as events.
    yield* clockStep(ctx, { ...row, status: "READY", memberCount, nextWakeAt: wake, buildCursor: null });
    yield* flush(ctx);
  }
  // Segments that reference it were evaluated against its members so far (the list is read
  // again: its cached state was dropped above, before the segment was READY).
  const built = yield* liveSegment(ctx, row.listId, row.id);
  if (built) yield* refreshUsers(ctx, built.list, built.segment, "SEGMENT_UPDATED");
  return yield* ask(tx.hasBuilding());
}

/**
 * Brings every READY segment of a list to its true membership, publishing the difference: for
 * a store whose feed lost its position (a MongoDB resume token fallen off the oplog), before the
 * feed starts again from a time captured first. DYNAMIC members that no longer match leave (as
 * deleted when their contact is gone), matches that are not members enter; STATIC members whose
 * contact is gone leave.
 */
export function* reconcileList(tx: StepTx, listId: string, now: number): Work<PendingEvent[]> {
  const ctx = new StepContext(tx, Math.max(yield* ask(tx.clock()), now));
  const list = yield* listState(ctx, listId);
  if (!list) return [];
  const at = ctx.at(list);
  for (const segment of list.segments) {
    if (segment.status !== "READY") continue;
    if (segment.type === "DYNAMIC") {
      const { unmatched, entered } = yield* overriddenDifference(tx, segment, segment.ast, at);
      const existing = unmatched.length > 0 ? yield* ask(tx.existing(unmatched)) : new Set<string>();
      for (const id of unmatched) ctx.log.leave(segment, id, existing.has(id) ? "CONTACT_UPDATED" : "CONTACT_DELETED");
      for (const id of entered) ctx.log.enter(segment, id, "CONTACT_UPDATED");
    } else {
      for (let after: string | null = null; ; ) {
        const members: string[] = yield* ask(tx.members(segment.id, after, PAGE));
        if (members.length === 0) break;
        const existing = yield* ask(tx.existing(members));
        for (const id of members) if (!existing.has(id)) ctx.log.leave(segment, id, "CONTACT_DELETED");
        if (members.length < PAGE) break;
        after = members[members.length - 1]!;
      }
    }
    yield* flush(ctx);
  }
  return ctx.committed;
}
