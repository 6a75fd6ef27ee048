/**
 * Calendar rules in a list's time zone: the wall clock never runs backwards, first instants of
 * wall readings are exact, every trigger's firstInstant is exactly where its threshold reaches
 * a value, and a leaf's predicate changes exactly at nextFlip.
 */
import fc from "fast-check";
import { catalogOf, compilePredicate, type CustomFieldDef, dates, evalTime, nextFlip, parseCondition, timeTriggers } from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { TIME_ZONES, zoneArb } from "../../support/condition-arbitraries";

const { DAY_MS, HOUR_MS, MINUTE_MS, dateIn, dateOf, instantOfWall, midnightIn, subtractDurationIn, utcMs, wallClock, zoneOffset } = dates;

const CUSTOM_FIELDS: CustomFieldDef[] = [
  { key: "renewal", label: null, type: "DATE" },
  { key: "lastLogin", label: null, type: "DATETIME" },
];
const catalog = catalogOf(CUSTOM_FIELDS);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Instants from 1970 to 2045 (zones changed their rules over those years), biased to the hours around midnight and DST changes. */
const instantArb = fc
  .record({
    day: fc.integer({ min: 0, max: 75 * 365 }),
    time: fc.oneof(fc.constantFrom(0, 1, DAY_MS - 1, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS), fc.integer({ min: 0, max: DAY_MS - 1 })),
    offset: fc.integer({ min: -14, max: 14 }),
  })
  .map(({ day, time, offset }) => day * DAY_MS + time - offset * HOUR_MS);

/** The exact instants of a zone's clock changes in a year. */
function transitionsOf(zone: string, year: number): number[] {
  const found: number[] = [];
  let previous = zoneOffset(utcMs(year, 0, 1), zone);
  for (let t = utcMs(year, 0, 1) + HOUR_MS; t < utcMs(year + 1, 0, 1); t += HOUR_MS) {
    const offset = zoneOffset(t, zone);
    if (offset !== previous) {
      let [lo, hi] = [t - HOUR_MS, t];
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffset(mid, zone) === previous) lo = mid;
        else hi = mid;
      }
      found.push(hi);
    }
    previous = offset;
  }
  return found;
}

