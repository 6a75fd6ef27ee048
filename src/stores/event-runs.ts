/**
 * The event log is stored in runs: one record holds consecutive transitions of one segment with
 * the same kind and reason, committed by one engine step. Event i of run `seq` is at position
 * seq * ROW_SPAN + i; positions are what public cursors name. Both stores use this layout.
 */
import type { PendingEvent } from "../engine/membership";

/** Positions per run. */
export const ROW_SPAN = 65_536;
/** Transitions in one run at most (a longer run continues in the next one). */
export const MAX_ROW_EVENTS = 1_024;

/**
 * Splits a step's events into runs: per segment, in order, runs of the same kind and reason.
 * The order of one segment's events is kept exactly; segments of one step are independent.
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
    let run: PendingEvent[] = [];
    for (const event of group) {
      const head = run[0];
      if (head && (head.kind !== event.kind || head.reason !== event.reason || run.length === MAX_ROW_EVENTS)) {
        runs.push(run);
        run = [];
      }
      run.push(event);
    }
    if (run.length > 0) runs.push(run);
  }
  return runs;
}

/** The member count after event i of a run whose first event left `first` members. */
export function memberCountAt(kind: string, first: number, i: number): number {
  return first + (kind === "LEFT" ? -i : i);
}
