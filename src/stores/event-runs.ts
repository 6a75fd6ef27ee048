/**
 * The event log is stored in runs: one record holds consecutive transitions of one segment with
 * the same kind and reason, committed by one engine step. Event i of run `seq` is at position
 * seq * ROW_SPAN + i; positions are what public cursors name. Both stores use this layout.
 */
import type { PendingEvent } from "../engine/membership";
import type { MembershipEvent } from "./port";

/** Positions per run. */
export const ROW_SPAN = 65_536;
/** Transitions in one run at most (a longer run continues in the next one). */
export const MAX_ROW_EVENTS = 1_024;

/**
 * Splits the events of one flush of a step into runs: per segment, one run per kind and reason
 * (longer runs continue in the next), in the order each first appears. A flush changes a
 * (segment, contact) pair at most once and commits all of it at once, so its events of one
 * segment have no order of their own: grouping them writes one record per kind and reason
 * instead of one per alternation. Member counts are renumbered along the new order, from the
 * count before the segment's first event, and end where the flush left them.
 */
export function eventRuns(events: readonly PendingEvent[]): PendingEvent[][] {
  const bySegment = new Map<string, PendingEvent[]>();
  for (const event of events) {
    const group = bySegment.get(event.segmentId);
    if (group) group.push(event);
    else bySegment.set(event.segmentId, [event]);
  }
  const runs: PendingEvent[][] = [];
  for (const group of bySegment.values()) {
    const first = group[0]!;
    let count = first.memberCount + (first.kind === "LEFT" ? 1 : -1);
    const byKind = new Map<string, PendingEvent[]>();
    for (const event of group) {
      const key = `${event.kind} ${event.reason}`;
      const same = byKind.get(key);
      if (same) same.push(event);
      else byKind.set(key, [event]);
    }
    for (const same of byKind.values()) {
      for (let start = 0; start < same.length; start += MAX_ROW_EVENTS) {
        const run = same.slice(start, start + MAX_ROW_EVENTS);
        for (const event of run) event.memberCount = count += event.kind === "LEFT" ? -1 : 1;
        runs.push(run);
      }
    }
  }
  return runs;
}

/** How many events of the run at `seq` (holding `count`) come after `position`. */
export function eventsAfterIn(seq: number, count: number, position: number): number {
  return Math.max(0, Math.min(count, seq * ROW_SPAN + count - 1 - position));
}

/** The member count after event i of a run whose first event left `first` members. */
export function memberCountAt(kind: string, first: number, i: number): number {
  return first + (kind === "LEFT" ? -i : i);
}

/**
 * Adds a run's events (in run order) to a page read newest first: those before `position` (null:
 * any) and, with `contactId`, only that contact's. True once the page holds `limit`.
 */
export function takeNewestFirst(run: readonly MembershipEvent[], position: number | null, contactId: string | null, page: MembershipEvent[], limit: number): boolean {
  for (let i = run.length - 1; i >= 0; i--) {
    const event = run[i]!;
    if ((position !== null && event.seq >= position) || (contactId !== null && event.contactId !== contactId)) continue;
    page.push(event);
    if (page.length === limit) return true;
  }
  return false;
}
