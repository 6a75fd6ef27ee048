import { Field, ID, InputType, registerEnumType } from "type-graphql";
import { JSONScalar } from "../../graphql/scalars";
import { SegmentType } from "./segment.type";

export enum ConditionOperator {
  EQUALS = "EQUALS",
  NOT_EQUALS = "NOT_EQUALS",
  CONTAINS = "CONTAINS",
  NOT_CONTAINS = "NOT_CONTAINS",
  STARTS_WITH = "STARTS_WITH",
  ENDS_WITH = "ENDS_WITH",
  IN = "IN",
  NOT_IN = "NOT_IN",
  GREATER_THAN = "GREATER_THAN",
  GREATER_THAN_OR_EQUAL = "GREATER_THAN_OR_EQUAL",
  LESS_THAN = "LESS_THAN",
  LESS_THAN_OR_EQUAL = "LESS_THAN_OR_EQUAL",
  BETWEEN = "BETWEEN",
  IS_SET = "IS_SET",
  IS_NOT_SET = "IS_NOT_SET",
  BEFORE = "BEFORE",
  AFTER = "AFTER",
  WITHIN_LAST = "WITHIN_LAST",
  MORE_THAN_AGO = "MORE_THAN_AGO",
  HAS_ANY = "HAS_ANY",
  HAS_ALL = "HAS_ALL",
  HAS_NONE = "HAS_NONE",
}

registerEnumType(ConditionOperator, { name: "ConditionOperator" });

@InputType("ConditionInput", {
  description: `A condition tree. Exactly one of these forms per node:
  { and: [...] }  { or: [...] }  { not: {...} }  { field, operator, value }  { inSegment: ID }
inSegment is true for the members of another segment of the same list, now; a change of its
members flows on to the segments that use it in the same engine step. References never make a
cycle, and a segment in use cannot be deleted.
Groups are never empty; a tree has at most 200 nodes and 10 levels.
Fields: email firstName lastName phone country city gender birthDate age tags
createdAt updatedAt, and attributes.<key> for a custom field of the list.
An operator must fit the field's type (text operators on text, order operators on numbers and
dates, HAS_* on tags), else BAD_USER_INPUT. Text comparisons ignore case and are literal (no
pattern syntax). A negative operator (NOT_EQUALS NOT_IN NOT_CONTAINS HAS_NONE) is exactly the
negation of its positive one, so it matches a contact without a value; order and date operators
never match a contact without a value.
Values by operator:
  EQUALS NOT_EQUALS GREATER_THAN GREATER_THAN_OR_EQUAL LESS_THAN LESS_THAN_OR_EQUAL: a scalar
  CONTAINS NOT_CONTAINS STARTS_WITH ENDS_WITH: a non-empty string
  IN NOT_IN: an array of scalars
  BETWEEN: [low, high], both inclusive
  IS_SET IS_NOT_SET: no value
  BEFORE AFTER: a date or timestamp string
  WITHIN_LAST MORE_THAN_AGO: { amount: Int, unit: "MINUTES" | "HOURS" | "DAYS" | "WEEKS" | "MONTHS" | "YEARS" }
  HAS_ANY HAS_ALL HAS_NONE: an array of strings (for tags)
Time: evaluated in the list's time zone (ContactList.timeZone, UTC unless set at creation).
age is whole years since birthDate (a birthday starts at local midnight).
WITHIN_LAST d matches now - d < value <= now; MORE_THAN_AGO d matches value <= now - d;
MINUTES to WEEKS are exact durations, MONTHS and YEARS count on the zone's wall clock.
On a DATE field a timestamp value counts as its date in the zone; on a DATETIME field a date
counts as its first instant in the zone.`,
})
export class ConditionInput {
  @Field(() => [ConditionInput], { nullable: true })
  and?: ConditionInput[] | null;

  @Field(() => [ConditionInput], { nullable: true })
  or?: ConditionInput[] | null;

  @Field(() => ConditionInput, { nullable: true })
  not?: ConditionInput | null;

  @Field(() => String, { nullable: true })
  field?: string | null;

  @Field(() => ConditionOperator, { nullable: true })
  operator?: ConditionOperator | null;

  @Field(() => JSONScalar, { nullable: true })
  value?: unknown;

  @Field(() => ID, {
    nullable: true,
    description: "True for the contacts that are members of that segment (of the same list) now; negate it with `not`.",
  })
  inSegment?: string | null;
}

@InputType("CreateSegmentInput", { description: "Creating a segment publishes no events: the initial members are not changes." })
export class CreateSegmentInput {
  @Field(() => ID)
  listId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => SegmentType)
  type!: SegmentType;

  @Field(() => ConditionInput)
  condition!: ConditionInput;
}

@InputType("UpdateSegmentInput")
export class UpdateSegmentInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => ConditionInput, {
    nullable: true,
    description: "Only for DYNAMIC segments; membership is re-evaluated and the differences are published.",
  })
  condition?: ConditionInput | null;
}
