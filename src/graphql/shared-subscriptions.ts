/**
 * Subscriptions executed once per event, not once per subscriber. Every subscriber of a list
 * receives the same events; those sending the same document (and the same values for variables
 * that its payload selection reads) in the same workspace get the same result, so one
 * execution serves them all. With thousands of subscribers this turns thousands of executions
 * per event into one; each subscriber still gets its own message.
 */
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  Kind,
  type OperationDefinitionNode,
  parse,
  type ParseOptions,
  type SelectionSetNode,
  visit,
} from "graphql";
import { createSourceEventStream } from "graphql/execution/subscribe";
import type { Context } from "./context";

/** Parsed documents by source text: subscribers sending the same text share one AST. */
export class DocumentCache {
  private readonly documents = new Map<string, DocumentNode>();

  constructor(
    private readonly options: ParseOptions,
    private readonly limit = 1_000,
  ) {}

  parse(source: string): DocumentNode {
    let document = this.documents.get(source);
    if (!document) {
      document = parse(source, this.options);
      if (this.documents.size >= this.limit) this.documents.delete(this.documents.keys().next().value!);
      this.documents.set(source, document);
    }
    return document;
  }
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;

/** The variables a subscription's payload selection reads (not those only given to the root field). */
const payloadVariables = new WeakMap<DocumentNode, Map<string | undefined, string[]>>();

function variablesUnderRoot(document: DocumentNode, operationName: string | undefined): string[] {
  let byOperation = payloadVariables.get(document);
  if (!byOperation) payloadVariables.set(document, (byOperation = new Map()));
  let names = byOperation.get(operationName);
  if (!names) {
    const found = new Set<string>();
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (operationName === undefined || d.name?.value === operationName),
    );
    const collect = (selectionSet: SelectionSetNode | undefined) =>
      selectionSet &&
      visit(selectionSet, {
        Variable: (node) => {
          found.add(node.name.value);
        },
      });
    for (const selection of operation?.selectionSet.selections ?? []) {
      if (selection.kind === Kind.FIELD) collect(selection.selectionSet);
    }
    // Fragments may read variables too.
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) collect(definition.selectionSet);
    names = [...found].sort();
    byOperation.set(operationName, names);
  }
  return names;
}

export interface ResultCacheOptions {
  /** How long a result is kept at least; at most twice that. */
  windowMs?: number;
  /** Results kept at most per window; more start the next window early. */
  limit?: number;
  now?: () => number;
}

/**
 * Recent results by (document, operation, workspace, payload variables, event). A result is
 * needed while the subscribers of its event are being served, which happens within one wake-up
 * of their streams, so results are kept in two generations that turn over every `windowMs`:
 * each lives between one and two windows. A result is dropped sooner once as many subscribers
 * have taken it as shared its key when it was made, and one no other subscriber shares is not
 * kept at all, so that under a steady stream of events they die young instead of being copied
 * by every young-generation collection. A subscriber that asks later (one that joined since, one
 * replaying the log, one whose socket held it back) executes the event again. A fixed number of
 * results would, under load, hold tens of megabytes for events long delivered.
 */
export class ResultCache {
  private current = new Map<string, CachedResult>();
  private previous = new Map<string, CachedResult>();
  private turnedAt: number;
  private readonly windowMs: number;
  private readonly limit: number;
  private readonly now: () => number;

  constructor(options: ResultCacheOptions = {}) {
    this.windowMs = options.windowMs ?? 1_000;
    this.limit = options.limit ?? 10_000;
    this.now = options.now ?? performance.now.bind(performance);
    this.turnedAt = this.now();
  }

  /** The result for `key`, run once for the `sharers` subscribers that may ask for it. */
  get(key: string, sharers: number, run: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const now = this.now();
    if (now - this.turnedAt >= this.windowMs || this.current.size >= this.limit) {
      // Two windows idle: nothing kept is still wanted.
      this.previous = now - this.turnedAt >= 2 * this.windowMs ? new Map() : this.current;
      this.current = new Map();
      this.turnedAt = now;
    }
    let entry = this.current.get(key) ?? this.previous.get(key);
    if (!entry) {
      entry = { result: run(), untaken: sharers };
      this.current.set(key, entry);
    }
    if (--entry.untaken <= 0) {
      this.current.delete(key);
      this.previous.delete(key);
    }
    return entry.result;
  }

  /** Results held (for tests). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

interface CachedResult {
  result: Promise<ExecutionResult>;
  /** How many of the subscribers that shared its key when it was made have not taken it yet. */
  untaken: number;
}

export function sharedSubscribe(cache = new ResultCache()): (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  /** Live subscriptions per result key prefix. */
  const sharers = new Map<string, number>();
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
    const iterator = (source as AsyncIterable<{ seq: number }>)[Symbol.asyncIterator]();
    let documentId = documentIds.get(args.document);
    if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
    const names = variablesUnderRoot(args.document, args.operationName ?? undefined);
    const variables = names.map((name) => args.variableValues?.[name]);
    const workspace = (args.contextValue as Context).workspaceId;
    const prefix = `${documentId}|${args.operationName ?? ""}|${workspace}|${JSON.stringify(variables)}|`;
    sharers.set(prefix, (sharers.get(prefix) ?? 0) + 1);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const left = sharers.get(prefix)! - 1;
      if (left === 0) sharers.delete(prefix);
      else sharers.set(prefix, left);
    };
    const resultOf = (event: { seq: number }) =>
      cache.get(prefix + event.seq, sharers.get(prefix) ?? 1, async () => execute({ ...args, rootValue: event }) as ExecutionResult);
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        let step: IteratorResult<{ seq: number }>;
        try {
          step = await iterator.next();
        } catch (error) {
          end();
          throw error;
        }
        if (step.done) end();
        return step.done ? step : { value: await resultOf(step.value), done: false };
      },
      async return() {
        end();
        return (await iterator.return?.()) ?? { value: undefined, done: true };
      },
      async throw(error: unknown) {
        end();
        if (iterator.throw) return iterator.throw(error);
        throw error;
      },
    } as AsyncIterableIterator<ExecutionResult>;
  };
}
