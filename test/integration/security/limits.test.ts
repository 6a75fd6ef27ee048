/**
 * Limits on what one request may ask for, over HTTP and graphql-ws: depth, aliases, tokens and
 * cost (with `first` from arguments and variables), page bounds, rows per call, body and message
 * size, condition trees, text length, literal text matching, per-key rate limits, connections
 * per key and subscriptions per connection. Every refused write is checked to have changed
 * nothing in the database.
 */
import { request as httpRequest } from "node:http";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { print } from "graphql";
import { generateApiKey } from "../../../src/security/api-keys";
import {
  AddContactsDocument,
  type ConditionInput,
  type ConditionOperator,
  CreateListDocument,
  CreateSegmentDocument,
  ListContactsDocument,
  MembershipChangedDocument,
  PreviewDocument,
  SegmentMembersDocument,
} from "../../graphql/generated";
import type { GraphQLErrorShape, GraphQLTestClient } from "../../support/client";
import { startTestServer, stopAll, type TestServer } from "../../support/harness";
import { streamsOpen, type SubscriptionClient } from "../../support/ws";

afterAll(stopAll);

type Result<T = Record<string, unknown>> = { status?: number; data?: T | null; errors?: GraphQLErrorShape[] };

const LIMITS = {
  MAX_QUERY_DEPTH: "6",
  MAX_QUERY_ALIASES: "3",
  MAX_QUERY_TOKENS: "400",
  MAX_QUERY_COST: "3000",
  MAX_BODY_SIZE: "1mb",
};
const MAX_BODY = 1_048_576;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const codes = (result: { errors?: GraphQLErrorShape[] }) => (result.errors ?? []).map((error) => error.extensions?.code);

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function closeCodeOf(socket: SubscriptionClient): Promise<number> {
  return new Promise((resolve) => {
    const off = socket.client.on("closed", (event) => {
      off();
      resolve((event as { code: number }).code);
    });
  });
}

function connected(socket: SubscriptionClient): Promise<void> {
  return new Promise((resolve) => {
    const off = socket.client.on("connected", () => {
      off();
      resolve();
    });
  });
}

