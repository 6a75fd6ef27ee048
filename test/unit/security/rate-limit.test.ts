/**
 * Operations per key, counted in the SQLite side file that every process on a database shares.
 * Each limiter below has its own connection to the side file, as each process has: what they
 * grant together is what several workers or services grant one key.
 */
import { join } from "node:path";
import fc from "fast-check";
import { OperationRateLimiter } from "../../../src/security/rate-limit";
import { SqliteSharedLimits } from "../../../src/stores/sqlite/shared-limits";
import { stopAll, tempDir } from "../../support/harness";

afterAll(stopAll);

/** A long window, so that a case never straddles two of them however slow the machine. */
const WINDOW_SEC = 600;

const opened: SqliteSharedLimits[] = [];
afterAll(() => Promise.all(opened.map((limits) => limits.close())));

/** `processes` limiters on one side file, with the shared store's counts (writes) tallied. */
function limiters(processes: number, points: number, windowSec = WINDOW_SEC) {
  const path = join(tempDir(), "limits.db");
  const counts = { writes: 0 };
  const all = Array.from({ length: processes }, () => {
    const limits = new SqliteSharedLimits(path);
    opened.push(limits);
    const rateLimiter = limits.rateLimiter.bind(limits);
    limits.rateLimiter = (options) => {
      const limiter = rateLimiter(options);
      for (const method of ["consume", "reward"] as const) {
        const real = limiter[method].bind(limiter) as (...args: unknown[]) => Promise<unknown>;
        (limiter as unknown as Record<typeof method, typeof real>)[method] = (...args) => {
          counts.writes++;
          return real(...args);
        };
      }
      return limiter;
    };
    return new OperationRateLimiter(limits, points, windowSec);
  });
  return { all, counts };
}

describe("OperationRateLimiter on the SQLite side file", () => {
  it("never grants a key more than its limit across processes, and grants all of it to processes that keep asking", async () => {
    let key = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 700 }),
        async (points, order) => {
          const { all } = limiters(3, points);
          const name = `key-${key++}`;
          let granted = 0;
          for (const which of order) {
            const wait = await all[which]!.take(name);
            if (wait === null) granted++;
            else {
              expect(wait).toBeGreaterThan(0);
              expect(wait).toBeLessThanOrEqual(WINDOW_SEC * 1000);
            }
            expect(granted).toBeLessThanOrEqual(points);
          }
          // Every process asks until it is refused: what any of them took and kept is spent.
          for (const limiter of all) while ((await limiter.take(name)) === null) granted++;
          expect(granted).toBe(points);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("counts a key far from its limit in the shared store a few operations at a time", async () => {
    const { all, counts } = limiters(2, 1_000_000);
    for (let i = 0; i < 2_000; i++) expect(await all[i % 2]!.take("busy")).toBeNull();
    // One write per operation before; now at most one per 16 (each process's first take of the window counts one).
    expect(counts.writes).toBeLessThanOrEqual(2_000 / 16);
    expect(counts.writes).toBeGreaterThan(2_000 / 64);
  });

  it("counts a key near its limit one operation at a time, exactly", async () => {
    const { all, counts } = limiters(2, 20);
    for (let i = 0; i < 20; i++) expect(await all[i % 2]!.take("tight")).toBeNull();
    expect(counts.writes).toBe(20);
    expect(await all[0]!.take("tight")).not.toBeNull();
    expect(await all[1]!.take("tight")).not.toBeNull();
  });

  it("requests of one key arriving together wait for one count instead of each making its own", async () => {
    const { all, counts } = limiters(1, 1_000_000);
    const waits = await Promise.all(Array.from({ length: 50 }, () => all[0]!.take("burst")));
    expect(waits.every((wait) => wait === null)).toBe(true);
    expect(counts.writes).toBeLessThanOrEqual(5);
  });

  it("gives a refused key its budget again when the window ends", async () => {
    const { all } = limiters(2, 3, 1);
    const granted = async () => {
      let n = 0;
      for (let i = 0; i < 6; i++) if ((await all[i % 2]!.take("window")) === null) n++;
      return n;
    };
    expect(await granted()).toBe(3);
    const wait = (await all[0]!.take("window"))!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    await new Promise((resolve) => setTimeout(resolve, wait + 20));
    expect(await granted()).toBe(3);
  });
});
