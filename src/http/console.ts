/**
 * The console at `/` and the GraphQL IDE at `GET /graphql` (when a browser asks for a page): the
 * files scripts/build-console.ts writes into console/dist, under a Content-Security-Policy that
 * lets a page load scripts, styles and fonts from this origin only (no inline script or style)
 * and connect only to this origin, its WebSocket included.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import { ErrorCode } from "../common/errors";
import { jsonError } from "./json-error";

const dist = join(__dirname, "..", "..", "console", "dist");

/** A Host header that can stand in a policy as it is: a name or an IP address, and a port. */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The WebSocket origins of the page's own host ('self' covers them in current browsers, not in every older one). */
function webSocketOrigins(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && HOST.test(host) ? `ws://${host} wss://${host}` : "'self'";
}

const security = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      // GraphiQL's fonts and icons are data: URLs inside its stylesheet.
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'", "data:"],
      connectSrc: ["'self'", webSocketOrigins],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  // The service is often reached over plain HTTP on a private host; TLS, and HSTS with it, belong to the proxy in front.
  strictTransportSecurity: false,
});

/** A browser navigating to the URL: a GET without parameters that prefers HTML. */
function isPageRequest(req: Request): boolean {
  return req.method === "GET" && Object.keys(req.query).length === 0 && req.accepts(["text/html", "application/json"]) === "text/html";
}

export interface ConsoleOptions {
  /** Whether GET /graphql shows the IDE (off in production unless introspection is on). */
  ide: boolean;
}

/** Mounts the console's routes; call it before the /graphql API so that a browser's page request gets the IDE. */
export function mountConsole(app: Express, { ide }: ConsoleOptions): void {
  const sendPage = async (file: string, res: Response, next: NextFunction) => {
    let html: string;
    try {
      html = await readFile(join(dist, file), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return next(error);
      return jsonError(res, 503, ErrorCode.Unavailable, "the console is not built: run `npm run build:console` (npm start builds it)");
    }
    res.setHeader("cache-control", "no-cache");
    // The console links to the IDE only when it is served.
    res.type("html").send(ide ? html.replace("<html ", '<html data-ide="on" ') : html);
  };
  app.get("/", security, (_req, res, next) => void sendPage("index.html", res, next));
  app.use("/assets", security, express.static(join(dist, "assets"), { immutable: true, maxAge: "365d", index: false }));
  app.get("/graphql", (req, res, next) => {
    if (!isPageRequest(req)) return next();
    if (!ide) return jsonError(res, 404, ErrorCode.NotFound, "the GraphQL IDE is off in production; GRAPHQL_INTROSPECTION=true turns it on");
    security(req, res, (error?: unknown) => (error ? next(error) : void sendPage("ide.html", res, next)));
  });
}
