/**
 * What every API request goes through before its handler, on /graphql and on the CSV endpoints
 * alike: a request id, then the API key (its workspace) and the key's rate limit.
 */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { Caller } from "../caller";
import { ErrorCode } from "../common/errors";
import type { Authenticator, Principal } from "../security/api-keys";
import type { OperationRateLimiter } from "../security/rate-limit";
import { UploadIdle } from "../modules/imports/csv-records";
import type { Store } from "../stores/port";
import { jsonError } from "./json-error";

/** Every request gets its id first, so even a failure before its handler runs can be traced in the log. */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const header = req.headers["x-request-id"];
  const requestId = typeof header === "string" && /^[\w.-]{1,100}$/.test(header) ? header : randomUUID();
  res.locals.requestId = requestId;
  res.setHeader("x-request-id", requestId);
  next();
}

/** Refuses a request without a valid key (401) or over its key's rate (429); otherwise records its principal. */
export function authenticate(authenticator: Authenticator, rateLimiter: OperationRateLimiter): RequestHandler {
  const check = async (req: Request, res: Response, next: NextFunction) => {
    const outcome = await authenticator.authenticate(req.headers.authorization);
    if (!outcome.ok) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="segments"');
      return jsonError(res, 401, ErrorCode.Unauthenticated, outcome.message);
    }
    res.locals.principal = outcome.principal;
    const wait = await rateLimiter.take(outcome.principal.keyId ?? "open");
    if (wait !== null) {
      res.setHeader("Retry-After", String(Math.ceil(wait / 1000)));
      return jsonError(res, 429, ErrorCode.RateLimited, `rate limit reached; retry in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait });
    }
    next();
  };
  return (req, res, next) => void check(req, res, next).catch(next);
}

/** The workspace a request acts for, as `authenticate` found it. */
export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/** A Caller for a request that passed `authenticate`. */
export function callerOf(res: Response, store: Store): Caller {
  return new Caller(store, principalOf(res)!.workspaceId);
}

/** The id `assignRequestId` gave a request. */
export function requestIdOf(res: Response): string {
  return res.locals.requestId as string;
}

/**
 * A bound on the time a request's body may take to arrive, for bodies read whole (JSON). The
 * server itself sets none (`requestTimeout` 0), so that a CSV upload may stream for as long as
 * it keeps sending; uploads have an idle bound instead (`uploadIdle`).
 */
export function bodyDeadline(ms: number): RequestHandler {
  return (req, _res, next) => {
    if (req.complete) return next();
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, ms);
    const done = () => clearTimeout(timer);
    req.once("end", done);
    req.once("close", done);
    next();
  };
}

/** Ends an upload that sends nothing for `ms` (the import then ends FAILED, its rows so far kept). */
export function uploadIdle(ms: number): RequestHandler {
  return (req, _res, next) => {
    req.setTimeout(ms, () => req.destroy(new UploadIdle(`nothing was received for ${ms / 1000} s (UPLOAD_IDLE_TIMEOUT)`)));
    next();
  };
}
