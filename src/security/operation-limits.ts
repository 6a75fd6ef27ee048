/**
 * Limits on what one GraphQL operation may ask for, applied alike over HTTP and WebSocket:
 * tokens (at parse), depth, aliases and directives (validation rules, from graphql-armor), and
 * cost (graphql-query-complexity, with `first` from arguments and variables multiplying).
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  BREAK,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ValidationContext,
  type ValidationRule,
  visit,
} from "graphql";
import { type ComplexityEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";
import { DomainError, ErrorCode } from "../common/errors";
import { Limits } from "../common/limits";

export interface OperationLimits {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
  introspection: boolean;
}

/**
 * A paged field costs its page size times what each item asks for. Sizes beyond the page bound
 * count as the bound: execution refuses them with BAD_USER_INPUT anyway.
 */
const pagedEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  // An explicit null gets the resolvers' default size (50 rows, 10 samples), so it costs as much.
  const size = "first" in args ? (args.first ?? 50) : "sample" in args ? (args.sample ?? 10) : undefined;
  return typeof size !== "number" ? undefined : 1 + Math.min(Math.max(1, size), Limits.maxPageSize) * childComplexity;
};

// graphql-armor throws on rejection by default, which surfaces as an internal error (4500 over graphql-ws).
const reportRejection = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export function validationRules(limits: OperationLimits): ValidationRule[] {
  const rules: ValidationRule[] = [
    maxDepthRule({ n: limits.maxDepth, exposeLimits: true, ...reportRejection }) as unknown as ValidationRule,
    maxAliasesRule({ n: limits.maxAliases, exposeLimits: true, ...reportRejection }) as unknown as ValidationRule,
    maxDirectivesRule({ n: limits.maxDirectives, exposeLimits: true, ...reportRejection }) as unknown as ValidationRule,
  ];
  if (!limits.introspection) rules.push(NoSchemaIntrospectionCustomRule);
  return rules;
}

/** The arguments the cost reads (see pagedEstimator). */
const SIZE_ARGUMENTS = new Set(["first", "sample"]);

/**
 * Whether variables can change a document's cost: a variable in a page size, or in a directive
 * (`@skip(if: $x)` removes a subtree).
 */
function costReadsVariables(document: DocumentNode): boolean {
  let reads = false;
  visit(document, {
    Argument(node) {
      if (!SIZE_ARGUMENTS.has(node.name.value)) return false;
    },
    Variable() {
      reads = true;
      return BREAK;
    },
    VariableDefinition() {
      return false;
    },
    Directive(node) {
      if (node.arguments?.some((argument) => argument.value.kind !== Kind.BOOLEAN && argument.value.kind !== Kind.STRING)) {
        reads = true;
        return BREAK;
      }
      return false;
    },
  });
  return reads;
}

/**
 * Costs of documents that no variable can change, per operation name. Parsed documents are shared
 * between requests with the same text (Apollo's document store, the WebSocket server's cache),
 * so most requests skip the walk over the document.
 */
const fixedCosts = new WeakMap<DocumentNode, Map<string, number> | null>();

/** Throws QUERY_TOO_COMPLEX when an operation's cost exceeds the limit. */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
  limits: OperationLimits,
): number {
  let fixed = fixedCosts.get(document);
  if (fixed === undefined) fixedCosts.set(document, (fixed = costReadsVariables(document) ? null : new Map()));
  let cost = fixed?.get(operationName ?? "");
  if (cost === undefined) {
    const computed = computeCost(schema, document, variables, operationName);
    // Variables that do not fit the operation: execution reports them as BAD_USER_INPUT.
    if (computed === null) return 0;
    if (fixed && fixed.size < 100) fixed.set(operationName ?? "", computed);
    cost = computed;
  }
  if (cost > limits.maxCost) {
    throw new DomainError(ErrorCode.QueryTooComplex, `this operation costs ${cost}, more than the limit of ${limits.maxCost}; ask for smaller pages`, {
      cost,
      limit: limits.maxCost,
    });
  }
  return cost;
}

/** The cost, or null when the variables do not fit the operation. */
function computeCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): number | null {
  try {
    return getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName,
      estimators: [pagedEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    return null;
  }
}
