/**
 * A condition tree node by node, as written (the stored ConditionInput shape), in pre-order:
 * what `explainMembership` shows for one contact and `segmentPreview.breakdown` counts over a
 * list. Each node is parsed on its own, so its verdict is exactly what the node alone selects.
 */
import type { Condition, ContactFacts } from "./ast";
import type { FieldCatalog } from "./fields";
import { parseCondition, type StoredCondition } from "./parse";
import { compilePredicate, type EvalTime } from "./predicate";

export type NodeKind = "AND" | "OR" | "NOT" | "LEAF" | "SEGMENT";

export interface ConditionNode {
  /** Where the node sits, in the error-path notation: "" for the root, "and[1].or[0]", "not". */
  path: string;
  kind: NodeKind;
  field: string | null;
  operator: string | null;
  value: unknown;
  /** A SEGMENT node's referenced segment (store id). */
  segmentId: string | null;
  /** The node alone, normalized. */
  ast: Condition;
}

/** Every node of a stored condition, the root first, each with its own normalized tree. */
export function conditionNodes(stored: StoredCondition, catalog: FieldCatalog, timeZone: string): ConditionNode[] {
  const nodes: ConditionNode[] = [];
  const visit = (node: StoredCondition, path: string) => {
    const { ast } = parseCondition(node, catalog, { timeZone });
    const group = (["and", "or"] as const).find((key) => Array.isArray(node[key]));
    if (group) {
      nodes.push({ path, kind: group === "and" ? "AND" : "OR", field: null, operator: null, value: null, segmentId: null, ast });
      (node[group] as StoredCondition[]).forEach((item, i) => visit(item, `${path === "" ? "" : `${path}.`}${group}[${i}]`));
    } else if (node.not !== undefined) {
      nodes.push({ path, kind: "NOT", field: null, operator: null, value: null, segmentId: null, ast });
      visit(node.not as StoredCondition, path === "" ? "not" : `${path}.not`);
    } else if (ast.kind === "inSegment") {
      nodes.push({ path, kind: "SEGMENT", field: null, operator: null, value: null, segmentId: ast.segmentId, ast });
    } else {
      nodes.push({ path, kind: "LEAF", field: node.field as string, operator: node.operator as string, value: node.value ?? null, segmentId: null, ast });
    }
  };
  visit(stored, "");
  return nodes;
}

/** Each node of a condition with whether it holds for a contact at an instant. */
export function explainCondition(nodes: readonly ConditionNode[], facts: ContactFacts, at: EvalTime): (ConditionNode & { matched: boolean })[] {
  return nodes.map((node) => ({ ...node, matched: compilePredicate(node.ast)(facts, at) }));
}
