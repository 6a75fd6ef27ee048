/**
 * Authentication and workspace isolation over HTTP and graphql-ws: open mode only on loopback,
 * keys from the real CLI, refusal of missing / invalid / revoked keys, keys stored only as
 * hashes, and another workspace's ids behaving exactly like ids that do not exist.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import Database from "better-sqlite3";
import { print } from "graphql";
import { toGlobalId } from "../../../src/common/ids";
import { generateApiKey } from "../../../src/security/api-keys";
import { StartupRefused } from "../../../src/server";
import {
  AddContactDocument,
  AddContactsDocument,
  ContactByIdDocument,
  CreateListDocument,
  CreateSegmentDocument,
  DeleteContactDocument,
  DeleteListDocument,
  DeleteSegmentDocument,
  ListByIdDocument,
  ListContactsDocument,
  ListsDocument,
  MembershipChangedDocument,
  type MembershipChangedSubscription,
  NodeByIdDocument,
  PreviewDocument,
  SecWorkspaceSnapshotDocument,
  type SecWorkspaceSnapshotQuery,
  SegmentByIdDocument,
  UpdateContactDocument,
  UpdateListDocument,
  UpdateSegmentDocument,
} from "../../graphql/generated";
import type { GraphQLErrorShape, GraphQLTestClient } from "../../support/client";
import { startTestServer, stopAll, tempDir, type TestServer } from "../../support/harness";
import { killAll, runScript, spawnServer } from "../../support/process";
import { streamsOpen, type Subscription, type SubscriptionClient } from "../../support/ws";
import { openStoreAt } from "../../support/stores";

afterAll(async () => {
  await killAll();
  await stopAll();
});

type Result<T> = { status?: number; data?: T | null; errors?: GraphQLErrorShape[] };

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const codes = (result: { errors?: GraphQLErrorShape[] }) => (result.errors ?? []).map((error) => error.extensions?.code);

/** Waits for a probe to return something other than undefined, failing after the timeout. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects when the promise has not settled within the timeout. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The close code of the socket behind a graphql-ws client (listen before connecting). */
function closeCodeOf(socket: SubscriptionClient): Promise<number> {
  return new Promise((resolve) => {
    const off = socket.client.on("closed", (event) => {
      off();
      resolve((event as { code: number }).code);
    });
  });
}

/** Runs one operation over a graphql-ws connection; a closed socket reads as an error naming its code. */
function wsOnce<T>(socket: SubscriptionClient, query: string, variables?: Record<string, unknown>): Promise<Result<T>> {
  return new Promise((resolve) => {
    let result: Result<T> = {};
    socket.client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          result = { data: value.data, errors: value.errors as GraphQLErrorShape[] | undefined };
        },
        error: (error) => {
          if (Array.isArray(error)) return resolve({ errors: error as GraphQLErrorShape[] });
          const code = (error as { code?: number })?.code;
          resolve({ errors: [{ message: `socket closed (${code})`, extensions: { code: `SOCKET_CLOSED_${code}` } }] });
        },
        complete: () => resolve(result),
      },
    );
  });
}

