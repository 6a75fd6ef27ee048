/**
 * Time dependence: nextFlip must name an instant no later than the first change of a contact's
 * value, and flipRanges must cover every contact whose value changes between two instants.
 */
import fc from "fast-check";
import {
  catalogOf,
  compilePredicate,
  type ContactFacts,
  type CustomFieldDef,
  dates,
  evalTime,
  nextFlip,
  parseCondition,
  type Predicate,
  timeTriggers,
  type TimeTrigger,
} from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { flipRanges, type LiveSegment, nextWake, SegmentCompiler } from "../../../src/engine/membership";

const { DAY_MS, HOUR_MS, MINUTE_MS, dateOf, daysInMonth, formatDate, midnightOf, parseDate, subtractDuration } = dates;

const CUSTOM_FIELDS: CustomFieldDef[] = [
  { key: "plan", label: null, type: "TEXT" },
  { key: "score", label: null, type: "NUMBER" },
  { key: "renewal", label: null, type: "DATE" },
  { key: "lastLogin", label: null, type: "DATETIME" },
];
const catalog = catalogOf(CUSTOM_FIELDS);

type DurationInput = { amount: number; unit: dates.DurationUnit };
const DURATIONS: DurationInput[] = [
  { amount: 30, unit: "MINUTES" },
  { amount: 1, unit: "HOURS" },
  { amount: 1, unit: "DAYS" },
  { amount: 7, unit: "DAYS" },
  { amount: 2, unit: "WEEKS" },
  { amount: 1, unit: "MONTHS" },
  { amount: 1, unit: "MONTHS" },
  { amount: 3, unit: "MONTHS" },
  { amount: 1, unit: "YEARS" },
  { amount: 4, unit: "YEARS" },
];
const AGE_VALUES = [0, 1, 17, 17.5, 18, 18.5, 21, 65, -1];
const AGES = [0, 1, 17, 18, 21, 65];

// ---- generators ---------------------------------------------------------------------------

/** Instants in 2020–2030, biased to month ends, Feb 29, midnights and the last millisecond of a day. */
const nowArb = fc
  .record({
    year: fc.integer({ min: 2020, max: 2030 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(1, 27, 28, 29, 30, 31) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 31 }) }),
    time: fc.oneof(fc.constantFrom(0, 1, DAY_MS - 1, 12 * HOUR_MS), fc.integer({ min: 0, max: DAY_MS - 1 })),
  })
  .map(({ year, month, day, time }) => midnightOf(formatDate(year, month, Math.min(day, daysInMonth(year, month - 1)))) + time);

const jitterArb = fc.oneof(
  fc.constantFrom(0, 0, 1, -1, MINUTE_MS, -MINUTE_MS, HOUR_MS, -HOUR_MS, DAY_MS, -DAY_MS, 12 * HOUR_MS),
  fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS }),
);
/** An instant near a threshold the clock reaches soon: (now + ahead) − duration + jitter. */
const relativeArb = fc.record({
  duration: fc.constantFrom(...DURATIONS),
  ahead: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 * DAY_MS })),
  jitter: jitterArb,
});
type Relative = typeof relativeArb extends fc.Arbitrary<infer T> ? T : never;
const relative = ({ duration, ahead, jitter }: Relative, now: number) => subtractDuration(now + ahead, duration) + jitter;

/** A birth date `age` years before a day near now (Feb 29 moved to Feb 28 or Mar 1), or a fixed one. */
const birthArb = fc.oneof(
  fc.record({ age: fc.constantFrom(...AGES), shift: fc.integer({ min: -3, max: 3 }), leapTo: fc.constantFrom("02-28", "03-01") }),
  fc.constantFrom("2008-02-29", "2004-02-29", "2009-03-01", "2009-02-28"),
);
type Birth = typeof birthArb extends fc.Arbitrary<infer T> ? T : never;
function birthDate(birth: Birth, now: number): string {
  if (typeof birth === "string") return birth;
  const date = dateOf(now + birth.shift * DAY_MS);
  const text = `${String(Number(date.slice(0, 4)) - birth.age).padStart(4, "0")}-${date.slice(5)}`;
  return parseDate(text) ?? `${text.slice(0, 4)}-${birth.leapTo}`;
}