/** One operation over graphql-ws; a closed socket reads as an error naming its close code. */
function wsOnce<T = Record<string, unknown>>(
  socket: SubscriptionClient,
  query: string,
  variables?: Record<string, unknown>,
  extensions?: Record<string, unknown>,
): Promise<Result<T>> {
  return new Promise((resolve) => {
    let result: Result<T> = {};
    socket.client.subscribe<T>(
      { query, variables, extensions },
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

async function storeKey(server: TestServer, workspaceId: string): Promise<string> {
  const { key, prefix, hash } = generateApiKey();
  await server.app.store.createApiKey({ workspaceId, name: null, prefix, hash }, Date.now());
  return key;
}

/** Everything a write could touch, read beside the running server. */
function dbState(dbPath: string): unknown {
  const db = new Database(dbPath, { readonly: true });
  try {
    return ["lists", "contacts", "segments", "member_blocks", "changes", "events"].map((table) =>
      db.prepare(`SELECT * FROM ${table}`).all().map((row) => JSON.stringify(row)).sort(),
    );
  } finally {
    db.close();
  }
}

/** A condition of `count` nodes: one OR group of count - 1 leaves. */
function wideCondition(count: number): ConditionInput {
  return { or: Array.from({ length: count - 1 }, (_, i) => ({ field: "city", operator: "EQUALS" as const, value: `c${i}` })) };
}

/** A condition `levels` deep: NOTs around a leaf. */
function deepCondition(levels: number): ConditionInput {
  let node: ConditionInput = { field: "country", operator: "EQUALS", value: "Norway" };
  for (let i = 1; i < levels; i++) node = { not: node };
  return node;
}

let server: TestServer;
let key: string;
let client: GraphQLTestClient;
let listId: string;
let segmentId: string;
let contactId: string;

beforeAll(async () => {
  server = await startTestServer({ env: LIMITS });
  key = await storeKey(server, "acme");
  client = server.client.withHeaders(bearer(key));
  listId = (await client.data(CreateListDocument, { input: { name: "Limits", customFields: [{ key: "note", type: "TEXT" }] } })).createContactList.id;
  const added = await client.data(AddContactsDocument, {
    listId,
    contacts: [
      { email: "one@example.com", country: "Norway" },
      { email: "two@example.com", country: "Sweden" },
    ],
  });
  expect(added.addContacts.added).toBe(2);
  const page = await client.data(ListContactsDocument, { listId, first: 10 });
  contactId = page.contactList!.contacts.nodes[0]!.id;
  segmentId = (
    await client.data(CreateSegmentDocument, {
      input: { listId, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
    })
  ).createSegment.id;
});

interface Attack {
  name: string;
  query: () => string;
  variables?: () => Record<string, unknown>;
  /** The only error code expected. */
  code: string;
  message?: RegExp;
  /** HTTP status of the refusal. */
  status: number;
  /** What `data` holds instead (null, or a parent made null). */
  data?: unknown;
}

const fields = (n: number) => Array.from({ length: n }, () => "__typename").join(" ");
const deepQuery = "{ contactLists(first: 1) { nodes { contacts(first: 1) { nodes { list { contacts(first: 1) { nodes { id } } } } } } } }";
const contactPage = (first: string) => `query ($id: ID!, $first: Int) { contactList(id: $id) { contacts(first: ${first}) { totalCount } } }`;
const heavy = (first: string) =>
  `query ${first === "$n" ? "($n: Int)" : ""} { contactLists(first: ${first}) { nodes { contacts(first: ${first}) { nodes { id email city } } } } }`;
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `row${i}@example.com` }));
const long = (n: number) => "x".repeat(n);

const attacks: Attack[] = [
  // depth (MAX_QUERY_DEPTH 6)
  { name: "a query nested 8 levels deep", query: () => deepQuery, code: "GRAPHQL_VALIDATION_FAILED", message: /depth/i, status: 400 },
  {
    name: "a query nested 8 levels deep through fragments",
    query: () =>
      "query { ...A } fragment A on Query { contactLists(first: 1) { nodes { ...B } } } " +
      "fragment B on ContactList { contacts(first: 1) { nodes { ...C } } } fragment C on Contact { list { contacts(first: 1) { nodes { id } } } }",
    code: "GRAPHQL_VALIDATION_FAILED",
    message: /depth/i,
    status: 400,
  },
  {
    name: "a mutation whose selection is nested 8 levels deep",
    query: () => 'mutation { createContactList(input: { name: "deep" }) { contacts(first: 1) { nodes { list { contacts(first: 1) { nodes { list { id } } } } } } } }',
    code: "GRAPHQL_VALIDATION_FAILED",
    message: /depth/i,
    status: 400,
  },
  {
    name: "fragments that spread each other in a cycle",
    query: () => "query { contactLists { nodes { ...A } } } fragment A on ContactList { segments { list { ...B } } } fragment B on ContactList { ...A }",
    code: "GRAPHQL_VALIDATION_FAILED",
    status: 400,
  },
  // directives (MAX_QUERY_DIRECTIVES, default 20)
  {
    name: "a query with 21 directives",
    query: () => `{ contactLists { totalCount ${"@include(if: true) ".repeat(21)}} }`,
    code: "GRAPHQL_VALIDATION_FAILED",
    message: /directive/i,
    status: 400,
  },
  // aliases (MAX_QUERY_ALIASES 3)
  {
    name: "a query with 4 aliases",
    query: () => "{ a: contactLists { totalCount } b: contactLists { totalCount } c: contactLists { totalCount } d: contactLists { totalCount } }",
    code: "GRAPHQL_VALIDATION_FAILED",
    message: /alias/i,
    status: 400,
  },
  {
    name: "a mutation creating 4 lists through aliases",
    query: () => `mutation { ${["a", "b", "c", "d"].map((alias) => `${alias}: createContactList(input: { name: "${alias}" }) { id }`).join(" ")} }`,
    code: "GRAPHQL_VALIDATION_FAILED",
    message: /alias/i,
    status: 400,
  },
  // tokens (MAX_QUERY_TOKENS 400)
  { name: "a query of more than 400 tokens", query: () => `{ ${fields(450)} }`, code: "GRAPHQL_PARSE_FAILED", message: /tokens/i, status: 400 },
  {
    name: "a mutation of more than 400 tokens",
    query: () => `mutation { createContactList(input: { name: "tokens" }) { id ${fields(450)} } }`,
    code: "GRAPHQL_PARSE_FAILED",
    message: /tokens/i,
    status: 400,
  },
  // cost (MAX_QUERY_COST 3000): 100 lists × 100 contacts × 3 fields
  { name: "a costly query with `first` as literals", query: () => heavy("100"), code: "QUERY_TOO_COMPLEX", status: 400 },
  { name: "a costly query with `first` from a variable", query: () => heavy("$n"), variables: () => ({ n: 100 }), code: "QUERY_TOO_COMPLEX", status: 400 },
  {
    name: "a costly query with `first` from a variable's default",
    query: () => "query ($n: Int = 100) { contactLists(first: $n) { nodes { contacts(first: $n) { nodes { id email city } } } } }",
    code: "QUERY_TOO_COMPLEX",
    status: 400,
  },
  { name: "a costly query with `first: null` (the default page of 50)", query: () => heavy("null"), code: "QUERY_TOO_COMPLEX", status: 400 },
  { name: "a costly query with `first` from a null variable", query: () => heavy("$n"), variables: () => ({ n: null }), code: "QUERY_TOO_COMPLEX", status: 400 },
  {
    name: "a costly query with `first` beyond the page bound (counted at the bound)",
    query: () => heavy("1000000"),
    code: "QUERY_TOO_COMPLEX",
    status: 400,
  },
  {
    name: "a costly query over segment members with `first` from a variable",
    query: () => "query ($id: ID!, $n: Int) { segment(id: $id) { members(first: $n) { nodes { id email city country firstName lastName phone } } } }",
    variables: () => ({ id: segmentId, n: 500 }),
    code: "QUERY_TOO_COMPLEX",
    status: 400,
  },
  // first bounds 1..500
  ...[0, -1, 501, 2_147_483_647].map((first) => ({
    name: `contactLists with first: ${first}`,
    query: () => `{ contactLists(first: ${first}) { totalCount } }`,
    code: "BAD_USER_INPUT",
    message: /first/,
    status: 200,
  })),
  ...[0, 501].map((first) => ({
    name: `a list's contacts with first: ${first} from a variable`,
    query: () => contactPage("$first"),
    variables: () => ({ id: listId, first }),
    code: "BAD_USER_INPUT",
    message: /first/,
    status: 200,
    data: { contactList: null },
  })),
  ...[0, 501].map((first) => ({
    name: `a segment's members with first: ${first}`,
    query: () => `query ($id: ID!) { segment(id: $id) { members(first: ${first}) { totalCount } } }`,
    variables: () => ({ id: segmentId }),
    code: "BAD_USER_INPUT",
    message: /first/,
    status: 200,
    data: { segment: null },
  })),
  // rows per call
  {
    name: "addContacts with 10,001 rows",
    query: () => print(AddContactsDocument),
    variables: () => ({ listId, contacts: rows(10_001) }),
    code: "BAD_USER_INPUT",
    message: /at most 10000/,
    status: 200,
  },
  // condition trees: at most 200 nodes and 10 levels
  ...(
    [
      ["a condition of 201 nodes", () => wideCondition(201), /at most 200 nodes/],
      ["a condition 11 levels deep", () => deepCondition(11), /at most 10 levels/],
    ] as const
  ).flatMap(([what, condition, message]): Attack[] => [
    {
      name: `createSegment with ${what}`,
      query: () => print(CreateSegmentDocument),
      variables: () => ({ input: { listId, name: "too big", type: "DYNAMIC", condition: condition() } }),
      code: "BAD_USER_INPUT",
      message,
      status: 200,
    },
    {
      name: `updateSegment with ${what}`,
      query: () => "mutation ($id: ID!, $condition: ConditionInput!) { updateSegment(id: $id, input: { condition: $condition }) { id } }",
      variables: () => ({ id: segmentId, condition: condition() }),
      code: "BAD_USER_INPUT",
      message,
      status: 200,
    },
    {
      name: `segmentPreview with ${what}`,
      query: () => print(PreviewDocument),
      variables: () => ({ listId, condition: condition() }),
      code: "BAD_USER_INPUT",
      message,
      status: 200,
    },
    {
      name: `contacts(where:) with ${what}`,
      query: () => "query ($id: ID!, $where: ConditionInput) { contactList(id: $id) { contacts(where: $where) { totalCount } } }",
      variables: () => ({ id: listId, where: condition() }),
      code: "BAD_USER_INPUT",
      message,
      status: 200,
      data: { contactList: null },
    },
  ]),
  // text length
  {
    name: "addContact with a 1,001-character firstName",
    query: () => "mutation ($listId: ID!, $input: ContactInput!) { addContact(listId: $listId, input: $input) { id } }",
    variables: () => ({ listId, input: { email: "long@example.com", firstName: long(1_001) } }),
    code: "BAD_USER_INPUT",
    message: /firstName: at most 1000/,
    status: 200,
  },
  {
    name: "addContact with a 1,001-character custom TEXT value",
    query: () => "mutation ($listId: ID!, $input: ContactInput!) { addContact(listId: $listId, input: $input) { id } }",
    variables: () => ({ listId, input: { email: "long@example.com", attributes: { note: long(1_001) } } }),
    code: "BAD_USER_INPUT",
    message: /at most 1000/,
    status: 200,
  },
  {
    name: "addContact with a 255-character email",
    query: () => "mutation ($listId: ID!, $input: ContactInput!) { addContact(listId: $listId, input: $input) { id } }",
    variables: () => ({ listId, input: { email: `${long(243)}@example.com` } }),
    code: "BAD_USER_INPUT",
    message: /email: at most 254/,
    status: 200,
  },
  {
    name: "addContact with a 101-character tag",
    query: () => "mutation ($listId: ID!, $input: ContactInput!) { addContact(listId: $listId, input: $input) { id } }",
    variables: () => ({ listId, input: { email: "tag@example.com", tags: [long(101)] } }),
    code: "BAD_USER_INPUT",
    status: 200,
  },
  {
    name: "updateContact with a 1,001-character city",
    query: () => "mutation ($id: ID!, $input: ContactPatchInput!) { updateContact(id: $id, input: $input) { id } }",
    variables: () => ({ id: contactId, input: { city: long(1_001) } }),
    code: "BAD_USER_INPUT",
    message: /city: at most 1000/,
    status: 200,
  },
  {
    name: "createContactList with a 201-character name",
    query: () => "mutation ($name: String!) { createContactList(input: { name: $name }) { id } }",
    variables: () => ({ name: long(201) }),
    code: "BAD_USER_INPUT",
    message: /name: at most 200/,
    status: 200,
  },
  {
    name: "createSegment with a 201-character name",
    query: () => print(CreateSegmentDocument),
    variables: () => ({ input: { listId, name: long(201), type: "STATIC", condition: { field: "country", operator: "IS_SET" } } }),
    code: "BAD_USER_INPUT",
    message: /name: at most 200/,
    status: 200,
  },
  {
    name: "a condition with a 1,001-character value",
    query: () => print(PreviewDocument),
    variables: () => ({ listId, condition: { field: "city", operator: "CONTAINS", value: long(1_001) } }),
    code: "BAD_USER_INPUT",
    status: 200,
  },
];

type Exec = (query: string, variables?: Record<string, unknown>) => Promise<Result>;
const transports: [string, () => Exec][] = [
  ["HTTP", () => (query, variables) => client.raw(query, variables)],
  [
    "graphql-ws",
    () => {
      const socket = server.ws(bearer(key));
      return (query, variables) => wsOnce(socket, query, variables);
    },
  ],
];

describe.each(transports)("over %s", (transport, connect) => {
  let exec: Exec;

  beforeAll(() => {
    exec = connect();
  });

  it.each(attacks)("$name is refused and changes nothing", async (attack) => {
    const before = dbState(server.dbPath);
    const result = await exec(attack.query(), attack.variables?.());
    expect(result.errors?.length).toBeGreaterThan(0);
    expect(new Set(codes(result))).toEqual(new Set([attack.code]));
    if (attack.message) expect(result.errors![0]!.message).toMatch(attack.message);
    expect(result.data ?? null).toEqual(attack.data ?? null);
    if (transport === "HTTP") expect(result.status).toBe(attack.status);
    expect(dbState(server.dbPath)).toEqual(before);
  });

  it("the same operations within the limits are served (the limits are not off by one)", async () => {
    const ok = async (query: string, variables?: Record<string, unknown>) => {
      const result = await exec(query, variables);
      expect(result.errors).toBeUndefined();
      return result.data;
    };
    // depth 6, 3 aliases, under 400 tokens, cost within 3000
    await ok("{ contactLists(first: 1) { nodes { contacts(first: 1) { nodes { list { id } } } } } }");
    await ok("{ a: contactLists { totalCount } b: contactLists { totalCount } c: contactLists { totalCount } }");
    await ok(`{ ${fields(390)} }`);
    await ok(heavy("$n"), { n: 20 });
    await ok("{ contactLists(first: 500) { totalCount } }");
    await ok("{ contactLists(first: 1) { totalCount } }");
    await ok(print(PreviewDocument), { listId, condition: wideCondition(200) });
    await ok(print(PreviewDocument), { listId, condition: deepCondition(10) });
    await ok(print(PreviewDocument), { listId, condition: { field: "city", operator: "CONTAINS", value: long(1_000) } });
  });

  it("an addContacts row with a 1,001-character city is reported and not kept", async () => {
    const before = dbState(server.dbPath);
    const result = await exec(print(AddContactsDocument), { listId, contacts: [{ email: "row-long@example.com", city: long(1_001) }] });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ addContacts: { added: 0, updated: 0, errors: [{ index: 0, code: "BAD_USER_INPUT", message: expect.stringMatching(/city: at most 1000/) }] } });
    expect(dbState(server.dbPath)).toEqual(before);
  });
});

