/**
 * Delivers membership events to webhooks. A webhook is a position in the event log, like a
 * subscription that survives restarts: the dispatcher reads its events after the position (from
 * the event feed's ring while it keeps up, from the store when it is behind), sends them in
 * batches of at most 500, one batch in flight per webhook, and moves the position when the
 * receiver acknowledges. Each webhook has its own loop, so a slow or failing receiver holds up
 * only its own webhook. One process at a time sends (the `webhooks` lease); the batch being
 * delivered is stored before it is sent, so whoever sends next retries it with the same delivery
 * id and the same events.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../common/clock";
import { toGlobalId } from "../common/ids";
import type { EventFeed } from "../engine/event-feed";
import { BackgroundTasks } from "../common/background";
import { Lease } from "../engine/lease";
import {
  type EventFilter,
  type MembershipEvent,
  type Store,
  WEBHOOK_LEASE,
  type WebhookBatch,
  type WebhookDeliveryRecord,
  type WebhookProgress,
  type WebhookRecord,
} from "../stores/port";
import { deliveryBody, MAX_BATCH_EVENTS, type WebhookSender } from "./delivery";
import type { UrlPolicy } from "./url-policy";

export interface DispatcherOptions {
  /** Whether this process may send at all. */
  participate?: boolean;
  /** How long the lease lasts without renewal. */
  leaseTtlMs?: number;
  /** How often a process without the lease looks at its holder (one of this host that is gone is replaced at once). */
  leaseCheckMs?: number;
  /** The first retry's delay; each next one doubles, up to maxRetryMs. */
  retryBaseMs?: number;
  maxRetryMs?: number;
  /** How long a webhook may keep failing before it is DISABLED. */
  disableAfterMs?: number;
  /** How often the set of webhooks is read again (webhooks made or enabled by other processes). */
  refreshMs?: number;
  /** How long a stop lets requests in flight finish before abandoning them. */
  stopGraceMs?: number;
  /** Jitter source, in [0, 1). */
  random?: () => number;
}

export interface DispatcherLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * The delay before retry `attempt` (1 after the first failure): retryBaseMs doubling per attempt,
 * capped at maxRetryMs, with jitter taking off up to a quarter so that webhooks that failed
 * together do not retry together.
 */