/** Posts a raw body to the GraphQL endpoint. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  let json: Result<Record<string, unknown>> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** A plain GET with any headers and an optional body (fetch refuses bodies on GET). */
function rawGet(url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "GET", headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** Row counts of a table, read beside the running server (WAL lets readers in). */
function countRows(dbPath: string, table: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function storeKey(server: TestServer, workspaceId: string): Promise<{ key: string; id: string; hash: string }> {
  const { key, prefix, hash } = generateApiKey();
  const record = await server.app.store.createApiKey({ workspaceId, name: null, prefix, hash }, Date.now());
  return { key, id: record.id, hash };
}

const listsQuery = "{ contactLists(first: 50) { totalCount nodes { id name } } }";
const createListMutation = 'mutation { createContactList(input: { name: "intruder" }) { id } }';

describe("open mode: no key exists", () => {
  let server: TestServer;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    server = await startTestServer({ logs });
  });

  it("on loopback, HTTP requests without Authorization are served", async () => {
    const created = await server.client.data(CreateListDocument, { input: { name: "Quick start" } });
    const read = await server.client.data(ListByIdDocument, { id: created.createContactList.id });
    expect(read.contactList?.name).toBe("Quick start");
  });

  it("on loopback, graphql-ws operations without connectionParams are served", async () => {
    const result = await wsOnce<{ contactLists: { totalCount: number } }>(server.ws(), listsQuery);
    expect(result.errors).toBeUndefined();
    expect(result.data?.contactLists.totalCount).toBeGreaterThanOrEqual(1);
  });

  it("the log carries a loud warning that the API is open to anyone who can reach it", () => {
    const warnings = logs.filter((line) => (line.level as number) >= 40 && /NO API KEY EXISTS/.test(String(line.msg)));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toMatch(/open to anyone/);
    expect(String(warnings[0]!.msg)).toMatch(/npm run keys -- create --workspace/);
  });

  it("the first key, made by another process, ends the open mode at the next request", async () => {
    const closing = await startTestServer();
    expect((await post(closing.server.url, { query: listsQuery })).status).toBe(200);
    // Another process (npm run keys) writes the key straight to the store.
    const other = await openStoreAt(closing.dbPath);
    try {
      const { prefix, hash } = generateApiKey();
      await other.createApiKey({ workspaceId: "acme", name: null, prefix, hash }, Date.now());
    } finally {
      await other.close();
    }
    const refused = await post(closing.server.url, { query: listsQuery });
    expect(refused.status).toBe(401);
  });

  it("startServer bound to 0.0.0.0 without a key refuses to start with StartupRefused", async () => {
    const attempt = startTestServer({ host: "0.0.0.0" });
    await expect(attempt).rejects.toBeInstanceOf(StartupRefused);
    await expect(attempt).rejects.toThrow(/HOST=0\.0\.0\.0 is not a loopback address and no API key exists/);
  });

  it("`node src/main.ts` with HOST=0.0.0.0 and no key exits non-zero naming the reason", async () => {
    const failure = await spawnServer({ HOST: "0.0.0.0", SQLITE_PATH: `${tempDir()}/refused.db` }).then(
      (child) => {
        void child.kill();
        throw new Error(`the server started on ${child.url} without any key`);
      },
      (error: Error) => error.message,
    );
    const code = Number(/exited \((-?\d+)\)/.exec(failure)?.[1]);
    expect(code).not.toBe(0);
    expect(Number.isInteger(code)).toBe(true);
    expect(failure).toMatch(/refusing to start: HOST=0\.0\.0\.0 is not a loopback address and no API key exists/);
  });

  it("bound to 0.0.0.0 it starts once a key exists, and then requires the key", async () => {
    const keyed = await startTestServer();
    const { key } = await storeKey(keyed, "acme");
    await keyed.stop();
    const exposed = await startTestServer({ dbPath: keyed.dbPath, host: "0.0.0.0" });
    const anonymous = await post(exposed.server.url, { query: listsQuery });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json?.data).toBeUndefined();
    const withKey = await post(exposed.server.url, { query: listsQuery }, bearer(key));
    expect(withKey.status).toBe(200);
    expect(withKey.json?.errors).toBeUndefined();
  });
});

