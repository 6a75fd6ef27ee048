/**
 * npm run import -- --list <list id> <file.csv | file.jsonl> [--upsert] [--batch 5000]
 *
 * Bulk-loads contacts into a list on the same database as a running server (SQLITE_PATH).
 * It only writes; the server's membership engine applies the changes and publishes the events.
 * CSV columns: email, firstName, lastName, phone, country, city, gender, birthDate, tags
 * (separated by ";"), and attributes.<key> for custom fields.
 */
import "reflect-metadata";
import { runMain } from "./cli";
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "csv-parse";
import { createApp } from "../src/app";
import { Caller } from "../src/caller";
import { loadConfig } from "../src/config";
import { catalogOf, type FieldCatalog } from "../src/conditions";
import type { ContactInputShape } from "../src/domain/contacts";
import { findList } from "../src/modules/lists/list.service";
import { createLogger } from "../src/logger";
import { OPEN_WORKSPACE } from "../src/security/api-keys";

/** A CSV row as a contact; custom-field cells are read as their declared type. */
function fromCsvRow(row: Record<string, string>, catalog: FieldCatalog): ContactInputShape {
  const fields: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(row)) {
    if (raw === "") continue;
    if (column === "tags") {
      fields.tags = raw.split(";").map((tag) => tag.trim()).filter(Boolean);
    } else if (column.startsWith("attributes.")) {
      const key = column.slice("attributes.".length);
      const type = catalog.get(key);
      attributes[key] = type === "NUMBER" ? Number(raw) : type === "BOOLEAN" ? raw.toLowerCase() === "true" : raw;
    } else {
      fields[column] = raw;
    }
  }
  return { ...fields, attributes } as ContactInputShape;
}

async function* records(file: string, catalog: FieldCatalog): AsyncGenerator<ContactInputShape> {
  if (file.endsWith(".jsonl") || file.endsWith(".ndjson")) {
    const { createInterface } = await import("node:readline");
    for await (const line of createInterface({ input: createReadStream(file) })) if (line.trim()) yield JSON.parse(line);
    return;
  }
  for await (const row of createReadStream(file).pipe(parse({ columns: true, trim: true, bom: true }))) yield fromCsvRow(row, catalog);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { list: { type: "string" }, upsert: { type: "boolean", default: false }, batch: { type: "string", default: "5000" }, workspace: { type: "string", default: OPEN_WORKSPACE } },
  });
  const file = positionals[0];
  if (!values.list || !file) {
    console.error("usage: npm run import -- --list <list id> <file.csv | file.jsonl> [--upsert] [--batch 5000]");
    return 2;
  }
  const batchSize = Number(values.batch);
  const config = { ...loadConfig(), engineEnabled: false };
  const app = await createApp(config, createLogger("warn"), { settings: { writeSettleMs: 0 } });
  const ctx = new Caller(app.store, values.workspace!);
  const list = await findList(ctx, values.list);
  if (!list) {
    await app.stop();
    console.error(`no list ${values.list} in workspace ${values.workspace}`);
    return 2;
  }
  let [added, updated, failed, seen] = [0, 0, 0, 0];
  const flush = async (batch: ContactInputShape[]) => {
    const result = await app.services.contacts.addMany(ctx, values.list!, batch, values.upsert!);
    for (const error of result.errors) console.error(`row ${seen + error.index + 1}: ${error.code} ${error.message}`);
    added += result.added;
    updated += result.updated;
    failed += result.errors.length;
    seen += batch.length;
  };
  try {
    let batch: ContactInputShape[] = [];
    for await (const record of records(file, catalogOf(list.customFields))) {
      batch.push(record);
      if (batch.length >= batchSize) {
        await flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await flush(batch);
  } finally {
    await app.stop();
  }
  console.log(JSON.stringify({ rows: seen, added, updated, failed }));
  return failed > 0 ? 1 : 0;
}

runMain(main);
