/**
 * Pushes a condition down to SQLite. The result must select exactly the contacts the reference
 * predicate (conditions/predicate.ts) accepts; property tests hold the two together.
 *
 * Every leaf compiles to an expression that is 0 or 1, never NULL, so NOT is exact negation.
 * Value lists travel as one JSON parameter (json_each), which keeps parameter counts small.
 */
import type { Condition, FieldRef, Leaf, Scalar } from "../../conditions";
import type { EvalTime } from "../../conditions";
import { dates } from "../../conditions";
import { BLOCK_IDS } from "./member-blocks";

export interface SqlCondition {
  sql: string;
  params: unknown[];
}

const TEXT_COLUMNS: Record<string, string> = {
  email: "email_n",
  firstName: "first_name_n",
  lastName: "last_name_n",
  phone: "phone_n",
  country: "country_n",
  city: "city_n",
  gender: "gender_n",
  birthDate: "birth_date",
  createdAt: "created_at",
  updatedAt: "updated_at",
};

/** The SQL expression for a stored field of contact alias `c` (not for age). */
export function fieldColumn(field: FieldRef, alias = "c"): { sql: string; params: unknown[] } {
  if (field.source === "attribute") return { sql: asDouble(field, `json_extract(${alias}.attributes_n, ?)`), params: [`$.${field.name}`] };
  const column = TEXT_COLUMNS[field.name];
  if (!column) throw new Error(`no column for ${field.path}`);
  return { sql: `${alias}.${column}`, params: [] };
}

/** NUMBER values compare as doubles, like JS: JSON text of a double past 2^53 reads back as a different integer. */
function asDouble(field: FieldRef, sql: string): string {
  return field.type === "NUMBER" ? `CAST(${sql} AS REAL)` : sql;
}

function sqlValue(value: Scalar): unknown {
  return typeof value === "boolean" ? (value ? 1 : 0) : value;
}

export function compileSql(condition: Condition, at: EvalTime, alias = "c"): SqlCondition {
  const params: unknown[] = [];
  const sql = compileNode(condition, at, alias, params);
  return { sql, params };
}

function compileNode(node: Condition, at: EvalTime, alias: string, params: unknown[]): string {
  switch (node.kind) {
    case "and":
      return `(${node.items.map((item) => compileNode(item, at, alias, params)).join(" AND ")})`;
    case "or":
      return `(${node.items.map((item) => compileNode(item, at, alias, params)).join(" OR ")})`;
    case "not":
      return `(NOT ${compileNode(node.item, at, alias, params)})`;
    case "leaf":
      return node.field.type === "AGE" ? compileAge(node, at, alias, params) : compileLeaf(node, at, alias, params);
    case "inSegment":
      // The contact's bit in the segment's member block (member-blocks.ts; `member_bit` is registered per connection).
      params.push(Number(node.segmentId));
      return `(EXISTS (SELECT 1 FROM member_blocks m WHERE m.segment_id = ? AND m.block = ${alias}.id / ${BLOCK_IDS} AND member_bit(m.bits, ${alias}.id)))`;
  }
}

