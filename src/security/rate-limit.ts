import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/** Operations per key per second, with rate-limiter-flexible's in-memory limiter. */
export class OperationRateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(perSecond: number) {
    this.limiter = new RateLimiterMemory({ points: perSecond, duration: 1 });
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
