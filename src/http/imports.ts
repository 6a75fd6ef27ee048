/**
 * CSV imports over HTTP (shared/api/http.md): `POST /lists/{listId}/imports` with the file as the
 * body, and `GET /imports/{importId}/errors.csv`. The body is streamed into the import as it
 * arrives (express.json never sees it). The answer, 202 with the job's id, is sent once the header
 * is read and ends when the last row is committed: a stop of the service waits for a running import
 * as for any request, and a client that reads the answer to its end knows the job has ended.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from "express";
import { badInput } from "../common/errors";
import { toGlobalId } from "../common/ids";
import type { Logger } from "../logger";
import { UploadInterrupted } from "../modules/imports/csv-records";
import { csvStream, fileSafe } from "../modules/exports/csv-output";
import type { Services } from "../services";
import { callerOf, requestIdOf } from "./middleware";
import { dropRestOfBody, flag, queryParams, sendCsv, sendDomainError } from "./requests";

/** What a CSV file may be sent as (browsers and spreadsheets label CSV in several ways); no type at all is taken too. */
const CSV_TYPES = new Set(["text/csv", "text/plain", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel", "application/octet-stream"]);

function checkMediaType(req: Request): void {
  const type = req.headers["content-type"]?.split(";")[0]!.trim().toLowerCase();
  if (type && !CSV_TYPES.has(type)) {
    throw badInput(`send the CSV file itself as the body, with Content-Type: text/csv (not ${type.slice(0, 60)})`, { contentType: type });
  }
}

function contentLength(req: Request): number | null {
  const header = req.headers["content-length"];
  return header && /^\d{1,15}$/.test(header) ? Number(header) : null;
}

export function importRoutes({ services, logger }: { services: Services; logger: Logger }, guard: RequestHandler[]): Router {
  const router = express.Router();

  const upload = async (req: Request, res: Response) => {
    const requestId = requestIdOf(res);
    const ctx = callerOf(res, services.store);
    let started;
    try {
      checkMediaType(req);
      const params = queryParams(req, ["upsert", "ignoreUnknownColumns"] as const);
      started = await services.imports.start(ctx, String(req.params.listId), req, {
        upsert: flag(params.upsert, "upsert"),
        ignoreUnknownColumns: flag(params.ignoreUnknownColumns, "ignoreUnknownColumns"),
        bytesTotal: contentLength(req),
        onInternalError: (error) => logger.error({ err: error, requestId }, "internal error in an import"),
      });
    } catch (error) {
      // The client is gone: there is no one to answer.
      if (error instanceof UploadInterrupted) return;
      dropRestOfBody(req);
      if (!sendDomainError(res, error)) throw error;
      return;
    }
    // A job that could not read on from its header (not CSV, no email column …) has ended FAILED
    // already: it is answered like any other, its job saying why (shared/api/http.md).
    const importId = toGlobalId("ImportJob", started.job.id);
    res.status(202).type("application/json");
    res.write(JSON.stringify({ importId }));
    const job = await started.finished;
    logger.info({ requestId, workspace: ctx.workspaceId, importId, status: job.status, rowsRead: job.rowsRead, failed: job.failed }, "import");
    // A job that failed before the end of the body leaves the rest unread.
    dropRestOfBody(req);
    res.end();
  };

  const errorsCsv = async (req: Request, res: Response) => {
    queryParams(req, []);
    const ctx = callerOf(res, services.store);
    const job = await services.imports.require(ctx, String(req.params.importId));
    const [list] = await services.store.getLists([job.listId]);
    const pages = (async function* () {
      for await (const errors of services.imports.allErrors(job)) yield errors.map((error) => [String(error.row), error.code, error.message, ...error.cells]);
    })();
    sendCsv(res, `${fileSafe(list?.name ?? "", "import")} import errors.csv`, csvStream(["row", "code", "message", ...job.columns], pages), logger);
  };

  const handle = (run: (req: Request, res: Response) => Promise<void>): RequestHandler => (req, res, next) =>
    void run(req, res).catch((error) => {
      if (!sendDomainError(res, error)) next(error);
    });

  router.post("/lists/:listId/imports", ...guard, handle(upload));
  router.get("/imports/:importId/errors.csv", ...guard, handle(errorsCsv));
  return router;
}
