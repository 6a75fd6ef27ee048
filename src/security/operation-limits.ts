/**
 * Limits on what one GraphQL operation may ask for, applied alike over HTTP and WebSocket:
 * tokens (at parse), depth, aliases and directives (validation rules, from graphql-armor), and
 * cost (graphql-query-complexity, with `first` from arguments and variables multiplying).
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { type DocumentNode, type GraphQLError, type GraphQLSchema, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from "graphql";
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

/** Throws QUERY_TOO_COMPLEX when an operation's cost exceeds the limit. */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
  limits: OperationLimits,
): number {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName,
      estimators: [pagedEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    // Variables that do not fit the operation: execution reports them as BAD_USER_INPUT.
    return 0;
  }
  if (cost > limits.maxCost) {
    throw new DomainError(ErrorCode.QueryTooComplex, `this operation costs ${cost}, more than the limit of ${limits.maxCost}; ask for smaller pages`, {
      cost,
      limit: limits.maxCost,
    });
  }
  return cost;
}
