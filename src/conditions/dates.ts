/**
 * Calendar arithmetic in UTC. DATE values are "YYYY-MM-DD" strings (they sort as text);
 * DATETIME values are epoch milliseconds. Years are 0001–9999.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export type DurationUnit = "MINUTES" | "HOURS" | "DAYS" | "WEEKS" | "MONTHS" | "YEARS";
export const DURATION_UNITS: readonly DurationUnit[] = ["MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"];
export interface Duration {
  amount: number;
  unit: DurationUnit;
}

const FIXED_UNIT_MS: Partial<Record<DurationUnit, number>> = {
  MINUTES: MINUTE_MS,
  HOURS: HOUR_MS,
  DAYS: DAY_MS,
  WEEKS: 7 * DAY_MS,
};

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of a UTC calendar instant; unlike Date.UTC, years 0–99 mean themselves. */
export function utcMs(year: number, monthIndex: number, day: number, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime() + ms;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, monthIndex: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][monthIndex]!;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

export function formatDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** A valid calendar date "YYYY-MM-DD" (year 0001–9999), or null. */
export function parseDate(text: string): string | null {
  const match = DATE_RE.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return null;
  return text;
}

/** Epoch ms of an ISO-8601 timestamp with a zone (Z or ±hh:mm), year 0001–9999; else null. */
export function parseTimestamp(text: string): number | null {
  const match = TIMESTAMP_RE.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(match[i]));
  const second = match[6] ? Number(match[6]) : 0;
  if (parseDate(`${match[1]}-${match[2]}-${match[3]}`) === null) return null;
  if (hour! > 23 || minute! > 59 || second > 59) return null;
  const zone = match[8]!;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const [zh, zm] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
    if (zh > 23 || zm > 59) return null;
    offsetMinutes = (zh * 60 + zm) * (zone[0] === "-" ? -1 : 1);
  }
  const fraction = match[7] ? Number(`0.${match[7]}`) : 0;
  const ms =
    utcMs(year!, month! - 1, day!, ((hour! * 60 + minute!) * 60 + second) * 1000 + Math.floor(fraction * 1000)) -
    offsetMinutes * MINUTE_MS;
  const utcYear = new Date(ms).getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999 ? ms : null;
}

