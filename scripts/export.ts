/**
 * npm run export -- (--segment <segment id> | --list <list id> [--where '<JSON condition>']) [--workspace <name>] [--out <file.csv>]
 *
 * Writes a segment's members, or a list's contacts (those `--where` selects), as CSV to a file or
 * to standard output: the same rows, columns and escaping as GET /segments/{id}/members.csv and
 * GET /lists/{id}/contacts.csv, streamed from the database the service uses (SQLITE_PATH or
 * MONGODB_URI) a page at a time.
 */
import "reflect-metadata";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { createApp } from "../src/app";
import { Caller } from "../src/caller";
import { DomainError } from "../src/common/errors";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { csvStream } from "../src/modules/exports/csv-output";
import { OPEN_WORKSPACE } from "../src/security/api-keys";
import { runMain } from "./cli";

const USAGE = "usage: npm run export -- (--segment <segment id> | --list <list id> [--where '<JSON condition>']) [--workspace <name>] [--out <file.csv>]";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      segment: { type: "string" },
      list: { type: "string" },
      where: { type: "string" },
      workspace: { type: "string", default: OPEN_WORKSPACE },
      out: { type: "string" },
    },
  });
  if (positionals.length > 0 || (values.segment === undefined) === (values.list === undefined) || (values.where !== undefined && values.list === undefined)) {
    console.error(USAGE);
    return 2;
  }
  let where: unknown;
  try {
    where = values.where === undefined ? undefined : JSON.parse(values.where);
  } catch (error) {
    console.error(`--where: not a JSON condition (${(error as Error).message})`);
    return 2;
  }
  const app = await createApp({ ...loadConfig(), engineEnabled: false }, createLogger("warn"));
  try {
    const ctx = new Caller(app.store, values.workspace!);
    let csv;
    try {
      csv = values.segment !== undefined ? await app.services.exports.segmentMembers(ctx, values.segment) : await app.services.exports.listContacts(ctx, values.list!, where);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      console.error(error.message);
      return 2;
    }
    await pipeline(csvStream(csv.header, csv.pages), values.out ? createWriteStream(values.out) : process.stdout);
    if (values.out) console.error(`wrote ${values.out}`);
    return 0;
  } finally {
    await app.stop();
  }
}

runMain(main);