describe("a key created with the CLI", () => {
  let server: TestServer;
  const logs: Record<string, unknown>[] = [];
  let created: { code: number; stdout: string; stderr: string };
  let key: string;
  let keyId: string;
  let openListId: string;
  let openSocketClosed: Promise<number>;
  let acme: GraphQLTestClient;

  beforeAll(async () => {
    server = await startTestServer({ logs });
    openListId = (await server.client.data(CreateListDocument, { input: { name: "Made while open" } })).createContactList.id;
    // A socket opened while the service runs open, with a live subscription.
    const openSocket = server.ws();
    openSocketClosed = closeCodeOf(openSocket);
    openSocket.subscribe(MembershipChangedDocument, { listId: openListId });
    await streamsOpen(server.app, 1);
    created = await runScript("keys.ts", ["create", "--workspace", "acme"], { SQLITE_PATH: server.dbPath });
    const printed = JSON.parse(created.stdout) as { id: string; workspace: string; key: string };
    key = printed.key;
    keyId = printed.id;
    acme = server.client.withHeaders(bearer(key));
  });

  it("is printed once on stdout with its id and workspace, and `keys list` never shows it again", async () => {
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ id: keyId, workspace: "acme", key });
    expect(key).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only once/);
    const listed = await runScript("keys.ts", ["list"], { SQLITE_PATH: server.dbPath });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`"workspace":"acme"`);
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).not.toContain(key.slice(11));
  });

  it("switches the running server to requiring keys within about a second", async () => {
    const refused = await eventually(
      async () => {
        const response = await post(server.server.url, { query: listsQuery });
        return response.status === 200 ? undefined : response;
      },
      3_000,
      "the server to require a key",
    );
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toMatch(/application\/json/);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(refused.json?.data).toBeUndefined();
    expect(codes(refused.json!)).toEqual(["UNAUTHENTICATED"]);
  });

  it("a socket opened while the service ran open is closed with 4403 once a key exists", async () => {
    expect(await within(openSocketClosed, 5_000, "the open-mode socket to close")).toBe(4403);
  });

  it("the key is served over HTTP and graphql-ws, in its own workspace", async () => {
    const own = await acme.data(CreateListDocument, { input: { name: "Acme" } });
    const overHttp = await acme.data(ListsDocument, { first: 50 });
    expect(overHttp.contactLists.nodes.map((list) => list.id)).toEqual([own.createContactList.id]);
    const overWs = await wsOnce<{ contactLists: { nodes: { id: string }[] } }>(server.ws({ authorization: `Bearer ${key}` }), listsQuery);
    expect(overWs.errors).toBeUndefined();
    expect(overWs.data?.contactLists.nodes.map((list) => list.id)).toEqual([own.createContactList.id]);
  });

  it("the lists made while the service ran open are not visible to the workspace key", async () => {
    expect((await acme.data(ListByIdDocument, { id: openListId })).contactList).toBeNull();
    expect((await acme.data(NodeByIdDocument, { id: openListId })).node).toBeNull();
  });

  const refusedHeaders: [string, () => Record<string, string>][] = [
    ["no Authorization header", () => ({})],
    ["an empty Authorization header", () => ({ authorization: "" })],
    ['"Bearer" without a key', () => ({ authorization: "Bearer" })],
    ["an unknown, well-formed key", () => bearer(generateApiKey().key)],
    ["the key with its last character changed", () => bearer(key.slice(0, -1) + (key.endsWith("A") ? "B" : "A"))],
    ["the key in upper case", () => bearer(key.toUpperCase())],
    ["the key's prefix only", () => bearer(key.slice(0, 11))],
    ["the key's stored hash", () => bearer(createHash("sha256").update(key).digest("hex"))],
    ["the key twice", () => ({ authorization: `Bearer ${key} ${key}` })],
    ["Basic credentials carrying the key", () => ({ authorization: `Basic ${Buffer.from(`acme:${key}`).toString("base64")}` })],
    ["8 KB of garbage", () => bearer("x".repeat(8_000))],
    ["a Latin-1 token", () => bearer("sk_\u00e9\u00ff\u00e9")],
  ];

  it.each(refusedHeaders)("HTTP with %s is refused with 401 JSON UNAUTHENTICATED and writes nothing", async (_name, headers) => {
    const before = countRows(server.dbPath, "lists");
    const response = await post(server.server.url, { query: createListMutation }, headers());
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(response.json?.data).toBeUndefined();
    expect(codes(response.json!)).toEqual(["UNAUTHENTICATED"]);
    expect(countRows(server.dbPath, "lists")).toBe(before);
  });

  it("a GET with the query in the URL and Accept: text/html still needs a key", async () => {
    const url = `${server.server.url}?query=${encodeURIComponent(listsQuery)}`;
    const response = await rawGet(url, { accept: "text/html", "apollo-require-preflight": "1" });
    expect(response.status).toBe(401);
    expect(response.text).not.toContain("contactLists");
  });

  it("a GET without parameters but with a JSON body (the IDE page exemption) runs no operation", async () => {
    const before = countRows(server.dbPath, "lists");
    const response = await rawGet(
      server.server.url,
      { accept: "text/html", "content-type": "application/json", "apollo-require-preflight": "1" },
      JSON.stringify({ query: createListMutation }),
    );
    expect(response.text).not.toMatch(/"data"/);
    expect(response.text).not.toContain("intruder");
    expect(countRows(server.dbPath, "lists")).toBe(before);
  });

  const refusedParams: [string, () => Record<string, unknown> | undefined][] = [
    ["no connectionParams", () => undefined],
    ["connectionParams without authorization", () => ({})],
    ["an unknown, well-formed key", () => ({ authorization: `Bearer ${generateApiKey().key}` })],
    ["the key's prefix only", () => ({ authorization: `Bearer ${key.slice(0, 11)}` })],
    ["the key's stored hash", () => ({ authorization: `Bearer ${createHash("sha256").update(key).digest("hex")}` })],
    ["the key with its last character changed", () => ({ authorization: `Bearer ${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}` })],
    ["a number as authorization", () => ({ authorization: 12345 })],
    ["an object as authorization", () => ({ authorization: { bearer: key } })],
    ["the key under another name (Authorization header style)", () => ({ headers: { Authorization: `Bearer ${key}` } })],
  ];

  it.each(refusedParams)("graphql-ws with %s is closed with 4403 and runs nothing", async (_name, params) => {
    const before = countRows(server.dbPath, "lists");
    const socket = server.ws(params());
    const closed = closeCodeOf(socket);
    const result = wsOnce(socket, createListMutation);
    expect(await within(closed, 5_000, "the socket to close")).toBe(4403);
    expect((await result).data).toBeUndefined();
    expect(countRows(server.dbPath, "lists")).toBe(before);
  });

  it("the key is stored only as a hash: the api_keys table and the database files never hold its text", async () => {
    const db = new Database(server.dbPath, { readonly: true });
    const rows = db.prepare("SELECT * FROM api_keys").all() as Record<string, unknown>[];
    db.close();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.hash).toBe(createHash("sha256").update(key, "utf8").digest("hex"));
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(key.slice(11));
    }
    // Any 12 characters of the secret part (after the stored 11-character prefix) in the main file
    // or the WAL. Windows that overlap the prefix are not checked: the stored prefix followed by
    // whatever byte comes next in the file matches one of them by chance about once in 64 runs.
    const secret = key.slice(11);
    const files = [server.dbPath, `${server.dbPath}-wal`, `${server.dbPath}-journal`].filter((file) => existsSync(file));
    for (const file of files) {
      const bytes = readFileSync(file);
      for (let start = 0; start + 12 <= secret.length; start++) {
        expect(bytes.includes(secret.slice(start, start + 12))).toBe(false);
      }
    }
  });

  it("the key never appears in the server's log", () => {
    expect(logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(logs)).not.toContain(key.slice(11));
  });
});