/** The UTC calendar date of an instant. */
export function dateOf(ms: number): string {
  const date = new Date(ms);
  return formatDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/** The first instant (UTC midnight) of a date. */
export function midnightOf(date: string): number {
  return utcMs(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
}

/** Adds whole months to an instant, clamping the day to the target month (Jan 31 + 1 month = Feb 28/29). */
function shiftMonths(ms: number, months: number): number {
  const date = new Date(ms);
  const index = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  // A day the target month lacks maps to its last instant, so a later instant never maps earlier.
  if (date.getUTCDate() > daysInMonth(year, month)) return utcMs(year, month + 1, 1) - 1;
  return utcMs(year, month, date.getUTCDate(), ms - utcMs(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

function monthsOf(duration: Duration): number {
  return duration.unit === "YEARS" ? duration.amount * 12 : duration.amount;
}

/** now − duration. Calendar units clamp the day (Mar 31 10:00 − 1 month = Feb 28/29 23:59:59.999). */
export function subtractDuration(now: number, duration: Duration): number {
  const fixed = FIXED_UNIT_MS[duration.unit];
  return fixed !== undefined ? now - duration.amount * fixed : shiftMonths(now, -monthsOf(duration));
}

/**
 * The first instant t with subtractDuration(t, duration) >= value: when "value is at least
 * `duration` ago" becomes true. For calendar units, a day that the target month lacks moves to
 * the first instant of the month after (Jan 31 + 1 month → Mar 1, 00:00).
 */
export function firstInstantAtLeastAgo(value: number, duration: Duration): number {
  const fixed = FIXED_UNIT_MS[duration.unit];
  if (fixed !== undefined) return value + duration.amount * fixed;
  const date = new Date(value);
  const index = date.getUTCFullYear() * 12 + date.getUTCMonth() + monthsOf(duration);
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  const timeOfDay = value - utcMs(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (date.getUTCDate() <= daysInMonth(year, month)) return utcMs(year, month, date.getUTCDate(), timeOfDay);
  return utcMs(year, month + 1, 1);
}

/** UTC calendar parts of an instant, computed once per evaluation time. */
export interface DayParts {
  year: number;
  /** month * 100 + day, for comparing against a birthday. */
  monthDay: number;
  month: number;
  day: number;
}

export function dayParts(now: number): DayParts {
  const date = new Date(now);
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  return { year: date.getUTCFullYear(), month, day, monthDay: month * 100 + day };
}

/**
 * Whole years from a birth date to a day: a person turns N at the start of their birthday
 * (UTC); someone born on Feb 29 turns N on Mar 1 in years without Feb 29.
 */
export function ageOn(birthDate: string, today: DayParts): number {
  // Digits read by char code: this runs once per contact per age condition.
  const digit = (i: number) => birthDate.charCodeAt(i) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const monthDay = digit(5) * 1000 + digit(6) * 100 + digit(8) * 10 + digit(9);
  return today.year - year - (today.monthDay < monthDay ? 1 : 0);
}

/**
 * The latest birth date whose age is at least `years` on `today`: age >= years exactly when
 * birthDate <= this string. Out-of-range years become strings below or above every date.
 */
export function ageThreshold(today: DayParts, years: number): string {
  const year = today.year - years;
  if (year < 0) return "0000";
  if (year > 9999) return "99999";
  return formatDate(year, today.month, today.day);
}

/** The instant someone born on birthDate turns `years` old, or null past year 9999. */
export function instantOfAge(birthDate: string, years: number): number | null {
  const year = Number(birthDate.slice(0, 4)) + years;
  if (year > 9999) return null;
  const month = Number(birthDate.slice(5, 7)) - 1;
  const day = Number(birthDate.slice(8, 10));
  if (day > daysInMonth(year, month)) return utcMs(year, month + 1, 1);
  return utcMs(year, month, day);
}

/*
 * Time zones. "UTC" is the default and takes the closed forms above without consulting Intl;
 * any other IANA zone maps instants to its wall clock, expressed as the epoch ms of the same
 * wall-clock reading in UTC.
 */
export const UTC = "UTC";

/** The canonical IANA name of a time zone, or null when the runtime does not know it. */
export function canonicalTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

const FIRST_YEAR_MS = utcMs(1, 0, 2);
const LAST_YEAR_MS = utcMs(9999, 11, 30);

/** The zone's offset from UTC at an instant, in ms; outside years 1–9999, the offset at the nearer end. */
export function zoneOffset(ms: number, zone: string): number {
  const instant = Math.min(Math.max(ms, FIRST_YEAR_MS), LAST_YEAR_MS);
  const second = instant - (((instant % 1000) + 1000) % 1000);
  const parts: Record<string, number> = {};
  for (const part of formatterOf(zone).formatToParts(second)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const wall = utcMs(parts.year!, parts.month! - 1, parts.day!, ((parts.hour! * 60 + parts.minute!) * 60 + parts.second!) * 1000);
  return wall - second;
}

/** The longest backward clock change handled: the wall clock holds still while it repeats. */
const MAX_BACKWARD_SHIFT = 3 * HOUR_MS;

/**
 * The zone's wall clock at an instant. It never runs backwards: when the clocks go back, the
 * wall clock holds at the last reading before the change until the zone's clock catches up, so
 * "the date in the zone" and every threshold derived from it only grow as time passes.
 */
export function wallClock(ms: number, zone: string): number {
  if (zone === UTC) return ms;
  const offset = zoneOffset(ms, zone);
  const earlier = zoneOffset(ms - MAX_BACKWARD_SHIFT, zone);
  if (earlier <= offset) return ms + offset;
  // The clocks went back within the window: find the last instant before the change.
  let lo = ms - MAX_BACKWARD_SHIFT;
  let hi = ms;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffset(mid, zone) === earlier) lo = mid;
    else hi = mid;
  }
  return Math.max(ms + offset, lo + earlier);
}

/** The first instant whose wall clock in the zone reads at least `wall` (after a gap: the end of the gap). */
export function instantOfWall(wall: number, zone: string): number {
  if (zone === UTC) return wall;
  const guess = wall - zoneOffset(wall - zoneOffset(wall, zone), zone);
  if (wallClock(guess, zone) >= wall && wallClock(guess - 1, zone) < wall) return guess;
  let lo = wall - 2 * DAY_MS;
  let hi = wall + 2 * DAY_MS;
  while (wallClock(lo, zone) >= wall) lo -= 2 * DAY_MS;
  while (wallClock(hi, zone) < wall) hi += 2 * DAY_MS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(mid, zone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The calendar date of an instant in a zone. */
export function dateIn(ms: number, zone: string): string {
  return dateOf(wallClock(ms, zone));
}

/** The first instant of a date in a zone. */
export function midnightIn(date: string, zone: string): number {
  const midnight = midnightOf(date);
  return zone === UTC ? midnight : instantOfWall(midnight, zone);
}

/** Calendar parts of an instant's date in a zone. */
export function dayPartsIn(now: number, zone: string): DayParts {
  return dayParts(wallClock(now, zone));
}

/**
 * now − duration in a zone: fixed units are exact durations; months and years shift the zone's
 * wall clock with the same clamping as subtractDuration, then take its first instant.
 */
export function subtractDurationIn(now: number, duration: Duration, zone: string): number {
  if (zone === UTC || FIXED_UNIT_MS[duration.unit] !== undefined) return subtractDuration(now, duration);
  return instantOfWall(shiftMonths(wallClock(now, zone), -monthsOf(duration)), zone);
}
