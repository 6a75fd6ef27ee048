/**
 * Imports against the service as a separate process (`node src/main.ts`): a 200 MB body without a
 * line break (memory stays flat), a process killed mid-import, and a stop during an upload.
 */
import { readFileSync } from "node:fs";
import { CreateListDocument, ImportJobAloneDocument, LcListDetailDocument } from "../graphql/generated";
import { startTestServer, stopAll } from "../support/harness";
import { killAll, type ServerProcess, spawnServer } from "../support/process";
import { newDatabase, storeEnv } from "../support/stores";
import { json, openUpload } from "../support/upload";

afterAll(async () => {
  await killAll();
  await stopAll();
});

const MIB = 1024 * 1024;

function memoryKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

async function newList(server: ServerProcess) {
  const { createContactList } = await server.client.data(CreateListDocument, { input: { name: "Faults" } });
  return createContactList.id;
}

const importUrl = (server: ServerProcess, listId: string) => `${server.url.replace(/\/graphql$/, "")}/lists/${listId}/imports`;

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("imports against a server process", () => {
  it("a 200 MB body without a line break ends FAILED with a clear error, and the server's memory stays flat", async () => {
    const server = await spawnServer(storeEnv(newDatabase()));
    const listId = await newList(server);
    // A small import first, so that what an import loads once is loaded before the measure.
    const warm = openUpload(importUrl(server, listId));
    warm.end("email\nwarm@example.com\n");
    expect((await warm.answer).status).toBe(202);
    const before = memoryKiB(server.child.pid!, "VmRSS");

    const upload = openUpload(importUrl(server, listId));
    const chunk = Buffer.alloc(MIB, "a");
    for (let sent = 0; sent < 200; sent++) await upload.write(chunk);
    upload.end();
    const answer = await upload.answer;
    const peak = memoryKiB(server.child.pid!, "VmHWM");

    expect(answer.status).toBe(202);
    const { importJob } = await server.client.data(ImportJobAloneDocument, { id: json(answer).importId! });
    expect(importJob).toMatchObject({
      status: "FAILED",
      rowsRead: 0,
      failure: "the first line is longer than 4 MiB, the longest line an import reads: this is not a CSV file with a header row",
    });
    // The server read a line's worth (4 MiB) and dropped the rest as it came: far less than the body.
    expect((peak - before) / 1024).toBeLessThan(64);
    await server.kill("SIGTERM");
  });

  it("a job whose process was killed reads FAILED once its heartbeat is stale; the rows it committed are kept", async () => {
    const dbPath = newDatabase();
    const server = await spawnServer(storeEnv(dbPath));
    const listId = await newList(server);
    const upload = openUpload(importUrl(server, listId));
    await upload.write("email\n");
    for (let i = 0; i < 50; i++) await upload.write(`killed${i}@example.com\n`);
    const { importId } = json(await upload.started);
    const committed = await until(async () => {
      const { importJob } = await server.client.data(ImportJobAloneDocument, { id: importId! });
      return importJob!.rowsRead > 0 ? importJob!.rowsRead : undefined;
    });
    await server.kill("SIGKILL");

    const next = await startTestServer({ dbPath, settings: { importStaleAfterMs: 1_000 } });
    const job = await until(async () => {
      const { importJob } = await next.client.data(ImportJobAloneDocument, { id: importId! });
      return importJob!.status === "RUNNING" ? undefined : importJob!;
    });
    expect(job).toMatchObject({ status: "FAILED", rowsRead: committed, added: committed, failure: "the import stopped without finishing: the process running it ended" });
    const { contactList } = await next.client.data(LcListDetailDocument, { id: listId, first: 1 });
    expect(contactList!.contactCount).toBe(committed);
  });

  it("a stop during an upload waits SHUTDOWN_TIMEOUT for it, then cuts it off: the job ends FAILED before the process exits", async () => {
    const dbPath = newDatabase();
    const server = await spawnServer({ ...storeEnv(dbPath), SHUTDOWN_TIMEOUT: "1s" });
    const listId = await newList(server);
    const upload = openUpload(importUrl(server, listId));
    await upload.write("email\n");
    for (let i = 0; i < 20; i++) await upload.write(`stopped${i}@example.com\n`);
    const { importId } = json(await upload.started);
    await until(async () => ((await server.client.data(ImportJobAloneDocument, { id: importId! })).importJob!.rowsRead > 0 ? true : undefined));
    expect(await server.kill("SIGTERM")).toBe(0);
    expect(server.logs.some((line) => line.includes("requests still running after SHUTDOWN_TIMEOUT were cut off"))).toBe(true);
    expect(server.errorLines()).toEqual([]);

    const next = await startTestServer({ dbPath });
    const { importJob } = await next.client.data(ImportJobAloneDocument, { id: importId! });
    expect(importJob).toMatchObject({ status: "FAILED" });
    expect(importJob!.failure).toMatch(/^the upload was interrupted after [\d,]+ bytes/);
    const { contactList } = await next.client.data(LcListDetailDocument, { id: listId, first: 1 });
    expect(contactList!.contactCount).toBe(importJob!.rowsRead);
  });
});
