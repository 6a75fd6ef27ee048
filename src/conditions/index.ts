export type { Condition, ContactFacts, FieldRef, Leaf, Scalar, Test } from "./ast";
export { factsRead } from "./ast";
export * from "./fields";
export { normalizeText } from "./text";
export { parseCondition, type ParseOptions, type ParsedCondition, type StoredCondition } from "./parse";
export { compilePredicate, evalTime, type EvalTime, type Predicate } from "./predicate";
export { timeTriggers, nextFlip, searchFirstInstant, type TimeTrigger } from "./triggers";
export * as dates from "./dates";
