/**
 * Membership history from the retained event log: a segment's or a contact's transitions newest
 * first, and a segment's member count over time in buckets of the list's wall clock (a DAY
 * starts at local midnight) for dashboards' charts.
 */
import { decodeIntCursor, encodeCursor, pageSize } from "../../common/cursor";
import { badInput } from "../../common/errors";
import { Limits } from "../../common/limits";
import { dates } from "../../conditions";
import type { ServiceDeps } from "../../services";
import type { HistoryFilter, MembershipEvent, SegmentRecord } from "../../stores/port";

export type SeriesBucket = "MINUTE" | "HOUR" | "DAY";

const BUCKET_MS: Record<SeriesBucket, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/** Points one memberCountSeries answers at most. */
export const MAX_SERIES_POINTS = 1_000;

export interface MemberCountPoint {
  /** Start of the bucket. */
  at: number;
  /** Members at the end of the bucket. */
  memberCount: number;
  entered: number;
  left: number;
}

export interface HistoryPage {
  items: MembershipEvent[];
  cursors: string[];
  hasNextPage: boolean;
}

export class HistoryService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Transitions newest first; `after` is a cursor of an earlier page (an event cursor). */
  async page(filter: HistoryFilter, first: number | null | undefined, after: string | null | undefined): Promise<HistoryPage> {
    const size = pageSize(first, Limits.maxPageSize);
    const before = after == null ? null : decodeIntCursor(after, "e", 1)[0]!;
    const events = await this.deps.store.eventsBefore(before, filter, size + 1);
    const items = events.slice(0, size);
    return { items, cursors: items.map((event) => encodeCursor("e", [event.seq])), hasNextPage: events.length > size };
  }

  /**
   * A segment's member count over [since, until) in buckets of the list's wall clock, oldest
   * first. Buckets before the segment existed, or before the retained log when retention has
   * removed older events, are left out. More than MAX_SERIES_POINTS buckets is BAD_USER_INPUT.
   */
  async memberCountSeries(segment: SegmentRecord, timeZone: string, since: Date, until: Date | null, bucket: SeriesBucket): Promise<MemberCountPoint[]> {
    const end = until === null ? this.deps.clock.now() : until.getTime();
    const start = since.getTime();
    if (Number.isNaN(start) || Number.isNaN(end)) throw badInput("since and until must be valid date-times", { argument: "since" });
    if (start >= end) throw badInput("since must be before until", { argument: "since" });
    const unit = BUCKET_MS[bucket];
    const bucketStart = (instant: number) => {
      const wall = dates.wallClock(instant, timeZone);
      return dates.instantOfWall(wall - (((wall % unit) + unit) % unit), timeZone);
    };
    const nextBucket = (from: number) => dates.instantOfWall(dates.wallClock(from, timeZone) + unit, timeZone);
    const starts: number[] = [];
    for (let at = bucketStart(start); at < end; at = nextBucket(at)) {
      if (starts.length === MAX_SERIES_POINTS) {
        throw badInput(`at most ${MAX_SERIES_POINTS.toLocaleString("en-US")} points per series: choose a larger bucket or a shorter range`, { argument: "bucket" });
      }
      starts.push(at);
    }
    const { runs, countBefore, retainedSince } = await this.deps.store.memberRuns(segment.id, starts[0]!, end);
    const bucketEnd = (i: number) => (i + 1 < starts.length ? starts[i + 1]! : end);
    // Counts before the first retained run: the run's own count taken back, else nothing changed.
    const first = runs[0];
    let memberCount = countBefore ?? (first ? first.memberCountAfter - (first.kind === "ENTERED" ? first.count : -first.count) : segment.memberCount);
    const points: MemberCountPoint[] = [];
    let r = 0;
    for (let i = 0; i < starts.length; i++) {
      const closes = bucketEnd(i);
      let entered = 0;
      let left = 0;
      for (; r < runs.length && runs[r]!.occurredAt < closes; r++) {
        const run = runs[r]!;
        if (run.kind === "ENTERED") entered += run.count;
        else left += run.count;
        memberCount = run.memberCountAfter;
      }
      if (closes <= segment.createdAt || (retainedSince !== null && closes <= retainedSince)) continue;
      points.push({ at: starts[i]!, memberCount, entered, left });
    }
    return points;
  }
}
