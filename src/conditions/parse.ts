import { badInput } from "../common/errors";
import { fromGlobalId } from "../common/ids";
import { Limits } from "../common/limits";
import type { Condition, FieldRef, Scalar, Test } from "./ast";
import { DURATION_UNITS, type Duration, type DurationUnit, dateIn, midnightIn, parseDate, parseTimestamp, UTC } from "./dates";
import { BUILTIN_FIELDS, type FieldCatalog, OPERATORS, OPERATORS_BY_TYPE, type Operator, type ValueType } from "./fields";
import { normalizeText } from "./text";

/** The stored shape of a condition: the ConditionInput a client sent, without null keys. */
export type StoredCondition = Record<string, unknown>;

export interface ParsedCondition {
  ast: Condition;
  stored: StoredCondition;
}

export interface ParseOptions {
  /**
   * The list's IANA time zone (default "UTC"): a date given for a DATETIME field means its first
   * instant in the zone, a timestamp given for a DATE field means its date in the zone.
   */
  timeZone?: string;
  /**
   * Resolves an `inSegment` id to the referenced segment's store id, or fails with the node's
   * path (unknown segment, another list, a cycle). Default: any well-formed segment id (stored
   * conditions were checked when they were written).
   */
  segmentRef?: (id: string, path: string) => string;
}

interface ParseState {
  nodes: number;
  zone: string;
  segmentRef: (id: string, path: string) => string;
}

const NODE_KEYS = new Set(["and", "or", "not", "field", "operator", "value", "inSegment"]);

/** The segments a stored condition references with inSegment (store ids; ids that are not segment ids are left out). */
export function storedSegmentRefs(stored: unknown): Set<string> {
  const ids = segmentRefValues(stored).map((value) => (typeof value === "string" ? fromGlobalId(value, "Segment") : null));
  return new Set(ids.filter((id): id is string => id !== null));
}

/** The values of every inSegment key in a condition as given, valid or not (the parser judges them). */
export function segmentRefValues(input: unknown, into: unknown[] = []): unknown[] {
  if (Array.isArray(input)) {
    for (const item of input) segmentRefValues(item, into);
  } else if (input !== null && typeof input === "object") {
    const node = input as Record<string, unknown>;
    if (node.inSegment != null) into.push(node.inSegment);
    for (const key of ["and", "or", "not"]) if (node[key] != null) segmentRefValues(node[key], into);
  }
  return into;
}

function anySegment(id: string, path: string): string {
  return fromGlobalId(id, "Segment") ?? fail(path, `${describe(id)} is not a segment id`);
}
const NEGATIVE: Partial<Record<Operator, Operator>> = {
  NOT_EQUALS: "EQUALS",
  NOT_IN: "IN",
  NOT_CONTAINS: "CONTAINS",
  HAS_NONE: "HAS_ANY",
  IS_NOT_SET: "IS_SET",
};
const MAX_DURATION_AMOUNT = 100_000;

