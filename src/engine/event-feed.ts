/**
 * The process's window on the event log. It keeps the most recent events in a bounded ring so
 * that live subscribers read from memory, and wakes them when new events are committed (by this
 * process's engine or, seen by polling, by another process). A subscriber that falls behind the
 * ring reads the log from the store instead: no subscriber ever holds more than one batch.
 */
import { Coalesced } from "../common/background";
import type { EventFilter, MembershipEvent, Store } from "../stores/port";

export function matches(event: MembershipEvent, filter: EventFilter): boolean {
  if (filter.segmentId !== undefined) return event.segmentId === filter.segmentId;
  if (filter.listId !== undefined) return event.listId === filter.listId;
  return true;
}

/** A subscriber's handle on its wait: `cancel` is set while it waits. */
export interface Waiter {
  cancel?: (() => void) | undefined;
}

export class EventFeed {
  private ring: MembershipEvent[] = [];
  /** The ring holds every event with seq > coveredFrom, up to latest. */
  private coveredFrom = 0;
  private latest = 0;
  private waiters = new Set<() => void>();
  private listeners = new Set<() => void>();
  private readonly refreshing = new Coalesced(() => this.readNew());
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly capacity = 10_000,
  ) {}

  async init(): Promise<void> {
    this.latest = (await this.store.engineStatus()).latestEvent;
    this.coveredFrom = this.latest;
  }

  get latestSeq(): number {
    return this.latest;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Adds events this process just committed after the event at `previous`; when that is not
   * the last event known here (someone else committed in between), reads the log instead.
   */
  publish(events: MembershipEvent[], previous: number): Promise<void> {
    if (this.refreshing.active || events.length === 0 || previous !== this.latest) return this.refresh();
    this.append(events);
    return Promise.resolve();
  }

  /** Reads events committed since the last refresh and wakes waiting subscribers. */
  refresh(): Promise<void> {
    return this.refreshing.run();
  }

  private async readNew(): Promise<void> {
    for (;;) {
      const events = await this.store.eventsAfter(this.latest, {}, 1_000);
      if (events.length > 0) this.append(events);
      if (events.length < 1_000) return;
    }
  }

  private append(events: MembershipEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.latest) continue;
      this.ring.push(event);
      this.latest = event.seq;
    }
    if (this.ring.length > this.capacity * 1.5) {
      const drop = this.ring.length - this.capacity;
      this.coveredFrom = this.ring[drop - 1]!.seq;
      this.ring = this.ring.slice(drop);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
    for (const listener of this.listeners) listener();
  }

  /**
   * Calls `listener` whenever events are appended, until the returned function is called: for
   * readers of the log that are not subscription streams (webhooks), which `waiting` leaves out.
   */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Matching events after `seq` from memory, at most `limit`; null when the ring no longer
   * reaches back to `seq` (read the store instead).
   */
  fromMemory(seq: number, filter: EventFilter, limit: number): MembershipEvent[] | null {
    if (seq < this.coveredFrom) return null;
    let low = 0;
    let high = this.ring.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ring[mid]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    const result: MembershipEvent[] = [];
    for (let i = low; i < this.ring.length && result.length < limit; i++) {
      if (matches(this.ring[i]!, filter)) result.push(this.ring[i]!);
    }
    return result;
  }

  /**
   * Resolves at the next append, at close, or when the waiter cancels: `wait` sets
   * `waiter.cancel`, which resolves the wait at once and drops it. Registered synchronously, so
   * no wake-up is missed.
   */
  wait(waiter: Waiter = {}): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        waiter.cancel = undefined;
        resolve();
      };
      this.waiters.add(wake);
      waiter.cancel = wake;
    });
  }

  /** Subscribers waiting for new events (for tests and metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }
}
