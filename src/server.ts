/**
 * One http.Server for both transports on /graphql: HTTP POST (Apollo Server via express) and
 * WebSocket (graphql-ws, graphql-transport-ws protocol). Health and readiness live beside them.
 */
import cluster from "node:cluster";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type NextFunction, type Request, type Response } from "express";
import type { GraphQLFormattedError } from "graphql";
import type { App } from "./app";
import { DomainError, ErrorCode } from "./common/errors";
import { takeConnectionsFromPrimary } from "./cluster";
import { isLoopback } from "./config";
import { serveFairly } from "./fair-admission";
import { type MetricsSource, metricsSource } from "./metrics";
import { RequestDrain } from "./request-drain";
import { type Context, createContext } from "./graphql/context";
import { formatGraphQLError, toGraphQLError } from "./graphql/errors";
import { responseCachePlugin } from "./graphql/response-cache";
import { attachWebSocketServer } from "./graphql/ws-server";
import { mountConsole } from "./http/console";
import { exportRoutes } from "./http/exports";
import { importRoutes } from "./http/imports";
import { jsonError } from "./http/json-error";
import { assignRequestId, authenticate, bodyDeadline, uploadIdle } from "./http/middleware";
import { buildAppSchema } from "./schema";
import { Authenticator, type Principal } from "./security/api-keys";
import { checkCost, type OperationLimits, validationRules } from "./security/operation-limits";
import { OperationRateLimiter } from "./security/rate-limit";
import type { Services } from "./services";

export interface RunningServer {
  url: string;
  wsUrl: string;
  port: number;
  httpServer: http.Server;
  /**
   * Stops serving, in order: turns unready (and waits SHUTDOWN_DELAY), stops accepting, lets the
   * requests in flight finish (their connections are closed after SHUTDOWN_TIMEOUT), stops the
   * engine (its step committed, its lease released), lets subscribers receive the events already
   * committed, and closes WebSockets with 1001. Resolves with whether every request finished in
   * time. Calling it again returns the same stop.
   */
  close(): Promise<{ requestsFinished: boolean }>;
}

export class StartupRefused extends Error {}

/**
 * Waits, until `deadline`, for every subscription stream to have taken the events the feed
 * holds (each waits for more once it has), then for one more turn, in which their last
 * messages are written.
 */
async function subscribersCaughtUp(services: Services, deadline: number): Promise<void> {
  while (services.feed.waiting < services.events.activeStreams && Date.now() < deadline) await sleep(2);
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Where connections come from: the server's own listener on `port` and `host`, or, in a cluster's
 * serving worker (`fromPrimary`), the primary, which accepts them on that port and hands them
 * over (cluster.ts). Such a worker's server still listens, on a loopback port of its own that
 * nobody is told of: Node tracks a server's connections (request timeouts, closing the idle
 * ones on stop) only once it listens.
 */
export interface Listen {
  port: number;
  host: string;
  fromPrimary?: boolean;
}

