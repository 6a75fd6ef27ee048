/**
 * CSV exports through the real server: GET /segments/{id}/members.csv and /lists/{id}/contacts.csv,
 * their columns, escaping and file names, ?where=, and npm run export.
 */
import http from "node:http";
import { parse } from "csv-parse/sync";
import { AddContactsDocument, type ContactInput, CreateListDocument, CreateSegmentDocument, DeleteSegmentDocument, MemberJoinsDocument, SegmentMembersDocument } from "../graphql/generated";
import { startTestServer, stopAll, type TestServer } from "../support/harness";
import { runScript } from "../support/process";
import { storeEnv } from "../support/stores";
import { type Answer, baseUrl, get, json, keyHeader, post } from "../support/upload";

afterAll(stopAll);

let server: TestServer;
let base: string;

beforeAll(async () => {
  server = await startTestServer();
  base = baseUrl(server);
});

const FIELDS = [
  { key: "score", type: "NUMBER" },
  { key: "vip", type: "BOOLEAN" },
  { key: "since", type: "DATE" },
  { key: "seen", type: "DATETIME" },
  { key: "note", type: "TEXT" },
] as const;
const COLUMNS = ["id", "email", "firstName", "lastName", "phone", "country", "city", "gender", "birthDate", "tags", "createdAt", "updatedAt"];
const ATTRIBUTE_COLUMNS = ["attributes.score", "attributes.vip", "attributes.since", "attributes.seen", "attributes.note"];

async function listWith(name: string, contacts: ContactInput[]) {
  const { createContactList } = await server.client.data(CreateListDocument, { input: { name, customFields: [...FIELDS] } });
  for (let start = 0; start < contacts.length; start += 5_000) {
    const { addContacts } = await server.client.data(AddContactsDocument, { listId: createContactList.id, contacts: contacts.slice(start, start + 5_000) });
    expect(addContacts.errors).toEqual([]);
  }
  return createContactList.id;
}