describe("revocation with the CLI", () => {
  let server: TestServer;
  let acmeKey: { key: string; id: string };
  let globexKey: { key: string; id: string };
  let acmeSocketClosed: Promise<number>;
  let globexSocket: SubscriptionClient;
  let globexClosed = false;
  let revoked: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    server = await startTestServer();
    acmeKey = await storeKey(server, "acme");
    globexKey = await storeKey(server, "globex");
    const acmeList = (await server.client.withHeaders(bearer(acmeKey.key)).data(CreateListDocument, { input: { name: "A" } })).createContactList;
    const globexList = (await server.client.withHeaders(bearer(globexKey.key)).data(CreateListDocument, { input: { name: "G" } }))
      .createContactList;
    const acmeSocket = server.ws({ authorization: `Bearer ${acmeKey.key}` });
    acmeSocketClosed = closeCodeOf(acmeSocket);
    acmeSocket.subscribe(MembershipChangedDocument, { listId: acmeList.id });
    globexSocket = server.ws({ authorization: `Bearer ${globexKey.key}` });
    globexSocket.client.on("closed", () => (globexClosed = true));
    globexSocket.subscribe(MembershipChangedDocument, { listId: globexList.id });
    await streamsOpen(server.app, 2);
    revoked = await runScript("keys.ts", ["revoke", acmeKey.id], { SQLITE_PATH: server.dbPath });
  });

  it("the CLI reports the revocation", () => {
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: acmeKey.id, workspace: "acme" });
  });

  it("the next HTTP request with the revoked key is refused with 401 UNAUTHENTICATED", async () => {
    const before = countRows(server.dbPath, "lists");
    const response = await post(server.server.url, { query: createListMutation }, bearer(acmeKey.key));
    expect(response.status).toBe(401);
    expect(response.json?.data).toBeUndefined();
    expect(codes(response.json!)).toEqual(["UNAUTHENTICATED"]);
    expect(countRows(server.dbPath, "lists")).toBe(before);
  });

  it("an open subscription socket of the revoked key is closed with 4403", async () => {
    expect(await within(acmeSocketClosed, 5_000, "the revoked key's socket to close")).toBe(4403);
  });

  it("a new graphql-ws connection with the revoked key is closed with 4403", async () => {
    const socket = server.ws({ authorization: `Bearer ${acmeKey.key}` });
    const closed = closeCodeOf(socket);
    const result = wsOnce(socket, listsQuery);
    expect(await within(closed, 5_000, "the socket to close")).toBe(4403);
    expect((await result).data).toBeUndefined();
  });

  it("another workspace's key keeps working over HTTP and on its open socket", async () => {
    await acmeSocketClosed;
    const response = await post(server.server.url, { query: listsQuery }, bearer(globexKey.key));
    expect(response.status).toBe(200);
    expect(response.json?.errors).toBeUndefined();
    const overWs = await wsOnce<{ contactLists: { totalCount: number } }>(globexSocket, listsQuery);
    expect(overWs.errors).toBeUndefined();
    expect(overWs.data?.contactLists.totalCount).toBe(1);
    expect(globexClosed).toBe(false);
  });
});

