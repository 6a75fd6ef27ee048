import fc from "fast-check";
import {
  ageOn,
  ageThreshold,
  DAY_MS,
  dateOf,
  dayParts,
  daysInMonth,
  DURATION_UNITS,
  type Duration,
  firstInstantAtLeastAgo,
  formatDate,
  HOUR_MS,
  instantOfAge,
  isLeapYear,
  MINUTE_MS,
  midnightOf,
  parseDate,
  parseTimestamp,
  subtractDuration,
  utcMs,
} from "../../../src/conditions/dates";

const at = (iso: string) => Date.parse(iso);
const today = (iso: string) => dayParts(at(iso));

// ---- generators ---------------------------------------------------------------------------

/** Years biased to the present and to leap-year edge cases, over the whole 0001–9999 range. */
const yearArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1990, max: 2040 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 4, 99, 100, 1900, 2000, 2100, 2400, 9998, 9999) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 9999 }) },
);
/** Days biased to month ends and Feb 29, clamped to the month. */
const dateArb = fc
  .record({
    year: yearArb,
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constantFrom(1, 28, 29, 30, 31)),
  })
  .map(({ year, month, day }) => formatDate(year, month, Math.min(day, daysInMonth(year, month - 1))));
/** Times of day biased to midnight and the last millisecond. */
const timeOfDayArb = fc.oneof(fc.constantFrom(0, 1, DAY_MS - 1, 12 * HOUR_MS), fc.integer({ min: 0, max: DAY_MS - 1 }));
const instantArb = fc.tuple(dateArb, timeOfDayArb).map(([date, time]) => midnightOf(date) + time);
/** Instants in 1990–2040, where subtracting up to 100000 minutes or 50 years stays in range. */
const recentInstantArb = instantArb.filter((ms) => ms >= at("1990-01-01T00:00:00Z") && ms < at("2041-01-01T00:00:00Z"));
const durationArb: fc.Arbitrary<Duration> = fc.record({
  amount: fc.oneof(fc.constantFrom(1, 7, 12, 24, 30), fc.integer({ min: 1, max: 50 })),
  unit: fc.constantFrom(...DURATION_UNITS),
});

/** Gaps between two instants: mostly within a few days, where month ends bite. */
const gapArb = fc.oneof(
  fc.constantFrom(1, MINUTE_MS, HOUR_MS, DAY_MS - 1, DAY_MS),
  fc.integer({ min: 0, max: 4 * DAY_MS }),
  fc.integer({ min: 0, max: 400 * DAY_MS }),
);

const RUNS = { numRuns: 2_000 };

// ---- parseDate / parseTimestamp -----------------------------------------------------------

describe("parseDate", () => {
  test.each(["2024-02-29", "2000-02-29", "2026-02-28", "2026-12-31", "2026-04-30", "0001-01-01", "9999-12-31", "0004-02-29"])(
    "accepts the calendar date %s",
    (text) => expect(parseDate(text)).toBe(text),
  );

  test.each([
    "2026-02-29", "1900-02-29", "2100-02-29", "2026-04-31", "2026-06-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32",
    "0000-01-01", "10000-01-01", "2026-1-01", "2026-01-1", " 2026-01-01", "2026-01-01 ", "2026-01-01T00:00:00Z", "20260101", "",
    "２０２６-01-01",
  ])("refuses %j", (text) => expect(parseDate(text)).toBeNull());

  test("accepts exactly the dates that exist, for every day of a leap and a non-leap year", () => {
    for (const year of [2024, 2025, 1900, 2000]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const text = formatDate(year, month, day);
          const exists = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
          expect(parseDate(text) !== null).toBe(exists);
        }
      }
    }
  });
});

