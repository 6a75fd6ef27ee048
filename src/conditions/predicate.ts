import type { Condition, ContactFacts, FieldRef, Leaf, Scalar } from "./ast";
import { ageOn, dateIn, type DayParts, dayPartsIn, subtractDurationIn, type Duration, UTC } from "./dates";

/** The evaluation instant and the list's time zone, with the zone's calendar day computed once. */
export interface EvalTime {
  now: number;
  today: DayParts;
  /** An IANA time zone name; "UTC" unless the list sets one. */
  zone: string;
}

export function evalTime(now: number, zone: string = UTC): EvalTime {
  return { now, today: dayPartsIn(now, zone), zone };
}

/** A compiled condition: the reference semantics of the condition language. */
export type Predicate = (facts: ContactFacts, at: EvalTime) => boolean;

type Value = Scalar | readonly string[] | null;
type Getter = (facts: ContactFacts, at: EvalTime) => Value;

export function fieldGetter(field: FieldRef): Getter {
  if (field.source === "attribute") {
    const key = field.name;
    // Keys such as "constructor" also name inherited properties: only those need the own check.
    if (key in Object.prototype) return (facts) => (Object.hasOwn(facts.attributes, key) ? facts.attributes[key]! : null);
    return (facts) => facts.attributes[key] ?? null;
  }
  if (field.type === "AGE") {
    return (facts, at) => (facts.birthDate === null ? null : ageOn(facts.birthDate, at.today));
  }
  return BUILTIN_GETTERS[field.name] ?? ((facts) => facts[field.name as keyof ContactFacts] as Value);
}

/** One closure per built-in field, each with a fixed property access (monomorphic and inlinable). */
const BUILTIN_GETTERS: Record<string, Getter> = {
  email: (facts) => facts.email,
  firstName: (facts) => facts.firstName,
  lastName: (facts) => facts.lastName,
  phone: (facts) => facts.phone,
  country: (facts) => facts.country,
  city: (facts) => facts.city,
  gender: (facts) => facts.gender,
  birthDate: (facts) => facts.birthDate,
  tags: (facts) => facts.tags,
  createdAt: (facts) => facts.createdAt,
  updatedAt: (facts) => facts.updatedAt,
};

/**
 * A value computed from the evaluation time, remembered for the last instant and zone asked: one
 * evaluation time serves many contacts.
 */
export function perInstant<T>(compute: (at: EvalTime) => T): (at: EvalTime) => T {
  let lastNow = Number.NaN;
  let lastZone = UTC;
  let last: T;
  return (at) => {
    if (at.now !== lastNow || at.zone !== lastZone) {
      lastNow = at.now;
      lastZone = at.zone;
      last = compute(at);
    }
    return last;
  };
}

/** now − duration in the evaluation time's zone, remembered per instant. */
export function durationThreshold(duration: Duration): (at: EvalTime) => number {
  return perInstant((at) => subtractDurationIn(at.now, duration, at.zone));
}

/** Compiles a tree to a closure once; evaluating it is a call, not a tree walk. */
export function compilePredicate(condition: Condition): Predicate {
  switch (condition.kind) {
    case "and": {
      const items = condition.items.map(compilePredicate);
      if (items.length === 1) return items[0]!;
      if (items.length === 2) {
        const [a, b] = items as [Predicate, Predicate];
        return (facts, at) => a(facts, at) && b(facts, at);
      }
      return (facts, at) => {
        for (let i = 0; i < items.length; i++) if (!items[i]!(facts, at)) return false;
        return true;
      };
    }
    case "or": {
      const items = condition.items.map(compilePredicate);
      if (items.length === 1) return items[0]!;
      if (items.length === 2) {
        const [a, b] = items as [Predicate, Predicate];
        return (facts, at) => a(facts, at) || b(facts, at);
      }
      return (facts, at) => {
        for (let i = 0; i < items.length; i++) if (items[i]!(facts, at)) return true;
        return false;
      };
    }
    case "not": {
      const item = compilePredicate(condition.item);
      return (facts, at) => !item(facts, at);
    }
    case "leaf":
      return compileLeaf(condition);
    case "inSegment": {
      const segmentId = condition.segmentId;
      return (facts) => facts.segments?.has(segmentId) ?? false;
    }
  }
}

function compileLeaf(leaf: Leaf): Predicate {
  const get = fieldGetter(leaf.field);
  const test = leaf.test;
  switch (test.op) {
    case "set":
      if (leaf.field.type === "TAGS") return (facts) => facts.tags.length > 0;
      return (facts, at) => get(facts, at) !== null;
    case "in": {
      if (test.values.length === 1) {
        const only = test.values[0];
        return (facts, at) => get(facts, at) === only;
      }
      const values = new Set<unknown>(test.values);
      return (facts, at) => {
        const value = get(facts, at);
        return value !== null && values.has(value);
      };
    }
    case "contains": {
      const needle = test.value;
      return (facts, at) => {
        const value = get(facts, at);
        return typeof value === "string" && value.includes(needle);
      };
    }
    case "startsWith": {
      const needle = test.value;
      return (facts, at) => {
        const value = get(facts, at);
        return typeof value === "string" && value.startsWith(needle);
      };
    }
    case "endsWith": {
      const needle = test.value;
      return (facts, at) => {
        const value = get(facts, at);
        return typeof value === "string" && value.endsWith(needle);
      };
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const bound = test.value;
      const compare = { gt: (v: Scalar) => v > bound, gte: (v: Scalar) => v >= bound, lt: (v: Scalar) => v < bound, lte: (v: Scalar) => v <= bound }[test.op];
      return (facts, at) => {
        const value = get(facts, at) as Scalar | null;
        return value !== null && compare(value);
      };
    }
    case "between": {
      const { low, high } = test;
      return (facts, at) => {
        const value = get(facts, at) as Scalar | null;
        return value !== null && value >= low && value <= high;
      };
    }
    case "hasAny": {
      const wanted = new Set(test.values);
      return (facts) => {
        for (const tag of facts.tags) if (wanted.has(tag)) return true;
        return false;
      };
    }
    case "hasAll": {
      const wanted = test.values;
      return (facts) => wanted.every((tag) => facts.tags.includes(tag));
    }
    case "withinLast":
    case "moreThanAgo": {
      const threshold = durationThreshold(test.duration);
      const within = test.op === "withinLast";
      if (leaf.field.type === "DATE") {
        // A date counts as its first instant, so compare it with the dates of the bounds in the zone.
        const bounds = perInstant((at) => [dateIn(threshold(at), at.zone), dateIn(at.now, at.zone)] as const);
        return (facts, at) => {
          const value = get(facts, at) as string | null;
          if (value === null) return false;
          const [pastDate, today] = bounds(at);
          const past = value <= pastDate;
          return within ? !past && value <= today : past;
        };
      }
      return (facts, at) => {
        const value = get(facts, at) as number | null;
        if (value === null) return false;
        const past = value <= threshold(at);
        return within ? !past && value <= at.now : past;
      };
    }
  }
}
