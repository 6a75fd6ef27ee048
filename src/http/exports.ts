/**
 * CSV exports over HTTP (shared/api/http.md): `GET /segments/{segmentId}/members.csv` and
 * `GET /lists/{listId}/contacts.csv[?where=<JSON condition>]`, streamed with back-pressure from
 * keyset pages of the store, so memory stays flat whatever their size.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from "express";
import { badInput } from "../common/errors";
import type { Logger } from "../logger";
import { csvStream } from "../modules/exports/csv-output";
import { type CsvExport, ExportCut } from "../modules/exports/export.service";
import type { Services } from "../services";
import { callerOf } from "./middleware";
import { queryParams, sendCsv, sendDomainError } from "./requests";

function parseWhere(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badInput(`where: not a JSON condition (${(error as Error).message})`, { argument: "where" });
  }
}

export function exportRoutes({ services, logger }: { services: Services; logger: Logger }, guard: RequestHandler[]): Router {
  const router = express.Router();
  const send = (read: (req: Request, res: Response) => Promise<CsvExport>): RequestHandler => (req, res, next) =>
    void read(req, res)
      .then((csv) => sendCsv(res, csv.fileName, csvStream(csv.header, csv.pages), logger, (error) => error instanceof ExportCut))
      .catch((error) => {
        if (!sendDomainError(res, error)) next(error);
      });

  router.get(
    "/segments/:segmentId/members.csv",
    ...guard,
    send(async (req, res) => {
      queryParams(req, []);
      return services.exports.segmentMembers(callerOf(res, services.store), String(req.params.segmentId));
    }),
  );
  router.get(
    "/lists/:listId/contacts.csv",
    ...guard,
    send(async (req, res) => {
      const { where } = queryParams(req, ["where"] as const);
      return services.exports.listContacts(callerOf(res, services.store), String(req.params.listId), parseWhere(where));
    }),
  );
  return router;
}