export async function startServer(app: App, listen: Listen): Promise<RunningServer> {
  const { config, logger, services } = app;
  const openModeAllowed = isLoopback(listen.host);
  const authenticator = new Authenticator(app.store, openModeAllowed);
  if (await authenticator.isOpen()) {
    logger.warn(
      "NO API KEY EXISTS: the API is open to anyone who can reach " +
        `${listen.host}:${listen.port}. Create a key with \`npm run keys -- create --workspace <name>\` to require keys.`,
    );
  } else if (!openModeAllowed && (await app.store.countApiKeys()) === 0) {
    throw new StartupRefused(
      `refusing to start: HOST=${listen.host} is not a loopback address and no API key exists. ` +
        "Create one with `npm run keys -- create --workspace <name>`, or bind to 127.0.0.1.",
    );
  }

  const schema = buildAppSchema();
  const limits: OperationLimits = { ...config.limits, introspection: config.introspection };
  const rateLimiter = new OperationRateLimiter(app.store.sharedLimits(), config.limits.ratePerSecond);
  const expressApp = express();
  expressApp.disable("x-powered-by");
  // No bound on a whole request: a CSV upload streams for as long as it sends. JSON bodies have
  // REQUEST_TIMEOUT (bodyDeadline), uploads UPLOAD_IDLE_TIMEOUT between bytes (uploadIdle).
  const httpServer = http.createServer({ requestTimeout: 0 });
  const drain = new RequestDrain(httpServer);
  serveFairly(httpServer, expressApp);
  let ready = true;

  const ws = attachWebSocketServer({ httpServer, schema, services, config, logger, authenticator, rateLimiter, limits });

  const operationLimits: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          try {
            checkCost(schema, document, request.variables, request.operationName ?? undefined, limits);
          } catch (error) {
            if (error instanceof DomainError) throw toGraphQLError(error, 400);
            throw error;
          }
        },
      };
    },
  };
  const requestLog: ApolloServerPlugin<Context> = {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const original = error.originalError ?? error;
            if (!(original instanceof DomainError) && !error.extensions?.code) {
              logger.error({ err: original, requestId: contextValue.requestId }, "internal error");
            }
          }
        },
        async willSendResponse({ response, operationName }) {
          const body = response.body;
          if (body.kind === "single" && body.singleResult.errors) {
            // Internal errors carry the request id that is also in the log.
            body.singleResult.errors = body.singleResult.errors.map((error) =>
              error.extensions?.code === ErrorCode.Internal ? { ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } } : error,
            );
          }
          logger.info(
            {
              transport: "http",
              requestId: contextValue.requestId,
              operationName,
              workspace: contextValue.workspaceId,
              durationMs: Math.round(performance.now() - started),
              errors: body.kind === "single" ? (body.singleResult.errors?.length ?? 0) : 0,
            },
            "operation",
          );
        },
      };
    },
  };

  const responseCache = responseCachePlugin({ schema, generation: () => app.store.commitGeneration() });
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    hideSchemaDetailsFromClientErrors: !config.introspection,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: validationRules(limits),
    formatError: (formatted: GraphQLFormattedError, error: unknown) =>
      formatGraphQLError(formatted, error, { production: config.production, hideSuggestions: !config.introspection }),
    // The service stops on SIGTERM / SIGINT itself (main.ts), in its own order. Apollo's handler
    // would call stop() beside it, and a second stop() waiting for the first never returns.
    stopOnTerminationSignals: false,
    plugins: [
      // No HTTP caching of GraphQL responses here; without it Apollo skips a hook per resolved field.
      ApolloServerPluginCacheControlDisabled(),
      operationLimits,
      requestLog,
      responseCache,
      // The IDE is the console's (src/http/console.ts), served from here rather than a CDN.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  expressApp.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  expressApp.get("/readyz", async (_req, res) => {
    if (!ready) return void res.status(503).json({ status: "shutting down" });
    try {
      const lag = await app.engine.lag();
      const caughtUp = lag.pendingChanges < 10_000;
      res.status(caughtUp ? 200 : 503).json({ status: caughtUp ? "ready" : "catching up", engine: lag });
    } catch (error) {
      logger.error({ err: error }, "readiness check failed");
      res.status(503).json({ status: "store unreachable" });
    }
  });

  if (config.metrics) {
    // Made with the server in a cluster worker (the primary may ask for its figures at any time),
    // otherwise at the first scrape: its event-loop monitor runs from then on.
    let metrics: MetricsSource | undefined = cluster.isWorker ? metricsSource(app, responseCache.stats) : undefined;
    expressApp.get("/metrics", async (_req, res, next) => {
      try {
        metrics ??= metricsSource(app, responseCache.stats);
        const text = await metrics.metrics();
        res.setHeader("content-type", metrics.contentType);
        res.end(text);
      } catch (error) {
        next(error);
      }
    });
  }

  const guard = [assignRequestId, authenticate(authenticator, rateLimiter)];
  mountConsole(expressApp, { ide: !config.production || config.introspection });
  expressApp.use(
    "/graphql",
    ...guard,
    bodyDeadline(config.requestTimeoutMs),
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const principal = res.locals.principal as Principal | undefined;
        return createContext(services, principal?.workspaceId ?? "", res.locals.requestId as string);
      },
    }),
  );

  // The CSV endpoints beside /graphql (shared/api/http.md): their bodies are streamed, never parsed as JSON.
  expressApp.use(importRoutes({ services, logger }, [...guard, uploadIdle(config.uploadIdleTimeoutMs)]), exportRoutes({ services, logger }, guard));

  // Body-parser failures (malformed JSON, too large) answer in JSON, not Express's HTML page.
  expressApp.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === "entity.too.large") return jsonError(res, 413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${config.maxBodyBytes} bytes`);
    if (error.type === "entity.parse.failed") return jsonError(res, 400, "BAD_REQUEST", "the request body is not valid JSON");
    if (error.status && error.status >= 400 && error.status < 500) return jsonError(res, error.status, "BAD_REQUEST", error.message ?? "bad request");
    const requestId = res.locals.requestId as string | undefined;
    logger.error({ err: error, requestId }, "internal error");
    jsonError(res, 500, ErrorCode.Internal, "Internal server error", requestId ? { requestId } : {});
  });
  expressApp.use((_req: Request, res: Response) => jsonError(res, 404, "NOT_FOUND", "no such path; the API is at /graphql"));

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    if (listen.fromPrimary) httpServer.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => resolve());
    else httpServer.listen(listen.port, listen.host, () => resolve());
  });
  const handOff = listen.fromPrimary ? takeConnectionsFromPrimary(httpServer) : null;
  const address = httpServer.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const closed = new Promise<void>((resolve) => httpServer.once("close", resolve));
  let closing: Promise<{ requestsFinished: boolean }> | null = null;
  const close = async () => {
    ready = false;
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    handOff?.stopTaking();
    const requestsFinished = await drain.close(config.shutdownTimeoutMs);
    if (!requestsFinished) logger.warn({ timeoutMs: config.shutdownTimeoutMs }, "stopping: requests still running after SHUTDOWN_TIMEOUT were cut off");
    // Imports whose uploads were cut off write how they ended before the store closes.
    await services.imports.idle();
    await app.engine.stop();
    await subscribersCaughtUp(services, Date.now() + 1_000);
    await ws.dispose();
    await apollo.stop();
    await closed;
    return { requestsFinished };
  };
  return {
    url: `http://${hostForUrl}:${address.port}/graphql`,
    wsUrl: `ws://${hostForUrl}:${address.port}/graphql`,
    port: address.port,
    httpServer,
    close: () => (closing ??= close()),
  };
}