/** Waits until a segment has computed its members. */
async function untilReady(segmentId: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const { segment } = await server.client.data(SegmentMembersDocument, { id: segmentId, first: 1 });
    if (segment!.status === "READY") return;
    if (Date.now() > deadline) throw new Error("the segment stayed BUILDING");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function rowsOf(answer: Answer): string[][] {
  expect(answer.status).toBe(200);
  return parse(answer.text) as string[][];
}

const KARI = {
  email: "kari@example.no",
  firstName: "Kari",
  lastName: "Nordmann",
  phone: "+47 22 00 00 00",
  country: "Norway",
  city: "Oslo",
  gender: "female",
  birthDate: "2001-04-12",
  tags: ["vip", "newsletter"],
  attributes: { score: -3.5, vip: true, since: "2020-01-31", seen: "2026-05-01T10:00:00.000Z", note: "=1+2" },
};

describe("GET /segments/{id}/members.csv", () => {
  it("streams every member with the list's custom fields as columns and joinedAt, as a file named after the segment", async () => {
    const listId = await listWith("Members", [KARI, { email: "ola@example.no", country: "Norway" }, { email: "sven@example.se", country: "Sweden" }]);
    const { createSegment } = await server.client.data(CreateSegmentDocument, {
      input: { listId, name: 'Norway: "Q3/Q4" ærlig', type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    const answer = await get(`${base}/segments/${createSegment.id}/members.csv`);
    expect(answer.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(answer.headers["content-disposition"]).toBe(`attachment; filename="Norway_ _Q3_Q4_ _rlig.csv"; filename*=UTF-8''Norway_%20_Q3_Q4_%20%C3%A6rlig.csv`);
    const [header, ...rows] = rowsOf(answer);
    expect(header).toEqual([...COLUMNS, ...ATTRIBUTE_COLUMNS, "joinedAt"]);
    expect(rows.map((row) => row[1])).toEqual(["ola@example.no", "kari@example.no"]);
    const kari = Object.fromEntries(header!.map((column, i) => [column, rows[1]![i]]));
    expect(kari).toMatchObject({
      email: "kari@example.no",
      firstName: "Kari",
      phone: "'+47 22 00 00 00",
      birthDate: "2001-04-12",
      tags: "vip;newsletter",
      "attributes.score": "'-3.5",
      "attributes.vip": "true",
      "attributes.since": "2020-01-31",
      "attributes.seen": "2026-05-01T10:00:00.000Z",
      "attributes.note": "'=1+2",
    });
    expect(kari.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const { segment } = await server.client.data(MemberJoinsDocument, { id: createSegment.id });
    expect(rows.map((row) => row[row.length - 1])).toEqual(segment!.members.edges.map((edge) => edge.joinedAt));
  });

  it("an unknown segment, an id of another type, or a query parameter is refused as JSON", async () => {
    const unknown = await get(`${base}/segments/${Buffer.from("Segment:999999").toString("base64url")}/members.csv`);
    expect([unknown.status, json(unknown).errors![0]!.extensions.code]).toEqual([404, "NOT_FOUND"]);
    const listId = await listWith("Not a segment", []);
    expect((await get(`${base}/segments/${listId}/members.csv`)).status).toBe(404);
    const { createSegment } = await server.client.data(CreateSegmentDocument, { input: { listId, name: "All", type: "DYNAMIC", condition: { field: "email", operator: "IS_SET" } } });
    const withParam = await get(`${base}/segments/${createSegment.id}/members.csv?where=%7B%7D`);
    expect([withParam.status, json(withParam).errors![0]!.message]).toEqual([400, 'unknown query parameter "where": this endpoint takes no query parameters']);
  });
});

describe("GET /lists/{id}/contacts.csv", () => {
  it("escapes every cell a spreadsheet would run as a formula (OWASP CSV injection)", async () => {
    const listId = await listWith("Formulas", [
      { email: "f@example.com", firstName: "=HYPERLINK(\"http://x\")", lastName: "+SUM(1)", city: "-2+3", gender: "@cmd", tags: ["=tag"], attributes: { note: "plain" } },
    ]);
    const [header, row] = rowsOf(await get(`${base}/lists/${listId}/contacts.csv`));
    const cells = Object.fromEntries(header!.map((column, i) => [column, row![i]]));
    expect(cells).toMatchObject({ firstName: "'=HYPERLINK(\"http://x\")", lastName: "'+SUM(1)", city: "'-2+3", gender: "'@cmd", tags: "'=tag", "attributes.note": "plain" });
  });

  it("pages through the whole list and a whole segment, newest first, and ?where= selects as contacts(where:) does", async () => {
    const contacts = Array.from({ length: 2_500 }, (_, i) => ({ email: `c${i}@example.com`, country: i % 5 === 0 ? "Norway" : "Denmark", attributes: { score: i } }));
    const listId = await listWith("Many", contacts);
    const [header, ...rows] = rowsOf(await get(`${base}/lists/${listId}/contacts.csv`));
    expect(header).toEqual([...COLUMNS, ...ATTRIBUTE_COLUMNS]);
    expect(rows).toHaveLength(2_500);
    expect(new Set(rows.map((row) => row[0])).size).toBe(2_500);
    expect(rows.map((row) => Number(row[12]))).toEqual(contacts.map((_, i) => 2_499 - i));

    const where = encodeURIComponent(JSON.stringify({ and: [{ field: "country", operator: "EQUALS", value: "norway" }, { field: "attributes.score", operator: "LESS_THAN", value: 100 }] }));
    const [, ...selected] = rowsOf(await get(`${base}/lists/${listId}/contacts.csv?where=${where}`));
    expect(selected.map((row) => row[1])).toEqual(contacts.filter((_, i) => i % 5 === 0 && i < 100).map((contact) => contact.email).reverse());

    // A segment's members page the same way: 2,000 of them, newest first, each once.
    const { createSegment } = await server.client.data(CreateSegmentDocument, {
      input: { listId, name: "Denmark", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Denmark" } },
    });
    await untilReady(createSegment.id);
    const [, ...members] = rowsOf(await get(`${base}/segments/${createSegment.id}/members.csv`));
    expect(members.map((row) => row[1])).toEqual(contacts.filter((_, i) => i % 5 !== 0).map((contact) => contact.email).reverse());
  });

  it("a ?where= that is not JSON or not a valid condition, or an unknown list, is refused as JSON and sends no CSV", async () => {
    const listId = await listWith("Where", []);
    const notJson = await get(`${base}/lists/${listId}/contacts.csv?where=country%3DNorway`);
    expect([notJson.status, json(notJson).errors![0]!.extensions]).toEqual([400, { code: "BAD_USER_INPUT", argument: "where" }]);
    const badCondition = await get(`${base}/lists/${listId}/contacts.csv?where=${encodeURIComponent(JSON.stringify({ and: [{ field: "shoeSize", operator: "EQUALS", value: 1 }] }))}`);
    expect(badCondition.status).toBe(400);
    expect(json(badCondition).errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", conditionPath: "and[0].field" });
    const operator = await get(`${base}/lists/${listId}/contacts.csv?where=${encodeURIComponent(JSON.stringify({ field: "email", operator: "EQUALS", value: { $ne: null } }))}`);
    expect(operator.status).toBe(400);
    const unknown = await get(`${base}/lists/${Buffer.from("ContactList:999999").toString("base64url")}/contacts.csv`);
    expect([unknown.status, json(unknown).errors![0]!.extensions.code]).toEqual([404, "NOT_FOUND"]);
  });

  it("an export imports back into a list with the same fields as the same contacts", async () => {
    const listId = await listWith("Round trip", [KARI, { email: "ola@example.no", firstName: "@Ola", tags: ["a", "b"] }]);
    const exported = await get(`${base}/lists/${listId}/contacts.csv`);
    const copyId = await listWith("Copy", []);
    const imported = await post(`${base}/lists/${copyId}/imports`, exported.text);
    expect(imported.status).toBe(202);
    // Everything but the id and the times, in email order (the import made the file's first row the oldest contact).
    const strip = (text: string) =>
      rowsOf({ ...exported, text })
        .map((row) => [...row.slice(1, 10), ...row.slice(12)])
        .sort((a, b) => a[0]!.localeCompare(b[0]!));
    const again = await get(`${base}/lists/${copyId}/contacts.csv`);
    expect(strip(again.text)).toEqual(strip(exported.text));
  });

  it("a name cut to 100 characters keeps whole characters (an emoji at the cut), and HEAD answers the headers without the rows", async () => {
    const listId = await listWith(`${"a".repeat(99)}😀b`, [KARI]);
    const answer = await get(`${base}/lists/${listId}/contacts.csv`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-disposition"]).toBe(`attachment; filename="${"a".repeat(99)}_.csv"; filename*=UTF-8''${"a".repeat(99)}%F0%9F%98%80.csv`);
    // HEAD reads no page of the store (counted on the real store's method).
    const { store } = server.app;
    const pageContacts = store.pageContacts;
    let pagesRead = 0;
    store.pageContacts = (...args) => ((pagesRead += 1), pageContacts.apply(store, args));
    try {
      const head = await fetch(`${base}/lists/${listId}/contacts.csv`, { method: "HEAD" });
      expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([200, "text/csv; charset=utf-8", ""]);
      expect(pagesRead).toBe(0);
      expect((await get(`${base}/lists/${listId}/contacts.csv`)).status).toBe(200);
      expect(pagesRead).toBe(1);
    } finally {
      store.pageContacts = pageContacts;
    }
  });

  it("a segment still computing its members is refused with CONFLICT, as JSON", async () => {
    const paused = await startTestServer({ settings: { segmentSettleMs: 0 } });
    const { createContactList } = await paused.client.data(CreateListDocument, { input: { name: "Paused" } });
    await paused.client.data(AddContactsDocument, { listId: createContactList.id, contacts: [KARI] });
    await paused.app.engine.stop();
    const { createSegment } = await paused.client.data(CreateSegmentDocument, {
      input: { listId: createContactList.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    expect(createSegment.status).toBe("BUILDING");
    const answer = await get(`${baseUrl(paused)}/segments/${createSegment.id}/members.csv`);
    expect(answer.status).toBe(409);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(json(answer).errors![0]).toMatchObject({ message: "the segment is still computing its members; export it once it is READY", extensions: { code: "CONFLICT" } });
  });

  it("a segment deleted while its export streams cuts the answer off, so that no client takes it for the whole file", async () => {
    const contacts = Array.from({ length: 40_000 }, (_, i) => ({ email: `cut${i}@example.com`, country: "Norway" }));
    const listId = await listWith("Cut", contacts);
    const { createSegment } = await server.client.data(CreateSegmentDocument, {
      input: { listId, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    });
    await untilReady(createSegment.id);
    const outcome = await new Promise<{ complete: boolean; lines: number }>((resolve, reject) => {
      http
        .get(`${base}/segments/${createSegment.id}/members.csv`, (response) => {
          let lines = 0;
          response.once("data", (first: Buffer) => {
            lines += first.toString().split("\n").length - 1;
            // Held back until the segment is gone; the server waits on the socket meanwhile.
            response.pause();
            void server.client.data(DeleteSegmentDocument, { id: createSegment.id }).then(() => response.resume(), reject);
            response.on("data", (chunk: Buffer) => (lines += chunk.toString().split("\n").length - 1));
          });
          response.on("close", () => resolve({ complete: response.complete, lines }));
        })
        .on("error", reject);
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.lines).toBeLessThan(40_001);
    // The server goes on serving.
    expect((await get(`${base}/lists/${listId}/contacts.csv?where=${encodeURIComponent(JSON.stringify({ field: "email", operator: "EQUALS", value: "cut1@example.com" }))}`)).status).toBe(200);
  });

  it("a client that leaves mid-export is no failure: the server goes on serving", async () => {
    const listId = await listWith("Leaving", Array.from({ length: 5_000 }, (_, i) => ({ email: `leave${i}@example.com`, firstName: "x".repeat(200) })));
    await new Promise<void>((resolve, reject) => {
      const request = http.get(`${base}/lists/${listId}/contacts.csv`, (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
      });
      request.on("error", (error) => (request.destroyed ? resolve() : reject(error)));
    });
    const [, ...rows] = rowsOf(await get(`${base}/lists/${listId}/contacts.csv`));
    expect(rows).toHaveLength(5_000);
  });

  it("another workspace's list and segment read as unknown ones", async () => {
    const isolated = await startTestServer();
    const isolatedBase = baseUrl(isolated);
    const [acme, other] = [await keyHeader(isolated, "acme"), await keyHeader(isolated, "other")];
    const acmeClient = isolated.client.withHeaders(acme);
    const { createContactList } = await acmeClient.data(CreateListDocument, { input: { name: "Acme" } });
    const { createSegment } = await acmeClient.data(CreateSegmentDocument, { input: { listId: createContactList.id, name: "All", type: "DYNAMIC", condition: { field: "email", operator: "IS_SET" } } });
    expect((await get(`${isolatedBase}/lists/${createContactList.id}/contacts.csv`, acme)).status).toBe(200);
    expect((await get(`${isolatedBase}/segments/${createSegment.id}/members.csv`, acme)).status).toBe(200);
    expect((await get(`${isolatedBase}/lists/${createContactList.id}/contacts.csv`, other)).status).toBe(404);
    expect((await get(`${isolatedBase}/segments/${createSegment.id}/members.csv`, other)).status).toBe(404);
  });
});

describe("npm run export", () => {
  it("writes the same CSV as the HTTP export, of a segment or of a list with --where", async () => {
    const listId = await listWith("CLI", [KARI, { email: "cli@example.se", country: "Sweden" }]);
    const { createSegment } = await server.client.data(CreateSegmentDocument, { input: { listId, name: "Sweden", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Sweden" } } });
    const env = storeEnv(server.dbPath);
    const segment = await runScript("export.ts", ["--segment", createSegment.id], env);
    expect(segment.code).toBe(0);
    expect(segment.stdout).toBe((await get(`${base}/segments/${createSegment.id}/members.csv`)).text);
    const where = JSON.stringify({ field: "country", operator: "EQUALS", value: "Norway" });
    const list = await runScript("export.ts", ["--list", listId, "--where", where], env);
    expect(list.stdout).toBe((await get(`${base}/lists/${listId}/contacts.csv?where=${encodeURIComponent(where)}`)).text);
    expect(parse(list.stdout)).toHaveLength(2);
    const unknown = await runScript("export.ts", ["--segment", listId], env);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, `Segment ${listId} does not exist`]);
  });
});
