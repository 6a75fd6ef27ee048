/**
 * Runs the membership engine in this process: holds (or waits for) the engine lease, consumes
 * the change feed in atomic steps, wakes for clock-dependent flips, prunes old events, and
 * tells the event feed when new events are committed.
 */
import type { Clock } from "../common/clock";
import { setTimeout as sleep } from "node:timers/promises";
import { ENGINE_LEASE, type EngineStatus, type EngineStepResult, type Mark, type Store } from "../stores/port";
import type { EventFeed } from "./event-feed";
import { BackgroundTasks, Coalesced } from "../common/background";
import { Lease } from "./lease";

/** Resolves in a later turn of the event loop. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface EngineOptions {
  /** How long a lease lasts without renewal; a standby takes over after it. */
  leaseTtlMs?: number;
  /** Change-feed entries per step. */
  maxChanges?: number;
  /** Contacts per segment-build chunk. */
  buildChunk?: number;
  /**
   * How often to look for commits by other processes when the store does not report them (and
   * as a safety net when it does).
   */
  pollIntervalMs?: number;
  /**
   * How often a process without the lease checks its holder: a holder of this host whose
   * process is gone is replaced at once; another holder is waited for until its lease expires.
   */
  leaseCheckMs?: number;
  /** Longest sleep before re-reading the clock, even with no wake-up due. */
  maxSleepMs?: number;
  /** How long events are kept. */
  retentionMs?: number;
  /** How long an import job is kept, with its refused rows, after it ended (or its process stopped). */
  importRetentionMs?: number;
  /** How often the leader runs housekeeping (retention). */
  pruneIntervalMs?: number;
  /** Longest a slice of housekeeping holds the event loop (each slice is one transaction). */
  housekeepingSliceMs?: number;
  /** Whether this process may hold the lease at all (a writer-only process passes false). */
  participate?: boolean;
}

export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineLag {
  leader: boolean;
  holder: string;
  /** Every change up to this mark is applied. */
  applied: Mark;
  /** Changes applied since the store was made. */
  appliedChanges: number;
  /** Changes written but not yet applied. */
  pendingChanges: number;
  building: number;
  clock: number;
  /** When this process's engine will next wake for a clock-dependent flip (leader only). */
  nextFlipAt: number | null;
}

/** How long a read of the engine status serves requests waiting on another process's engine, at most (see observe). */
const OBSERVED_FOR_MS = 10;