function compileLeaf(leaf: Leaf, at: EvalTime, alias: string, params: unknown[]): string {
  const test = leaf.test;
  if (leaf.field.type === "TAGS") {
    const tags = `${alias}.tags_n`;
    switch (test.op) {
      case "set":
        return `(json_array_length(${tags}) > 0)`;
      case "hasAny":
        params.push(JSON.stringify(test.values));
        return `(EXISTS (SELECT 1 FROM json_each(${tags}) t WHERE t.value IN (SELECT value FROM json_each(?))))`;
      case "hasAll": {
        const wanted = [...new Set(test.values)];
        params.push(JSON.stringify(wanted), wanted.length);
        return `((SELECT count(DISTINCT t.value) FROM json_each(${tags}) t WHERE t.value IN (SELECT value FROM json_each(?))) = ?)`;
      }
      default:
        throw new Error(`${test.op} does not apply to tags`);
    }
  }
  const column = fieldColumn(leaf.field, alias);
  const col = column.sql;
  const withColumn = (expression: string, ...values: unknown[]) => {
    params.push(...column.params, ...values);
    return `IFNULL(${expression}, 0)`;
  };
  switch (test.op) {
    case "set":
      params.push(...column.params);
      return `(${col} IS NOT NULL)`;
    case "in":
      if (test.values.length === 1) return withColumn(`${col} = ?`, sqlValue(test.values[0]!));
      return withColumn(`${col} IN (SELECT ${asDouble(leaf.field, "value")} FROM json_each(?))`, JSON.stringify(test.values.map(sqlValue)));
    case "contains":
      return withColumn(`instr(${col}, ?) > 0`, test.value);
    // As UTF-8 bytes: on text, SQLite's length() and substr() stop at a NUL character.
    case "startsWith":
      params.push(...column.params);
      params.push(test.value, test.value);
      return `IFNULL(substr(CAST(${col} AS BLOB), 1, length(CAST(? AS BLOB))) = CAST(? AS BLOB), 0)`;
    case "endsWith":
      params.push(...column.params);
      params.push(test.value, test.value);
      return `IFNULL(substr(CAST(${col} AS BLOB), -length(CAST(? AS BLOB))) = CAST(? AS BLOB), 0)`;
    case "gt":
      return withColumn(`${col} > ?`, sqlValue(test.value));
    case "gte":
      return withColumn(`${col} >= ?`, sqlValue(test.value));
    case "lt":
      return withColumn(`${col} < ?`, sqlValue(test.value));
    case "lte":
      return withColumn(`${col} <= ?`, sqlValue(test.value));
    case "between":
      params.push(...column.params, sqlValue(test.low), ...column.params, sqlValue(test.high));
      return `IFNULL(${col} >= ? AND ${col} <= ?, 0)`;
    case "withinLast":
    case "moreThanAgo": {
      const threshold = dates.subtractDurationIn(at.now, test.duration, at.zone);
      const isDate = leaf.field.type === "DATE";
      const past = isDate ? dates.dateIn(threshold, at.zone) : threshold;
      if (test.op === "moreThanAgo") return withColumn(`${col} <= ?`, past);
      const upper = isDate ? dates.dateIn(at.now, at.zone) : at.now;
      params.push(...column.params, past, ...column.params, upper);
      return `IFNULL(${col} > ? AND ${col} <= ?, 0)`;
    }
    default:
      throw new Error(`${test.op} does not apply to ${leaf.field.path}`);
  }
}

/** age >= a  <=>  birth_date <= ageThreshold(today, a), so age tests become date comparisons. */
function compileAge(leaf: Leaf, at: EvalTime, alias: string, params: unknown[]): string {
  const birth = `${alias}.birth_date`;
  const atLeast = (years: number) => {
    params.push(dates.ageThreshold(at.today, years));
    return `${birth} <= ?`;
  };
  const known = (expression: string) => `IFNULL(${birth} IS NOT NULL AND ${expression}, 0)`;
  const test = leaf.test;
  switch (test.op) {
    case "set":
      return `(${birth} IS NOT NULL)`;
    case "in": {
      const years = test.values.filter((value): value is number => Number.isInteger(value));
      if (years.length === 0) return "0";
      return known(`(${years.map((year) => `(${atLeast(year)} AND NOT ${atLeast(year + 1)})`).join(" OR ")})`);
    }
    case "gt":
      return known(atLeast(Math.floor(test.value as number) + 1));
    case "gte":
      return known(atLeast(Math.ceil(test.value as number)));
    case "lt":
      return known(`NOT ${atLeast(Math.ceil(test.value as number))}`);
    case "lte":
      return known(`NOT ${atLeast(Math.floor(test.value as number) + 1)}`);
    case "between": {
      const low = atLeast(Math.ceil(test.low as number));
      const high = atLeast(Math.floor(test.high as number) + 1);
      return known(`${low} AND NOT ${high}`);
    }
    default:
      throw new Error(`${test.op} does not apply to age`);
  }
}
