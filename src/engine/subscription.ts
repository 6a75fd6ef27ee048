/**
 * One subscriber's stream: a cursor into the event log. It replays what it has not seen from
 * the store or the feed's ring, then waits for more; it holds one batch at most, so a slow
 * reader costs no memory, and the seam between replay and live cannot drop or repeat an event.
 */
import { cursorExpired } from "../common/errors";
import type { EventFilter, MembershipEvent, Store } from "../stores/port";
import type { EventFeed } from "./event-feed";

const BATCH = 100;

export interface StreamOptions {
  /** Sequence number the subscriber has already seen. */
  after: number;
  filter: EventFilter;
  /** Called when a batch is read from the store rather than the ring. */
  onReplayFromStore?: () => void;
}

/** ENTERED / LEFT events for the filter, in order; ends when its segment or list is deleted. */
export async function* membershipStream(feed: EventFeed, store: Store, options: StreamOptions): AsyncGenerator<MembershipEvent> {
  const { filter } = options;
  let last = options.after;
  while (!feed.isClosed) {
    let batch = feed.fromMemory(last, filter, BATCH);
    if (batch === null) {
      // Every event up to `horizon` was committed before the read below, so the read sees it.
      const horizon = feed.latestSeq;
      const pruned = await store.prunedThrough();
      if (last < pruned) {
        throw cursorExpired(`events after this position were removed by retention; reload and subscribe without "after"`);
      }
      batch = await store.eventsAfter(last, filter, BATCH);
      options.onReplayFromStore?.();
      if (batch.length === 0) {
        last = Math.max(last, horizon);
        continue;
      }
    } else if (batch.length === 0) {
      // Nothing for us up to the feed's latest event: move the cursor so the ring can forget it.
      last = Math.max(last, feed.scannedThrough());
      await feed.wait();
      continue;
    }
    for (const event of batch) {
      last = event.seq;
      if (event.kind === "SEGMENT_DELETED" || event.kind === "LIST_DELETED") return;
      yield event;
    }
  }
}
