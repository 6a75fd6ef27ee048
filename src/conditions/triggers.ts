import type { Condition, ContactFacts, FieldRef, Leaf, Scalar } from "./ast";
import { ageThreshold, DAY_MS, dateIn, firstInstantAtLeastAgo, instantOfAge, midnightOf, type Duration, UTC } from "./dates";
import { type EvalTime, durationThreshold, evalTime, fieldGetter, perInstant } from "./predicate";

/**
 * How the clock moves a condition. Every clock-dependent leaf compares a stored date field with
 * thresholds that only grow as time passes; a contact's leaf can change only when one of those
 * thresholds passes its value. A trigger is one such threshold:
 *
 *   passed(contact, t)  <=>  field(contact) <= threshold(t)
 *
 * so between two instants t1 < t2 exactly the contacts with threshold(t1) < field <= threshold(t2)
 * can flip, and a value v > threshold(t) is next passed at firstInstant(v).
 */
export interface TimeTrigger {
  /** A DATE (compared as "YYYY-MM-DD") or DATETIME (epoch ms) field; birthDate for age. */
  field: FieldRef;
  /** The contact's value of that field, or null. */
  read(facts: ContactFacts): string | number | null;
  threshold(at: EvalTime): string | number;
  /** The first instant t with threshold(t) >= value, or null if never. */
  firstInstant(value: string | number): number | null;
}

const BIRTH_DATE: FieldRef = { path: "birthDate", source: "builtin", name: "birthDate", type: "DATE" };
const readBirthDate = (facts: ContactFacts) => facts.birthDate;

function reader(field: FieldRef): (facts: ContactFacts) => string | number | null {
  const get = fieldGetter(field);
  const noTime = { now: 0, today: { year: 0, month: 0, day: 0, monthDay: 0 }, zone: UTC };
  return (facts) => get(facts, noTime) as string | number | null;
}

const LATEST_INSTANT = 8.64e15;

/**
 * The first instant t with threshold(evalTime(t, zone)) >= value, by binary search to the
 * millisecond around `guess` (the UTC closed form, which lies within about a day of it). The
 * result is exact for the threshold as evaluated, so predicate and trigger agree by construction.
 */
export function searchFirstInstant(
  threshold: (at: EvalTime) => string | number,
  zone: string,
  value: string | number,
  guess: number | null,
): number | null {
  if (guess === null || !Number.isFinite(guess)) return null;
  const reached = (t: number) => threshold(evalTime(t, zone)) >= value;
  let lo = guess - 2 * DAY_MS;
  let hi = guess + 2 * DAY_MS;
  for (let widen = 2 * DAY_MS; reached(lo); widen *= 2) {
    if (lo <= -LATEST_INSTANT) return -LATEST_INSTANT;
    lo = Math.max(lo - widen, -LATEST_INSTANT);
  }
  for (let widen = 2 * DAY_MS; !reached(hi); widen *= 2) {
    if (hi >= LATEST_INSTANT) return null;
    hi = Math.min(hi + widen, LATEST_INSTANT);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** In a zone other than UTC, replaces a trigger's UTC closed form with the search on its own threshold. */
function inZone(trigger: TimeTrigger, zone: string): TimeTrigger {
  if (zone === UTC) return trigger;
  const closedForm = trigger.firstInstant;
  return { ...trigger, firstInstant: (value) => searchFirstInstant(trigger.threshold, zone, value, closedForm(value)) };
}

/**
 * The time triggers of a condition in a list's time zone; empty when it does not depend on the
 * clock. Their thresholds read the zone from the evaluation time, which must carry the same zone.
 */
export function timeTriggers(condition: Condition, zone: string = UTC): TimeTrigger[] {
  const triggers: TimeTrigger[] = [];
  const seen = new Set<string>();
  const visit = (node: Condition): void => {
    switch (node.kind) {
      case "and":
      case "or":
        node.items.forEach(visit);
        return;
      case "not":
        visit(node.item);
        return;
      case "inSegment":
        // A referenced segment's flips reach its users through the engine's propagation.
        return;
      case "leaf":
        for (const { key, trigger } of leafTriggers(node)) {
          if (!seen.has(key)) {
            seen.add(key);
            triggers.push(inZone(trigger, zone));
          }
        }
    }
  };
  visit(condition);
  return triggers;
}

function leafTriggers(leaf: Leaf): { key: string; trigger: TimeTrigger }[] {
  if (leaf.field.type === "AGE") {
    return ageYears(leaf).map((years) => ({
      key: `age:${years}`,
      trigger: {
        field: BIRTH_DATE,
        read: readBirthDate,
        threshold: perInstant((at) => ageThreshold(at.today, years)),
        firstInstant: (value) => instantOfAge(value as string, years),
      },
    }));
  }
  const test = leaf.test;
  if (test.op !== "withinLast" && test.op !== "moreThanAgo") return [];
  const field = leaf.field;
  const ago = agoTrigger(field, test.duration);
  const key = `${field.path}:${test.duration.amount}${test.duration.unit}`;
  if (test.op === "moreThanAgo") return [{ key, trigger: ago }];
  return [{ key, trigger: ago }, { key: `${field.path}:now`, trigger: nowTrigger(field) }];
}

/** passed  <=>  field <= now − duration. */
function agoTrigger(field: FieldRef, duration: Duration): TimeTrigger {
  const threshold = durationThreshold(duration);
  const read = reader(field);
  if (field.type === "DATE") {
    return {
      field,
      read,
      threshold: perInstant((at) => dateIn(threshold(at), at.zone)),
      firstInstant: (value) => firstInstantAtLeastAgo(midnightOf(value as string), duration),
    };
  }
  return { field, read, threshold, firstInstant: (value) => firstInstantAtLeastAgo(value as number, duration) };
}

/** passed  <=>  field <= now (a future date stops being in the future). */
function nowTrigger(field: FieldRef): TimeTrigger {
  const read = reader(field);
  if (field.type === "DATE") {
    return { field, read, threshold: perInstant((at) => dateIn(at.now, at.zone)), firstInstant: (value) => midnightOf(value as string) };
  }
  return { field, read, threshold: (at) => at.now, firstInstant: (value) => value as number };
}

/** The ages at which an age leaf can change: age >= a flips for each returned a. */
function ageYears(leaf: Leaf): number[] {
  const test = leaf.test;
  const years = new Set<number>();
  const above = (value: Scalar) => Math.floor(value as number) + 1; // age > v  <=> age >= floor(v)+1
  const atLeast = (value: Scalar) => Math.ceil(value as number); //   age >= v <=> age >= ceil(v)
  switch (test.op) {
    case "in":
      for (const value of test.values) {
        if (Number.isInteger(value)) {
          years.add(value as number);
          years.add((value as number) + 1);
        }
      }
      break;
    case "gt":
    case "lte":
      years.add(above(test.value));
      break;
    case "gte":
    case "lt":
      years.add(atLeast(test.value));
      break;
    case "between":
      years.add(atLeast(test.low));
      years.add(above(test.high));
      break;
    default:
      break;
  }
  return [...years];
}

/** The first instant after `at` when this contact could change membership, or null if never. */
export function nextFlip(triggers: readonly TimeTrigger[], facts: ContactFacts, at: EvalTime): number | null {
  let next: number | null = null;
  for (const trigger of triggers) {
    const value = trigger.read(facts);
    if (value === null || value <= trigger.threshold(at)) continue;
    const instant = trigger.firstInstant(value);
    if (instant !== null && (next === null || instant < next)) next = instant;
  }
  return next;
}
