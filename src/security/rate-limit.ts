import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import type { SharedLimits } from "../stores/port";

/**
 * Operations per key per second, counted in the store (SharedLimits) so that every process on
 * it, cluster workers and other instances alike, draws on one budget per key.
 */
export class OperationRateLimiter {
  private readonly limiter: RateLimiterAbstract;

  constructor(limits: SharedLimits, perSecond: number) {
    this.limiter = limits.rateLimiter({ points: perSecond, durationSec: 1, keyPrefix: "operations" });
  }

  /** Takes one operation from the key's budget; the wait in ms when it is spent. */
  async take(key: string): Promise<number | null> {
    try {
      await this.limiter.consume(key, 1);
      return null;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
      throw rejection;
    }
  }
}
