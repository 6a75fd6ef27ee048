/**
 * Live streams over graphql-ws that survive a lost connection: when the socket drops, the stream
 * subscribes again (backing off from 250 ms to 5 s) with variables asked for afresh, so an event
 * stream resumes with `after:` the last cursor it received (the service replays what happened
 * meanwhile: no gap, no repeat), and a progress stream picks up the state now.
 */
import { type Client, CloseCode, createClient } from "graphql-ws";
import type { TypedDocumentString } from "../gql/graphql";
import { type ApiErrorShape, session, wsUrl } from "./client";

/** connecting: first connection; live: subscribed; reconnecting: the socket dropped, retrying; ended: the stream completed. */
export type LiveStatus = "connecting" | "live" | "reconnecting" | "ended" | "failed";

export interface FollowOptions<TResult> {
  next(data: TResult): void;
  status(status: LiveStatus, detail?: string): void;
}

const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

function isCloseEvent(error: unknown): error is CloseEvent {
  return typeof error === "object" && error !== null && "code" in error && "reason" in error;
}

const messages = (errors: readonly ApiErrorShape[]) => errors.map((error) => error.message).join("; ");

/** Follows a subscription on a connection of its own; `variables` is asked again at each (re)subscription. Returns a function that stops it. */
export function follow<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: () => TVariables, options: FollowOptions<TResult>): () => void {
  let delay = MIN_DELAY_MS;
  let stopped = false;
  let dropped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let unsubscribe = () => {};
  const client: Client = createClient({
    url: wsUrl,
    connectionParams: () => {
      const authorization = session.authorization();
      return authorization ? { authorization } : {};
    },
    // Reconnection is this module's: a new subscription carries fresh variables.
    retryAttempts: 0,
    lazy: true,
    on: {
      connected: () => {
        delay = MIN_DELAY_MS;
        if (!stopped) options.status("live");
      },
    },
  });

  const subscribe = () => {
    if (stopped) return;
    options.status(dropped ? "reconnecting" : "connecting");
    unsubscribe = client.subscribe<TResult>(
      { query: document.toString(), variables: variables() as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) return options.status("failed", messages(result.errors as ApiErrorShape[]));
          if (result.data) options.next(result.data);
        },
        error: (error) => {
          if (stopped) return;
          if (isCloseEvent(error) && error.code === CloseCode.Forbidden) {
            session.onRefused("the service closed the live connection: the API key was refused");
            return options.status("failed", "the API key was refused");
          }
          if (Array.isArray(error)) return options.status("failed", messages(error as ApiErrorShape[]));
          dropped = true;
          options.status("reconnecting");
          retry = setTimeout(subscribe, delay);
          delay = Math.min(delay * 2, MAX_DELAY_MS);
        },
        complete: () => {
          if (!stopped) options.status("ended");
        },
      },
    );
  };
  subscribe();
  return () => {
    stopped = true;
    clearTimeout(retry);
    unsubscribe();
    void client.dispose();
  };
}