describe("parseTimestamp", () => {
  test.each<[string, number]>([
    ["2026-01-01T00:00Z", at("2026-01-01T00:00:00.000Z")],
    ["2026-01-01T10:15:30Z", at("2026-01-01T10:15:30.000Z")],
    ["2026-01-01T10:15:30.5Z", at("2026-01-01T10:15:30.500Z")],
    ["2026-01-01T10:15:30.123456789Z", at("2026-01-01T10:15:30.123Z")],
    ["2026-01-01T10:15:30.999999Z", at("2026-01-01T10:15:30.999Z")],
    ["2026-01-01T05:30:00+05:30", at("2026-01-01T00:00:00.000Z")],
    ["2025-12-31T16:00:00-08:00", at("2026-01-01T00:00:00.000Z")],
    ["2024-02-29T23:30:00-01:00", at("2024-03-01T00:30:00.000Z")],
    ["2026-03-01T00:30:00+01:00", at("2026-02-28T23:30:00.000Z")],
    ["0001-01-01T00:00:00Z", utcMs(1, 0, 1)],
    ["9999-12-31T23:59:59.999Z", at("9999-12-31T23:59:59.999Z")],
    ["0050-06-01T12:00:00Z", utcMs(50, 5, 1, 12 * HOUR_MS)],
  ])("reads %s", (text, expected) => expect(parseTimestamp(text)).toBe(expected));

  test.each([
    ["without a zone", "2026-01-01T10:00:00"],
    ["with a lower-case z", "2026-01-01T10:00:00z"],
    ["with hour 24", "2026-01-01T24:00:00Z"],
    ["with minute 60", "2026-01-01T10:60:00Z"],
    ["with second 60", "2026-01-01T10:00:60Z"],
    ["with an offset hour 24", "2026-01-01T10:00:00+24:00"],
    ["with an offset minute 60", "2026-01-01T10:00:00+01:60"],
    ["with an offset without a colon", "2026-01-01T10:00:00+0100"],
    ["on Feb 29 of a non-leap year", "2026-02-29T10:00:00Z"],
    ["on Apr 31", "2026-04-31T10:00:00Z"],
    ["that is a date", "2026-01-01"],
    ["with a space for T", "2026-01-01 10:00:00Z"],
    ["with an empty fraction", "2026-01-01T10:00:00.Z"],
    ["with ten fraction digits", "2026-01-01T10:00:00.1234567890Z"],
    ["before year 0001 in UTC", "0001-01-01T00:30:00+01:00"],
    ["after year 9999 in UTC", "9999-12-31T23:00:00-02:00"],
    ["in year 0000", "0000-06-01T00:00:00Z"],
  ])("refuses a timestamp %s", (_name, text) => expect(parseTimestamp(text)).toBeNull());

  test("reads every ISO string Date produces for years 0001–9999 as the same instant", () => {
    fc.assert(fc.property(instantArb, (ms) => parseTimestamp(new Date(ms).toISOString()) === ms), RUNS);
  });

  test("reads an instant written with any offset as the same instant", () => {
    fc.assert(
      fc.property(recentInstantArb, fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (ms, offset) => {
        const local = new Date(ms + offset * MINUTE_MS).toISOString().slice(0, 23);
        const sign = offset < 0 ? "-" : "+";
        const abs = Math.abs(offset);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
        return parseTimestamp(`${local}${zone}`) === ms;
      }),
      RUNS,
    );
  });
});

// ---- calendar helpers ---------------------------------------------------------------------

