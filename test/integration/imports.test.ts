/**
 * CSV imports through the real server: POST /lists/{id}/imports streamed into the real store, the
 * importJob query and importProgress subscription, errors.csv, and every kind of bad input.
 */
import net from "node:net";
import { parse } from "csv-parse/sync";
import {
  CreateListDocument,
  CreateSegmentDocument,
  DeleteListDocument,
  ImportJobAloneDocument,
  ImportJobByIdDocument,
  ImportJobNodeDocument,
  ImportJobWithListDocument,
  ImportProgressDocument,
  LcContactSearchDocument,
  LcListDetailDocument,
  MembershipChangedDocument,
  SegmentCursorDocument,
  UpdateContactDocument,
  UpdateListDocument,
} from "../graphql/generated";
import { startClockedServer, startTestServer, stopAll, type TestServer } from "../support/harness";
import { runScript } from "../support/process";
import { storeEnv } from "../support/stores";
import { type Answer, baseUrl, get, json, keyHeader, openUpload, post } from "../support/upload";
import { streamsOpen } from "../support/ws";

afterAll(stopAll);

let server: TestServer;
let base: string;

beforeAll(async () => {
  server = await startTestServer();
  base = baseUrl(server);
});

const FIELDS = [
  { key: "score", type: "NUMBER" },
  { key: "plan", type: "TEXT" },
  { key: "vip", type: "BOOLEAN" },
  { key: "since", type: "DATE" },
] as const;

