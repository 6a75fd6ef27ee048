/**
 * graphql-ws on the shared http.Server. graphql-ws runs outside Apollo, so every protection is
 * wired here again: authentication at connection_init, connection and subscription caps, rate
 * limits, token/depth/alias/cost limits, error masking, logging, and closing the sockets of
 * revoked keys.
 */
import { ConnectionLimit } from "../security/connection-limit";
import { randomUUID } from "node:crypto";
import type http from "node:http";
import { type ExecutionArgs, GraphQLError, type GraphQLSchema, specifiedRules, validate } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { type WebSocket, WebSocketServer } from "ws";
import { DomainError, ErrorCode } from "../common/errors";
import type { Config } from "../config";
import type { Logger } from "../logger";
import type { Authenticator, Principal } from "../security/api-keys";
import { checkCost, type OperationLimits, validationRules } from "../security/operation-limits";
import type { OperationRateLimiter } from "../security/rate-limit";
import type { Services } from "../services";
import { type Context, createContext } from "./context";
import { formatErrors, toGraphQLError } from "./errors";
import { DocumentCache, sharedSubscribe } from "./shared-subscriptions";

/** Close codes beyond graphql-ws's own. */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
export const CLOSE_KEY_REVOKED = CloseCode.Forbidden;

type Extra = {
  socket: WebSocket;
  request: http.IncomingMessage;
  principal?: Principal;
  /** The key its connection is counted against. */
  connectionKey?: string;
};

export interface WebSocketDeps {
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  config: Config;
  logger: Logger;
  authenticator: Authenticator;
  rateLimiter: OperationRateLimiter;
  limits: OperationLimits;
}

export interface WebSocketServerHandle {
  /**
   * Closes every connection with 1001 (Going away) and stops the server; a client that has not
   * answered its close frame after `graceMs` is disconnected.
   */
  dispose(graceMs?: number): Promise<void>;
}

