/**
 * A named lease in the store, held by one process at a time (the membership engine's, the
 * webhook sender's). Its holder renews it every third of its TTL; another process takes it when
 * it expires, when its holder gives it up, or at once when its holder is a process of this host
 * that no longer exists (lease-holder.ts).
 */
import type { Store } from "../stores/port";
import { holderIsGone, newHolder } from "./lease-holder";

export interface LeaseOptions {
  ttlMs: number;
  /** How often a process without the lease looks at its holder. */
  checkMs: number;
}

export interface LeaseCheck {
  held: boolean;
  /** Whether `held` differs from before this check. */
  changed: boolean;
  /** The holder whose lease was taken because its process is gone. */
  tookOverFrom: string | null;
}

export class Lease {
  readonly holder = newHolder();
  private heldNow = false;
  private renewedAt = 0;
  /** The last holder found alive, and when: a live holder's verdict is kept for `checkMs`. */
  private aliveHolder: { holder: string; at: number } | null = null;

  constructor(
    private readonly store: Store,
    readonly name: string,
    private readonly options: LeaseOptions,
  ) {}

  get held(): boolean {
    return this.heldNow;
  }

  /** How often to call `check`: often enough for the holder to renew and for a standby to notice. */
  get checkEveryMs(): number {
    return Math.min(this.options.checkMs, this.renewEveryMs);
  }

  private get renewEveryMs(): number {
    return Math.max(50, Math.floor(this.options.ttlMs / 3));
  }

  /**
   * The holder renews (when a third of the TTL has passed since it last did); a standby looks at
   * the holder and takes the lease when it expired or its holder is gone.
   */
  async check(): Promise<LeaseCheck> {
    const before = this.heldNow;
    const now = Date.now();
    let tookOverFrom: string | null = null;
    if (this.heldNow) {
      if (now - this.renewedAt < this.renewEveryMs) return { held: true, changed: false, tookOverFrom };
      this.heldNow = await this.store.acquireLease(this.name, this.holder, now, this.options.ttlMs);
    } else {
      const current = await this.store.leaseHolder(this.name, now);
      const gone = current !== null && current !== this.holder && this.isGone(current, now) ? current : undefined;
      if (current !== null && current !== this.holder && gone === undefined) return { held: false, changed: false, tookOverFrom };
      this.heldNow = await this.store.acquireLease(this.name, this.holder, now, this.options.ttlMs, gone);
      if (this.heldNow && gone !== undefined) tookOverFrom = gone;
    }
    if (this.heldNow) this.renewedAt = now;
    return { held: this.heldNow, changed: this.heldNow !== before, tookOverFrom };
  }

  /** Records that the lease turned out to be someone else's (a step found it taken). */
  lost(): void {
    this.heldNow = false;
  }

  /** Gives the lease up, so that a standby takes it at once. */
  async release(): Promise<void> {
    this.heldNow = false;
    await this.store.releaseLease(this.name, this.holder);
  }

  private isGone(holder: string, now: number): boolean {
    if (this.aliveHolder?.holder === holder && now - this.aliveHolder.at < this.options.checkMs) return false;
    if (holderIsGone(holder, this.holder)) return true;
    this.aliveHolder = { holder, at: now };
    return false;
  }
}