describe("request and message size (MAX_BODY_SIZE 1mb)", () => {
  const createList = 'mutation { createContactList(input: { name: "padded" }) { id } }';

  function send(body: Buffer, headers: Record<string, string>, chunked = false): Promise<{ status: number; contentType: string; json: Result }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        server.server.url,
        {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(key), ...(chunked ? {} : { "content-length": String(body.length) }), ...headers },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => {
            let json: Result = {};
            try {
              json = JSON.parse(text);
            } catch {
              json = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
            }
            resolve({ status: response.statusCode!, contentType: String(response.headers["content-type"]), json });
          });
        },
      );
      // The server may answer and close before reading everything.
      request.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
      if (chunked) {
        for (let offset = 0; offset < body.length; offset += 64 * 1024) request.write(body.subarray(offset, offset + 64 * 1024));
        request.end();
      } else {
        request.end(body);
      }
    });
  }

  // The padding rides in `extensions`, which both transports accept and ignore.
  const padded = (bytes: number) => Buffer.from(JSON.stringify({ query: createList, extensions: { padding: long(bytes) } }));

  it("a body just under the limit is served", async () => {
    const response = await send(padded(MAX_BODY - 1_000), {});
    expect(response.status).toBe(200);
    expect(response.json.errors).toBeUndefined();
  });

  it.each([
    ["a body over the limit", () => [padded(MAX_BODY + 1), {}, false] as const],
    ["a chunked body over the limit, without Content-Length", () => [padded(2 * MAX_BODY), {}, true] as const],
    ["a gzip body that inflates over the limit", () => [gzipSync(padded(4 * MAX_BODY)), { "content-encoding": "gzip" }, false] as const],
  ])("%s is refused with 413 JSON and changes nothing", async (_name, make) => {
    const before = dbState(server.dbPath);
    const [body, headers, chunked] = make();
    const response = await send(body, headers, chunked);
    expect(response.status).toBe(413);
    expect(response.contentType).toMatch(/application\/json/);
    expect(codes(response.json)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(response.json.data ?? null).toBeNull();
    expect(dbState(server.dbPath)).toEqual(before);
  });

  it("a batched array of operations is refused and runs none of them", async () => {
    const before = dbState(server.dbPath);
    const operation = { query: 'mutation { createContactList(input: { name: "batched" }) { id } }' };
    const response = await send(Buffer.from(JSON.stringify([operation, operation, operation, operation, operation])), {});
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json)).not.toContain('"createContactList"');
    expect(dbState(server.dbPath)).toEqual(before);
  });

  describe("over graphql-ws", () => {
    // graphql-ws's adapter reports the refused frame on console.error; expected here.
    let quiet: jest.SpyInstance;
    beforeEach(() => {
      quiet = jest.spyOn(console, "error").mockImplementation(() => undefined);
    });
    afterEach(() => quiet.mockRestore());

    it("a subscribe message over the limit closes the socket with 1009 and changes nothing", async () => {
      const before = dbState(server.dbPath);
      const socket = server.ws(bearer(key));
      const closed = closeCodeOf(socket);
      const result = wsOnce(socket, createList, undefined, { padding: long(MAX_BODY + 1) });
      expect(await within(closed, 5_000, "the socket to close")).toBe(1009);
      expect((await result).data ?? null).toBeNull();
      expect(dbState(server.dbPath)).toEqual(before);
    });

    it("a connection_init over the limit closes the socket with 1009", async () => {
      const socket = server.ws({ ...bearer(key), padding: long(MAX_BODY + 1) });
      const closed = closeCodeOf(socket);
      const result = wsOnce(socket, "{ contactLists { totalCount } }");
      expect(await within(closed, 5_000, "the socket to close")).toBe(1009);
      expect((await result).data ?? null).toBeNull();
    });
  });

  it("a graphql-ws message just under the limit is served", async () => {
    const result = await wsOnce(server.ws(bearer(key)), "{ contactLists { totalCount } }", undefined, { padding: long(MAX_BODY - 1_000) });
    expect(result.errors).toBeUndefined();
  });
});