const contactArb = fc.record({
  country: fc.constantFrom("Norway", "Sweden", null),
  tags: fc.subarray(["vip", "beta"]),
  score: fc.option(fc.constantFrom(0, 1, 5), { nil: undefined }),
  birthDate: fc.option(birthArb, { nil: undefined }),
  createdAt: relativeArb,
  updatedAt: relativeArb,
  renewal: fc.option(relativeArb, { nil: undefined }),
  lastLogin: fc.option(relativeArb, { nil: undefined }),
});
type ContactSpec = typeof contactArb extends fc.Arbitrary<infer T> ? T : never;

function factsAt(spec: ContactSpec, now: number, index: number): ContactFacts {
  const attributes: Record<string, unknown> = {};
  if (spec.score !== undefined) attributes.score = spec.score;
  if (spec.renewal) attributes.renewal = dateOf(relative(spec.renewal, now));
  if (spec.lastLogin) attributes.lastLogin = new Date(relative(spec.lastLogin, now)).toISOString();
  const data = cleanContact(
    {
      email: `c${index}@example.com`,
      country: spec.country,
      tags: spec.tags,
      birthDate: spec.birthDate === undefined ? null : birthDate(spec.birthDate, now),
      attributes,
    },
    catalog,
  );
  return factsOf(data, catalog, relative(spec.createdAt, now), relative(spec.updatedAt, now));
}

const durationArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...DURATIONS) },
  { weight: 1, arbitrary: fc.record({ amount: fc.integer({ min: 1, max: 30 }), unit: fc.constantFrom(...dates.DURATION_UNITS) }) },
);
const ageLeafArb = fc.oneof(
  fc
    .tuple(fc.constantFrom("EQUALS", "NOT_EQUALS", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"), fc.constantFrom(...AGE_VALUES))
    .map(([operator, value]) => ({ field: "age", operator, value })),
  fc.tuple(fc.constantFrom("IN", "NOT_IN"), fc.array(fc.constantFrom(...AGE_VALUES), { minLength: 1, maxLength: 3 })).map(([operator, value]) => ({ field: "age", operator, value })),
  fc.tuple(fc.constantFrom(...AGE_VALUES), fc.constantFrom(...AGE_VALUES)).map(([a, b]) => ({ field: "age", operator: "BETWEEN", value: a <= b ? [a, b] : [b, a] })),
);
const agoLeafArb = fc
  .tuple(fc.constantFrom("createdAt", "updatedAt", "birthDate", "attributes.renewal", "attributes.lastLogin"), fc.constantFrom("WITHIN_LAST", "MORE_THAN_AGO"), durationArb)
  .map(([field, operator, value]) => ({ field, operator, value }));
const otherLeafArb = fc.constantFrom<object>(
  { field: "country", operator: "EQUALS", value: "norway" },
  { field: "tags", operator: "HAS_ANY", value: ["vip"] },
  { field: "attributes.score", operator: "GREATER_THAN", value: 1 },
  { field: "attributes.renewal", operator: "BEFORE", value: "2025-06-01" },
  { field: "createdAt", operator: "AFTER", value: "2025-01-01T00:00:00Z" },
  { field: "age", operator: "IS_SET" },
);
const leafArb = fc.oneof({ weight: 3, arbitrary: ageLeafArb }, { weight: 4, arbitrary: agoLeafArb }, { weight: 2, arbitrary: otherLeafArb });

const { tree: conditionArb } = fc.letrec<{ tree: unknown; and: unknown; or: unknown; not: unknown }>((tie) => ({
  tree: fc.oneof({ maxDepth: 3, depthIdentifier: "condition" }, leafArb, tie("and"), tie("or"), tie("not")),
  and: fc.array(tie("tree"), { minLength: 1, maxLength: 3, depthIdentifier: "condition" }).map((items) => ({ and: items })),
  or: fc.array(tie("tree"), { minLength: 1, maxLength: 3, depthIdentifier: "condition" }).map((items) => ({ or: items })),
  not: tie("tree").map((item) => ({ not: item })),
}));

/** Gaps after now: mostly within days (month ends), some across months and years. */
const gapArb = fc.oneof(
  fc.constantFrom(1, MINUTE_MS, HOUR_MS, DAY_MS - 1, DAY_MS, 7 * DAY_MS),
  fc.integer({ min: 0, max: 4 * DAY_MS }),
  fc.integer({ min: 0, max: 70 * DAY_MS }),
  fc.integer({ min: 0, max: 6 * 365 * DAY_MS }),
);

function compile(condition: unknown): { predicate: Predicate; triggers: TimeTrigger[]; stored: Record<string, unknown> } {
  const { ast, stored } = parseCondition(condition, catalog);
  return { predicate: compilePredicate(ast), triggers: timeTriggers(ast), stored };
}

/** Instants to probe after now: random gaps, and the next few midnights and month starts. */
function probes(now: number, gaps: number[]): number[] {
  const day = midnightOf(dateOf(now));
  const instants = gaps.map((gap) => now + gap);
  for (let i = 1; i <= 3; i++) instants.push(day + i * DAY_MS, day + i * DAY_MS - 1);
  const date = new Date(now);
  for (let i = 1; i <= 2; i++) {
    const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + i, 1);
    instants.push(monthStart, monthStart - 1, monthStart - 2 * DAY_MS);
  }
  return instants.filter((t) => t >= now);
}

const describeInstant = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

// ---- nextFlip -----------------------------------------------------------------------------

describe("nextFlip", () => {
  test("the predicate keeps its value on [now, nextFlip), and any change comes no earlier than nextFlip", () => {
    let flips = 0;
    let changes = 0;
    fc.assert(
      fc.property(
        conditionArb,
        fc.array(contactArb, { minLength: 1, maxLength: 4 }),
        nowArb,
        fc.array(gapArb, { minLength: 4, maxLength: 10 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 6 }),
        (condition, specs, now, gaps, fractions) => {
          const { predicate, triggers } = compile(condition);
          for (const [index, spec] of specs.entries()) {
            const facts = factsAt(spec, now, index);
            const flip = nextFlip(triggers, facts, evalTime(now));
            const before = predicate(facts, evalTime(now));
            if (flip !== null) flips++;
            const context = () => JSON.stringify({ condition, facts, now: describeInstant(now), flip: describeInstant(flip) });

            // It names an instant after now.
            if (flip !== null && flip <= now) throw new Error(`nextFlip is not after now: ${context()}`);

            const instants = probes(now, gaps);
            if (flip !== null) {
              instants.push(flip - 1, flip, flip + 1);
              for (const fraction of fractions) instants.push(now + Math.floor(fraction * (flip - now)));
            }
            for (const t of instants) {
              const value = predicate(facts, evalTime(t));
              // Constant on [now, flip), or everywhere after now when flip is null.
              if ((flip === null || t < flip) && value !== before) {
                throw new Error(`the value changed at ${describeInstant(t)} before nextFlip: ${context()}`);
              }
              // Completeness: a change at t means a flip at or before t.
              if (value !== before) {
                changes++;
                if (flip === null || flip > t) throw new Error(`a change at ${describeInstant(t)} was not announced: ${context()}`);
              }
            }
          }
        },
      ),
      { numRuns: 6_000 },
    );
    // The generators produce clock-dependent contacts that do change.
    expect(flips).toBeGreaterThan(500);
    expect(changes).toBeGreaterThan(500);
  });

  test("a condition without clock-dependent leaves has no triggers", () => {
    const { triggers } = compile({
      and: [
        { field: "createdAt", operator: "AFTER", value: "2025-01-01" },
        { not: { field: "age", operator: "IS_SET" } },
        { field: "age", operator: "IN", value: [17.5] },
        { field: "attributes.renewal", operator: "BETWEEN", value: ["2025-01-01", "2026-01-01"] },
      ],
    });
    expect(triggers).toEqual([]);
  });

  test("a contact turning 18 flips at 00:00 UTC on the birthday, and a Feb 29 one on Mar 1", () => {
    const { triggers } = compile({ field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 });
    const now = evalTime(Date.parse("2026-02-01T12:00:00Z"));
    const born = (birthDate: string) => factsOf(cleanContact({ email: "a@example.com", birthDate }, catalog), catalog, 0, 0);
    expect(describeInstant(nextFlip(triggers, born("2008-02-10"), now))).toBe("2026-02-10T00:00:00.000Z");
    expect(describeInstant(nextFlip(triggers, born("2008-02-29"), now))).toBe("2026-03-01T00:00:00.000Z");
    expect(nextFlip(triggers, born("2008-01-31"), now)).toBeNull();
  });

  test("WITHIN_LAST 7 DAYS on createdAt flips at createdAt and at createdAt + 7 days", () => {
    const { triggers } = compile({ field: "createdAt", operator: "WITHIN_LAST", value: { amount: 7, unit: "DAYS" } });
    const created = Date.parse("2026-03-01T10:15:00Z");
    const facts = factsOf(cleanContact({ email: "a@example.com" }, catalog), catalog, created, created);
    expect(nextFlip(triggers, facts, evalTime(created - 1000))).toBe(created);
    expect(nextFlip(triggers, facts, evalTime(created))).toBe(created + 7 * DAY_MS);
    expect(nextFlip(triggers, facts, evalTime(created + 7 * DAY_MS))).toBeNull();
  });
});

// ---- flipRanges / nextWake ----------------------------------------------------------------

function liveSegment(stored: Record<string, unknown>): LiveSegment {
  return new SegmentCompiler().compile(
    { id: "1", listId: "1", type: "DYNAMIC", status: "READY", condition: stored, memberCount: 0, nextWakeAt: null, hasOverrides: false },
    CUSTOM_FIELDS,
  );
}

describe("flipRanges and nextWake", () => {
  test("every contact whose value differs between t1 and t2 has a trigger value inside a flip range", () => {
    let covered = 0;
    fc.assert(
      fc.property(conditionArb, fc.array(contactArb, { minLength: 1, maxLength: 8 }), nowArb, gapArb, (condition, specs, t1, gap) => {
        const segment = liveSegment(compile(condition).stored);
        const t2 = t1 + gap;
        const ranges = flipRanges(segment, evalTime(t1), evalTime(t2));
        for (const range of ranges) expect(range.upTo > range.above).toBe(true);
        for (const [index, spec] of specs.entries()) {
          const facts = factsAt(spec, t1, index);
          if (segment.predicate(facts, evalTime(t1)) === segment.predicate(facts, evalTime(t2))) continue;
          covered++;
          const inside = ranges.some((range) => {
            const value = range.trigger.read(facts);
            return value !== null && range.above < value && value <= range.upTo;
          });
          if (!inside) {
            throw new Error(`not covered: ${JSON.stringify({ condition, facts, t1: describeInstant(t1), t2: describeInstant(t2), ranges: ranges.map((r) => [r.trigger.field.path, r.above, r.upTo]) })}`);
          }
        }
      }),
      { numRuns: 4_000 },
    );
    expect(covered).toBeGreaterThan(200);
  });

  test("nextWake from the smallest values above each threshold is the earliest nextFlip of the contacts", () => {
    fc.assert(
      fc.property(conditionArb, fc.array(contactArb, { minLength: 0, maxLength: 8 }), nowArb, (condition, specs, now) => {
        const segment = liveSegment(compile(condition).stored);
        const at = evalTime(now);
        const contacts = specs.map((spec, index) => factsAt(spec, now, index));
        const smallestAbove = (trigger: TimeTrigger, threshold: string | number) => {
          const above = contacts.map((facts) => trigger.read(facts)).filter((value): value is string | number => value !== null && value > threshold);
          return above.length === 0 ? null : above.reduce((a, b) => (b < a ? b : a));
        };
        const flips = contacts.map((facts) => nextFlip(segment.triggers, facts, at)).filter((flip): flip is number => flip !== null);
        const expected = flips.length === 0 ? null : Math.min(...flips);
        expect(describeInstant(nextWake(segment, at, smallestAbove))).toBe(describeInstant(expected));
      }),
      { numRuns: 1_000 },
    );
  });
});
