/** How a flush's events become stored runs: grouped per segment, kind and reason, counts renumbered. */
import fc from "fast-check";
import type { PendingEvent } from "../../src/engine/membership";
import { eventRuns, MAX_ROW_EVENTS } from "../../src/stores/event-runs";

/**
 * A flush as the engine makes one: per segment, a member count before it and each contact at
 * most once, entering if not a member, leaving if one, with the count after each event.
 */
const flushArb = fc
  .array(
    fc.record({
      segment: fc.constantFrom("1", "2", "3"),
      contact: fc.integer({ min: 1, max: 40 }),
      reason: fc.constantFrom("CONTACT_UPDATED", "CONTACT_ADDED"),
    }),
    { maxLength: 120 },
  )
  .chain((steps) => fc.tuple(fc.constant(steps), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 })))
  .map(([steps, memberBefore]) => {
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    const events: PendingEvent[] = [];
    const before = (segment: string) => memberBefore.filter((member) => member).length + Number(segment);
    for (const { segment, contact, reason } of steps) {
      if (seen.has(`${segment}:${contact}`)) continue;
      seen.add(`${segment}:${contact}`);
      const kind = memberBefore[contact - 1] ? "LEFT" : "ENTERED";
      const count = (counts.get(segment) ?? before(segment)) + (kind === "LEFT" ? -1 : 1);
      counts.set(segment, count);
      events.push({ seq: 0, kind, listId: "1", segmentId: segment, contactId: String(contact), reason, memberCount: count, occurredAt: 1 });
    }
    return { events, before, after: counts };
  });

test("runs hold every event once, one kind and reason each, with counts that step from the count before to the count after", () => {
  fc.assert(
    fc.property(flushArb, ({ events, before, after }) => {
      const original = events.map((event) => `${event.segmentId}:${event.contactId}:${event.kind}:${event.reason}`).sort();
      const runs = eventRuns(events);
      const flat = runs.flat();
      expect(flat.map((event) => `${event.segmentId}:${event.contactId}:${event.kind}:${event.reason}`).sort()).toEqual(original);

      const walked = new Map<string, number>();
      const groups = new Map<string, number>();
      for (const run of runs) {
        expect(run.length).toBeGreaterThan(0);
        expect(run.length).toBeLessThanOrEqual(MAX_ROW_EVENTS);
        const head = run[0]!;
        for (const event of run) expect([event.segmentId, event.kind, event.reason]).toEqual([head.segmentId, head.kind, head.reason]);
        const key = `${head.segmentId} ${head.kind} ${head.reason}`;
        groups.set(key, (groups.get(key) ?? 0) + 1);
        for (const event of run) {
          const count = (walked.get(event.segmentId) ?? before(event.segmentId)) + (event.kind === "LEFT" ? -1 : 1);
          expect(event.memberCount).toBe(count);
          walked.set(event.segmentId, count);
        }
      }
      // One run per segment, kind and reason (none here exceeds MAX_ROW_EVENTS).
      for (const runsOfKey of groups.values()) expect(runsOfKey).toBe(1);
      expect(walked).toEqual(after);
    }),
    { numRuns: 300 },
  );
});

test("a run longer than MAX_ROW_EVENTS continues in the next one", () => {
  const events: PendingEvent[] = Array.from({ length: MAX_ROW_EVENTS + 5 }, (_, i) => ({
    seq: 0,
    kind: "ENTERED",
    listId: "1",
    segmentId: "1",
    contactId: String(i + 1),
    reason: "CONTACT_ADDED",
    memberCount: i + 1,
    occurredAt: 1,
  }));
  const runs = eventRuns(events);
  expect(runs.map((run) => run.length)).toEqual([MAX_ROW_EVENTS, 5]);
  expect(runs[1]![4]!.memberCount).toBe(MAX_ROW_EVENTS + 5);
});