export function retryDelay(attempt: number, options: { retryBaseMs: number; maxRetryMs: number }, random: number): number {
  const full = Math.min(options.maxRetryMs, options.retryBaseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(full * (1 - random / 4));
}

/** Events read from the log at once while looking for a webhook's. */
const READ = 1_000;
/** How often a webhook's position is written while it only skips events that are not its own. */
const SKIP_WRITE_MS = 1_000;

/** A webhook's events after a position, and how far the log was read for them. */
interface Read {
  events: MembershipEvent[];
  readThrough: number;
  /** Set when events after the position were removed by retention: the position they end at. */
  lostThrough?: number;
}

export class WebhookDispatcher {
  private readonly lease: Lease;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly background: BackgroundTasks;
  private readonly workers = new Map<string, Promise<void>>();
  private readonly wakers = new Set<() => void>();
  /** Loops waiting for new events. */
  private readonly eventWakers = new Set<() => void>();
  private unlisten: (() => void) | null = null;
  private readonly inFlight = new Set<AbortController>();
  private refreshing: Promise<void> | null = null;
  private readonly options: Required<DispatcherOptions>;

  constructor(
    private readonly store: Store,
    private readonly feed: EventFeed,
    private readonly clock: Clock,
    private readonly sender: WebhookSender,
    private readonly log: DispatcherLogger,
    options: DispatcherOptions = {},
  ) {
    this.options = {
      participate: true,
      leaseTtlMs: 10_000,
      leaseCheckMs: 250,
      retryBaseMs: 1_000,
      maxRetryMs: 600_000,
      disableAfterMs: 24 * 3_600_000,
      refreshMs: 1_000,
      stopGraceMs: 1_000,
      random: Math.random,
      ...options,
    };
    this.lease = new Lease(store, WEBHOOK_LEASE, { ttlMs: this.options.leaseTtlMs, checkMs: this.options.leaseCheckMs });
    this.background = new BackgroundTasks((error) => this.log.error({ err: error }, "webhooks: background task failed"));
  }

  get holder(): string {
    return this.lease.holder;
  }

  private get leader(): boolean {
    return this.lease.held;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Where webhooks may send (checked when one is made, and at every delivery). */
  get policy(): UrlPolicy {
    return this.sender.policy;
  }

  async start(): Promise<void> {
    if (!this.options.participate) return;
    this.unlisten = this.feed.onAppend(() => {
      for (const wake of [...this.eventWakers]) wake();
    });
    await this.renewLease();
    this.background.every(this.lease.checkEveryMs, () => this.renewLease());
    this.background.every(this.options.refreshMs, () => this.refresh());
  }

  /** The holder renews; a standby takes a lease that expired or whose holder's process is gone. */
  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    const { held, changed } = await this.lease.check();
    if (!changed || this.stopped) return;
    this.log.info({ holder: this.holder }, held ? "webhooks: this process sends webhook deliveries" : "webhooks: lease lost");
    if (held) await this.refresh();
    else this.wakeAll();
  }

  /** Says that webhooks changed here (made, enabled, disabled, deleted): their loops look again now. */
  changed(): void {
    this.wakeAll();
    void this.refresh().catch((error) => this.log.error({ err: error }, "webhooks: reading the webhooks failed"));
  }

  /** Wakes every webhook waiting for events or for its next retry (tests that move a manual clock call it too). */
  wakeAll(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  /** Starts a loop for every webhook that should be delivering and has none (one look at a time). */
  private refresh(): Promise<void> {
    // Cleared in a later microtask than the assignment, even when the look ends at once.
    this.refreshing ??= this.startWorkers().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async startWorkers(): Promise<void> {
    if (!this.leader || this.stopped) return;
    for (const id of await this.store.activeWebhookIds()) {
      if (this.workers.has(id) || !this.leader || this.stopped) continue;
      const worker = this.deliver(id).finally(() => this.workers.delete(id));
      this.workers.set(id, worker);
    }
  }

  /**
   * Resolves after `ms` (null: no limit), at a wake-up (wakeAll, stop), or, with `onEvents`,
   * when new events are committed.
   */
  private pause(ms: number | null, onEvents: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        if (timer) clearTimeout(timer);
        this.wakers.delete(wake);
        this.eventWakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
      if (onEvents) this.eventWakers.add(wake);
      if (ms !== null) timer = setTimeout(wake, ms);
    });
  }

  /** One webhook's loop: batches in order, one at a time, while this process leads and the webhook is enabled. */
  private async deliver(id: string): Promise<void> {
    let hook: WebhookRecord | null = null;
    /**
     * How far the log was read without finding undelivered events of this webhook (beyond its
     * stored position). A batch's read counts only once the batch is acknowledged: until then
     * its events are undelivered, and an enable elsewhere may drop the batch for a new one.
     */
    let skipped = 0;
    let skipWrittenAt = 0;
    // A loop starts when a webhook is enabled or this process starts sending: its position may
    // be older than the retained log even where the in-memory ring still holds those events.
    let started = true;
    while (this.leader && !this.stopped) {
      try {
        hook ??= (await this.store.getWebhooks([id]))[0] ?? null;
        if (!hook || hook.status === "DISABLED") return;
        if (hook.batch) {
          const due = hook.nextAttemptAt ?? 0;
          const now = this.clock.now();
          if (due > now) {
            // Re-read at least every second: a webhook disabled, enabled or deleted elsewhere.
            await this.pause(Math.min(due - now, 1_000), false);
            hook = null;
            continue;
          }
          const read = await this.read(hook, hook.position, hook.batch.through, started);
          started = false;
          hook = read.lostThrough !== undefined ? await this.lost(hook, read.lostThrough) : await this.send(hook, hook.batch, read.events);
          continue;
        }
        const read = await this.read(hook, Math.max(hook.position, skipped), null, started);
        started = false;
        if (read.lostThrough !== undefined) {
          hook = await this.lost(hook, read.lostThrough);
          continue;
        }
        if (read.events.length === 0) {
          skipped = read.readThrough;
          if (skipped > hook.position && Date.now() - skipWrittenAt >= SKIP_WRITE_MS) {
            skipWrittenAt = Date.now();
            hook = await this.save(hook, null, { ...this.progressOf(hook), position: skipped }, null);
            continue;
          }
          if (this.feed.latestSeq > skipped) {
            // Committed since the read, or not read yet: read on, in a later turn.
            await new Promise((resolve) => setImmediate(resolve));
          } else {
            await this.pause(null, true);
            hook = null;
          }
          continue;
        }
        // The batch ends at its last event (what deliveredCursor names once acknowledged); the
        // next read starts after what this one looked through.
        const batch: WebhookBatch = { id: randomUUID(), through: read.events[read.events.length - 1]!.seq, attempts: 0 };
        const formed = await this.save(hook, null, { ...this.progressOf(hook), batch, nextAttemptAt: null }, null);
        // Disabled meanwhile (the store keeps a stored DISABLED): not sent.
        hook = formed?.batch?.id === batch.id && formed.status !== "DISABLED" ? await this.send(formed, batch, read.events) : null;
        if (hook && !hook.batch && hook.position === batch.through) skipped = read.readThrough;
      } catch (error) {
        this.log.error({ err: error, webhook: id }, "webhooks: delivery failed");
        await this.pause(1_000, false);
        hook = null;
      }
    }
  }

  /** The webhook's stored progress, unchanged. */
  private progressOf(hook: WebhookRecord): WebhookProgress {
    return {
      position: hook.position,
      acknowledged: false,
      batch: hook.batch,
      status: hook.status,
      failingSince: hook.failingSince,
      nextAttemptAt: hook.nextAttemptAt,
    };
  }

  private save(hook: WebhookRecord, expected: string | null, progress: WebhookProgress, delivery: WebhookDeliveryRecord | null): Promise<WebhookRecord | null> {
    return this.store.saveWebhookProgress(hook.id, expected, progress, delivery, this.clock.now());
  }

  /** Sends one attempt at a batch and records its outcome; returns the webhook as it is then (null: read it again). */
  private async send(hook: WebhookRecord, batch: WebhookBatch, events: MembershipEvent[]): Promise<WebhookRecord | null> {
    const webhookId = toGlobalId("Webhook", hook.id);
    const at = this.clock.now();
    const abort = new AbortController();
    this.inFlight.add(abort);
    const outcome = await this.sender
      .post({ url: hook.url, secret: hook.secret, webhookId, deliveryId: batch.id, body: deliveryBody(webhookId, events) }, abort.signal)
      .finally(() => this.inFlight.delete(abort));
    // Abandoned by a stop: the batch stays stored, and whoever sends next retries it.
    if (abort.signal.aborted) return null;
    const attempt = batch.attempts + 1;
    const delivery: WebhookDeliveryRecord = { deliveryId: batch.id, attempt, eventCount: events.length, statusCode: outcome.statusCode, error: outcome.error, durationMs: outcome.durationMs, at };
    const now = this.clock.now();
    if (outcome.acknowledged) {
      return this.save(hook, batch.id, { position: batch.through, acknowledged: true, batch: null, status: "ACTIVE", failingSince: null, nextAttemptAt: null }, delivery);
    }
    const failingSince = hook.failingSince ?? at;
    const disable = now - failingSince >= this.options.disableAfterMs;
    if (disable) this.log.warn({ webhook: hook.id, failingSince: new Date(failingSince).toISOString() }, "webhooks: disabled after failing for too long");
    return this.save(
      hook,
      batch.id,
      {
        position: hook.position,
        acknowledged: false,
        batch: { ...batch, attempts: attempt },
        status: disable ? "DISABLED" : "FAILING",
        failingSince,
        nextAttemptAt: now + retryDelay(attempt, this.options, this.options.random()),
      },
      delivery,
    );
  }

  /** Notes in the log that events were removed by retention before delivery, and continues after them. */
  private async lost(hook: WebhookRecord, through: number): Promise<WebhookRecord | null> {
    const at = this.clock.now();
    const note: WebhookDeliveryRecord = {
      deliveryId: hook.batch?.id ?? randomUUID(),
      attempt: (hook.batch?.attempts ?? 0) + 1,
      eventCount: 0,
      statusCode: null,
      error: "the event log's retention (EVENT_RETENTION) removed events before this webhook read them: any of its own among them are lost to it; delivery continues after them",
      durationMs: 0,
      at,
    };
    this.log.warn({ webhook: hook.id }, "webhooks: events removed by retention before delivery");
    return this.save(hook, hook.batch?.id ?? null, { ...this.progressOf(hook), position: through, batch: null, nextAttemptAt: null }, note);
  }

  /**
   * The webhook's events after `from` — ENTERED / LEFT of its list, of its segments when given —
   * at most MAX_BATCH_EVENTS, up to `through` when given (a batch read again for a retry). With
   * `checkRetention`, events removed from the store by retention count as lost even when the
   * in-memory ring still has them.
   */
  private async read(hook: WebhookRecord, from: number, through: number | null, checkRetention: boolean): Promise<Read> {
    const segments = hook.segmentIds === null ? null : new Set(hook.segmentIds);
    const filter: EventFilter = hook.segmentIds?.length === 1 ? { segmentId: hook.segmentIds[0] } : { listId: hook.listId };
    const events: MembershipEvent[] = [];
    let position = from;
    if (checkRetention) {
      const pruned = await this.store.prunedThrough();
      if (position < pruned) return { events, readThrough: position, lostThrough: pruned };
    }
    // Bounded per call: a webhook of a few segments of a busy list reads on in its next turn.
    for (let round = 0; round < 10; round++) {
      let raw = this.feed.fromMemory(position, filter, READ);
      let end: number;
      if (raw === null) {
        // Every event up to `horizon` was committed before the read below, so the read sees it.
        const horizon = this.feed.latestSeq;
        const pruned = await this.store.prunedThrough();
        if (position < pruned) return events.length > 0 ? { events, readThrough: position } : { events, readThrough: position, lostThrough: pruned };
        raw = await this.store.eventsAfter(position, filter, READ);
        end = horizon;
      } else {
        end = this.feed.latestSeq;
      }
      for (const event of raw) {
        if (through !== null && event.seq > through) return { events, readThrough: through };
        if ((event.kind === "ENTERED" || event.kind === "LEFT") && (segments === null || segments.has(event.segmentId!))) {
          events.push(event);
          if (events.length === MAX_BATCH_EVENTS) return { events, readThrough: event.seq };
        }
      }
      const last = raw.length > 0 ? raw[raw.length - 1]!.seq : position;
      position = raw.length === READ ? last : Math.max(last, end, position);
      if (raw.length < READ) break;
    }
    return { events, readThrough: through === null ? position : Math.min(position, through) };
  }

  /** Sends a signed request with no events and logs its outcome. */
  async ping(hook: WebhookRecord): Promise<WebhookDeliveryRecord> {
    const webhookId = toGlobalId("Webhook", hook.id);
    const deliveryId = randomUUID();
    const at = this.clock.now();
    const outcome = await this.sender.post({ url: hook.url, secret: hook.secret, webhookId, deliveryId, body: deliveryBody(webhookId, []) });
    const delivery: WebhookDeliveryRecord = { deliveryId, attempt: 1, eventCount: 0, statusCode: outcome.statusCode, error: outcome.error, durationMs: outcome.durationMs, at };
    await this.store.logWebhookDelivery(hook.id, delivery);
    return delivery;
  }

  /**
   * Stops sending: requests in flight get stopGraceMs to finish (an acknowledgment is still
   * recorded), the rest are abandoned (their batch is retried, with the same delivery id, by the
   * next sender), and the lease is released so another process takes over at once.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.background.stop();
      this.unlisten?.();
      this.wakeAll();
      const grace = setTimeout(() => {
        for (const abort of this.inFlight) abort.abort();
      }, this.options.stopGraceMs);
      await Promise.allSettled([...this.workers.values()]);
      clearTimeout(grace);
      if (this.leader) await this.lease.release();
      await this.sender.close();
    })();
    return this.stopping;
  }
}
