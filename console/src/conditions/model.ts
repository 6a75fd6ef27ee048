/**
 * The condition builder's tree: what a person edits (raw text as typed, a "not" switch on every
 * node), turned into a ConditionInput for the service, and back from a stored condition. The
 * service judges the values: its errors name a path (`and[1].or[0].value`), which `nodeAt`
 * finds in the tree; the fields and the operators each type accepts are the service's own table.
 */
import { DURATION_UNITS, type DurationUnit } from "../../../src/conditions/dates";
import { BUILTIN_FIELDS, OPERATORS_BY_TYPE, type Operator, type ValueType } from "../../../src/conditions/fields";
import type { FieldType } from "../gql/graphql";

export { DURATION_UNITS, type DurationUnit, type Operator, type ValueType };

/** Every editor's raw input, kept when the operator changes so that switching back loses nothing. */
export interface ValueDraft {
  text: string;
  low: string;
  high: string;
  items: string[];
  amount: string;
  unit: DurationUnit;
}

interface Base {
  id: number;
  /** The node is wrapped in `{ not: … }`. */
  negated: boolean;
}
export type GroupNode = Base & { kind: "group"; op: "and" | "or"; items: DraftNode[] };
export type LeafNode = Base & { kind: "leaf"; field: string; operator: Operator; value: ValueDraft };
export type SegmentNode = Base & { kind: "segment"; segmentId: string };
export type DraftNode = GroupNode | LeafNode | SegmentNode;

export interface FieldOption {
  path: string;
  label: string;
  type: ValueType;
}

export interface CustomFieldShape {
  key: string;
  label?: string | null;
  type: FieldType;
}

const BUILTIN_LABELS: Record<string, string> = {
  email: "Email",
  firstName: "First name",
  lastName: "Last name",
  phone: "Phone",
  country: "Country",
  city: "City",
  gender: "Gender",
  birthDate: "Birth date",
  age: "Age",
  tags: "Tags",
  createdAt: "Created",
  updatedAt: "Updated",
};

/** The fields of a list: the built-in ones, then its custom fields (as `attributes.<key>`). */
export function fieldsOf(customFields: readonly CustomFieldShape[]): FieldOption[] {
  return [
    ...Object.entries(BUILTIN_FIELDS).map(([path, type]) => ({ path, label: BUILTIN_LABELS[path] ?? path, type })),
    ...customFields.map((field) => ({ path: `attributes.${field.key}`, label: field.label || field.key, type: field.type as ValueType })),
  ];
}

const OPERATOR_LABELS: Record<Operator, string> = {
  EQUALS: "is",
  NOT_EQUALS: "is not",
  CONTAINS: "contains",
  NOT_CONTAINS: "does not contain",
  STARTS_WITH: "starts with",
  ENDS_WITH: "ends with",
  IN: "is one of",
  NOT_IN: "is none of",
  GREATER_THAN: "is more than",
  GREATER_THAN_OR_EQUAL: "is at least",
  LESS_THAN: "is less than",
  LESS_THAN_OR_EQUAL: "is at most",
  BETWEEN: "is between",
  IS_SET: "is set",
  IS_NOT_SET: "is not set",
  BEFORE: "is before",
  AFTER: "is after",
  WITHIN_LAST: "is within the last",
  MORE_THAN_AGO: "is more than … ago",
  HAS_ANY: "has any of",
  HAS_ALL: "has all of",
  HAS_NONE: "has none of",
};

export function operatorLabel(operator: Operator): string {
  return OPERATOR_LABELS[operator];
}

/** The operators that fit a field's type, in the order the menu shows them. */
export function operatorsFor(type: ValueType): Operator[] {
  const allowed = OPERATORS_BY_TYPE[type];
  return (Object.keys(OPERATOR_LABELS) as Operator[]).filter((operator) => allowed.has(operator));
}

/** What the value editor of an operator looks like. */
export type ValueShape = "none" | "scalar" | "list" | "range" | "duration";

export function shapeOf(operator: Operator): ValueShape {
  switch (operator) {
    case "IS_SET":
    case "IS_NOT_SET":
      return "none";
    case "IN":
    case "NOT_IN":
    case "HAS_ANY":
    case "HAS_ALL":
    case "HAS_NONE":
      return "list";
    case "BETWEEN":
      return "range";
    case "WITHIN_LAST":
    case "MORE_THAN_AGO":
      return "duration";
    default:
      return "scalar";
  }
}

export const DURATION_LABELS: Record<DurationUnit, string> = {
  MINUTES: "minutes",
  HOURS: "hours",
  DAYS: "days",
  WEEKS: "weeks",
  MONTHS: "months",
  YEARS: "years",
};

let nextId = 1;
const id = () => nextId++;

export function emptyValue(): ValueDraft {
  return { text: "", low: "", high: "", items: [], amount: "7", unit: "DAYS" };
}

export function newLeaf(field = "country", operator: Operator = "EQUALS"): LeafNode {
  return { id: id(), kind: "leaf", negated: false, field, operator, value: emptyValue() };
}

export function newGroup(op: "and" | "or" = "and", items: DraftNode[] = [newLeaf()]): GroupNode {
  return { id: id(), kind: "group", negated: false, op, items };
}