function fail(path: string, message: string): never {
  const where = path === "" ? "condition" : path;
  throw badInput(`${where}: ${message}`, { conditionPath: where });
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * Validates a condition against a list's custom fields and returns its normalized tree and
 * stored form. Every problem is a BAD_USER_INPUT naming its path (`and[1].or[0].value`).
 */
export function parseCondition(input: unknown, catalog: FieldCatalog, options: ParseOptions = {}): ParsedCondition {
  return parseNode(input, "", 1, catalog, { nodes: 0, zone: options.timeZone ?? UTC, segmentRef: options.segmentRef ?? anySegment });
}

function parseNode(
  input: unknown,
  path: string,
  depth: number,
  catalog: FieldCatalog,
  state: ParseState,
): ParsedCondition {
  // Nodes may be input-class instances from the GraphQL layer; values must be plain JSON.
  if (input === null || typeof input !== "object" || Array.isArray(input)) fail(path, `expected a condition object, got ${describe(input)}`);
  const node = input as Record<string, unknown>;
  if (depth > Limits.maxConditionDepth) fail(path, `conditions nest at most ${Limits.maxConditionDepth} levels deep`);
  if (++state.nodes > Limits.maxConditionNodes) fail(path, `a condition has at most ${Limits.maxConditionNodes} nodes`);
  for (const key of Object.keys(node)) {
    if (node[key] === undefined) continue;
    if (!NODE_KEYS.has(key)) fail(join(path, key), `unknown key; a node has and, or, not, inSegment, or field/operator/value`);
  }
  const present = (key: string) => node[key] !== undefined && node[key] !== null;
  const forms = [present("and"), present("or"), present("not"), present("inSegment"), present("field") || present("operator") || present("value")];
  const count = forms.filter(Boolean).length;
  if (count === 0) fail(path, "empty node; give and, or, not, inSegment, or field with operator");
  if (count > 1) fail(path, "a node has exactly one form: and, or, not, inSegment, or field/operator/value");
  if (present("inSegment")) {
    const refPath = join(path, "inSegment");
    const id = node.inSegment;
    if (typeof id !== "string" || id.length === 0) fail(refPath, `expected a segment id, got ${describe(id)}`);
    return { ast: { kind: "inSegment", segmentId: state.segmentRef(id, refPath) }, stored: { inSegment: id } };
  }

  if (present("and") || present("or")) {
    const kind = present("and") ? "and" : "or";
    const items = node[kind];
    const itemsPath = join(path, kind);
    if (!Array.isArray(items)) fail(itemsPath, `expected a list of conditions, got ${describe(items)}`);
    if (items.length === 0) fail(itemsPath, "a group needs at least one condition");
    const parsed = items.map((item, index) => parseNode(item, join(itemsPath, index), depth + 1, catalog, state));
    return { ast: { kind, items: parsed.map((p) => p.ast) }, stored: { [kind]: parsed.map((p) => p.stored) } };
  }
  if (present("not")) {
    const parsed = parseNode(node.not, join(path, "not"), depth + 1, catalog, state);
    return { ast: { kind: "not", item: parsed.ast }, stored: { not: parsed.stored } };
  }
  return parseLeaf(node, path, catalog, state.zone);
}

function resolveField(raw: unknown, path: string, catalog: FieldCatalog): FieldRef {
  const fieldPath = join(path, "field");
  if (typeof raw !== "string" || raw.length === 0) fail(fieldPath, "a field name is required");
  if (Object.hasOwn(BUILTIN_FIELDS, raw)) {
    return { path: raw, source: "builtin", name: raw, type: BUILTIN_FIELDS[raw]! };
  }
  if (raw.startsWith("attributes.")) {
    const key = raw.slice("attributes.".length);
    const type = catalog.get(key);
    if (type === undefined) fail(fieldPath, `the list declares no custom field "${truncate(key)}"`);
    return { path: raw, source: "attribute", name: key, type };
  }
  fail(
    fieldPath,
    `unknown field "${truncate(raw)}"; use one of ${Object.keys(BUILTIN_FIELDS).join(", ")} or attributes.<key>`,
  );
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function parseLeaf(input: Record<string, unknown>, path: string, catalog: FieldCatalog, zone: string): ParsedCondition {
  const field = resolveField(input.field, path, catalog);
  const operatorPath = join(path, "operator");
  const operator = input.operator;
  if (typeof operator !== "string" || !(OPERATORS as readonly string[]).includes(operator)) {
    fail(operatorPath, operator == null ? "an operator is required" : `unknown operator ${describe(operator)}`);
  }
  const op = operator as Operator;
  if (!OPERATORS_BY_TYPE[field.type].has(op)) {
    fail(operatorPath, `${op} does not apply to ${field.path} (${typeLabel(field.type)})`);
  }
  const valuePath = join(path, "value");
  const value = input.value;
  const positive = NEGATIVE[op] ?? op;
  const test = parseTest(positive, field, value, valuePath, zone);
  const leaf: Condition = { kind: "leaf", field, test };
  const stored: StoredCondition = { field: field.path, operator: op };
  if (value !== undefined && value !== null) stored.value = value;
  return { ast: positive === op ? leaf : { kind: "not", item: leaf }, stored };
}

function typeLabel(type: ValueType): string {
  switch (type) {
    case "AGE":
      return "a number of years";
    case "TAGS":
      return "a tag list";
    default:
      return `a ${type} field`;
  }
}

function parseTest(op: Operator, field: FieldRef, value: unknown, path: string, zone: string): Test {
  const noValue = value === undefined || value === null;
  switch (op) {
    case "IS_SET":
      if (!noValue) fail(path, `${op} takes no value`);
      return { op: "set" };
    case "EQUALS":
      return { op: "in", values: [scalar(field, value, path, zone)] };
    case "IN":
      return { op: "in", values: list(value, path).map((item, index) => scalar(field, item, `${path}[${index}]`, zone)) };
    case "CONTAINS":
    case "STARTS_WITH":
    case "ENDS_WITH": {
      const text = scalar(field, value, path, zone) as string;
      if (text.length === 0) fail(path, `${op} needs a non-empty string`);
      return { op: op === "CONTAINS" ? "contains" : op === "STARTS_WITH" ? "startsWith" : "endsWith", value: text };
    }
    case "GREATER_THAN":
      return { op: "gt", value: scalar(field, value, path, zone) };
    case "GREATER_THAN_OR_EQUAL":
      return { op: "gte", value: scalar(field, value, path, zone) };
    case "LESS_THAN":
      return { op: "lt", value: scalar(field, value, path, zone) };
    case "LESS_THAN_OR_EQUAL":
      return { op: "lte", value: scalar(field, value, path, zone) };
    case "BEFORE":
    case "AFTER":
      if (typeof value !== "string") fail(path, `${op} takes a date (YYYY-MM-DD) or an ISO-8601 timestamp, got ${describe(value)}`);
      return { op: op === "BEFORE" ? "lt" : "gt", value: scalar(field, value, path, zone) };
    case "BETWEEN": {
      if (!Array.isArray(value) || value.length !== 2) fail(path, `BETWEEN takes [low, high], got ${describe(value)}${Array.isArray(value) ? ` of ${value.length}` : ""}`);
      const low = scalar(field, value[0], `${path}[0]`, zone);
      const high = scalar(field, value[1], `${path}[1]`, zone);
      if (low > high) fail(path, "BETWEEN needs low <= high");
      return { op: "between", low, high };
    }
    case "WITHIN_LAST":
    case "MORE_THAN_AGO":
      return { op: op === "WITHIN_LAST" ? "withinLast" : "moreThanAgo", duration: duration(value, path) };
    case "HAS_ANY":
    case "HAS_ALL":
      return {
        op: op === "HAS_ANY" ? "hasAny" : "hasAll",
        values: list(value, path).map((item, index) => tag(item, `${path}[${index}]`)),
      };
    default:
      return fail(path, `${op} is not supported here`);
  }
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, `expected a list of values, got ${describe(value)}`);
  if (value.length === 0) fail(path, "the list needs at least one value");
  if (value.length > Limits.maxListValues) fail(path, `at most ${Limits.maxListValues} values`);
  return value;
}

function text(value: unknown, path: string, max: number): string {
  if (typeof value !== "string") fail(path, `expected a string, got ${describe(value)}`);
  if (value.length > max) fail(path, `text values are at most ${max} characters`);
  if (!value.isWellFormed()) fail(path, "the text is not well-formed Unicode");
  return value;
}

function tag(value: unknown, path: string): string {
  return normalizeText(text(value, path, Limits.maxTagLength));
}

/** One value in the normal form of the field's type (see ContactFacts). */
function scalar(field: FieldRef, value: unknown, path: string, zone: string): Scalar {
  switch (field.type) {
    case "TEXT":
      return normalizeText(text(value, path, Limits.maxTextLength));
    case "NUMBER":
    case "AGE":
      if (typeof value !== "number" || !Number.isFinite(value)) fail(path, `expected a number, got ${describe(value)}`);
      return value;
    case "BOOLEAN":
      if (typeof value !== "boolean") fail(path, `expected true or false, got ${describe(value)}`);
      return value;
    case "DATE":
    case "DATETIME": {
      if (typeof value !== "string") fail(path, `expected a date (YYYY-MM-DD) or an ISO-8601 timestamp, got ${describe(value)}`);
      const date = parseDate(value);
      const ms = date === null ? parseTimestamp(value) : midnightIn(date, zone);
      if (ms === null) fail(path, `"${truncate(value)}" is not a valid date (YYYY-MM-DD) or ISO-8601 timestamp with a zone`);
      // On a DATE field a timestamp counts as its calendar date in the zone.
      return field.type === "DATE" ? (date ?? dateIn(ms, zone)) : ms;
    }
    case "TAGS":
      return tag(value, path);
  }
}

function duration(value: unknown, path: string): Duration {
  if (!isPlainObject(value)) fail(path, `expected { amount, unit }, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (key !== "amount" && key !== "unit") fail(join(path, key), "unknown key; a duration is { amount, unit }");
  }
  const { amount, unit } = value;
  if (typeof amount !== "number" || !Number.isInteger(amount) || amount < 1 || amount > MAX_DURATION_AMOUNT) {
    fail(join(path, "amount"), `expected a whole number from 1 to ${MAX_DURATION_AMOUNT}, got ${describe(amount)}`);
  }
  if (typeof unit !== "string" || !(DURATION_UNITS as readonly string[]).includes(unit)) {
    fail(join(path, "unit"), `expected one of ${DURATION_UNITS.join(", ")}, got ${describe(unit)}`);
  }
  return { amount, unit: unit as DurationUnit };
}