describe("text operators are literal", () => {
  let searchList: string;
  /** city → email of the contact holding it. */
  const cities = ["abc", "a.c", "a%c", "a_c", "axxc", "100%", "a\\c", "a*c", "[a]c", "ac"];
  const emailOf = (city: string) => `city${cities.indexOf(city)}@example.com`;
  const cases: [ConditionOperator, string, string[]][] = [
    ["CONTAINS", "a.c", ["a.c"]],
    ["CONTAINS", "%", ["a%c", "100%"]],
    ["CONTAINS", "_", ["a_c"]],
    ["CONTAINS", "a%c", ["a%c"]],
    ["CONTAINS", "a_c", ["a_c"]],
    ["CONTAINS", ".*", []],
    ["CONTAINS", "\\", ["a\\c"]],
    ["CONTAINS", "*", ["a*c"]],
    ["CONTAINS", "[a]", ["[a]c"]],
    ["CONTAINS", "a?c", []],
    ["STARTS_WITH", "a_", ["a_c"]],
    ["STARTS_WITH", "a%", ["a%c"]],
    ["STARTS_WITH", "^a", []],
    ["STARTS_WITH", ".", []],
    ["STARTS_WITH", "[", ["[a]c"]],
    ["ENDS_WITH", "%", ["100%"]],
    ["ENDS_WITH", "_c", ["a_c"]],
    ["ENDS_WITH", ".c", ["a.c"]],
    ["ENDS_WITH", "c$", []],
    ["ENDS_WITH", "\\c", ["a\\c"]],
  ];
  const segments = new Map<string, string>();

  beforeAll(async () => {
    searchList = (await client.data(CreateListDocument, { input: { name: "Literal search" } })).createContactList.id;
    // Dynamic segments made before the contacts: the engine decides their membership contact by contact.
    for (const [operator, value] of cases) {
      const segment = await client.data(CreateSegmentDocument, {
        input: { listId: searchList, name: `${operator} ${value}`, type: "DYNAMIC", condition: { field: "city", operator, value } },
      });
      segments.set(`${operator} ${value}`, segment.createSegment.id);
    }
    const added = await client.data(AddContactsDocument, { listId: searchList, contacts: cities.map((city) => ({ email: emailOf(city), city })) });
    expect(added.addContacts.added).toBe(cities.length);
  });

  it.each(cases)("%s %j matches only the literal text, in previews, filters and dynamic segments", async (operator, value, expected) => {
    const condition: ConditionInput = { field: "city", operator, value };
    const wanted = expected.map(emailOf).sort();
    const preview = await client.data(PreviewDocument, { listId: searchList, condition, sample: 100 });
    expect(preview.segmentPreview.sample.map((c) => c.email).sort()).toEqual(wanted);
    expect(preview.segmentPreview.count).toBe(wanted.length);
    const filtered = await client.data(ListContactsDocument, { listId: searchList, first: 100, where: condition });
    expect(filtered.contactList!.contacts.nodes.map((c) => c.email).sort()).toEqual(wanted);
    const members = await client.data(SegmentMembersDocument, { id: segments.get(`${operator} ${value}`)!, first: 100 });
    expect(members.segment!.members.nodes.map((c) => c.email).sort()).toEqual(wanted);
    expect(members.segment!.memberCount).toBe(wanted.length);
  });
});