export class MembershipEngine {
  private readonly lease: Lease;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly background: BackgroundTasks;
  private wakeTimer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private pendingStep: Promise<EngineStepResult> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lastToken = "";
  private readonly polling: Coalesced;
  private unwatch: (() => void) | null = null;
  /** Woken whenever a commit by another process is noticed. */
  private commitWaiters = new Set<() => void>();
  /**
   * The last read of the store's engine status for requests waiting on another process's engine,
   * with the change token last noticed when it began: it serves every waiter until another commit
   * is noticed or OBSERVED_FOR_MS pass, so hundreds of waiters cost one read a commit.
   */
  private observation: { token: string; at: number; status: Promise<EngineStatus> } | null = null;
  private housekeeping: Promise<void> | null = null;
  private nextFlip: number | null = null;
  private readonly options: Required<EngineOptions>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly feed: EventFeed,
    private readonly log: EngineLogger,
    options: EngineOptions = {},
  ) {
    this.options = {
      leaseTtlMs: 10_000,
      maxChanges: 2_000,
      buildChunk: 100_000,
      pollIntervalMs: 50,
      leaseCheckMs: 250,
      maxSleepMs: 60_000,
      retentionMs: 7 * 24 * 3_600_000,
      importRetentionMs: 30 * 24 * 3_600_000,
      pruneIntervalMs: 60_000,
      housekeepingSliceMs: 1,
      participate: true,
      ...options,
    };
    this.lease = new Lease(store, ENGINE_LEASE, { ttlMs: this.options.leaseTtlMs, checkMs: this.options.leaseCheckMs });
    this.background = new BackgroundTasks((error) => this.log.error({ err: error }, "engine background task failed"));
    this.polling = new Coalesced(
      () => this.poll().catch((error) => this.log.error({ err: error }, "engine background task failed")),
      () => !this.stopped,
    );
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

  async start(): Promise<void> {
    await this.feed.init();
    this.lastToken = await this.store.changeToken();
    if (this.options.participate) {
      await this.renewLease();
      this.background.every(this.lease.checkEveryMs, () => this.renewLease());
    }
    this.unwatch = this.store.watchCommits(() => void this.pollSoon());
    this.background.every(this.options.pollIntervalMs, () => this.pollSoon());
    this.background.every(this.options.pruneIntervalMs, () => (this.leader ? this.housekeep() : Promise.resolve()));
    if (this.leader) this.kick();
  }

  /** The holder renews; a standby takes a lease that expired or whose holder's process is gone. */
  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    const { held, changed, tookOverFrom } = await this.lease.check();
    if (tookOverFrom !== null) this.log.warn({ holder: this.holder, previous: tookOverFrom }, "membership engine: took over the lease of a process that no longer exists");
    if (changed) {
      this.log.info({ holder: this.holder }, held ? "membership engine: this process holds the lease" : "membership engine: lease lost");
      if (held) this.kick();
    }
  }

  /** Runs `poll` now, or once more after the one under way. */
  private pollSoon(): Promise<void> {
    return this.stopped ? Promise.resolve() : this.polling.run();
  }

  /**
   * Notices commits made by other processes: new feed entries to apply, new events to publish,
   * and a lease handed over by a holder that stopped (taken at once rather than at the next
   * renewal).
   */
  private async poll(): Promise<void> {
    const token = await this.store.changeToken();
    if (token === this.lastToken) return;
    this.lastToken = token;
    await this.feed.refresh();
    const waiters = [...this.commitWaiters];
    this.commitWaiters.clear();
    for (const wake of waiters) wake();
    if (this.leader) this.kick();
    else if (this.options.participate) await this.renewLease();
  }

  /** Resolves at the next commit by another process that this one notices, or after `ms`. */
  private nextCommit(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.commitWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.commitWaiters.add(done);
    });
  }

  /** Asks for a drain soon; used after local writes. */
  kick(): void {
    if (this.scheduled || this.stopped || !this.leader) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain().catch((error) => this.log.error({ err: error }, "membership engine step failed"));
    });
  }

  /**
   * The next step, shared by every caller that asks for one before it starts: the writes of
   * requests handled in the same turn of the event loop are applied by one step, in one
   * transaction, instead of one step each.
   */
  private nextStep(): Promise<EngineStepResult> {
    if (!this.pendingStep) {
      this.pendingStep = nextTurn().then(() => {
        this.pendingStep = null;
        return this.exclusive(() => this.step());
      });
    }
    return this.pendingStep;
  }

  /** Runs one step at a time, in order, whoever asks. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Applies pending work until none is left or the budget is spent. Returns true when idle.
   * When another process holds the lease, waits (up to the budget) for it to apply everything
   * written so far instead.
   */
  drain(budgetMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    return this.until(null, budgetMs);
  }

  /**
   * Waits until the changes up to `mark` (a write's) are applied, by this process's engine or by
   * the lease holder's in another process. False when the budget ran out first.
   */
  settle(mark: Mark | null, budgetMs: number): Promise<boolean> {
    return mark === null ? Promise.resolve(true) : this.until(mark, budgetMs);
  }

  private async until(mark: Mark | null, budgetMs: number): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    if (!this.leader) return this.waitForLeader(deadline, mark);
    for (;;) {
      const result = await this.nextStep();
      if (!result.leader) {
        this.lease.lost();
        return this.waitForLeader(deadline, mark);
      }
      if (!result.more) {
        this.nextFlip = result.nextWakeAt;
        this.scheduleWake(result.nextWakeAt);
      }
      if (mark === null ? !result.more : result.applied! >= mark) {
        if (result.more) this.kick();
        // Subscribers' messages for the step's events are written to their sockets within this
        // turn, some only once its callbacks have run (coalesceSends in ws-server.ts; graphql-ws
        // sends a subscription's next message after the previous one's write callback).
        // Resuming the caller in a later turn lets them all leave before the caller's own
        // answer is built, not after it.
        if (result.events.length > 0) await nextTurn();
        return true;
      }
      if (Date.now() >= deadline) {
        this.kick();
        return false;
      }
      // Lets requests in between steps of a long build or import. A write not in the feed yet
      // (a MongoDB change stream delivers it after the commit) is looked for again shortly.
      if (result.more) await nextTurn();
      else await sleep(2);
    }
  }

  private async waitForLeader(deadline: number, mark: Mark | null): Promise<boolean> {
    const target = mark ?? (await this.store.engineStatus()).latest;
    while (Date.now() < deadline && !this.stopped) {
      // Hundreds of writes a second may wait here at once; a commit noticed wakes them all.
      const status = await this.observe();
      if (status.applied >= target && (mark !== null || status.building === 0)) {
        // The events of the step that applied the mark were committed with it: read them unless
        // the feed has them already.
        if (this.feed.latestSeq < status.latestEvent) await this.feed.refresh();
        // As in `until`: the messages of what the refresh published leave first.
        await nextTurn();
        return true;
      }
      await this.nextCommit(OBSERVED_FOR_MS);
    }
    return false;
  }

  /**
   * The engine status, read at most once per commit noticed (and OBSERVED_FOR_MS). A read that
   * began before a waiter's own write committed can only show less applied than there is (the
   * mark moves forward), so it delays a waiter, never releases one early; the commit that
   * applies the write is noticed, and the next read shows it.
   */
  private observe(): Promise<EngineStatus> {
    const last = this.observation;
    if (last && last.token === this.lastToken && Date.now() - last.at < OBSERVED_FOR_MS) return last.status;
    const status = this.store.engineStatus();
    const observation = { token: this.lastToken, at: Date.now(), status };
    this.observation = observation;
    status.catch(() => {
      if (this.observation === observation) this.observation = null;
    });
    return status;
  }

  private async step(): Promise<EngineStepResult> {
    if (this.stopped) return { leader: this.leader, changes: 0, events: [], previousEvent: 0, more: false, nextWakeAt: null, applied: null };
    const now = this.clock.now();
    const result = await this.store.engineStep({
      holder: this.holder,
      wallNow: Date.now(),
      now,
      maxChanges: this.options.maxChanges,
      buildChunk: this.options.buildChunk,
    });
    if (result.events.length > 0) await this.feed.publish(result.events, result.previousEvent);
    return result;
  }

  /**
   * Applies retention: removes events older than EVENT_RETENTION (and change-feed entries the
   * engine has applied that an older version kept), then import jobs that ended more than
   * IMPORT_RETENTION ago with their refused rows, in slices of a few milliseconds, one per turn
   * of the event loop, so requests are served in between whatever the tables' sizes. Runs once
   * at a time; the leader runs it every pruneIntervalMs.
   */
  housekeep(): Promise<void> {
    if (this.housekeeping) return this.housekeeping;
    const run = (async () => {
      // One slice per turn of the event loop, while this process leads; the slices' counts summed.
      const inSlices = async <S extends { more: boolean }>(next: () => Promise<S>) => {
        const total: Record<string, number> = { slices: 0 };
        while (!this.stopped && this.leader) {
          const slice = await next();
          total.slices!++;
          for (const [key, value] of Object.entries(slice)) if (typeof value === "number") total[key] = (total[key] ?? 0) + value;
          if (!slice.more) break;
          await nextTurn();
        }
        return total as Record<Exclude<keyof S, "more"> | "slices", number>;
      };
      const before = this.clock.now() - this.options.retentionMs;
      const total = await inSlices(() => this.store.prune(before, this.options.housekeepingSliceMs));
      if (total.events > 0 || total.changes > 0) this.log.info(total, "housekeeping: pruned the event log and change feed");
      // Job ends are on the service's clock, heartbeats on the wall clock.
      const cut = { endedBefore: this.clock.now() - this.options.importRetentionMs, silentSince: Date.now() - this.options.importRetentionMs };
      const imports = await inSlices(() => this.store.pruneImports(cut, this.options.housekeepingSliceMs));
      if (imports.jobs > 0) this.log.info(imports, "housekeeping: removed ended import jobs");
    })();
    // Cleared once it ends, which may be before this line when it had nothing to do.
    this.housekeeping = run;
    void run.finally(() => {
      if (this.housekeeping === run) this.housekeeping = null;
    }).catch(() => undefined);
    return run;
  }

  private scheduleWake(at: number | null): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    if (this.stopped) return;
    const delay = Math.min(this.options.maxSleepMs, at === null ? this.options.maxSleepMs : Math.max(0, at - this.clock.now()));
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.kick();
    }, delay);
    this.wakeTimer.unref();
  }

  async lag(): Promise<EngineLag> {
    const status: EngineStatus = await this.store.engineStatus();
    return {
      leader: this.leader,
      holder: this.holder,
      applied: status.applied,
      appliedChanges: status.appliedChanges,
      pendingChanges: status.pendingChanges,
      building: status.building,
      clock: status.clock,
      nextFlipAt: this.leader ? this.nextFlip : null,
    };
  }

  /** Gives the lease up now, whatever is under way (a forced exit); the holder stops leading. */
  async releaseLease(): Promise<void> {
    this.stopped = true;
    await this.lease.release();
  }

  /**
   * Finishes the step under way (its events published to the feed), stops, and hands the lease
   * over at once. The feed stays open for the subscribers still being served; the app closes it.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.background.stop();
      this.unwatch?.();
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      await this.queue;
      if (this.leader) await this.lease.release();
    })();
    return this.stopping;
  }
}