describe("formatDate, dateOf, midnightOf, utcMs", () => {
  test("formatDate pads years to four digits and months and days to two", () => {
    expect(formatDate(1, 2, 3)).toBe("0001-02-03");
    expect(formatDate(99, 12, 31)).toBe("0099-12-31");
    expect(formatDate(2026, 1, 1)).toBe("2026-01-01");
    expect(formatDate(9999, 12, 31)).toBe("9999-12-31");
  });

  test("utcMs treats years 0–99 as themselves, unlike Date.UTC", () => {
    expect(new Date(utcMs(50, 0, 1)).getUTCFullYear()).toBe(50);
    expect(dateOf(utcMs(1, 0, 1))).toBe("0001-01-01");
    expect(utcMs(2026, 0, 32)).toBe(Date.UTC(2026, 1, 1));
  });

  test("isLeapYear follows the Gregorian rules", () => {
    expect([1900, 2000, 2023, 2024, 2100, 2400].map(isLeapYear)).toEqual([false, true, false, true, false, true]);
  });

  test("dateOf and midnightOf are inverse on dates, and midnightOf(dateOf(t)) is t's day start", () => {
    fc.assert(
      fc.property(instantArb, (ms) => {
        const date = dateOf(ms);
        const midnight = midnightOf(date);
        return parseDate(date) === date && dateOf(midnight) === date && midnight <= ms && ms < midnight + DAY_MS;
      }),
      RUNS,
    );
  });

  test("dates sort as text in the same order as their instants", () => {
    fc.assert(fc.property(dateArb, dateArb, (a, b) => (a < b) === (midnightOf(a) < midnightOf(b))), RUNS);
  });
});

// ---- ages ---------------------------------------------------------------------------------

describe("ageOn", () => {
  test.each<[string, string, number]>([
    ["2008-06-16", "2026-06-15T23:59:59.999Z", 17],
    ["2008-06-16", "2026-06-16T00:00:00.000Z", 18],
    ["2008-02-29", "2026-02-28T23:59:59.999Z", 17],
    ["2008-02-29", "2026-03-01T00:00:00.000Z", 18],
    ["2008-02-29", "2028-02-29T00:00:00.000Z", 20],
    ["2008-03-01", "2028-02-29T23:59:59.999Z", 19],
    ["2000-01-01", "2000-01-01T00:00:00.000Z", 0],
    ["1999-12-31", "2000-12-30T00:00:00.000Z", 0],
    ["1999-12-31", "2000-12-31T00:00:00.000Z", 1],
    ["0001-01-01", "2026-01-01T00:00:00.000Z", 2025],
  ])("someone born %s is, at %s, %i", (birthDate, iso, age) => expect(ageOn(birthDate, today(iso))).toBe(age));

  test("never goes down as time passes", () => {
    fc.assert(
      fc.property(dateArb, recentInstantArb, recentInstantArb, (birthDate, a, b) => {
        const [t1, t2] = a <= b ? [a, b] : [b, a];
        return ageOn(birthDate, dayParts(t1)) <= ageOn(birthDate, dayParts(t2));
      }),
      RUNS,
    );
  });
});

describe("ageThreshold", () => {
  test("age >= n exactly when birthDate <= ageThreshold(today, n)", () => {
    fc.assert(
      fc.property(dateArb, instantArb, fc.integer({ min: -150, max: 150 }), (birthDate, now, years) => {
        const day = dayParts(now);
        return (ageOn(birthDate, day) >= years) === (birthDate <= ageThreshold(day, years));
      }),
      RUNS,
    );
  });

  test("the equivalence holds for ages far outside the year range", () => {
    fc.assert(
      fc.property(dateArb, recentInstantArb, fc.oneof(fc.integer({ min: -20_000, max: 20_000 }), fc.constantFrom(-1e9, 1e9, 10_000, -8_000)), (birthDate, now, years) => {
        const day = dayParts(now);
        return (ageOn(birthDate, day) >= years) === (birthDate <= ageThreshold(day, years));
      }),
      RUNS,
    );
  });

  test("only grows as time passes", () => {
    fc.assert(
      fc.property(instantArb, instantArb, fc.integer({ min: -150, max: 150 }), (a, b, years) => {
        const [t1, t2] = a <= b ? [a, b] : [b, a];
        return ageThreshold(dayParts(t1), years) <= ageThreshold(dayParts(t2), years);
      }),
      RUNS,
    );
  });

  test("is the date `years` before today, Feb 29 included", () => {
    expect(ageThreshold(today("2026-06-15T12:00:00Z"), 18)).toBe("2008-06-15");
    expect(ageThreshold(today("2024-02-29T12:00:00Z"), 1)).toBe("2023-02-29");
    expect(ageOn("2023-02-28", today("2024-02-29T12:00:00Z"))).toBe(1);
    expect(ageOn("2023-03-01", today("2024-02-29T12:00:00Z"))).toBe(0);
  });
});

