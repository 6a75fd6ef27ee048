/**
 * Pushes a condition down to MongoDB as a query filter over contact documents (documents.ts).
 * It must select exactly the contacts the reference predicate (conditions/predicate.ts)
 * accepts; property tests check it against the predicate with mingo standing in for MongoDB.
 *
 * Where mingo and MongoDB are known to differ, this compiler stays out of the way:
 * - `$regex`: MongoDB uses PCRE, mingo JavaScript. Text operators escape every metacharacter, so
 *   patterns are literal; PCRE's `$` also matches before a final newline, which never occurs
 *   because stored text is trimmed.
 * - Comparisons across BSON types (MongoDB orders types, mingo compares JavaScript values):
 *   every comparison here is between values of one type, fixed by the field's declared type.
 * - `null` inside `$in` and `{ $eq: null }` (MongoDB also matches missing fields): never emitted;
 *   presence is `{ $exists: true, $ne: null }` and negation is `$nor`, exact on missing fields.
 * - String order: MongoDB compares UTF-8 bytes, JavaScript UTF-16 units; the only ordered strings
 *   are "YYYY-MM-DD" dates, which are ASCII.
 * - Order operators on null: MongoDB's type bracketing never matches them, mingo's JavaScript
 *   comparison can (null < "2000"); every order comparison carries an explicit `$type`.
 */
import type { Condition, EvalTime, FieldRef, Leaf, Scalar } from "../../conditions";
import { dates } from "../../conditions";

export type Filter = Record<string, unknown>;

/** The document path of a stored field (age reads birthDate). */
export function fieldPath(field: FieldRef): string {
  if (field.source === "attribute") return `n.attributes.${field.name}`;
  switch (field.name) {
    case "birthDate":
    case "age":
      return "birthDate";
    case "createdAt":
    case "updatedAt":
      return field.name;
    default:
      return `n.${field.name}`;
  }
}

/** A normalized condition value as MongoDB stores it: DATETIME values are Dates. */
export function mongoValue(field: FieldRef, value: Scalar): unknown {
  return field.type === "DATETIME" ? new Date(value as number) : value;
}

export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * `members`: the member ids of the segments the condition references with inSegment (see
 * referencedMembers in step-tx.ts), read before the query; a segment absent from it has none.
 */
export function compileMongoFilter(condition: Condition, at: EvalTime, members?: ReadonlyMap<string, readonly unknown[]>): Filter {
  switch (condition.kind) {
    case "and":
      return { $and: condition.items.map((item) => compileMongoFilter(item, at, members)) };
    case "or":
      return { $or: condition.items.map((item) => compileMongoFilter(item, at, members)) };
    case "not":
      return { $nor: [compileMongoFilter(condition.item, at, members)] };
    case "leaf":
      return condition.field.type === "AGE" ? ageFilter(condition, at) : leafFilter(condition, at);
    case "inSegment":
      return { _id: { $in: members?.get(condition.segmentId) ?? [] } };
  }
}

const present = { $exists: true, $ne: null };
const NEVER: Filter = { _id: { $in: [] } };

/** The BSON type of a field's stored values, for order comparisons. */
function bsonType(field: FieldRef): string {
  return field.type === "DATETIME" ? "date" : field.type === "NUMBER" ? "number" : "string";
}

function leafFilter(leaf: Leaf, at: EvalTime): Filter {
  const path = fieldPath(leaf.field);
  const value = (v: Scalar) => mongoValue(leaf.field, v);
  const ordered = (bounds: Filter): Filter => ({ [path]: { ...bounds, $type: bsonType(leaf.field) } });
  const test = leaf.test;
  switch (test.op) {
    case "set":
      return leaf.field.type === "TAGS" ? { [`${path}.0`]: { $exists: true } } : { [path]: present };
    case "in":
      return test.values.length === 1 ? { [path]: { $eq: value(test.values[0]!) } } : { [path]: { $in: test.values.map(value) } };
    case "contains":
      return { [path]: { $regex: escapeRegex(test.value) } };
    case "startsWith":
      return { [path]: { $regex: `^${escapeRegex(test.value)}` } };
    case "endsWith":
      return { [path]: { $regex: `${escapeRegex(test.value)}$` } };
    case "gt":
      return ordered({ $gt: value(test.value) });
    case "gte":
      return ordered({ $gte: value(test.value) });
    case "lt":
      return ordered({ $lt: value(test.value) });
    case "lte":
      return ordered({ $lte: value(test.value) });
    case "between":
      return ordered({ $gte: value(test.low), $lte: value(test.high) });
    case "hasAny":
      return { [path]: { $in: test.values } };
    case "hasAll":
      return { [path]: { $all: test.values } };
    case "withinLast":
    case "moreThanAgo": {
      const threshold = dates.subtractDurationIn(at.now, test.duration, at.zone);
      const isDate = leaf.field.type === "DATE";
      const past = isDate ? dates.dateIn(threshold, at.zone) : new Date(threshold);
      if (test.op === "moreThanAgo") return ordered({ $lte: past });
      return ordered({ $gt: past, $lte: isDate ? dates.dateIn(at.now, at.zone) : new Date(at.now) });
    }
  }
}

/** age >= a  <=>  birthDate <= ageThreshold(today, a): age tests become date-string ranges. */
function ageFilter(leaf: Leaf, at: EvalTime): Filter {
  const threshold = (years: number) => dates.ageThreshold(at.today, years);
  const test = leaf.test;
  const range = (atLeast: number | null, below: number | null): Filter => ({
    birthDate: { ...(atLeast === null ? {} : { $lte: threshold(atLeast) }), ...(below === null ? {} : { $gt: threshold(below) }), $type: "string" },
  });
  switch (test.op) {
    case "set":
      return { birthDate: present };
    case "in": {
      const years = test.values.filter((value): value is number => Number.isInteger(value));
      if (years.length === 0) return NEVER;
      return { $or: years.map((year) => range(year, year + 1)) };
    }
    case "gt":
      return range(Math.floor(test.value as number) + 1, null);
    case "gte":
      return range(Math.ceil(test.value as number), null);
    case "lt":
      return range(null, Math.ceil(test.value as number));
    case "lte":
      return range(null, Math.floor(test.value as number) + 1);
    case "between":
      return range(Math.ceil(test.low as number), Math.floor(test.high as number) + 1);
    default:
      throw new Error(`${test.op} does not apply to age`);
  }
}
