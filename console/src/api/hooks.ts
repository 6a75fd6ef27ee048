/** Preact hooks over the typed client: a query's state, and a live stream's. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { TypedDocumentString } from "../gql/graphql";
import { ApiError, request } from "./client";
import { follow, type LiveStatus } from "./live";

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Reads again, keeping the current data on screen meanwhile. */
  reload(): void;
}

/** Runs a query when its variables change (compared as JSON); `skip` holds it back. */
export function useQuery<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, skip = false): QueryState<TResult> {
  const [state, setState] = useState<{ data?: TResult; error?: ApiError; loading: boolean }>({ loading: !skip });
  const [version, setVersion] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (skip) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    (request as (doc: TypedDocumentString<TResult, TVariables>, vars: TVariables) => Promise<TResult>)(document, variables).then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState((previous) => ({ data: previous.data, error: toApiError(error), loading: false })),
    );
    return () => {
      current = false;
    };
  }, [document, key, version, skip]);
  const reload = useCallback(() => setVersion((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError([{ message: error instanceof Error ? error.message : String(error) }], 0);
}

/**
 * Follows an event stream from `after` while the component shows it: each event's cursor becomes
 * the `after` of a resubscription. Starts once `variables` and `after` are known, and again when
 * the variables change.
 */
export function useFollow<TResult, TVariables extends { after?: string | null }>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: Omit<TVariables, "after"> | null,
  after: string | undefined,
  cursorOf: (data: TResult) => string,
  onEvent: (data: TResult) => void,
): { status: LiveStatus; detail?: string } {
  const [status, setStatus] = useState<{ status: LiveStatus; detail?: string }>({ status: "connecting" });
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (!variables || after === undefined) return;
    let cursor = after;
    return follow(document, () => ({ ...variables, after: cursor }) as TVariables, {
      next: (data) => {
        cursor = cursorOf(data);
        handler.current(data);
      },
      status: (next, detail) => setStatus({ status: next, detail }),
    });
    // `after` is where the stream starts; later cursors are the stream's own.
  }, [document, key, after === undefined]);
  return status;
}
