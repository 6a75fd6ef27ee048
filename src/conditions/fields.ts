/**
 * The fields a condition can name and the operators each type accepts.
 */
export type CustomFieldType = "TEXT" | "NUMBER" | "DATE" | "DATETIME" | "BOOLEAN";
/** TAGS is the built-in tag list; AGE is a NUMBER derived from birthDate and the clock. */
export type ValueType = CustomFieldType | "TAGS" | "AGE";

export const OPERATORS = [
  "EQUALS",
  "NOT_EQUALS",
  "CONTAINS",
  "NOT_CONTAINS",
  "STARTS_WITH",
  "ENDS_WITH",
  "IN",
  "NOT_IN",
  "GREATER_THAN",
  "GREATER_THAN_OR_EQUAL",
  "LESS_THAN",
  "LESS_THAN_OR_EQUAL",
  "BETWEEN",
  "IS_SET",
  "IS_NOT_SET",
  "BEFORE",
  "AFTER",
  "WITHIN_LAST",
  "MORE_THAN_AGO",
  "HAS_ANY",
  "HAS_ALL",
  "HAS_NONE",
] as const;
export type Operator = (typeof OPERATORS)[number];

/** Built-in text fields, in the order contacts store them. */
export const TEXT_FIELDS = ["email", "firstName", "lastName", "phone", "country", "city", "gender"] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

export const BUILTIN_FIELDS: Readonly<Record<string, ValueType>> = {
  email: "TEXT",
  firstName: "TEXT",
  lastName: "TEXT",
  phone: "TEXT",
  country: "TEXT",
  city: "TEXT",
  gender: "TEXT",
  birthDate: "DATE",
  age: "AGE",
  tags: "TAGS",
  createdAt: "DATETIME",
  updatedAt: "DATETIME",
};

const PRESENCE: Operator[] = ["IS_SET", "IS_NOT_SET"];
const EQUALITY: Operator[] = ["EQUALS", "NOT_EQUALS", "IN", "NOT_IN"];
const ORDER: Operator[] = ["GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "BETWEEN"];
const TEXT_ONLY: Operator[] = ["CONTAINS", "NOT_CONTAINS", "STARTS_WITH", "ENDS_WITH"];
const DATES: Operator[] = ["BEFORE", "AFTER", "WITHIN_LAST", "MORE_THAN_AGO"];

export const OPERATORS_BY_TYPE: Readonly<Record<ValueType, ReadonlySet<Operator>>> = {
  TEXT: new Set([...EQUALITY, ...TEXT_ONLY, ...PRESENCE]),
  NUMBER: new Set([...EQUALITY, ...ORDER, ...PRESENCE]),
  AGE: new Set([...EQUALITY, ...ORDER, ...PRESENCE]),
  DATE: new Set([...EQUALITY, ...ORDER, ...DATES, ...PRESENCE]),
  DATETIME: new Set([...EQUALITY, ...ORDER, ...DATES, ...PRESENCE]),
  BOOLEAN: new Set(["EQUALS", "NOT_EQUALS", ...PRESENCE] as Operator[]),
  TAGS: new Set(["HAS_ANY", "HAS_ALL", "HAS_NONE", ...PRESENCE] as Operator[]),
};

/** A custom field key: a letter, then letters, digits or underscores (no `$`, dots or `__proto__`). */
export const CUSTOM_FIELD_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export interface CustomFieldDef {
  key: string;
  label: string | null;
  type: CustomFieldType;
}

/** What a condition is checked against: the list's declared custom fields. */
export type FieldCatalog = ReadonlyMap<string, CustomFieldType>;

export function catalogOf(customFields: readonly CustomFieldDef[]): FieldCatalog {
  return new Map(customFields.map((field) => [field.key, field.type]));
}