async function newList(name = "Imports") {
  const { createContactList } = await server.client.data(CreateListDocument, { input: { name, customFields: [...FIELDS] } });
  const { createSegment } = await server.client.data(CreateSegmentDocument, {
    input: { listId: createContactList.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  });
  return { listId: createContactList.id, segmentId: createSegment.id };
}

const importUrl = (listId: string, query = "") => `${base}/lists/${listId}/imports${query}`;

const requestHead = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\nContent-Length: ${length}\r\n\r\n`;

/** One kept-alive HTTP/1.1 connection written by hand, so that a test decides when each byte of a body is sent. */
async function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((waiter) => waiter());
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => ((received += chunk), wake()));
  socket.on("close", () => ((closed = true), wake()));
  socket.on("error", () => undefined);
  return {
    send: (text: string) => void socket.write(text),
    /** The next whole answer (the server's CSV endpoints answer in chunks, ending with a last empty one). */
    nextAnswer: () =>
      new Promise<Answer>((resolve, reject) => {
        const check = () => {
          const end = received.indexOf("\r\n0\r\n\r\n");
          if (end >= 0) {
            const raw = received.slice(0, end);
            received = received.slice(end + 7);
            waiters.delete(check);
            const [head, body = ""] = raw.split("\r\n\r\n");
            // The body's chunks, their sizes dropped.
            const text = body.split("\r\n").filter((_, i) => i % 2 === 1).join("");
            resolve({ status: Number(head!.split(" ")[1]), headers: {}, text });
          } else if (closed) {
            waiters.delete(check);
            reject(new Error("the server closed the connection before answering"));
          }
        };
        waiters.add(check);
        check();
      }),
    close: () => void socket.destroy(),
  };
}

/** The job of a 202 answer, once it has ended (the answer ends with the job). */
async function jobOf(answer: Answer) {
  expect(answer.status).toBe(202);
  const { importId } = json(answer);
  const { importJob } = await server.client.data(ImportJobByIdDocument, { id: importId!, first: 1000 });
  return importJob!;
}

async function contactsOf(listId: string) {
  const { contactList } = await server.client.data(LcListDetailDocument, { id: listId, first: 500 });
  return new Map(contactList!.contacts.nodes.map((contact) => [contact.email, contact]));
}

function errorOf(answer: Answer) {
  const body = json(answer);
  expect(body.errors).toHaveLength(1);
  return body.errors![0]!;
}

describe("importing a CSV file", () => {
  it("reads every field by its column name, BOM and CRLF included, with quoted separators, quotes and line breaks", async () => {
    const { listId } = await newList();
    const csv =
      "\ufeffE-mail,First Name,last_name,PHONE,Country,city,gender,Birth-Date,tags,score,attributes.plan,VIP,since\r\n" +
      'kari@example.no,Kari,"Nordmann, Jr.",+47 22 00 00 00,Norway,Oslo,female,2001-04-12,vip;newsletter|trial,42,pro,yes,2020-01-31\r\n' +
      'ola@example.no,"Ola ""the great""","Multi\r\nLine",,Sweden,,,,,0.5,,false,\r\n';
    const answer = await post(importUrl(listId), csv);
    const job = await jobOf(answer);
    expect(job).toMatchObject({ status: "DONE", rowsRead: 2, added: 2, updated: 0, failed: 0, failure: null, errors: [] });
    expect(job.bytesRead).toBe(Buffer.byteLength(csv));
    expect(job.bytesTotal).toBe(Buffer.byteLength(csv));
    expect(job.finishedAt).not.toBeNull();
    expect(job.list.id).toBe(listId);

    const contacts = await contactsOf(listId);
    expect(contacts.get("kari@example.no")).toMatchObject({
      firstName: "Kari",
      lastName: "Nordmann, Jr.",
      phone: "+47 22 00 00 00",
      country: "Norway",
      city: "Oslo",
      gender: "female",
      birthDate: "2001-04-12",
      tags: ["vip", "newsletter", "trial"],
      attributes: { score: 42, plan: "pro", vip: true, since: "2020-01-31" },
    });
    expect(contacts.get("ola@example.no")).toMatchObject({ firstName: 'Ola "the great"', lastName: "Multi\r\nLine", country: "Sweden", phone: null, tags: [], attributes: { score: 0.5, vip: false } });
  });

  it("takes ; as the separator when the header line has more of them than commas", async () => {
    const { listId } = await newList();
    const job = await jobOf(await post(importUrl(listId), 'email;firstName;tags\nsemi@example.com;"Semi, Colon";a|b\n'));
    expect(job).toMatchObject({ status: "DONE", added: 1 });
    expect((await contactsOf(listId)).get("semi@example.com")).toMatchObject({ firstName: "Semi, Colon", tags: ["a", "b"] });
  });

  it("moves contacts into segments with one event each, as addContacts does, and the answer comes once they are applied", async () => {
    const { listId, segmentId } = await newList();
    const socket = server.ws();
    const events = socket.subscribe(MembershipChangedDocument, { segmentId });
    await streamsOpen(server.app, 1);
    const rows = Array.from({ length: 120 }, (_, i) => `member${i}@example.com,${i % 3 === 0 ? "Norway" : "Denmark"}`);
    const job = await jobOf(await post(importUrl(listId), `email,country\n${rows.join("\n")}\n`));
    expect(job).toMatchObject({ status: "DONE", added: 120 });
    const { segment } = await server.client.data(SegmentCursorDocument, { id: segmentId });
    expect(segment!.memberCount).toBe(40);
    const received = await events.waitFor(40);
    expect(received.map((event) => event.segmentMembershipChanged.change)).toEqual(new Array(40).fill("ENTERED"));
    expect(received.map((event) => event.segmentMembershipChanged.reason)).toEqual(new Array(40).fill("CONTACT_ADDED"));
  });

  it("with upsert=true, a second run of the same file changes nothing: same contacts, same updatedAt, no event", async () => {
    const { listId, segmentId } = await newList();
    // c@ twice: through Sweden to Chile. A second run passes through Sweden no more than the first.
    const csv = "email,firstName,country,score,tags\na@up.example,Ann,Norway,1,x;y\nb@up.example,Ben,Norway,,\nc@up.example,Cat,Sweden,3,z\nc@up.example,,Chile,,\n";
    expect(await jobOf(await post(importUrl(listId, "?upsert=true"), csv))).toMatchObject({ status: "DONE", added: 3, updated: 1 });
    const before = await contactsOf(listId);
    expect(before.get("c@up.example")).toMatchObject({ firstName: "Cat", country: "Chile" });
    const cursor = (await server.client.data(SegmentCursorDocument, { id: segmentId })).segment!;

    const again = await jobOf(await post(importUrl(listId, "?upsert=true"), csv));
    expect(again).toMatchObject({ status: "DONE", rowsRead: 4, added: 0, updated: 4, failed: 0 });
    expect(await contactsOf(listId)).toEqual(before);
    expect((await server.client.data(SegmentCursorDocument, { id: segmentId })).segment).toEqual(cursor);
  });

  it("with upsert=true, a row changes only the fields of its non-empty cells, and a later row of the same email wins", async () => {
    const { listId } = await newList();
    await jobOf(await post(importUrl(listId), "email,firstName,city,score\nann@example.com,Ann,Oslo,1\n"));
    const job = await jobOf(await post(importUrl(listId, "?upsert=true"), "email,firstName,city,score\nANN@example.com,,Bergen,\nann@example.com,Anne,,7\nnew@example.com,New,,\nnew@example.com,Newer,,\n"));
    expect(job).toMatchObject({ status: "DONE", rowsRead: 4, added: 1, updated: 3, failed: 0 });
    const contacts = await contactsOf(listId);
    expect(contacts.get("ann@example.com")).toMatchObject({ firstName: "Anne", city: "Bergen", attributes: { score: 7 } });
    expect(contacts.get("new@example.com")).toMatchObject({ firstName: "Newer" });
  });

  it("without upsert, a repeat of an email earlier in the file, or of one already in the list, is refused with CONFLICT", async () => {
    const { listId } = await newList();
    await jobOf(await post(importUrl(listId), "email\nold@example.com\n"));
    const job = await jobOf(await post(importUrl(listId), "email,firstName\ndup@example.com,First\nold@example.com,Old\nDUP@example.com,Second\nfine@example.com,Fine\n"));
    expect(job).toMatchObject({ status: "DONE", rowsRead: 4, added: 2, failed: 2 });
    expect(job.errors).toEqual([
      { index: 2, code: "CONFLICT", message: "a contact with the email old@example.com already exists in this list" },
      { index: 3, code: "CONFLICT", message: "the email DUP@example.com repeats row 1" },
    ]);
    expect((await contactsOf(listId)).get("dup@example.com")).toMatchObject({ firstName: "First" });
  });

  it("a repeat in a later batch of a large file is refused too, naming the row, and the rows of every batch are counted", async () => {
    const { listId } = await newList();
    const rows = Array.from({ length: 12_001 }, (_, i) => (i === 12_000 ? "row1@example.com" : `row${i + 1}@example.com`));
    const job = await jobOf(await post(importUrl(listId), `email\n${rows.join("\n")}\n`));
    expect(job).toMatchObject({ status: "DONE", rowsRead: 12_001, added: 12_000, failed: 1 });
    expect(job.errors).toEqual([{ index: 12_001, code: "CONFLICT", message: "a contact with the email row1@example.com already exists in this list" }]);
  });
});

describe("rows with errors", () => {
  it("refuses bad rows by their data row and keeps the others; errors.csv gives every refused row with its cells", async () => {
    const { listId } = await newList("Errors: Q3/Q4");
    const big = "x".repeat(2 * 1024 * 1024);
    const csv =
      "email,firstName,score\n" +
      "good1@example.com,A,1\n" +
      "not-an-email,B,2\n" + // row 2
      '"multi@example.com","Line\nbreak",oops\n' + // row 3, two lines: one row
      "short@example.com\n" + // row 4: ragged, fewer cells
      "long@example.com,C,3,extra\n" + // row 5: ragged, more cells
      `huge@example.com,${big},4\n` + // row 6: a 2 MB cell
      "good2@example.com,=HYPERLINK(1),5\n"; // row 7
    const job = await jobOf(await post(importUrl(listId), csv));
    expect(job).toMatchObject({ status: "DONE", rowsRead: 7, added: 2, failed: 5 });
    expect(job.errors.map(({ index, code }) => [index, code])).toEqual([
      [2, "BAD_USER_INPUT"],
      [3, "BAD_USER_INPUT"],
      [4, "BAD_USER_INPUT"],
      [5, "BAD_USER_INPUT"],
      [6, "BAD_USER_INPUT"],
    ]);
    expect(job.errors.map((error) => error.message)).toEqual([
      'email: "not-an-email" is not a valid email address',
      "attributes.score: expected a number",
      "the row has 1 cell where the header has 3 columns",
      "the row has 4 cells where the header has 3 columns",
      "firstName: at most 1000 characters",
    ]);
    expect([...(await contactsOf(listId)).keys()].sort()).toEqual(["good1@example.com", "good2@example.com"]);
    expect((await server.client.data(ImportJobByIdDocument, { id: job.id, first: 2 })).importJob!.errors.map((error) => error.index)).toEqual([2, 3]);

    const errorsCsv = await get(`${base}/imports/${job.id}/errors.csv`);
    expect(errorsCsv.status).toBe(200);
    expect(errorsCsv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(errorsCsv.headers["content-disposition"]).toBe('attachment; filename="Errors_ Q3_Q4 import errors.csv"');
    const records = parse(errorsCsv.text, { relax_column_count: true }) as string[][];
    expect(records[0]).toEqual(["row", "code", "message", "email", "firstName", "score"]);
    expect(records.slice(1).map((record) => record.slice(0, 2))).toEqual([
      ["2", "BAD_USER_INPUT"],
      ["3", "BAD_USER_INPUT"],
      ["4", "BAD_USER_INPUT"],
      ["5", "BAD_USER_INPUT"],
      ["6", "BAD_USER_INPUT"],
    ]);
    expect(records[1]!.slice(3)).toEqual(["not-an-email", "B", "2"]);
    expect(records[2]!.slice(3)).toEqual(["multi@example.com", "Line\nbreak", "oops"]);
    expect(records[3]!.slice(3)).toEqual(["short@example.com"]);
    expect(records[4]!.slice(3)).toEqual(["long@example.com", "C", "3", "extra"]);
    expect(records[5]![4]).toHaveLength(big.length);
  });

  it("errors.csv escapes cells a spreadsheet would run as formulas", async () => {
    const { listId } = await newList();
    const job = await jobOf(await post(importUrl(listId), 'email,firstName\n"=cmd|\' /C calc\'!A0",@SUM(1)\n'));
    const records = parse((await get(`${base}/imports/${job.id}/errors.csv`)).text) as string[][];
    expect(records[1]!.slice(3)).toEqual(["'=cmd|' /C calc'!A0", "'@SUM(1)"]);
  });
});

describe("files that cannot be imported", () => {
  async function refused(listId: string, body: string | Buffer, failure: RegExp) {
    // Answered as any import is (202 and the job's id): the job has ended FAILED, saying why.
    const answer = await post(importUrl(listId), body);
    expect(answer.status).toBe(202);
    const { importJob } = await server.client.data(ImportJobAloneDocument, { id: json(answer).importId! });
    expect(importJob).toMatchObject({ status: "FAILED", rowsRead: 0, added: 0 });
    expect(importJob!.failure).toMatch(failure);
    expect(importJob!.finishedAt).not.toBeNull();
    expect((await contactsOf(listId)).size).toBe(0);
    return importJob!;
  }

  it("an empty file, or one of blank lines, ends FAILED with nothing imported", async () => {
    const { listId } = await newList();
    await refused(listId, "", /^the file is empty: an import starts with a header row/);
    await refused(listId, "\ufeff", /^the file is empty/);
    await refused(listId, "\n\n\n", /^the file is empty/);
    await refused(listId, ",,\r\n,,\r\n", /^the file has no header row: its first row is blank/);
  });

  it("binary data ends FAILED as not CSV text", async () => {
    const { listId } = await newList();
    await refused(listId, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x65, 0x6d, 0x61, 0x69, 0x6c, 0x0a, 0x00, 0xff]), /not CSV text: it holds binary data/);
    await refused(listId, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("email\n", "utf16le")]), /UTF-16/);
    await refused(listId, Buffer.from([0x65, 0x6d, 0xc3, 0x28, 0x0a]), /not UTF-8 text/);
  });

  it("a body that is not CSV (JSON sent as text/csv) ends FAILED, saying where it stopped", async () => {
    const { listId } = await newList();
    await refused(listId, '{"contacts": [{"email": "a@b.co"}]}', /^the file is not valid CSV at the header row \(line 1\)/);
  });

  it("a header without an email column ends FAILED, naming the columns it has", async () => {
    const { listId } = await newList();
    await refused(listId, "firstName,lastName\nKari,Nordmann\n", /^the header names no email column \(its columns: "firstName", "lastName"\)$/);
  });

  it("a column that names no field is refused before any row (400, naming it); ignoreUnknownColumns=true skips it", async () => {
    const { listId } = await newList();
    const csv = "email,Shoe Size,firstName,\nkari@example.no,38,Kari,\n";
    const answer = await post(importUrl(listId), csv);
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.extensions).toEqual({ code: "BAD_USER_INPUT", columns: ["Shoe Size", ""] });
    expect(error.message).toMatch(/^the header names columns that this list has no field for: "Shoe Size", \(a column without a name\)\./);
    expect((await contactsOf(listId)).size).toBe(0);

    const job = await jobOf(await post(importUrl(listId, "?ignoreUnknownColumns=true"), csv));
    expect(job).toMatchObject({ status: "DONE", added: 1 });
    expect((await contactsOf(listId)).get("kari@example.no")).toMatchObject({ firstName: "Kari", attributes: {} });
  });

  it("a custom field named like an export-only column (id, createdAt) is imported; an export's own id column beside attributes.id is skipped", async () => {
    const { createContactList } = await server.client.data(CreateListDocument, {
      input: { name: "Own ids", customFields: [{ key: "id", type: "TEXT" }, { key: "createdAt", type: "TEXT" }] },
    });
    const listId = createContactList.id;
    expect(await jobOf(await post(importUrl(listId), "email,id,createdAt,updatedAt\nkari@example.no,EXT-1,2020,x\n"))).toMatchObject({ status: "DONE", added: 1 });
    expect((await contactsOf(listId)).get("kari@example.no")!.attributes).toEqual({ id: "EXT-1", createdAt: "2020" });
    const upsert = await post(importUrl(listId, "?upsert=true"), "email,id,attributes.id\nkari@example.no,Q29udGFjdDox,EXT-2\n");
    expect(await jobOf(upsert)).toMatchObject({ status: "DONE", updated: 1 });
    expect((await contactsOf(listId)).get("kari@example.no")!.attributes).toEqual({ id: "EXT-2", createdAt: "2020" });
  });

  it("two columns for one field are refused", async () => {
    const { listId } = await newList();
    const error = errorOf(await post(importUrl(listId), "email,first_name,First Name\n"));
    expect(error).toMatchObject({ message: 'the columns "first_name" and "First Name" both name firstName', extensions: { code: "BAD_USER_INPUT" } });
  });

  it("a line over the size limit ends the job FAILED at that row; the rows before it are kept", async () => {
    const { listId } = await newList();
    const upload = openUpload(importUrl(listId));
    await upload.write("email,firstName\nfirst@example.com,A\nsecond@example.com,B\n");
    const chunk = "y".repeat(1024 * 1024);
    for (let i = 0; i < 6; i++) await upload.write(chunk);
    upload.end("\nlast@example.com,C\n");
    const job = await jobOf(await upload.answer);
    expect(job).toMatchObject({ status: "FAILED", rowsRead: 2, added: 2, failure: "row 3 (line 4) is longer than 4 MiB, the longest row an import reads" });
    expect([...(await contactsOf(listId)).keys()].sort()).toEqual(["first@example.com", "second@example.com"]);
  });

  it("a row that is not UTF-8 (a Windows-1252 ø) ends the job FAILED there; the rows before it are kept, none with replacement characters", async () => {
    const { listId } = await newList();
    const body = Buffer.concat([
      Buffer.from("email,firstName\nfirst@example.com,Åse\nsecond@example.com,Bo\n"),
      Buffer.from([...Buffer.from("third@example.com,Bj"), 0xf8, ...Buffer.from("rn\nfourth@example.com,Dag\n")]),
    ]);
    const at = body.indexOf(0xf8);
    const job = await jobOf(await post(importUrl(listId), body));
    expect(job).toMatchObject({
      status: "FAILED",
      added: 2,
      failure: `the file is not UTF-8 text from byte ${at} on: save it as CSV UTF-8 (the rows before that line are kept)`,
    });
    const contacts = await contactsOf(listId);
    expect([...contacts.keys()].sort()).toEqual(["first@example.com", "second@example.com"]);
    expect(contacts.get("first@example.com")!.firstName).toBe("Åse");

    // Sent in two pieces that split a character: valid. Ending inside one: not.
    const split = Buffer.from("email,firstName\nsplit@example.com,Åse\n");
    const upload = openUpload(importUrl(listId));
    const cut = split.indexOf(Buffer.from("Å")) + 1;
    await upload.write(split.subarray(0, cut));
    await sleep(50);
    upload.end(split.subarray(cut));
    expect(await jobOf(await upload.answer)).toMatchObject({ status: "DONE", added: 1 });
    expect((await contactsOf(listId)).get("split@example.com")!.firstName).toBe("Åse");
    const truncated = await jobOf(await post(importUrl(listId), Buffer.concat([Buffer.from("email,firstName\nlast@example.com,Dag\nend@example.com,"), Buffer.from("Å").subarray(0, 1)])));
    expect(truncated).toMatchObject({ status: "FAILED", added: 1 });
    expect(truncated.failure).toMatch(/^the file is not UTF-8 text from byte \d+ on/);
  });

  it("after a job that failed mid-body, the rest of the body is read and dropped, and the connection serves the next request", async () => {
    const { listId } = await newList();
    const path = new URL(importUrl(listId)).pathname;
    const head = "email\nfirst@example.com\n";
    // Just past the longest row: the job fails with the server waiting for more of the body.
    const before = "y".repeat(4 * 1024 * 1024 + 1024);
    // The rest arrives once the answer has ended; far more than a socket buffers.
    const after = `${"y".repeat(4 * 1024 * 1024)}\nlast@example.com\n`;
    const connection = await rawConnection(base);
    try {
      connection.send(requestHead(path, head.length + before.length + after.length) + head + before);
      const first = await connection.nextAnswer();
      expect(first.status).toBe(202);
      expect(await jobOf(first)).toMatchObject({ status: "FAILED", rowsRead: 1 });
      connection.send(after);
      const next = "email\nnext@example.com\n";
      connection.send(requestHead(path, next.length) + next);
      // A server that left the body unread would never answer this; its keep-alive timeout would close the connection.
      const second = await connection.nextAnswer();
      expect(await jobOf(second)).toMatchObject({ status: "DONE", added: 1 });
    } finally {
      connection.close();
    }
  });

  it("a quote left open to the end of the file ends the job FAILED", async () => {
    const { listId } = await newList();
    const job = await jobOf(await post(importUrl(listId), 'email,firstName\nok@example.com,A\nopen@example.com,"never closed\n'));
    expect(job).toMatchObject({ status: "FAILED", rowsRead: 1, added: 1 });
    expect(job.failure).toMatch(/^the file ends inside a quoted field of row 2/);
  });

  it("bad requests are refused as JSON: another media type, an unknown parameter, a wrong flag, an unknown list", async () => {
    const { listId } = await newList();
    const asJson = await post(importUrl(listId), '{"email":"a@b.co"}', { "content-type": "application/json" });
    expect([asJson.status, errorOf(asJson).extensions.code]).toEqual([400, "BAD_USER_INPUT"]);
    expect(errorOf(asJson).message).toMatch(/Content-Type: text\/csv/);
    const typo = await post(importUrl(listId, "?upsrt=true"), "email\n");
    expect([typo.status, errorOf(typo).message]).toEqual([400, 'unknown query parameter "upsrt": this endpoint takes upsert, ignoreUnknownColumns']);
    const flag = await post(importUrl(listId, "?upsert=maybe"), "email\n");
    expect([flag.status, errorOf(flag).message]).toEqual([400, 'upsert: expected true or false, got "maybe"']);
    const unknown = await post(importUrl(Buffer.from("ContactList:999999").toString("base64url")), "email\nx@example.com\n");
    expect([unknown.status, errorOf(unknown).extensions.code]).toEqual([404, "NOT_FOUND"]);
    expect((await contactsOf(listId)).size).toBe(0);
  });
});

describe("faults during an import", () => {
  it("a custom field added while an upsert import runs keeps its searchable values in the contacts the import updates", async () => {
    const { listId } = await newList();
    await jobOf(await post(importUrl(listId), "email\nkari@example.no\n"));
    const kari = (await contactsOf(listId)).get("kari@example.no")!;
    const upload = openUpload(importUrl(listId, "?upsert=true"));
    await upload.write("email,firstName\nother@example.com,Ola\n");
    // The job has read its list.
    expect((await upload.started).status).toBe(202);
    await server.client.data(UpdateListDocument, { id: listId, input: { addCustomFields: [{ key: "tier", type: "TEXT" }] } });
    await server.client.data(UpdateContactDocument, { id: kari.id, input: { attributes: { tier: "Gold" } } });
    const gold = async () =>
      (await server.client.data(LcContactSearchDocument, { listId, where: { field: "attributes.tier", operator: "EQUALS", value: "gold" }, first: 5 })).contactList!.contacts.nodes.map(
        (contact) => contact.email,
      );
    expect(await gold()).toEqual(["kari@example.no"]);
    upload.end("kari@example.no,Kari\n");
    expect(await jobOf(await upload.answer)).toMatchObject({ status: "DONE", added: 1, updated: 1 });
    expect(await gold()).toEqual(["kari@example.no"]);
    expect((await contactsOf(listId)).get("kari@example.no")).toMatchObject({ firstName: "Kari", attributes: { tier: "Gold" } });
  });

  it("a client that disconnects mid-upload ends the job FAILED; the whole rows read before are kept, the cut one is not", async () => {
    const { listId } = await newList();
    const upload = openUpload(importUrl(listId));
    await upload.write("email,firstName\n");
    for (let i = 0; i < 30; i++) await upload.write(`gone${i}@example.com,Row ${i}\n`);
    await upload.write("cut@example.com,Hal");
    const { importId } = json(await upload.started);
    await waitFor(async () => (await server.client.data(ImportJobAloneDocument, { id: importId! })).importJob!.bytesRead > 0);
    upload.abort();
    const job = await waitForEnd(importId!);
    expect(job).toMatchObject({ status: "FAILED", rowsRead: 30, added: 30 });
    expect(job.failure).toMatch(/^the upload was interrupted after [\d,]+ bytes: the connection closed before the end of the file$/);
    const contacts = await contactsOf(listId);
    expect(contacts.size).toBe(30);
    expect(contacts.has("cut@example.com")).toBe(false);
  });

  it("an import into a list deleted mid-import ends FAILED; the job stays readable and its list is NOT_FOUND", async () => {
    const { listId } = await newList();
    const upload = openUpload(importUrl(listId));
    await upload.write("email\n");
    for (let i = 0; i < 10; i++) await upload.write(`early${i}@example.com\n`);
    const { importId } = json(await upload.started);
    let committed = 0;
    await waitFor(async () => (committed = (await server.client.data(ImportJobAloneDocument, { id: importId! })).importJob!.rowsRead) > 0);
    await server.client.data(DeleteListDocument, { id: listId });
    for (let i = 0; i < 10; i++) await upload.write(`late${i}@example.com\n`);
    upload.end();
    expect((await upload.answer).status).toBe(202);
    const { importJob: job } = await server.client.data(ImportJobAloneDocument, { id: importId! });
    expect(job).toMatchObject({ status: "FAILED", rowsRead: committed, added: committed, failure: "the list was deleted during the import" });
    const withList = await server.client.request(ImportJobWithListDocument, { id: importId! });
    expect(withList.errors?.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
  });
});

describe("following an import", () => {
  it("importProgress sends the job at least every second while it runs, even when nothing moves, then its final state, then completes", async () => {
    const { listId } = await newList();
    const upload = openUpload(importUrl(listId));
    await upload.write("email\n");
    const { importId } = json(await upload.started);
    const socket = server.ws();
    const progress = socket.subscribe(ImportProgressDocument, { id: importId! });
    const arrivals: number[] = [];
    const seen = () => arrivals.push(Date.now());
    const watcher = setInterval(() => {
      while (arrivals.length < progress.events.length) seen();
    }, 5);
    for (let i = 0; i < 5; i++) {
      await upload.write(`p${i}@example.com\n`);
      await sleep(300);
    }
    // Nothing moves for 2.5 s: the stream still sends the job's state.
    const quietFrom = progress.events.length;
    await sleep(2_500);
    const duringQuiet = progress.events.length - quietFrom;
    upload.end("last@example.com\n");
    await progress.done(15_000);
    clearInterval(watcher);
    while (arrivals.length < progress.events.length) seen();

    const states = progress.events.map((event) => event.importProgress);
    expect(progress.errors).toEqual([]);
    expect(duringQuiet).toBeGreaterThanOrEqual(2);
    expect(states.slice(0, -1).every((state) => state.status === "RUNNING")).toBe(true);
    const last = states[states.length - 1]!;
    expect(last).toMatchObject({ status: "DONE", rowsRead: 6, added: 6 });
    expect(last).toEqual((await server.client.data(ImportJobAloneDocument, { id: importId! })).importJob);
    const rows = states.map((state) => state.rowsRead);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    // "At least every second", with room for a busy test machine.
    const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
    expect(Math.max(...gaps)).toBeLessThan(2_000);
  });

  it("importProgress of a finished job sends its final state and completes; an unknown id is NOT_FOUND", async () => {
    const { listId } = await newList();
    const job = await jobOf(await post(importUrl(listId), "email\ndone@example.com\n"));
    const socket = server.ws();
    const progress = socket.subscribe(ImportProgressDocument, { id: job.id });
    await progress.done();
    expect(progress.events.map((event) => event.importProgress.status)).toEqual(["DONE"]);
    const unknown = socket.subscribe(ImportProgressDocument, { id: Buffer.from("ImportJob:999999").toString("base64url") });
    await unknown.done();
    expect(unknown.errors.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
  });

  it("an import job is a Node, and reads as unknown with an id of another type", async () => {
    const { listId } = await newList();
    const job = await jobOf(await post(importUrl(listId), "email\nnode@example.com\n"));
    expect((await server.client.data(ImportJobNodeDocument, { id: job.id })).node).toEqual({ id: job.id, status: "DONE", rowsRead: 1 });
    expect((await server.client.data(ImportJobAloneDocument, { id: listId })).importJob).toBeNull();
  });

  it("a job RUNNING in a process that stopped reads FAILED once its heartbeat is older than the limit", async () => {
    const { listId } = await newList();
    const list = Buffer.from(listId, "base64url").toString().split(":")[1]!;
    // A job as a process that died an hour ago left it: RUNNING, its last heartbeat an hour old.
    const orphan = await server.app.store.createImportJob(
      { workspaceId: "default", listId: list, upsert: false, columns: ["email"], bytesTotal: null, owner: "elsewhere:1" },
      Date.now() - 3_600_000,
      Date.now() - 3_600_000,
    );
    const id = Buffer.from(`ImportJob:${orphan.id}`).toString("base64url");
    const { importJob } = await server.client.data(ImportJobAloneDocument, { id });
    expect(importJob).toMatchObject({ status: "FAILED", failure: "the import stopped without finishing: the process running it ended" });
    expect(importJob!.finishedAt).not.toBeNull();
  });
});

describe("workspaces", () => {
  it("another workspace's list and job read exactly like unknown ones", async () => {
    const isolated = await startTestServer();
    const isolatedBase = baseUrl(isolated);
    const [acme, other] = [await keyHeader(isolated, "acme"), await keyHeader(isolated, "other")];
    // The server notices within a second that keys exist (and so that it no longer runs open).
    await sleep(1_100);
    const acmeClient = isolated.client.withHeaders(acme);
    const { createContactList } = await acmeClient.data(CreateListDocument, { input: { name: "Acme" } });
    const answer = await post(`${isolatedBase}/lists/${createContactList.id}/imports`, "email\nx@acme.example\n", acme);
    const { importId } = json(answer);
    expect(answer.status).toBe(202);

    const refused = await post(`${isolatedBase}/lists/${createContactList.id}/imports`, "email\ny@other.example\n", other);
    expect([refused.status, errorOf(refused).extensions.code]).toEqual([404, "NOT_FOUND"]);
    expect((await isolated.client.withHeaders(other).data(ImportJobAloneDocument, { id: importId! })).importJob).toBeNull();
    const errorsCsv = await get(`${isolatedBase}/imports/${importId}/errors.csv`, other);
    expect([errorsCsv.status, errorOf(errorsCsv).extensions.code]).toEqual([404, "NOT_FOUND"]);
    const progress = isolated.ws(other).subscribe(ImportProgressDocument, { id: importId! });
    await progress.done();
    expect(progress.errors.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
    const anonymous = await post(`${isolatedBase}/lists/${createContactList.id}/imports`, "email\nz@example.com\n");
    expect([anonymous.status, errorOf(anonymous).extensions.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect((await acmeClient.data(ImportJobAloneDocument, { id: importId! })).importJob).toMatchObject({ status: "DONE", added: 1 });
  });
});

describe("npm run import", () => {
  it("imports a file through the same path, printing plain progress lines when not on a terminal", async () => {
    const { listId } = await newList();
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const file = join(server.dir, "cli.csv");
    writeFileSync(file, "email,country\ncli1@example.com,Norway\ncli2@example.com,Sweden\nbad,Norway\n");
    const run = await runScript("import.ts", ["--list", listId, file], storeEnv(server.dbPath));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^import [\w-]+ into "Imports": RUNNING, /m);
    expect(run.stdout).toMatch(/^row 3: BAD_USER_INPUT email: "bad" is not a valid email address$/m);
    expect(run.stdout).toMatch(/^DONE: 3 rows read, 2 added, 0 updated, 1 failed in [\d.]+ s \([\d,]+ rows\/s\)$/m);
    const contacts = await contactsOf(listId);
    expect([...contacts.keys()].sort()).toEqual(["cli1@example.com", "cli2@example.com"]);

    const again = await runScript("import.ts", ["--list", listId, "--upsert", file], storeEnv(server.dbPath));
    expect(again.stdout).toMatch(/^DONE: 3 rows read, 0 added, 2 updated, 1 failed/m);
    const usage = await runScript("import.ts", [file], storeEnv(server.dbPath));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage: npm run import/);
  });
});

describe("retention", () => {
  it("removes an import job with its refused rows once it ended more than IMPORT_RETENTION (30 days) ago, and keeps the newer ones", async () => {
    const clocked = await startClockedServer("2026-03-01T12:00:00.000Z");
    const at = baseUrl(clocked);
    const { createContactList } = await clocked.client.data(CreateListDocument, { input: { name: "Kept", customFields: [] } });
    // 600 refused rows: more than one statement of the store's removal.
    const importOnce = async (n: number) => {
      const answer = await post(`${at}/lists/${createContactList.id}/imports`, `email\n${Array.from({ length: 600 }, (_, i) => `not-an-email-${i}`).join("\n")}\nok${n}@example.com\n`);
      expect(answer.status).toBe(202);
      return json(answer).importId!;
    };
    const jobAt = async (id: string) => (await clocked.client.data(ImportJobAloneDocument, { id })).importJob;
    const errorLines = async (id: string) => {
      const answer = await get(`${at}/imports/${id}/errors.csv`);
      return answer.status === 200 ? answer.text.trimEnd().split("\n").length - 1 : answer.status;
    };

    const old = await importOnce(1);
    expect(await jobAt(old)).toMatchObject({ status: "DONE", failed: 600, finishedAt: "2026-03-01T12:00:00.000Z" });
    await clocked.advanceTo("2026-03-31T12:00:00.000Z");
    const recent = await importOnce(2);
    // Exactly 30 days: kept.
    await clocked.app.engine.housekeep();
    expect(await errorLines(old)).toBe(600);

    await clocked.advanceTo("2026-03-31T12:00:00.001Z");
    await clocked.app.engine.housekeep();
    expect(await jobAt(old)).toBeNull();
    expect(await errorLines(old)).toBe(404);
    expect(await jobAt(recent)).toMatchObject({ status: "DONE", failed: 600 });
    expect(await errorLines(recent)).toBe(600);
    // The contacts an import added are not the job's: they stay.
    const { contactList } = await clocked.client.data(LcListDetailDocument, { id: createContactList.id, first: 10 });
    expect(contactList!.contacts.nodes.map((contact) => contact.email).sort()).toEqual(["ok1@example.com", "ok2@example.com"]);
  });
});

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(20);
  }
}

async function waitForEnd(id: string) {
  let job;
  await waitFor(async () => {
    job = (await server.client.data(ImportJobByIdDocument, { id, first: 100 })).importJob!;
    return job.status !== "RUNNING";
  });
  return job!;
}