describe("wall clocks", () => {
  test("the wall clock never runs backwards, and matches the zone's clock outside repeated hours", () => {
    fc.assert(
      fc.property(zoneArb, instantArb, fc.integer({ min: 1, max: 3 * HOUR_MS }), (zone, t, step) => {
        const wall = wallClock(t, zone);
        expect(wallClock(t + step, zone)).toBeGreaterThanOrEqual(wall);
        expect(wallClock(t + 1, zone)).toBeGreaterThanOrEqual(wall);
        expect(wall).toBeLessThanOrEqual(t + zoneOffset(t, zone) + 3 * HOUR_MS);
        if (zoneOffset(t - 3 * HOUR_MS, zone) <= zoneOffset(t, zone)) expect(wall).toBe(t + zoneOffset(t, zone));
      }),
      { numRuns: 3_000 },
    );
  });

  test("instantOfWall is the first instant whose wall clock reaches the reading", () => {
    fc.assert(
      fc.property(zoneArb, instantArb, (zone, wall) => {
        const instant = instantOfWall(wall, zone);
        expect(wallClock(instant, zone)).toBeGreaterThanOrEqual(wall);
        expect(wallClock(instant - 1, zone)).toBeLessThan(wall);
      }),
      { numRuns: 3_000 },
    );
  });

  test("around every clock change of 2018 and 2026 in each zone, the wall clock is monotonic to the millisecond", () => {
    let changes = 0;
    for (const zone of TIME_ZONES) {
      for (const change of [...transitionsOf(zone, 2018), ...transitionsOf(zone, 2026)]) {
        changes++;
        for (const t of [change - HOUR_MS, change - 1, change, change + 1, change + 30 * MINUTE_MS, change + HOUR_MS - 1, change + HOUR_MS, change + 2 * HOUR_MS]) {
          expect(wallClock(t + 1, zone)).toBeGreaterThanOrEqual(wallClock(t, zone));
        }
      }
    }
    // Oslo, New York, São Paulo (2018), Auckland, Chatham and Lord Howe change twice a year.
    expect(changes).toBeGreaterThanOrEqual(21);
  });

  test("local midnights, gaps and repeated hours", () => {
    // Auckland is UTC+13 in January.
    expect(iso(midnightIn("2027-01-15", "Pacific/Auckland"))).toBe("2027-01-14T11:00:00.000Z");
    expect(dateIn(Date.parse("2027-01-14T10:59:59.999Z"), "Pacific/Auckland")).toBe("2027-01-14");
    expect(dateIn(Date.parse("2027-01-14T11:00:00.000Z"), "Pacific/Auckland")).toBe("2027-01-15");
    // Chatham is UTC+13:45 in January; Kolkata UTC+5:30 all year.
    expect(iso(midnightIn("2027-01-15", "Pacific/Chatham"))).toBe("2027-01-14T10:15:00.000Z");
    expect(iso(midnightIn("2027-01-15", "Asia/Kolkata"))).toBe("2027-01-14T18:30:00.000Z");
    // São Paulo skipped midnight when DST began on 2018-11-04: the day starts at 01:00 (-02).
    expect(iso(midnightIn("2018-11-04", "America/Sao_Paulo"))).toBe("2018-11-04T03:00:00.000Z");
    // When DST ended on 2019-02-17 at 00:00 (-02) the clocks went back to 23:00 on the 16th; that
    // hour is still the 16th, and the 17th starts at 00:00 (-03).
    expect(dateIn(Date.parse("2019-02-17T02:30:00Z"), "America/Sao_Paulo")).toBe("2019-02-16");
    expect(iso(midnightIn("2019-02-17", "America/Sao_Paulo"))).toBe("2019-02-17T03:00:00.000Z");
    // In the repeated hour of New York's autumn change the wall clock holds at 01:59:59.999.
    const held = wallClock(Date.parse("2026-11-01T06:30:00Z"), "America/New_York");
    expect(iso(held)).toBe("2026-11-01T01:59:59.999Z");
    expect(iso(wallClock(Date.parse("2026-11-01T07:00:00Z"), "America/New_York"))).toBe("2026-11-01T02:00:00.000Z");
  });

  test("months and years count on the wall clock; a reading in a gap moves to the end of the gap", () => {
    const month = { amount: 1, unit: "MONTHS" } as const;
    // 2026-04-29 02:30 in Oslo (CEST, 00:30Z) − 1 month = 2026-03-29 02:30, inside the spring gap: 03:00 CEST.
    expect(iso(subtractDurationIn(Date.parse("2026-04-29T00:30:00Z"), month, "Europe/Oslo"))).toBe("2026-03-29T01:00:00.000Z");
    // Mar 31 10:00 in Oslo − 1 month = Feb 28 23:59:59.999 local (clamped), as in UTC.
    expect(iso(subtractDurationIn(Date.parse("2026-03-31T08:00:00Z"), month, "Europe/Oslo"))).toBe("2026-02-28T22:59:59.999Z");
    // Fixed units are exact durations in every zone.
    expect(subtractDurationIn(Date.parse("2026-03-29T12:00:00Z"), { amount: 1, unit: "DAYS" }, "Europe/Oslo")).toBe(Date.parse("2026-03-28T12:00:00Z"));
    // A year before 2027-01-15 00:30 in Auckland (+13) is 2026-01-15 00:30 (+13).
    expect(iso(subtractDurationIn(Date.parse("2027-01-14T11:30:00Z"), { amount: 1, unit: "YEARS" }, "Pacific/Auckland"))).toBe("2026-01-14T11:30:00.000Z");
  });

  test("UTC lists never consult Intl", () => {
    const spy = jest.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    try {
      const { ast } = parseCondition(
        { or: [{ field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 }, { field: "attributes.renewal", operator: "WITHIN_LAST", value: { amount: 2, unit: "MONTHS" } }] },
        catalog,
      );
      const predicate = compilePredicate(ast);
      const triggers = timeTriggers(ast);
      const facts = factsOf(cleanContact({ email: "a@example.com", birthDate: "2010-06-01", attributes: { renewal: "2027-01-01" } }, catalog), catalog, 0, 0);
      const at = evalTime(Date.parse("2026-06-01T12:00:00Z"));
      predicate(facts, at);
      nextFlip(triggers, facts, at);
      expect(spy).not.toHaveBeenCalled();
      evalTime(at.now, "Europe/Oslo");
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

// ---- triggers -----------------------------------------------------------------------------

const durationArb = fc.oneof(
  fc.constantFrom(
    { amount: 30, unit: "MINUTES" },
    { amount: 1, unit: "DAYS" },
    { amount: 7, unit: "DAYS" },
    { amount: 1, unit: "MONTHS" },
    { amount: 3, unit: "MONTHS" },
    { amount: 1, unit: "YEARS" },
  ),
  fc.record({ amount: fc.integer({ min: 1, max: 30 }), unit: fc.constantFrom(...dates.DURATION_UNITS) }),
);
const AGES = [0, 1, 17, 18, 21, 65];
const leafArb = fc.oneof(
  fc.tuple(fc.constantFrom("GREATER_THAN_OR_EQUAL", "EQUALS", "LESS_THAN"), fc.constantFrom(...AGES)).map(([operator, value]) => ({ field: "age", operator, value })),
  fc
    .tuple(fc.constantFrom("createdAt", "birthDate", "attributes.renewal", "attributes.lastLogin"), fc.constantFrom("WITHIN_LAST", "MORE_THAN_AGO"), durationArb)
    .map(([field, operator, value]) => ({ field, operator, value })),
);

/** A contact whose clock-dependent fields lie near `around`: dates are its date in the zone ± a few days. */
const contactArb = fc.record({
  shift: fc.oneof(fc.constantFrom(0, 1, -1, HOUR_MS, -HOUR_MS, DAY_MS, -DAY_MS), fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS })),
  years: fc.constantFrom(...AGES, 0, 0),
});

function contactNear(around: number, zone: string, spec: { shift: number; years: number }) {
  const instant = around + spec.shift;
  const date = dateIn(instant, zone);
  const year = Number(date.slice(0, 4)) - spec.years;
  const birth = dates.parseDate(`${String(year).padStart(4, "0")}${date.slice(4)}`) ?? `${String(year).padStart(4, "0")}-03-01`;
  const data = cleanContact({ email: "a@example.com", birthDate: birth, attributes: { renewal: date, lastLogin: new Date(instant).toISOString() } }, catalog);
  return factsOf(data, catalog, instant, instant);
}

describe("triggers in time zones", () => {
  test("firstInstant(v) is exactly the first instant the threshold reaches v", () => {
    let checked = 0;
    fc.assert(
      fc.property(zoneArb, leafArb, instantArb, contactArb, (zone, leaf, now, spec) => {
        const { ast } = parseCondition(leaf, catalog, { timeZone: zone });
        const facts = contactNear(now, zone, spec);
        for (const trigger of timeTriggers(ast, zone)) {
          const value = trigger.read(facts);
          if (value === null) continue;
          const first = trigger.firstInstant(value);
          if (first === null) continue;
          checked++;
          const context = JSON.stringify({ zone, leaf, field: trigger.field.path, value, first: iso(first) });
          if (!(trigger.threshold(evalTime(first, zone)) >= value)) throw new Error(`threshold below the value at firstInstant: ${context}`);
          if (!(trigger.threshold(evalTime(first - 1, zone)) < value)) throw new Error(`threshold reached the value before firstInstant: ${context}`);
        }
      }),
      { numRuns: 1_500 },
    );
    expect(checked).toBeGreaterThan(1_500);
  });

  test("a leaf's predicate keeps its value on [now, nextFlip) and changes at nextFlip", () => {
    let flips = 0;
    fc.assert(
      fc.property(zoneArb, leafArb, instantArb, contactArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 4 }), (zone, leaf, now, spec, fractions) => {
        const { ast } = parseCondition(leaf, catalog, { timeZone: zone });
        const predicate = compilePredicate(ast);
        const triggers = timeTriggers(ast, zone);
        const facts = contactNear(now, zone, spec);
        const before = predicate(facts, evalTime(now, zone));
        const flip = nextFlip(triggers, facts, evalTime(now, zone));
        const context = () => JSON.stringify({ zone, leaf, facts, now: iso(now), flip: iso(flip) });
        if (flip === null) {
          for (const gap of [HOUR_MS, DAY_MS, 40 * DAY_MS, 400 * DAY_MS]) {
            if (predicate(facts, evalTime(now + gap, zone)) !== before) throw new Error(`changed without a flip: ${context()}`);
          }
          return;
        }
        flips++;
        if (flip <= now) throw new Error(`nextFlip is not after now: ${context()}`);
        for (const t of [now, flip - 1, ...fractions.map((f) => now + Math.floor(f * (flip - 1 - now)))]) {
          if (predicate(facts, evalTime(t, zone)) !== before) throw new Error(`changed at ${iso(t)} before nextFlip: ${context()}`);
        }
        if (predicate(facts, evalTime(flip, zone)) === before) throw new Error(`no change at nextFlip: ${context()}`);
      }),
      { numRuns: 2_000 },
    );
    expect(flips).toBeGreaterThan(500);
  });

  test("in Pacific/Auckland a contact turns 18 at local midnight", () => {
    const zone = "Pacific/Auckland";
    const { ast } = parseCondition({ field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 }, catalog, { timeZone: zone });
    const predicate = compilePredicate(ast);
    const facts = factsOf(cleanContact({ email: "a@example.com", birthDate: "2009-01-15" }, catalog), catalog, 0, 0);
    const at = (text: string) => evalTime(Date.parse(text), zone);
    expect(iso(nextFlip(timeTriggers(ast, zone), facts, at("2027-01-10T00:00:00Z")))).toBe("2027-01-14T11:00:00.000Z");
    expect(predicate(facts, at("2027-01-14T10:59:59.999Z"))).toBe(false);
    expect(predicate(facts, at("2027-01-14T11:00:00.000Z"))).toBe(true);
  });

  test("literals follow the zone: a date on a DATETIME field is its local midnight, a timestamp on a DATE field its local date", () => {
    const zone = "Europe/Oslo";
    const parsed = (leaf: object) => parseCondition(leaf, catalog, { timeZone: zone }).ast;
    expect(parsed({ field: "createdAt", operator: "AFTER", value: "2026-03-01" })).toMatchObject({ test: { op: "gt", value: Date.parse("2026-02-28T23:00:00Z") } });
    expect(parsed({ field: "attributes.renewal", operator: "EQUALS", value: "2026-02-28T23:30:00Z" })).toMatchObject({ test: { values: ["2026-03-01"] } });
    expect(parsed({ field: "attributes.renewal", operator: "EQUALS", value: "2026-03-01" })).toMatchObject({ test: { values: ["2026-03-01"] } });
    expect(dateOf(Date.parse("2026-02-28T23:30:00Z"))).toBe("2026-02-28");
  });
});