export function newSegmentRef(segmentId: string): SegmentNode {
  return { id: id(), kind: "segment", negated: false, segmentId };
}

/** A value as the service wants it for a field type; text that is not one is sent as typed, for the service to name the problem. */
function scalarValue(raw: string, type: ValueType): unknown {
  const text = raw.trim();
  switch (type) {
    case "NUMBER":
    case "AGE":
      return text === "" ? null : Number.isFinite(Number(text)) ? Number(text) : raw;
    case "BOOLEAN":
      return text === "true" ? true : text === "false" ? false : null;
    case "DATE":
    case "DATETIME":
      return text === "" ? null : text;
    default:
      return raw;
  }
}

function leafValue(node: LeafNode, type: ValueType): unknown {
  const { value } = node;
  switch (shapeOf(node.operator)) {
    case "none":
      return undefined;
    case "list":
      return value.items.map((item) => scalarValue(item, type));
    case "range":
      return [scalarValue(value.low, type), scalarValue(value.high, type)];
    case "duration": {
      const amount = value.amount.trim();
      return { amount: /^\d+$/.test(amount) ? Number(amount) : amount, unit: value.unit };
    }
    case "scalar":
      return scalarValue(value.text, type);
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

export interface Compiled {
  /** The ConditionInput for the service. */
  input: Record<string, unknown>;
  /** Node path (as the service writes it) → the draft node it came from; a negated node answers for its `not` and its inside. */
  paths: Map<string, number>;
}

/** The ConditionInput of a draft tree; every node is kept (an empty group too), so the service's paths match the tree. */
export function compile(root: DraftNode, fields: readonly FieldOption[]): Compiled {
  const paths = new Map<string, number>();
  const types = new Map(fields.map((field) => [field.path, field.type]));
  const visit = (node: DraftNode, path: string): Record<string, unknown> => {
    paths.set(path, node.id);
    if (node.negated) return { not: visit({ ...node, negated: false }, join(path, "not")) };
    switch (node.kind) {
      case "group":
        return { [node.op]: node.items.map((item, index) => visit(item, join(join(path, node.op), index))) };
      case "segment":
        return { inSegment: node.segmentId };
      case "leaf": {
        const value = leafValue(node, types.get(node.field) ?? "TEXT");
        return { field: node.field, operator: node.operator, ...(value === undefined ? {} : { value }) };
      }
    }
  };
  return { input: visit(root, ""), paths };
}

/** The node an error path points into: the longest prefix of it that is a node's path ("condition" is the root). */
export function nodeAt(paths: Map<string, number>, errorPath: string): number | undefined {
  let path = errorPath === "condition" ? "" : errorPath;
  for (;;) {
    const found = paths.get(path);
    if (found !== undefined) return found;
    if (path === "") return undefined;
    const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
    path = cut <= 0 ? "" : path.slice(0, cut);
  }
}

function asText(value: unknown): string {
  return value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
}

/** A draft tree from a condition the service stored (the ConditionInput shape). */
export function fromStored(stored: unknown): DraftNode {
  const node = (stored ?? {}) as Record<string, unknown>;
  if (node.not && typeof node.not === "object") {
    const inner = fromStored(node.not);
    // `not` of `not` stays two nodes: the outer one is a group of one.
    return inner.negated ? { ...newGroup("and", [inner]), negated: true } : { ...inner, negated: true };
  }
  for (const op of ["and", "or"] as const) {
    if (Array.isArray(node[op])) return newGroup(op, (node[op] as unknown[]).map(fromStored));
  }
  if (typeof node.inSegment === "string") return newSegmentRef(node.inSegment);
  const leaf = newLeaf(String(node.field ?? "email"), (node.operator as Operator) ?? "EQUALS");
  const value = node.value;
  switch (shapeOf(leaf.operator)) {
    case "list":
      leaf.value.items = Array.isArray(value) ? value.map(asText) : [];
      break;
    case "range":
      [leaf.value.low, leaf.value.high] = Array.isArray(value) ? [asText(value[0]), asText(value[1])] : ["", ""];
      break;
    case "duration": {
      const duration = (value ?? {}) as { amount?: unknown; unit?: DurationUnit };
      leaf.value.amount = asText(duration.amount);
      if (duration.unit && DURATION_UNITS.includes(duration.unit)) leaf.value.unit = duration.unit;
      break;
    }
    case "scalar":
      leaf.value.text = asText(value);
      break;
  }
  return leaf;
}

/** The tree with one node replaced (by id); `null` removes it from its group. */
export function replaceNode(root: DraftNode, target: number, replacement: DraftNode | null): DraftNode {
  if (root.id === target) return replacement ?? root;
  if (root.kind !== "group") return root;
  const items = root.items.flatMap((item) => {
    if (item.id === target) return replacement ? [replacement] : [];
    return [replaceNode(item, target, replacement)];
  });
  return { ...root, items };
}

/** The number of nodes the service counts (a negation is a node of its own). */
export function nodeCount(node: DraftNode): number {
  const own = node.negated ? 2 : 1;
  return own + (node.kind === "group" ? node.items.reduce((sum, item) => sum + nodeCount(item), 0) : 0);
}
