/** Pieces the CSV endpoints share: their query parameters, their errors as JSON, CSV answers. */
import { pipeline, type Readable } from "node:stream";
import type { Request, Response } from "express";
import { badInput, DomainError, ErrorCode } from "../common/errors";
import type { Logger } from "../logger";
import { jsonError } from "./json-error";

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.BadUserInput]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
};

/** A domain error as an HTTP answer (BAD_USER_INPUT 400, NOT_FOUND 404, CONFLICT 409); false for any other error. */
export function sendDomainError(res: Response, error: unknown): boolean {
  const status = error instanceof DomainError ? STATUS[error.code] : undefined;
  if (status === undefined) return false;
  const { code, message, details } = error as DomainError;
  jsonError(res, status, code, message, details);
  return true;
}

/** A request's query parameters, each given at most once; any other parameter is BAD_USER_INPUT (a misspelt one must not pass unnoticed). */
export function queryParams<K extends string>(req: Request, known: readonly K[]): Partial<Record<K, string>> {
  const params: Partial<Record<K, string>> = {};
  for (const [name, value] of Object.entries(req.query)) {
    if (!known.includes(name as K)) {
      const takes = known.length === 0 ? "takes no query parameters" : `takes ${known.join(", ")}`;
      throw badInput(`unknown query parameter ${JSON.stringify(name)}: this endpoint ${takes}`, { argument: name });
    }
    if (typeof value !== "string") throw badInput(`the query parameter ${name} is given more than once`, { argument: name });
    params[name as K] = value;
  }
  return params;
}

/**
 * Reads and drops what is left of a request's body, so that the client can read the answer and its
 * kept-alive connection serves its next request. A 'data' listener, unlike a bare `resume()`, keeps
 * the body flowing after a reader that still listens for 'readable' (an import's source iterator,
 * waiting for the next chunk) lets go: Node would leave the stream paused then, and the connection
 * stalled until its keep-alive timeout cut it.
 */
export function dropRestOfBody(req: Request): void {
  if (req.readableEnded) return;
  req.on("data", () => {});
  req.resume();
}

/** A true/false query parameter (absent: false). */
export function flag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "" || value === "true" || value === "1") return true;
  throw badInput(`${name}: expected true or false, got ${JSON.stringify(value.slice(0, 40))}`, { argument: name });
}

/**
 * `attachment; filename="<name>"` for a file-safe name (fileSafe), with the UTF-8 name beside an
 * ASCII one when it has other characters (RFC 6266).
 */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/gu, "_");
  if (ascii === fileName) return `attachment; filename="${fileName}"`;
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * Sends CSV text as an attachment named `fileName`, streamed with back-pressure; a HEAD request
 * gets the headers alone, without a row read. A failure after the first bytes cuts the answer off
 * (and is logged; `expected` failures, such as an export whose segment was deleted, as warnings).
 */
export function sendCsv(res: Response, fileName: string, csv: Readable, logger: Logger, expected?: (error: unknown) => boolean): void {
  res.setHeader("content-type", "text/csv; charset=utf-8");
  res.setHeader("content-disposition", attachment(fileName));
  res.setHeader("cache-control", "no-store");
  if (res.req.method === "HEAD") {
    csv.destroy();
    res.end();
    return;
  }
  pipeline(csv, res, (error) => {
    // A client that leaves before the end is not a failure of the service.
    if (!error || (error as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE") return;
    if (expected?.(error)) logger.warn({ err: error, requestId: res.locals.requestId }, "CSV answer cut off");
    else logger.error({ err: error, requestId: res.locals.requestId }, "CSV answer failed");
  });
}
