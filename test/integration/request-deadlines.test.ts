/**
 * Time bounds on request bodies: a JSON body has REQUEST_TIMEOUT to arrive whole; a CSV upload has
 * no bound on its whole but UPLOAD_IDLE_TIMEOUT between its bytes.
 */
import http from "node:http";
import { CreateListDocument, ImportJobAloneDocument } from "../graphql/generated";
import { startTestServer, stopAll, type TestServer } from "../support/harness";
import { baseUrl, json, openUpload } from "../support/upload";

afterAll(stopAll);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { REQUEST_TIMEOUT: "1s", UPLOAD_IDLE_TIMEOUT: "1s" } });
});

async function importOf(answerText: string) {
  const { importId } = JSON.parse(answerText) as { importId: string };
  return (await server.client.data(ImportJobAloneDocument, { id: importId })).importJob!;
}

describe("request deadlines", () => {
  it("a CSV upload that keeps sending outlives REQUEST_TIMEOUT and ends DONE", async () => {
    const { createContactList } = await server.client.data(CreateListDocument, { input: { name: "Slow upload" } });
    const upload = openUpload(`${baseUrl(server)}/lists/${createContactList.id}/imports`);
    await upload.write("email,country\n");
    // Three seconds of rows, one every half second: three times the JSON bound, never idle a second.
    for (let i = 0; i < 6; i++) {
      await upload.write(`slow${i}@example.com,Norway\n`);
      await sleep(500);
    }
    upload.end();
    const answer = await upload.answer;
    expect(answer.status).toBe(202);
    const job = await importOf(answer.text);
    expect(job).toMatchObject({ status: "DONE", rowsRead: 6, added: 6, failed: 0 });
  });

  it("an upload that goes quiet for UPLOAD_IDLE_TIMEOUT is ended, its job FAILED with the rows so far kept", async () => {
    const { createContactList } = await server.client.data(CreateListDocument, { input: { name: "Stalled upload" } });
    const upload = openUpload(`${baseUrl(server)}/lists/${createContactList.id}/imports`);
    await upload.write("email,country\nfirst@example.com,Norway\nsecond@example.com,Norway\n");
    const started = await upload.started;
    expect(started.status).toBe(202);
    const { importId } = json<{ importId: string }>(started);
    let job = (await server.client.data(ImportJobAloneDocument, { id: importId })).importJob!;
    for (const deadline = Date.now() + 10_000; job.status === "RUNNING" && Date.now() < deadline; await sleep(50)) {
      job = (await server.client.data(ImportJobAloneDocument, { id: importId })).importJob!;
    }
    expect(job.status).toBe("FAILED");
    expect(job.failure).toMatch(/^the upload was interrupted after \d+ bytes: nothing was received for 1 s \(UPLOAD_IDLE_TIMEOUT\)$/);
    // Whatever was read as whole rows is kept; the parser may hold the last line back until more comes.
    expect(job.added).toBeGreaterThanOrEqual(1);
    expect(job.added).toBe(job.rowsRead);
  });

  it("a JSON body still arriving after REQUEST_TIMEOUT has its connection closed", async () => {
    const closed = await new Promise<string>((resolve) => {
      const request = http.request(server.server.url, { method: "POST", headers: { "content-type": "application/json", "content-length": "1000" } });
      request.on("response", (response) => resolve(`answered ${response.statusCode}`));
      request.on("error", (error) => resolve(`closed: ${(error as NodeJS.ErrnoException).code}`));
      request.write('{"query": "');
      // …and nothing more: the server must not wait for the rest forever.
    });
    expect(closed).toMatch(/^closed: (ECONNRESET|EPIPE)|^answered 4\d\d$/);
  });
});
