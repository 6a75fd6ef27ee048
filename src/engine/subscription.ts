/**
 * One subscriber's stream: a cursor into the event log. It replays what it has not seen from
 * the store or the feed's ring, then waits for more; it holds one batch at most, so a slow
 * reader costs no memory, and the seam between replay and live cannot drop or repeat an event.
 *
 * It is an explicit iterator rather than an async generator so that closing it (the client
 * unsubscribed, the socket closed) also ends a wait on a quiet log.
 */
import { cursorExpired } from "../common/errors";
import type { EventFilter, MembershipEvent, Store } from "../stores/port";
import type { EventFeed, Waiter } from "./event-feed";

const BATCH = 100;

export interface StreamOptions {
  /** Sequence number the subscriber has already seen. */
  after: number;
  filter: EventFilter;
  /** Called when a batch is read from the store rather than the ring. */
  onReplayFromStore?: () => void;
  /** Called once when the stream ends, however it ends. */
  onClose?: () => void;
}

/** Whether an event ends a stream with this filter (its segment or its list was deleted). */
function ends(event: MembershipEvent, filter: EventFilter): boolean {
  if (event.kind === "LIST_DELETED") return true;
  return event.kind === "SEGMENT_DELETED" && filter.segmentId !== undefined;
}

export class MembershipStream implements AsyncIterableIterator<MembershipEvent> {
  private last: number;
  private batch: MembershipEvent[] = [];
  private closed = false;
  private readonly waiter: Waiter = {};

  constructor(
    private readonly feed: EventFeed,
    private readonly store: Store,
    private readonly options: StreamOptions,
  ) {
    this.last = options.after;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<MembershipEvent>> {
    while (!this.closed && !this.feed.isClosed) {
      const event = this.batch.shift();
      if (event) {
        this.last = event.seq;
        if (ends(event, this.options.filter)) break;
        if (event.kind === "ENTERED" || event.kind === "LEFT") return { value: event, done: false };
        continue;
      }
      await this.fill();
    }
    this.close();
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<MembershipEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<MembershipEvent>> {
    this.close();
    throw error;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiter.cancel?.();
    this.options.onClose?.();
  }

  /** Loads the next batch after `last`, or waits for new events. */
  private async fill(): Promise<void> {
    const { filter } = this.options;
    const fromMemory = this.feed.fromMemory(this.last, filter, BATCH);
    if (fromMemory === null) {
      // Every event up to `horizon` was committed before the read below, so the read sees it.
      const horizon = this.feed.latestSeq;
      if (this.last < (await this.store.prunedThrough())) {
        throw cursorExpired(`events after this position were removed by retention; reload and subscribe without "after"`);
      }
      this.batch = await this.store.eventsAfter(this.last, filter, BATCH);
      this.options.onReplayFromStore?.();
      if (this.batch.length === 0) this.last = Math.max(this.last, horizon);
      return;
    }
    if (fromMemory.length > 0) {
      this.batch = fromMemory;
      return;
    }
    // Nothing for us up to the feed's latest event: move on so the ring can forget it, and wait.
    this.last = Math.max(this.last, this.feed.latestSeq);
    await this.feed.wait(this.waiter);
  }
}
