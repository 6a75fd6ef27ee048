/**
 * 9. Time flips: a list of 100,000 contacts whose birthdays are spread over every day of the
 * year (ages 15–27) and a DYNAMIC "age between 18 and 25" segment, in this process with a
 * ManualClock. The clock is advanced one simulated day at a time; each day's flips (contacts
 * turning 18 enter, turning 26 leave) are timed from the advance until app.engine.drain()
 * returns, and checked against the reference predicate.
 */
import { ManualClock } from "../../../src/common/clock";
import { evalTime } from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { CATALOG, DAY_MS, generateContacts, predicateOf } from "../data";
import { loadList } from "../support/fixtures";
import { openApp } from "../support/server";
import { fmt } from "../support/stats";
import type { Scenario } from "../support/types";

const CONDITION = { field: "age", operator: "BETWEEN", value: [18, 25] };

export const timeFlips: Scenario = {
  id: 9,
  name: "Time flips",
  async run(ctx) {
    const count = ctx.quick ? 20_000 : 100_000;
    const days = ctx.quick ? 3 : 7;
    const start = Date.UTC(2026, 2, 10, 12);
    const options = { today: Date.UTC(2026, 2, 10), birthFrom: Date.UTC(1999, 0, 1), birthTo: Date.UTC(2010, 11, 31), birthDateShare: 1 };
    const clock = new ManualClock(start);
    const app = await openApp(ctx.fixtures.path("s9-flips.db"), { clock });
    try {
      const loaded = await loadList(app, { name: "flips", count, seed: 9009, options, segments: [{ name: "age 18–25", condition: CONDITION }] }, () => clock.now());
      const segmentId = loaded.segments[0]!.id;
      const predicate = predicateOf(CONDITION);
      const facts = generateContacts(9009, 0, count, options).map((input) => factsOf(cleanContact(input, CATALOG), CATALOG, 0, 0));
      const membersAt = (now: number) => {
        const at = evalTime(now);
        return facts.map((f) => predicate(f, at));
      };
      let before = membersAt(clock.now());
      const initial = before.filter(Boolean).length;
      const [segment0] = await app.store.getSegments([segmentId]);
      if (segment0!.memberCount !== initial) throw new Error(`initial members ${segment0!.memberCount}, expected ${initial}`);

      const steps: { ms: number; flips: number; expected: number; memberCount: number; expectedMembers: number }[] = [];
      // Profiled (when profiling) over the engine's drains only, not the bench's own expectations.
      const inProcessProfile = <T>(fn: () => Promise<T>) => (ctx.profiling ? ctx.profiling.inProcess("day steps", fn) : fn());
      const drainWindow = <T>(fn: () => Promise<T>) => (ctx.profiling ? ctx.profiling.window("engine drain after a day", fn) : fn());
      await inProcessProfile(async () => {
        for (let d = 0; d < days; d++) {
          const after = membersAt(clock.now() + DAY_MS);
          const expected = after.reduce((s, m, i) => s + (m !== before[i] ? 1 : 0), 0);
          const seq = app.feed.latestSeq;
          clock.advance(DAY_MS);
          const started = performance.now();
          await drainWindow(() => app.engine.drain());
          const ms = performance.now() - started;
          const events = await app.store.eventsAfter(seq, { segmentId }, 1_000_000);
          const flips = events.filter((e) => (e.kind === "ENTERED" || e.kind === "LEFT") && e.reason === "TIME_PASSED").length;
          const [segment] = await app.store.getSegments([segmentId]);
          steps.push({ ms, flips, expected, memberCount: segment!.memberCount, expectedMembers: after.filter(Boolean).length });
          before = after;
        }
      });
      const worst = Math.max(...steps.map((s) => s.ms));
      const exact = steps.every((s) => s.flips === s.expected && s.memberCount === s.expectedMembers);
      return {
        figures: [
          { label: "one simulated day's flips applied (worst day)", value: worst / 1000, unit: "s", target: { op: "<=", value: 1 } },
          { label: "flips exact", value: exact ? "yes" : "no", unit: "", pass: exact },
        ],
        notes: [
          `${fmt(count)} contacts born 1999–2010 (every day of the year), ${fmt(initial)} in "age between 18 and 25" at ${new Date(start).toISOString()}`,
          `per day: ${steps.map((s) => `${s.flips} flips in ${s.ms.toFixed(1)} ms`).join(", ")}${exact ? "" : ` — expected ${steps.map((s) => `${s.expected} flips / ${s.expectedMembers} members (got ${s.memberCount})`).join(", ")}`}`,
        ],
      };
    } finally {
      await app.stop();
    }
  },
};
