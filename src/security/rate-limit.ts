import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import type { SharedLimits } from "../stores/port";

/** Operations a process takes from a key's shared budget at once: never more than this… */
const MAX_CLAIM = 64;
/** …nor more than this share of what the budget had left at the last count… */
const CLAIM_SHARE = 16;
/** …and one at a time once fewer than this are left, so that a key near its limit is counted exactly. */
const EXACT_BELOW = 2 * CLAIM_SHARE;
/** A claim refused this close to its window's end is not given back (the give-back could land in the next window). */
const GIVE_BACK_MARGIN_MS = 50;
/** Past this many keys in memory, those whose window ended are forgotten. */
const SWEEP_ABOVE = 1_000;

interface Grant {
  /** Operations taken from the shared budget and not spent yet; valid until `until`. */
  left: number;
  /** When the shared window they were taken in ends (ms since the epoch). */
  until: number;
  /** What the shared budget had left after this process's last count. */
  remaining: number;
  /** Refused from memory until then: the shared budget is spent for this window. */
  blockedUntil: number;
  /** The count in flight, which other requests of this key wait for. */
  claiming: Promise<number | null> | null;
}

/**
 * Operations per key per second, counted in the store (SharedLimits) so that every process on
 * it, cluster workers and other instances alike, draws on one budget per key.
 *
 * A count in the shared store is a write (SQLite: the side file's write lock, which every process
 * takes; MongoDB: a round trip to the primary). So while a key has plenty left, a process takes a
 * few operations at a time and spends them from memory: up to 1/16 of what the budget had left at
 * its last count, at most 64; one at a time once fewer than 32 are left. The shared count stays
 * the truth: a process never spends what it did not take from it, and what it took and did not
 * spend by the window's end lapses with the window. So a key never gets more than its limit, and
 * when its requests move between processes it may be refused a few operations early (at most
 * what the other processes took and have not spent, under 1/16 of the budget each).
 */
export class OperationRateLimiter {
  private readonly limiter: RateLimiterAbstract;
  private readonly grants = new Map<string, Grant>();

  /** `points` operations per key in each window of `windowSec` seconds (the service: RATE_LIMIT_PER_SECOND a second). */
  constructor(limits: SharedLimits, points: number, windowSec = 1) {
    this.limiter = limits.rateLimiter({ points, durationSec: windowSec, keyPrefix: "operations" });
  }

  /** Takes one operation from the key's budget; the wait in ms when it is spent. */
  async take(key: string): Promise<number | null> {
    for (;;) {
      const now = Date.now();
      let grant = this.grants.get(key);
      if (!grant) {
        if (this.grants.size >= SWEEP_ABOVE) this.sweep(now);
        grant = { left: 0, until: 0, remaining: 0, blockedUntil: 0, claiming: null };
        this.grants.set(key, grant);
      }
      if (grant.blockedUntil > now) return grant.blockedUntil - now;
      if (grant.left > 0 && grant.until > now) {
        grant.left--;
        return null;
      }
      if (grant.claiming) {
        // Another request of this key is counting: its outcome serves this one too.
        await grant.claiming;
        continue;
      }
      // A new window's first count takes one: its answer tells what the budget has left.
      const size = grant.until > now ? claimSize(grant.remaining) : 1;
      const claiming = this.claim(key, grant, size);
      grant.claiming = claiming;
      try {
        const wait = await claiming;
        if (wait !== null) return wait;
      } finally {
        grant.claiming = null;
      }
    }
  }

  /** Takes `size` operations from the shared budget into `grant`; the wait in ms when refused. */
  private async claim(key: string, grant: Grant, size: number): Promise<number | null> {
    grant.left = 0;
    try {
      const taken = await this.limiter.consume(key, size);
      grant.left = size;
      grant.until = Date.now() + taken.msBeforeNext;
      grant.remaining = taken.remainingPoints;
      return null;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      if (size > 1) {
        // Other processes spent what this one counted on since its last count: what the claim
        // took is given back, and the key is counted one at a time for the rest of the window.
        if (rejection.msBeforeNext > GIVE_BACK_MARGIN_MS) await this.limiter.reward(key, size);
        grant.remaining = 0;
        grant.until = Date.now() + rejection.msBeforeNext;
        return this.claim(key, grant, 1);
      }
      const wait = Math.max(1, rejection.msBeforeNext);
      grant.blockedUntil = Date.now() + wait;
      return wait;
    }
  }

  private sweep(now: number): void {
    for (const [key, grant] of this.grants) if (grant.until <= now && grant.blockedUntil <= now && !grant.claiming) this.grants.delete(key);
  }
}

/** How many operations to take at once, given what the budget had left at the last count. */
function claimSize(remaining: number): number {
  return remaining < EXACT_BELOW ? 1 : Math.min(MAX_CLAIM, Math.floor(remaining / CLAIM_SHARE));
}
