import type { Duration } from "./dates";
import type { ValueType } from "./fields";

/**
 * The normalized condition tree. Negative operators are `not` nodes around their positive
 * form, EQUALS is IN with one value, BEFORE/AFTER are LT/GT, and every value is already in
 * the stored normal form of its field (see ContactFacts).
 */
export type Condition =
  | { kind: "and"; items: Condition[] }
  | { kind: "or"; items: Condition[] }
  | { kind: "not"; item: Condition }
  | Leaf
  | SegmentRef;

/** Membership of another segment of the same list (its store id), now. */
export interface SegmentRef {
  kind: "inSegment";
  segmentId: string;
}

export interface FieldRef {
  /** As written in a condition: "country", "age", "attributes.plan". */
  path: string;
  source: "builtin" | "attribute";
  /** The built-in field name or the attribute key. */
  name: string;
  type: ValueType;
}

/** TEXT: normalized string; NUMBER/AGE: number; DATE: "YYYY-MM-DD"; DATETIME: epoch ms; BOOLEAN. */
export type Scalar = string | number | boolean;

export type Test =
  | { op: "in"; values: Scalar[] }
  | { op: "contains" | "startsWith" | "endsWith"; value: string }
  | { op: "gt" | "gte" | "lt" | "lte"; value: Scalar }
  | { op: "between"; low: Scalar; high: Scalar }
  | { op: "set" }
  | { op: "hasAny" | "hasAll"; values: string[] }
  | { op: "withinLast" | "moreThanAgo"; duration: Duration };

export interface Leaf {
  kind: "leaf";
  field: FieldRef;
  test: Test;
}

/**
 * A contact as conditions see it: text lower-cased (normalizeText), dates "YYYY-MM-DD",
 * timestamps epoch ms, attributes in the same forms by their declared type.
 */
export interface ContactFacts {
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  country: string | null;
  city: string | null;
  gender: string | null;
  birthDate: string | null;
  tags: readonly string[];
  createdAt: number;
  updatedAt: number;
  attributes: Readonly<Record<string, Scalar>>;
  /**
   * The segments the contact is a member of at the evaluation, by store id. Only conditions with
   * inSegment read it; whoever evaluates one sets it (absent: a member of none).
   */
  segments?: { has(segmentId: string): boolean };
}

/**
 * The contact facts a condition reads, by ContactFacts key ("country", "tags"), attributes as
 * "attributes.<key>"; `age` reads "birthDate". A contact whose facts changed in none of these
 * keeps its result (the clock aside).
 */
export function factsRead(condition: Condition, into = new Set<string>()): Set<string> {
  switch (condition.kind) {
    case "and":
    case "or":
      for (const item of condition.items) factsRead(item, into);
      return into;
    case "not":
      return factsRead(condition.item, into);
    case "leaf": {
      const { field } = condition;
      into.add(field.source === "attribute" ? `attributes.${field.name}` : field.name === "age" ? "birthDate" : field.name);
      return into;
    }
    case "inSegment":
      // A referenced segment's changes reach its users through the engine's propagation.
      return into;
  }
}

/** The segments a condition references with inSegment (store ids), in order of appearance. */
export function segmentRefs(condition: Condition, into = new Set<string>()): Set<string> {
  switch (condition.kind) {
    case "and":
    case "or":
      for (const item of condition.items) segmentRefs(item, into);
      return into;
    case "not":
      return segmentRefs(condition.item, into);
    case "leaf":
      return into;
    case "inSegment":
      into.add(condition.segmentId);
      return into;
  }
}
