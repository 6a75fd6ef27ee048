import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { Socket } from "node:net";
import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import type { GraphQLErrorShape } from "./client";

export interface Subscription<T> {
  /** Every `next` payload's data, in arrival order. */
  readonly events: T[];
  readonly errors: GraphQLErrorShape[];
  readonly completed: boolean;
  /** Resolves once `count` events have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves when the server completes the stream or sends an error. */
  done(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

export interface SubscriptionClient {
  client: Client;
  subscribe<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables?: TVariables): Subscription<TData>;
  dispose(): Promise<void>;
}

function until(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out: ${describe()}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** The real graphql-ws client over the ws package. */
export function openSubscriptions(url: string, connectionParams?: Record<string, unknown>): SubscriptionClient {
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  return {
    client,
    subscribe<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables?: TVariables): Subscription<TData> {
      const events: TData[] = [];
      const errors: GraphQLErrorShape[] = [];
      let completed = false;
      const stop = client.subscribe<TData>(
        { query: print(document), variables: variables as Record<string, unknown> | undefined },
        {
          next: (result) => {
            if (result.errors) errors.push(...(result.errors as GraphQLErrorShape[]));
            if (result.data) events.push(result.data);
          },
          error: (error) => {
            errors.push(...(Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? error) }]));
            completed = true;
          },
          complete: () => {
            completed = true;
          },
        },
      );
      return {
        events,
        errors,
        get completed() {
          return completed;
        },
        async waitFor(count, timeoutMs = 10_000) {
          await until(() => events.length >= count || errors.length > 0, timeoutMs, () => `${events.length} of ${count} events`);
          if (errors.length > 0 && events.length < count) throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
          return events;
        },
        done(timeoutMs = 10_000) {
          return until(() => completed, timeoutMs, () => "the stream to complete");
        },
        unsubscribe: stop,
      };
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

/** Waits until the server has `count` subscription streams open (so later writes reach them). */
export function streamsOpen(app: { services: { events: { activeStreams: number } } }, count: number, timeoutMs = 5_000): Promise<void> {
  return until(() => app.services.events.activeStreams >= count, timeoutMs, () => `${app.services.events.activeStreams} of ${count} streams open`);
}

/** Counts the socket writes (write or writev calls) whose bytes contain `marker`, until stopped. */
export function countWrites(marker: string) {
  const writes: number[] = [];
  const proto = Socket.prototype as unknown as {
    _write: (chunk: Buffer | string, encoding: BufferEncoding, cb: () => void) => void;
    _writev: (chunks: { chunk: Buffer | string }[], cb: () => void) => void;
  };
  const { _write, _writev } = proto;
  const occurrences = (chunks: (Buffer | string)[]) => chunks.map((chunk) => chunk.toString().split(marker).length - 1).reduce((a, b) => a + b, 0);
  proto._write = function (chunk, encoding, cb) {
    const n = occurrences([chunk]);
    if (n > 0) writes.push(n);
    return _write.call(this, chunk, encoding, cb);
  };
  proto._writev = function (chunks, cb) {
    const n = occurrences(chunks.map((c) => c.chunk));
    if (n > 0) writes.push(n);
    return _writev.call(this, chunks, cb);
  };
  return {
    writes,
    stop() {
      proto._write = _write;
      proto._writev = _writev;
    },
  };
}