describe("workspace isolation", () => {
  let server: TestServer;
  let acmeKey: string;
  let acme: GraphQLTestClient;
  let globex: GraphQLTestClient;
  /** Globex's data, which acme attacks. */
  const G = { list: "", contact: "", contact2: "", segment: "", email: "shared@example.com" };
  /** Acme's own data. */
  const A = { list: "", contact: "", segment: "" };
  let globexBefore: SecWorkspaceSnapshotQuery;
  const unknown = {
    list: toGlobalId("ContactList", "987654"),
    contact: toGlobalId("Contact", "987654"),
    segment: toGlobalId("Segment", "987654"),
  };

  const snapshotOfGlobex = () => globex.data(SecWorkspaceSnapshotDocument);

  beforeAll(async () => {
    server = await startTestServer();
    acmeKey = (await storeKey(server, "acme")).key;
    const globexKey = (await storeKey(server, "globex")).key;
    acme = server.client.withHeaders(bearer(acmeKey));
    globex = server.client.withHeaders(bearer(globexKey));

    G.list = (
      await globex.data(CreateListDocument, { input: { name: "Globex customers", customFields: [{ key: "plan", type: "TEXT" }] } })
    ).createContactList.id;
    G.contact = (await globex.data(AddContactDocument, { listId: G.list, input: { email: G.email, country: "Norway", attributes: { plan: "gold" } } }))
      .addContact.id;
    G.contact2 = (await globex.data(AddContactDocument, { listId: G.list, input: { email: "g2@example.com", country: "Sweden" } })).addContact.id;
    G.segment = (
      await globex.data(CreateSegmentDocument, {
        input: { listId: G.list, name: "Globex Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
      })
    ).createSegment.id;

    A.list = (await acme.data(CreateListDocument, { input: { name: "Acme customers" } })).createContactList.id;
    A.contact = (await acme.data(AddContactDocument, { listId: A.list, input: { email: "a1@example.com", country: "Norway" } })).addContact.id;
    A.segment = (
      await acme.data(CreateSegmentDocument, {
        input: { listId: A.list, name: "Acme Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
      })
    ).createSegment.id;

    globexBefore = await snapshotOfGlobex();
    // The snapshot really holds what acme attacks.
    const list = globexBefore.contactLists.nodes[0]!;
    expect(list.id).toBe(G.list);
    expect(list.contacts.nodes.map((c) => c.id).sort()).toEqual([G.contact, G.contact2].sort());
    expect(list.segments.map((s) => [s.id, s.memberCount])).toEqual([[G.segment, 1]]);
  });

  type Exec = <T, V>(document: TypedDocumentNode<T, V>, variables: V) => Promise<Result<T>>;
  const transports: [string, () => Exec][] = [
    ["HTTP", () => (document, variables) => acme.request(document, variables)],
    [
      "graphql-ws",
      () => {
        const socket = server.ws({ authorization: `Bearer ${acmeKey}` });
        return (document, variables) => wsOnce(socket, print(document), variables as Record<string, unknown>);
      },
    ],
  ];

  /** The errors with the id taken out: an attack on another workspace's id must read like one on an unknown id. */
  const shape = (result: Result<unknown>, id: string) => ({
    data: result.data,
    errors: (result.errors ?? []).map((error) => ({
      ...error,
      message: error.message.replaceAll(id, "<id>"),
      extensions: { ...error.extensions, ...(error.extensions?.id === id ? { id: "<id>" } : {}) },
    })),
  });

  describe.each(transports)("over %s, acme", (_transport, connect) => {
    let exec: Exec;

    beforeAll(() => {
      exec = connect();
    });

    // Every attempt leaves globex's data as it was.
    afterEach(async () => {
      expect(await snapshotOfGlobex()).toEqual(globexBefore);
    });

    /** Runs an attack on a globex id and the same operation on an unknown id; both must be NOT_FOUND alike. */
    async function expectNotFoundLikeUnknown<T, V>(document: TypedDocumentNode<T, V>, attack: V, attackId: string, probe: V, unknownId: string) {
      const attacked = await exec(document, attack);
      const missing = await exec(document, probe);
      expect(codes(attacked)).toEqual(["NOT_FOUND"]);
      expect(attacked.data ?? null).toBeNull();
      expect(shape(attacked, attackId)).toEqual(shape(missing, unknownId));
    }

    it("reads another workspace's list as null in contactList", async () => {
      const result = await exec(ListByIdDocument, { id: G.list });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ contactList: null });
    });

    it("reads another workspace's contact as null in contact", async () => {
      const result = await exec(ContactByIdDocument, { id: G.contact });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ contact: null });
    });

    it("reads another workspace's segment as null in segment", async () => {
      const result = await exec(SegmentByIdDocument, { id: G.segment });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ segment: null });
    });

    it.each(["list", "contact", "segment"] as const)("reads another workspace's %s as null in node", async (kind) => {
      const result = await exec(NodeByIdDocument, { id: G[kind] });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ node: null });
    });

    it("contactLists lists only its own lists", async () => {
      const result = await exec(ListsDocument, { first: 500 });
      expect(result.errors).toBeUndefined();
      expect(result.data?.contactLists.nodes.map((list) => list.id)).toEqual([A.list]);
      expect(result.data?.contactLists.totalCount).toBe(1);
    });

    it("contactLists after a cursor of another workspace's page still lists only its own lists", async () => {
      const globexPage = await globex.data(ListsDocument, { first: 1 });
      const cursor = globexPage.contactLists.edges[0]!.cursor;
      // A position just after globex's list (made first) and just before it (made later) alike.
      const result = await exec(ListsDocument, { first: 500, after: cursor });
      expect(result.errors).toBeUndefined();
      for (const list of result.data!.contactLists.nodes) expect(list.id).toBe(A.list);
    });

    it("contacts after a cursor of another workspace's contact page returns only its own contacts", async () => {
      const globexPage = await globex.data(ListContactsDocument, { listId: G.list, first: 1 });
      const cursor = globexPage.contactList!.contacts.edges[0]!.cursor;
      const result = await exec(ListContactsDocument, { listId: A.list, first: 500, after: cursor });
      if (result.errors) {
        expect(codes(result)).toEqual(["BAD_USER_INPUT"]);
        return;
      }
      const ids = result.data!.contactList!.contacts.nodes.map((contact) => contact.id);
      expect(ids).not.toContain(G.contact);
      expect(ids).not.toContain(G.contact2);
      for (const id of ids) expect(id).toBe(A.contact);
    });

    it("segmentPreview on another workspace's list is NOT_FOUND, like an unknown list", async () => {
      const condition = { field: "country", operator: "EQUALS" as const, value: "Norway" };
      await expectNotFoundLikeUnknown(PreviewDocument, { listId: G.list, condition }, G.list, { listId: unknown.list, condition }, unknown.list);
    });

    it("updateContactList on another workspace's list is NOT_FOUND, like an unknown list", async () => {
      const input = { name: "pwned", addCustomFields: [{ key: "stolen", type: "TEXT" as const }] };
      await expectNotFoundLikeUnknown(UpdateListDocument, { id: G.list, input }, G.list, { id: unknown.list, input }, unknown.list);
    });

    it("deleteContactList on another workspace's list is NOT_FOUND, like an unknown list", async () => {
      await expectNotFoundLikeUnknown(DeleteListDocument, { id: G.list }, G.list, { id: unknown.list }, unknown.list);
    });

    it("addContact to another workspace's list is NOT_FOUND, like an unknown list", async () => {
      const input = { email: "planted@example.com", country: "Norway" };
      await expectNotFoundLikeUnknown(AddContactDocument, { listId: G.list, input }, G.list, { listId: unknown.list, input }, unknown.list);
    });

    it("addContacts to another workspace's list is NOT_FOUND, like an unknown list", async () => {
      const contacts = [{ email: "planted1@example.com", country: "Norway" }, { email: G.email, country: "Denmark" }];
      await expectNotFoundLikeUnknown(
        AddContactsDocument,
        { listId: G.list, contacts, upsert: true },
        G.list,
        { listId: unknown.list, contacts, upsert: true },
        unknown.list,
      );
    });

    it("updateContact on another workspace's contact is NOT_FOUND, like an unknown contact", async () => {
      const input = { country: "Denmark", email: "stolen@example.com" };
      await expectNotFoundLikeUnknown(UpdateContactDocument, { id: G.contact, input }, G.contact, { id: unknown.contact, input }, unknown.contact);
    });

    it("deleteContact on another workspace's contact is NOT_FOUND, like an unknown contact", async () => {
      await expectNotFoundLikeUnknown(DeleteContactDocument, { id: G.contact }, G.contact, { id: unknown.contact }, unknown.contact);
    });

    it("createSegment on another workspace's list is NOT_FOUND, like an unknown list", async () => {
      const input = (listId: string) => ({
        listId,
        name: "spy",
        type: "DYNAMIC" as const,
        condition: { field: "attributes.plan", operator: "IS_SET" as const },
      });
      await expectNotFoundLikeUnknown(CreateSegmentDocument, { input: input(G.list) }, G.list, { input: input(unknown.list) }, unknown.list);
      expect(countRows(server.dbPath, "segments")).toBe(2);
    });

    it("updateSegment on another workspace's segment is NOT_FOUND, like an unknown segment", async () => {
      const input = { name: "pwned", condition: { field: "country", operator: "IS_SET" as const } };
      await expectNotFoundLikeUnknown(UpdateSegmentDocument, { id: G.segment, input }, G.segment, { id: unknown.segment, input }, unknown.segment);
    });

    it("deleteSegment on another workspace's segment is NOT_FOUND, like an unknown segment", async () => {
      await expectNotFoundLikeUnknown(DeleteSegmentDocument, { id: G.segment }, G.segment, { id: unknown.segment }, unknown.segment);
    });

    it("an upsert into its own list with another workspace's email adds to its own list and leaves the other contact alone", async () => {
      const result = await exec(AddContactsDocument, { listId: A.list, contacts: [{ email: G.email, country: "Denmark" }], upsert: true });
      expect(result.errors).toBeUndefined();
      expect(result.data?.addContacts.errors).toEqual([]);
      const own = await acme.data(ListContactsDocument, { listId: A.list, first: 500 });
      expect(own.contactList!.contacts.nodes.map((contact) => contact.email)).toContain(G.email);
      // The contact is acme's, not globex's moved over.
      expect(own.contactList!.contacts.nodes.map((contact) => contact.id)).not.toContain(G.contact);
      const added = own.contactList!.contacts.nodes.find((contact) => contact.email === G.email)!;
      expect((await acme.data(DeleteContactDocument, { id: added.id })).deleteContact).toBe(added.id);
    });
  });

  describe("subscriptions", () => {
    type Stream = Subscription<MembershipChangedSubscription>;

    async function refusal(variables: { segmentId?: string; listId?: string; after?: string }) {
      const socket = server.ws({ authorization: `Bearer ${acmeKey}` });
      const subscription = socket.subscribe(MembershipChangedDocument, variables);
      await subscription.done();
      expect(subscription.events).toEqual([]);
      return subscription.errors.map((error) => error.extensions?.code);
    }

    it("to another workspace's segment is NOT_FOUND, like an unknown segment", async () => {
      expect(await refusal({ segmentId: G.segment })).toEqual(["NOT_FOUND"]);
      expect(await refusal({ segmentId: unknown.segment })).toEqual(["NOT_FOUND"]);
    });

    it("to another workspace's list is NOT_FOUND, like an unknown list", async () => {
      expect(await refusal({ listId: G.list })).toEqual(["NOT_FOUND"]);
      expect(await refusal({ listId: unknown.list })).toEqual(["NOT_FOUND"]);
    });

    it("to another workspace's list with an `after` cursor is NOT_FOUND", async () => {
      const cursor = await currentCursor();
      expect(await refusal({ listId: G.list, after: cursor })).toEqual(["NOT_FOUND"]);
    });

    async function currentCursor(): Promise<string> {
      const result = await acme.raw<{ contactList: { eventCursor: string } }>("query ($id: ID!) { contactList(id: $id) { eventCursor } }", { id: A.list });
      return result.data!.contactList.eventCursor;
    }

    it("a list or segment subscription never receives another workspace's events, live or replayed", async () => {
      const cursor = await currentCursor();
      const acmeSocket = server.ws({ authorization: `Bearer ${acmeKey}` });
      const globexSocket = server.ws({ authorization: `Bearer ${(await storeKey(server, "globex")).key}` });
      const open = server.app.services.events.activeStreams;
      const acmeList = acmeSocket.subscribe(MembershipChangedDocument, { listId: A.list });
      const acmeSegment = acmeSocket.subscribe(MembershipChangedDocument, { segmentId: A.segment });
      const globexList = globexSocket.subscribe(MembershipChangedDocument, { listId: G.list });
      await streamsOpen(server.app, open + 3);

      // Globex's writes make events in globex's segment, then acme's marker makes one in acme's.
      await globex.data(AddContactsDocument, {
        listId: G.list,
        contacts: [
          { email: "n1@example.com", country: "Norway" },
          { email: "n2@example.com", country: "Norway" },
        ],
      });
      await globex.data(UpdateContactDocument, { id: G.contact2, input: { country: "Norway" } });
      const marker = (await acme.data(AddContactDocument, { listId: A.list, input: { email: "marker@example.com", country: "Norway" } })).addContact;

      const received = (await globexList.waitFor(3)).map((e) => e.segmentMembershipChanged);
      expect(received.map((e) => e.segmentId)).toEqual([G.segment, G.segment, G.segment]);
      // Events arrive in order: a leaked globex event would come before the marker.
      for (const stream of [acmeList, acmeSegment]) {
        const first = (await stream.waitFor(1))[0]!.segmentMembershipChanged;
        expect(stream.errors).toEqual([]);
        expect([first.segmentId, first.contactId, first.change]).toEqual([A.segment, marker.id, "ENTERED"]);
      }
      // Replayed from the log after a cursor older than globex's writes.
      const replay = acmeSocket.subscribe(MembershipChangedDocument, { listId: A.list, after: cursor });
      const replayed = (await replay.waitFor(1))[0]!.segmentMembershipChanged;
      expect([replayed.segmentId, replayed.contactId]).toEqual([A.segment, marker.id]);
      // One more acme event ends both streams' windows: nothing from globex in between.
      const second = (await acme.data(AddContactDocument, { listId: A.list, input: { email: "marker2@example.com", country: "Norway" } })).addContact;
      for (const stream of [acmeList, acmeSegment, replay]) {
        const events = (await stream.waitFor(2)).map((e) => e.segmentMembershipChanged);
        expect(events.map((e) => [e.segmentId, e.contactId])).toEqual([
          [A.segment, marker.id],
          [A.segment, second.id],
        ]);
      }
    });
  });
});