describe("instantOfAge", () => {
  test.each<[string, number, string]>([
    ["2008-06-16", 18, "2026-06-16T00:00:00.000Z"],
    ["2008-02-29", 18, "2026-03-01T00:00:00.000Z"],
    ["2008-02-29", 20, "2028-02-29T00:00:00.000Z"],
    ["2007-12-31", 1, "2008-12-31T00:00:00.000Z"],
    ["2000-01-01", 0, "2000-01-01T00:00:00.000Z"],
  ])("someone born %s turns %i at %s", (birthDate, years, iso) => expect(instantOfAge(birthDate, years)).toBe(at(iso)));

  test("is null past year 9999", () => {
    expect(instantOfAge("9990-01-01", 10)).toBeNull();
    expect(instantOfAge("9990-01-01", 9)).toBe(at("9999-01-01T00:00:00Z"));
  });

  test("is the first instant at which ageOn reaches the age", () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 0, max: 130 }), (birthDate, years) => {
        const instant = instantOfAge(birthDate, years);
        if (instant === null) return Number(birthDate.slice(0, 4)) + years > 9999;
        return ageOn(birthDate, dayParts(instant)) >= years && ageOn(birthDate, dayParts(instant - 1)) < years;
      }),
      RUNS,
    );
  });
});

// ---- durations ----------------------------------------------------------------------------

describe("subtractDuration", () => {
  test.each<[string, Duration, string]>([
    ["2026-03-10T10:00:00.000Z", { amount: 90, unit: "MINUTES" }, "2026-03-10T08:30:00.000Z"],
    ["2026-03-10T10:00:00.000Z", { amount: 11, unit: "HOURS" }, "2026-03-09T23:00:00.000Z"],
    ["2026-03-01T00:00:00.000Z", { amount: 1, unit: "DAYS" }, "2026-02-28T00:00:00.000Z"],
    ["2024-03-01T00:00:00.000Z", { amount: 1, unit: "DAYS" }, "2024-02-29T00:00:00.000Z"],
    ["2026-03-10T10:00:00.000Z", { amount: 2, unit: "WEEKS" }, "2026-02-24T10:00:00.000Z"],
    ["2026-03-15T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2026-02-15T10:00:00.000Z"],
    ["2026-01-15T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2025-12-15T10:00:00.000Z"],
    ["2026-03-28T23:59:59.999Z", { amount: 1, unit: "MONTHS" }, "2026-02-28T23:59:59.999Z"],
    ["2026-03-01T00:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2026-02-01T00:00:00.000Z"],
    ["2026-03-15T10:00:00.000Z", { amount: 14, unit: "MONTHS" }, "2025-01-15T10:00:00.000Z"],
    ["2026-06-15T10:00:00.000Z", { amount: 2, unit: "YEARS" }, "2024-06-15T10:00:00.000Z"],
  ])("%s minus %j is %s", (now, duration, expected) => expect(subtractDuration(at(now), duration)).toBe(at(expected)));

  test.each<[string, Duration, string]>([
    ["2026-03-31T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2026-02-28"],
    ["2024-03-31T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2024-02-29"],
    ["2026-05-31T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2026-04-30"],
    ["2025-02-28T10:00:00.000Z", { amount: 1, unit: "YEARS" }, "2024-02-28"],
    ["2024-02-29T10:00:00.000Z", { amount: 1, unit: "YEARS" }, "2023-02-28"],
    ["2024-02-29T10:00:00.000Z", { amount: 4, unit: "YEARS" }, "2020-02-29"],
  ])("%s minus %j clamps the day to %s", (now, duration, date) => expect(dateOf(subtractDuration(at(now), duration))).toBe(date));

  test("fixed units subtract a fixed number of milliseconds", () => {
    const unitMs = { MINUTES: MINUTE_MS, HOURS: HOUR_MS, DAYS: DAY_MS, WEEKS: 7 * DAY_MS } as const;
    fc.assert(
      fc.property(recentInstantArb, fc.integer({ min: 1, max: 100_000 }), fc.constantFrom<keyof typeof unitMs>("MINUTES", "HOURS", "DAYS", "WEEKS"), (now, amount, unit) =>
        subtractDuration(now, { amount, unit }) === now - amount * unitMs[unit],
      ),
      RUNS,
    );
  });

  test("never goes back as now moves forward (month ends included)", () => {
    fc.assert(
      fc.property(recentInstantArb, gapArb, durationArb, (t, gap, duration) => subtractDuration(t, duration) <= subtractDuration(t + gap, duration)),
      RUNS,
    );
  });

  test("never goes back across the days that the earlier month lacks", () => {
    const duration: Duration = { amount: 1, unit: "MONTHS" };
    let previous = Number.NEGATIVE_INFINITY;
    for (let t = at("2026-03-27T00:00:00Z"); t <= at("2026-04-02T00:00:00Z"); t += 30 * MINUTE_MS) {
      const back = subtractDuration(t, duration);
      expect(back).toBeGreaterThanOrEqual(previous);
      previous = back;
    }
  });
});

