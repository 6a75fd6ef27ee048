/**
 * One http.Server for both transports on /graphql: HTTP POST (Apollo Server via express) and
 * WebSocket (graphql-ws, graphql-transport-ws protocol). Health and readiness live beside them.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from "@apollo/server/plugin/landingPage/default";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type NextFunction, type Request, type Response } from "express";
import type { GraphQLFormattedError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { App } from "./app";
import { type Context, createContext } from "./graphql/context";
import { formatErrors, formatGraphQLError } from "./graphql/errors";
import { buildAppSchema } from "./schema";

export const DEFAULT_WORKSPACE = "default";

export interface RunningServer {
  url: string;
  wsUrl: string;
  port: number;
  httpServer: http.Server;
  /** Stops accepting, lets in-flight requests finish, closes sockets (1001). */
  close(): Promise<void>;
}

function jsonError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

export async function startServer(app: App, listen: { port: number; host: string }): Promise<RunningServer> {
  const { config, logger, services } = app;
  const schema = buildAppSchema();
  const expressApp = express();
  expressApp.disable("x-powered-by");
  const httpServer = http.createServer(expressApp);
  let accepting = true;

  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxBodyBytes });
  const wsCleanup = useServer<Record<string, unknown>, { requestId?: string }>(
    {
      schema,
      context: (ctx): Context => {
        const requestId = randomUUID();
        ctx.extra.requestId = requestId;
        return createContext(services, DEFAULT_WORKSPACE, requestId);
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        const errors = formatErrors(result.errors, {
          production: config.production,
          requestId: ctx.extra.requestId,
          onInternal: (error, requestId) => logger.error({ err: error, requestId }, "internal error"),
        });
        return { ...result, errors } as unknown as typeof result;
      },
      onError: (ctx, _id, _payload, errors) =>
        formatErrors(errors, { production: config.production, requestId: ctx.extra.requestId }) as unknown as typeof errors,
    },
    wsServer,
  );

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted: GraphQLFormattedError, error: unknown) =>
      formatGraphQLError(formatted, error, {
        production: config.production,
        onInternal: (err) => logger.error({ err }, "internal error"),
      }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      config.production ? ApolloServerPluginLandingPageProductionDefault() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
    ],
  });
  await apollo.start();

  expressApp.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  expressApp.get("/readyz", async (_req, res) => {
    try {
      const lag = await app.engine.lag();
      const ready = accepting && lag.pendingChanges < 10_000;
      res.status(ready ? 200 : 503).json({ status: ready ? "ready" : accepting ? "catching up" : "shutting down", engine: lag });
    } catch (error) {
      logger.error({ err: error }, "readiness check failed");
      res.status(503).json({ status: "store unreachable" });
    }
  });

  expressApp.use(
    "/graphql",
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = typeof req.headers["x-request-id"] === "string" ? req.headers["x-request-id"].slice(0, 100) : randomUUID();
        res.setHeader("x-request-id", requestId);
        return createContext(services, DEFAULT_WORKSPACE, requestId);
      },
    }),
  );

  // Body-parser failures (malformed JSON, too large) answer in JSON, not Express's HTML page.
  expressApp.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === "entity.too.large") return jsonError(res, 413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${config.maxBodyBytes} bytes`);
    if (error.type === "entity.parse.failed") return jsonError(res, 400, "BAD_REQUEST", "the request body is not valid JSON");
    if (error.status && error.status >= 400 && error.status < 500) return jsonError(res, error.status, "BAD_REQUEST", error.message ?? "bad request");
    logger.error({ err: error }, "unhandled HTTP error");
    jsonError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(listen.port, listen.host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}/graphql`,
    wsUrl: `ws://${hostForUrl}:${address.port}/graphql`,
    port: address.port,
    httpServer,
    async close() {
      accepting = false;
      await apollo.stop();
    },
  };
}
