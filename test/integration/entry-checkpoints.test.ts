/**
 * WAL checkpoints in the service started as `npm start` starts it (`node -r @swc-node/register
 * src/main.ts`). The checkpoint worker runs in a thread with a small heap; a module preloaded
 * into the parent must not be loaded into it too, or the worker dies at start-up and every
 * checkpoint runs inside a commit on the event loop again.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AddContactsDocument, CreateListDocument } from "../graphql/generated";
import { stopAll, tempDir } from "../support/harness";
import { killAll, spawnServer } from "../support/process";
import { walStats } from "../support/wal";

afterAll(async () => {
  await killAll();
  await stopAll();
});

describe("the service's WAL checkpoints", () => {
  it("run on the worker: between writes the WAL is checkpointed and started over, and no error is logged", async () => {
    const dbPath = join(tempDir(), "entry.db");
    const server = await spawnServer({ SQLITE_PATH: dbPath });
    const { createContactList: list } = await server.client.data(CreateListDocument, { input: { name: "Checkpoints" } });
    const before = walStats(dbPath).restarts;
    // Far fewer pages than the commit's own checkpoint threshold (10,000): only the worker can
    // have checkpointed them. Each pause gives it time to (it runs every 100 ms).
    for (let batch = 0; batch < 6; batch++) {
      const contacts = Array.from({ length: 200 }, (_, i) => ({ email: `c${batch}-${i}@example.com`, country: "Norway" }));
      const { addContacts } = await server.client.data(AddContactsDocument, { listId: list.id, contacts });
      expect(addContacts.added).toBe(200);
      await sleep(250);
    }
    expect(walStats(dbPath).restarts - before).toBeGreaterThanOrEqual(3);
    // The worker's failure would be an error line ("WAL checkpoint worker failed …"); none is logged.
    expect(server.errorLines()).toEqual([]);
    await server.kill("SIGTERM");
  });
});