describe("rate limits per key (RATE_LIMIT_PER_SECOND 5)", () => {
  let limited: TestServer;

  beforeAll(async () => {
    limited = await startTestServer({ env: { RATE_LIMIT_PER_SECOND: "5" } });
  });

  it("over HTTP, a key past its budget gets 429 with Retry-After and RATE_LIMITED, and the refused write is not made", async () => {
    const spender = await storeKey(limited, "acme");
    const other = await storeKey(limited, "acme");
    let served = 0;
    const refusal = await eventually(
      async () => {
        const response = await fetch(limited.server.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(spender) },
          body: JSON.stringify({ query: 'mutation { createContactList(input: { name: "flood" }) { id } }' }),
        });
        if (response.status === 200) {
          served++;
          return undefined;
        }
        return { status: response.status, retryAfter: response.headers.get("retry-after"), contentType: response.headers.get("content-type"), json: (await response.json()) as Result };
      },
      10_000,
      "a 429",
    );
    expect(refusal.status).toBe(429);
    expect(refusal.contentType).toMatch(/application\/json/);
    expect(refusal.retryAfter).toMatch(/^[1-9]\d*$/);
    expect(codes(refusal.json)).toEqual(["RATE_LIMITED"]);
    expect(refusal.json.data ?? null).toBeNull();
    // Only the served requests wrote: the list count is theirs, none from the refused one.
    const db = new Database(limited.dbPath, { readonly: true });
    const lists = (db.prepare("SELECT count(*) AS n FROM lists WHERE name = 'flood'").get() as { n: number }).n;
    db.close();
    expect(lists).toBe(served);
    // The budget is per key: another key of the same workspace is still served.
    const otherResponse = await limited.client.withHeaders(bearer(other)).raw("{ contactLists { totalCount } }");
    expect(otherResponse.status).toBe(200);
    expect(otherResponse.errors).toBeUndefined();
  });

  it("over graphql-ws, a key past its budget gets an error with RATE_LIMITED, and the refused write is not made", async () => {
    const spender = await storeKey(limited, "globex");
    const socket = limited.ws(bearer(spender));
    let served = 0;
    const refusal = await eventually(
      async () => {
        const result = await wsOnce(socket, 'mutation { createContactList(input: { name: "ws-flood" }) { id } }');
        if (!result.errors) {
          served++;
          return undefined;
        }
        return result;
      },
      10_000,
      "a refusal",
    );
    expect(codes(refusal)).toEqual(["RATE_LIMITED"]);
    expect(refusal.data ?? null).toBeNull();
    const db = new Database(limited.dbPath, { readonly: true });
    const lists = (db.prepare("SELECT count(*) AS n FROM lists WHERE name = 'ws-flood'").get() as { n: number }).n;
    db.close();
    expect(lists).toBe(served);
  });
});

