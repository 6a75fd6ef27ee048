export type { Condition, ContactFacts, FieldRef, Leaf, Scalar, Test } from "./ast";
export { factsRead, segmentRefs } from "./ast";
export * from "./fields";
export { normalizeText } from "./text";
export { parseCondition, type ParseOptions, type ParsedCondition, type StoredCondition, segmentRefValues, storedSegmentRefs } from "./parse";
export { compilePredicate, evalTime, type EvalTime, type Predicate } from "./predicate";
export { conditionNodes, explainCondition, type ConditionNode, type NodeKind } from "./explain";
export { timeTriggers, nextFlip, searchFirstInstant, type TimeTrigger } from "./triggers";
export * as dates from "./dates";