export function attachWebSocketServer(deps: WebSocketDeps): WebSocketServerHandle {
  const { httpServer, schema, services, config, logger, authenticator, rateLimiter, limits } = deps;
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxBodyBytes });
  const rules = [...specifiedRules, ...validationRules(limits)];
  const documents = new DocumentCache({ maxTokens: limits.maxTokens });
  const connections = new ConnectionLimit(services.store.sharedLimits(), config.limits.maxConnectionsPerKey, (error) =>
    logger.error({ err: error }, "counting connections in the store failed"),
  );
  const principals = new Map<WebSocket, Principal>();
  const formatting = (requestId?: string) => ({
    production: config.production,
    hideSuggestions: !config.introspection,
    requestId,
    onInternal: (error: unknown, id: string | undefined) => logger.error({ err: error, requestId: id }, "internal error"),
  });
  const refuse = (error: DomainError) => [toGraphQLError(error)];
  wsServer.on("connection", (socket: WebSocket, request: http.IncomingMessage) => coalesceSends(socket, request.socket));

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      // graphql-ws masks its own close reasons by this, not by NODE_ENV, when told.
      isProd: config.production,
      subscribe: sharedSubscribe(),
      onConnect: async (ctx) => {
        let outcome;
        try {
          outcome = await authenticator.authenticate(ctx.connectionParams?.authorization);
        } catch (error) {
          const requestId = randomUUID();
          logger.error({ err: error, requestId, transport: "ws" }, "internal error");
          ctx.extra.socket.close(CloseCode.InternalServerError, `Internal server error (request ${requestId})`);
          return false;
        }
        if (!outcome.ok) {
          logger.info({ transport: "ws" }, `connection refused: ${outcome.message}`);
          return false; // closes with 4403 Forbidden
        }
        const key = outcome.principal.keyId ?? "open";
        if (!(await connections.open(key))) {
          ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, "Too many connections for this API key");
          return false;
        }
        ctx.extra.connectionKey = key;
        ctx.extra.principal = outcome.principal;
        // graphql-ws keeps the upgrade request (headers, stream state) for the connection's life;
        // nothing reads it after admission, so each idle subscriber lets it go.
        (ctx.extra as { request?: unknown }).request = undefined;
        principals.set(ctx.extra.socket, outcome.principal);
        return true;
      },
      onClose: (ctx) => {
        principals.delete(ctx.extra.socket);
        const key = ctx.extra.connectionKey;
        if (key === undefined) return;
        ctx.extra.connectionKey = undefined;
        connections.close(key);
      },
      onSubscribe: async (ctx, _id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const principal = ctx.extra.principal!;
        // Counted before any await: operations sent together would otherwise all count each other and all be refused.
        if (Object.keys(ctx.subscriptions).length > config.limits.maxSubscriptionsPerConnection) {
          return refuse(
            new DomainError(ErrorCode.RateLimited, `at most ${config.limits.maxSubscriptionsPerConnection} operations at once per connection`),
          );
        }
        const wait = await rateLimiter.take(principal.keyId ?? "open");
        if (wait !== null) {
          return refuse(new DomainError(ErrorCode.RateLimited, `rate limit reached; retry in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait }));
        }
        let document;
        try {
          document = documents.parse(payload.query);
        } catch (error) {
          // Syntax errors (the token limit included) carry the code Apollo gives them over HTTP.
          if (!(error instanceof GraphQLError)) {
            const originalError = error instanceof Error ? error : undefined;
            return [new GraphQLError(String(error), { originalError, extensions: { code: "GRAPHQL_PARSE_FAILED" } })];
          }
          return [new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: "GRAPHQL_PARSE_FAILED" } })];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors;
        try {
          checkCost(schema, document, payload.variables ?? undefined, payload.operationName ?? undefined, limits);
        } catch (error) {
          if (error instanceof DomainError) return refuse(error);
          throw error;
        }
        const requestId = randomUUID();
        const contextValue: Context = createContext(services, principal.workspaceId, requestId);
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      },
      onOperation: (_ctx, _id, payload, args) => {
        const context = args.contextValue as Context;
        logger.info({ transport: "ws", requestId: context.requestId, operationName: payload.operationName, workspace: context.workspaceId }, "operation");
        return undefined;
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const errors = formatErrors(result.errors, formatting((args.contextValue as Context).requestId));
        return { ...result, errors } as unknown as typeof result;
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors, formatting()) as unknown as typeof errors,
    },
    wsServer,
  );

  // A revoked key loses its open sockets within a second (and so does open mode, once a key exists).
  const watcher = setInterval(async () => {
    if (principals.size === 0) return;
    const keyed = [...principals].filter(([, principal]) => principal.keyId !== null);
    try {
      // Sockets admitted while the service ran open must not outlive open mode once a key exists.
      if (keyed.length < principals.size && !(await authenticator.isOpen())) {
        for (const [socket, principal] of principals) if (principal.keyId === null) socket.close(CLOSE_KEY_REVOKED, "An API key is now required");
      }
      if (keyed.length === 0) return;
      const active = new Set(await services.store.activeApiKeyIds([...new Set(keyed.map(([, p]) => p.keyId!))]));
      for (const [socket, principal] of keyed) {
        if (!active.has(principal.keyId!)) socket.close(CLOSE_KEY_REVOKED, "API key revoked");
      }
    } catch (error) {
      logger.error({ err: error }, "checking API keys of open connections failed");
    }
  }, 1_000);
  watcher.unref();

  return {
    async dispose(graceMs = 2_000) {
      clearInterval(watcher);
      const cut = setTimeout(() => {
        for (const socket of wsServer.clients) socket.terminate();
      }, graceMs);
      try {
        await server.dispose();
      } finally {
        clearTimeout(cut);
        await connections.dispose().catch((error) => logger.error({ err: error }, "forgetting this process's connection counts failed"));
      }
    },
  };
}

/**
 * Bytes a socket may hold unsent before a message's sender waits for the write itself. graphql-ws
 * sends a subscription's next message only once the previous one's write callback has run; below
 * this mark the callback runs right away instead, so a change's events for one subscription
 * leave together (see coalesceSends), and a slow reader still holds its sender back once this much
 * waits for it.
 */
export const WRITE_BEHIND_BYTES = 64 * 1024;

/**
 * A socket's first message in a turn of the event loop is written at once; those that follow it
 * in the same turn (the other events of the change, the other subscriptions of the connection)
 * are corked and leave together once the turn's callbacks have run (process.nextTick), instead of
 * costing a system call each. The first is not held back: at a fan-out, where thousands of
 * sockets send one message each in the same turn, corking kept every socket's frame alive to the
 * end of the turn, and the garbage collector copied them all. A sender's callback runs at once
 * while the socket holds less than WRITE_BEHIND_BYTES unsent and is open; otherwise when the
 * bytes are written, as usual.
 */
export function coalesceSends(socket: WebSocket, tcp: http.IncomingMessage["socket"]): void {
  const send = socket.send.bind(socket) as (data: unknown, options: object, cb?: (error?: Error) => void) => void;
  // 0: nothing sent this turn; 1: one message, written at once; 2: corked until the turn ends.
  let state = 0;
  const endOfTurn = () => {
    if (state === 2) tcp.uncork();
    state = 0;
  };
  type Callback = (error?: Error) => void;
  socket.send = ((data: unknown, optionsOrCallback?: object | Callback, callback?: Callback) => {
    const options = typeof optionsOrCallback === "function" ? {} : (optionsOrCallback ?? {});
    const done = typeof optionsOrCallback === "function" ? (optionsOrCallback as Callback) : callback;
    if (state === 0) {
      state = 1;
      process.nextTick(endOfTurn);
    } else if (state === 1) {
      state = 2;
      tcp.cork();
    }
    if (done === undefined || socket.readyState !== socket.OPEN || socket.bufferedAmount >= WRITE_BEHIND_BYTES) return send(data, options, done);
    // A write that fails later closes the socket, which graphql-ws handles as a close.
    send(data, options);
    queueMicrotask(() => done());
  }) as WebSocket["send"];
}