describe("connections and subscriptions (MAX_CONNECTIONS_PER_KEY 2, MAX_SUBSCRIPTIONS_PER_CONNECTION 2)", () => {
  let capped: TestServer;

  beforeAll(async () => {
    capped = await startTestServer({ env: { MAX_CONNECTIONS_PER_KEY: "2", MAX_SUBSCRIPTIONS_PER_CONNECTION: "2" } });
  });

  /** A list of the key's workspace to subscribe to. */
  async function listOf(keyText: string): Promise<string> {
    return (await capped.client.withHeaders(bearer(keyText)).data(CreateListDocument, { input: { name: "Subscribed" } })).createContactList.id;
  }

  /** Opens a socket holding one live subscription; resolves once the server acknowledged it. */
  async function hold(keyText: string, list: string): Promise<SubscriptionClient> {
    const socket = capped.ws(bearer(keyText));
    const ready = connected(socket);
    socket.subscribe(MembershipChangedDocument, { listId: list });
    await within(ready, 5_000, "the connection to be acknowledged");
    return socket;
  }

  it("a key's third connection is closed with 4429; a freed slot and other keys are served", async () => {
    const keyText = await storeKey(capped, "acme");
    const list = await listOf(keyText);
    const first = await hold(keyText, list);
    await hold(keyText, list);

    const third = capped.ws(bearer(keyText));
    const closed = closeCodeOf(third);
    const refused = wsOnce(third, "{ contactLists { totalCount } }");
    expect(await within(closed, 5_000, "the third connection to close")).toBe(4429);
    expect((await refused).data ?? null).toBeNull();

    // Another key is not affected by this key's connections.
    const otherKey = await storeKey(capped, "acme");
    const other = await wsOnce(capped.ws(bearer(otherKey)), "{ contactLists { totalCount } }");
    expect(other.errors).toBeUndefined();

    // Closing one connection frees exactly one slot.
    await first.dispose();
    const replacement = await eventually(
      async () => {
        const socket = capped.ws(bearer(keyText));
        const code = closeCodeOf(socket);
        const ready = connected(socket);
        socket.subscribe(MembershipChangedDocument, { listId: list });
        return Promise.race([ready.then(() => socket), code.then(() => undefined)]);
      },
      3_000,
      "a slot to free up",
    );
    expect(replacement).toBeDefined();
    const again = capped.ws(bearer(keyText));
    const againClosed = closeCodeOf(again);
    void wsOnce(again, "{ contactLists { totalCount } }");
    expect(await within(againClosed, 5_000, "the extra connection to close")).toBe(4429);
  });

  it("a connection's third subscription is refused with RATE_LIMITED; the socket stays usable and a freed slot is served", async () => {
    const keyText = await storeKey(capped, "globex");
    const list = await listOf(keyText);
    const socket = capped.ws(bearer(keyText));
    const open = capped.app.services.events.activeStreams;
    const first = socket.subscribe(MembershipChangedDocument, { listId: list });
    socket.subscribe(MembershipChangedDocument, { listId: list });
    await streamsOpen(capped.app, open + 2);

    const third = socket.subscribe(MembershipChangedDocument, { listId: list });
    await third.done();
    expect(third.errors.map((error) => error.extensions?.code)).toEqual(["RATE_LIMITED"]);
    expect(third.events).toEqual([]);
    expect(capped.app.services.events.activeStreams).toBe(open + 2);

    first.unsubscribe();
    const fourth = socket.subscribe(MembershipChangedDocument, { listId: list });
    await streamsOpen(capped.app, open + 2);
    expect(fourth.errors).toEqual([]);
    expect(fourth.completed).toBe(false);
  });

  it("three subscriptions sent at once on one connection open exactly two", async () => {
    const keyText = await storeKey(capped, "initech");
    const list = await listOf(keyText);
    const socket = capped.ws(bearer(keyText));
    const open = capped.app.services.events.activeStreams;
    // The client sends all three right after the connection is acknowledged.
    const burst = [0, 1, 2].map(() => socket.subscribe(MembershipChangedDocument, { listId: list }));
    await eventually(async () => (burst.filter((s) => s.completed).length >= 1 ? true : undefined), 5_000, "the extra subscription to be refused");
    await streamsOpen(capped.app, open + 2);
    const refused = burst.filter((s) => s.completed);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.errors.map((error) => error.extensions?.code)).toEqual(["RATE_LIMITED"]);
    expect(capped.app.services.events.activeStreams).toBe(open + 2);
  });
});
