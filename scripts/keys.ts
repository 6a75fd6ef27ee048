/**
 * npm run keys -- create --workspace acme [--name "CI"]   prints a new key once
 * npm run keys -- revoke <key id | key prefix>            refused from the next request on
 * npm run keys -- list                                    ids, workspaces, prefixes, states
 *
 * Keys are stored only as SHA-256 hashes in the database at SQLITE_PATH.
 */
import "reflect-metadata";
import { runMain } from "./cli";
import { parseArgs } from "node:util";
import { openStore } from "../src/app";
import { loadConfig } from "../src/config";
import { generateApiKey } from "../src/security/api-keys";

const WORKSPACE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { workspace: { type: "string" }, name: { type: "string" } },
  });
  const [command, target] = positionals;
  const store = await openStore(loadConfig());
  try {
    switch (command) {
      case "create": {
        if (!values.workspace || !WORKSPACE.test(values.workspace)) {
          console.error("usage: npm run keys -- create --workspace <name> [--name <label>] (workspace: letters, digits, - and _)");
          return 2;
        }
        const { key, prefix, hash } = generateApiKey();
        const record = await store.createApiKey({ workspaceId: values.workspace, name: values.name ?? null, prefix, hash }, Date.now());
        console.log(JSON.stringify({ id: record.id, workspace: record.workspaceId, key }));
        console.error("Store this key now: it is shown only once. Send it as Authorization: Bearer <key>.");
        return 0;
      }
      case "revoke": {
        if (!target) {
          console.error("usage: npm run keys -- revoke <key id | key prefix>");
          return 2;
        }
        const record = await store.revokeApiKey(target, Date.now());
        if (!record) {
          console.error(`no key ${target}`);
          return 1;
        }
        console.log(JSON.stringify({ id: record.id, workspace: record.workspaceId, revokedAt: new Date(record.revokedAt!).toISOString() }));
        return 0;
      }
      case "list":
        for (const key of await store.listApiKeys()) {
          console.log(
            JSON.stringify({
              id: key.id,
              workspace: key.workspaceId,
              name: key.name,
              prefix: key.prefix,
              createdAt: new Date(key.createdAt).toISOString(),
              revoked: key.revokedAt !== null,
            }),
          );
        }
        return 0;
      default:
        console.error("usage: npm run keys -- create --workspace <name> | revoke <id|prefix> | list");
        return 2;
    }
  } finally {
    await store.close();
  }
}

runMain(main);
