/**
 * An exact cache of query results. A query whose every field is a function of the stored data
 * alone (member pages, a list's segments and their counts, a contact and its history) gives the
 * same result until the next commit to the store, by this process or another. The store's commit
 * generation says when that happens (SQLite: this connection's change count and the file's
 * data_version), so a result is served again only while the generation it was computed at is
 * still the current one: never stale, whatever changed. A store that cannot tell (MongoDB)
 * caches nothing.
 *
 * Fields that depend on the clock or on this process (an age, a member-count series up to now,
 * a preview or an explanation evaluated now, the engine's state, the event log's newest
 * position) make their query uncacheable, as does any type not listed here.
 */
import { type ApolloServerPlugin, type GraphQLRequestListener, HeaderMap } from "@apollo/server";
import {
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from "graphql";
import { LRUCache } from "lru-cache";
import type { Context } from "./context";

/** Types whose fields are stored data (each listed field is checked by a test against the schema). */
export const CACHEABLE_TYPES = new Set([
  "Query",
  "Contact",
  "ContactConnection",
  "ContactEdge",
  "ContactList",
  "ContactListConnection",
  "ContactListEdge",
  "CustomField",
  "PageInfo",
  "Segment",
  "SegmentMembershipEvent",
  "SegmentMembershipEventConnection",
  "SegmentMembershipEventEdge",
]);

/** Fields of those types that are not a function of the stored data alone. */
export const UNCACHEABLE_FIELDS = new Set([
  "Query.explainMembership",
  "Query.importJob",
  "Query.membershipEngine",
  "Query.segmentPreview",
  "Query.webhooks",
  "Contact.age",
  "ContactList.eventCursor",
  "Segment.eventCursor",
  "Segment.memberCountSeries",
]);

/** Fields cacheable unless given these arguments (a condition evaluated now). */
const UNCACHEABLE_ARGUMENTS = new Map([["ContactList.contacts", "where"]]);

const verdicts = new WeakMap<DocumentNode, Map<string, boolean>>();

/** Whether the operation reads stored data only (its fragments included). */
export function isCacheable(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode | undefined): boolean {
  // No operation of that name in the document: graphql-js answers with the error.
  if (!operation || operation.operation !== "query") return false;
  let byOperation = verdicts.get(document);
  if (!byOperation) verdicts.set(document, (byOperation = new Map()));
  const name = operation.name?.value ?? "";
  let verdict = byOperation.get(name);
  if (verdict === undefined) {
    verdict = true;
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          if (node.name.value === "__typename") return;
          const parent = typeInfo.getParentType();
          const coordinate = `${parent?.name}.${node.name.value}`;
          const refused = UNCACHEABLE_ARGUMENTS.get(coordinate);
          if (
            !parent ||
            !CACHEABLE_TYPES.has(parent.name) ||
            UNCACHEABLE_FIELDS.has(coordinate) ||
            (refused !== undefined && node.arguments?.some((argument) => argument.name.value === refused))
          ) {
            verdict = false;
          }
        },
        OperationDefinition(node) {
          // Other operations of the document do not run.
          if (node !== operation) return false;
          return undefined;
        },
      }),
    );
    byOperation.set(name, verdict);
  }
  return verdict;
}

export interface ResponseCacheOptions {
  schema: GraphQLSchema;
  /** The store's commit generation now; null: do not cache. */
  generation: () => string | null;
  /** Bytes of results kept at most (estimated from their JSON). */
  maxBytes?: number;
}

export interface ResponseCacheStats {
  /** Answers served from the cache. */
  hits: number;
  /** Cacheable queries executed (nothing cached for them yet, or a commit since). */
  misses: number;
  /** Results held now. */
  readonly size: number;
}

export function responseCachePlugin(options: ResponseCacheOptions): ApolloServerPlugin<Context> & { stats: ResponseCacheStats } {
  const results = new LRUCache<string, { result: FormattedExecutionResult; bytes: number }>({
    maxSize: options.maxBytes ?? 64 * 1_048_576,
    sizeCalculation: (entry) => entry.bytes,
  });
  let current: string | null = null;
  /** The generation now; every result of an older one is dropped at once. */
  const generationNow = () => {
    let generation: string | null;
    try {
      generation = options.generation();
    } catch {
      // A store that cannot answer: the query runs, and fails or not on its own.
      generation = null;
    }
    if (generation !== current) {
      current = generation;
      results.clear();
    }
    return generation;
  };
  const stats: ResponseCacheStats = {
    hits: 0,
    misses: 0,
    get size() {
      return results.size;
    },
  };
  return {
    stats,
    async requestDidStart(): Promise<GraphQLRequestListener<Context>> {
      let key: string | null = null;
      let computedAt: string | null = null;
      return {
        async responseForOperation({ document, operation, source, request, contextValue }) {
          if (!isCacheable(options.schema, document, operation)) return null;
          computedAt = generationNow();
          if (computedAt === null) return null;
          key = `${contextValue.workspaceId}\u0000${operation.name?.value ?? ""}\u0000${source}\u0000${JSON.stringify(request.variables ?? {})}`;
          const hit = results.get(key);
          if (!hit) {
            stats.misses++;
            return null;
          }
          stats.hits++;
          key = null;
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: "single", singleResult: hit.result } };
        },
        async willSendResponse({ response }) {
          if (key === null || response.body.kind !== "single") return;
          const result = response.body.singleResult;
          // Only a whole answer, computed with nothing committed in between.
          if (result.errors || generationNow() !== computedAt) return;
          results.set(key, { result, bytes: key.length + JSON.stringify(result.data ?? null).length });
        },
      };
    },
  };
}