describe("firstInstantAtLeastAgo", () => {
  test.each<[string, Duration, string]>([
    ["2026-03-01T10:15:00.000Z", { amount: 7, unit: "DAYS" }, "2026-03-08T10:15:00.000Z"],
    ["2026-03-01T10:15:00.000Z", { amount: 30, unit: "MINUTES" }, "2026-03-01T10:45:00.000Z"],
    ["2026-01-31T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2026-03-01T00:00:00.000Z"],
    ["2024-01-31T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2024-03-01T00:00:00.000Z"],
    ["2024-01-29T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2024-02-29T10:00:00.000Z"],
    ["2026-01-15T10:00:00.000Z", { amount: 1, unit: "MONTHS" }, "2026-02-15T10:00:00.000Z"],
    ["2025-11-30T23:59:59.999Z", { amount: 3, unit: "MONTHS" }, "2026-03-01T00:00:00.000Z"],
    ["2024-02-29T08:00:00.000Z", { amount: 1, unit: "YEARS" }, "2025-03-01T00:00:00.000Z"],
    ["2024-02-29T08:00:00.000Z", { amount: 4, unit: "YEARS" }, "2028-02-29T08:00:00.000Z"],
  ])("%s is at least %j ago from %s", (value, duration, expected) => expect(firstInstantAtLeastAgo(at(value), duration)).toBe(at(expected)));

  test("is the minimal t with subtractDuration(t, d) >= v", () => {
    fc.assert(
      fc.property(recentInstantArb, durationArb, gapArb, (value, duration, gap) => {
        const first = firstInstantAtLeastAgo(value, duration);
        return (
          subtractDuration(first, duration) >= value &&
          subtractDuration(first - 1, duration) < value &&
          subtractDuration(first - 1 - gap, duration) < value
        );
      }),
      RUNS,
    );
  });

  test("stays reached afterwards: subtractDuration(t, d) >= v for every t after it", () => {
    fc.assert(
      fc.property(recentInstantArb, durationArb, gapArb, (value, duration, gap) => {
        const first = firstInstantAtLeastAgo(value, duration);
        return subtractDuration(first + gap, duration) >= value;
      }),
      RUNS,
    );
  });
});
