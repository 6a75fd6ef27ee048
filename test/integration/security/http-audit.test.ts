/**
 * graphql-http's GraphQL-over-HTTP conformance audit, run against the real server (Apollo Server
 * behind express, with API keys, CSRF prevention and our error formatting) with a valid key.
 */
import { type AuditFail, type AuditResult, serverAudits } from "graphql-http";
import { generateApiKey } from "../../../src/security/api-keys";
import { startTestServer, stopAll, type TestServer } from "../../support/harness";

afterAll(stopAll);

/**
 * The audits that end in a warning (a SHOULD the server does not follow), by name. A new warning,
 * or one of these turning into an error, fails the test.
 */
const EXPECTED_WARNINGS = [
  // Apollo Server answers a document that does not parse with 400 on every media type; the spec's
  // legacy application/json compatibility mode recommends 200 with { errors }.
  "SHOULD use 200 status code on document parsing failure when accepting application/json",
  // The same for a document that fails validation (the audit's document is in fact a syntax
  // error, "{ 8f31403dfe404bccbb0e835f2629c6a7 }": Apollo gives GRAPHQL_PARSE_FAILED with 400).
  "SHOULD use 200 status code on document validation failure when accepting application/json",
  // The same for variables that do not coerce: Apollo gives 400 with BAD_USER_INPUT (here the
  // audit's operation declares $id without using it, GRAPHQL_VALIDATION_FAILED, also 400).
  "SHOULD use a status code of 200 on variable coercion failure when accepting application/json",
].sort();

/**
 * The audits that end in a notice (a MAY the server declines). All three are GETs without
 * Apollo's preflight header: CSRF prevention refuses them with 400 on purpose, and a client that
 * sends `apollo-require-preflight` (or `x-apollo-operation-name`) gets them served.
 */
const EXPECTED_NOTICES = [
  "MAY accept application/x-www-form-urlencoded formatted GET requests",
  "MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json",
  "MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json",
].sort();

async function audit(server: TestServer, key: string): Promise<AuditResult[]> {
  const fetchFn = (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
  const results: AuditResult[] = [];
  // One after another: each audit is a request, and their order makes failures easier to read.
  for (const { fn } of serverAudits({ url: server.server.url, fetchFn })) results.push(await fn());
  return results;
}

async function withKey(server: TestServer): Promise<string> {
  const { key, prefix, hash } = generateApiKey();
  await server.app.store.createApiKey({ workspaceId: "audit", name: "graphql-http audit", prefix, hash }, Date.now());
  return key;
}

describe.each([
  ["development mode", { NODE_ENV: "test" }],
  ["production mode with GRAPHQL_INTROSPECTION=true", { NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" }],
])("graphql-http server audit (%s)", (_mode, env) => {
  let results: AuditResult[];

  beforeAll(async () => {
    const server = await startTestServer({ env });
    const key = await withKey(server);
    // The audit would be meaningless if keys were not checked: a wrong one is refused, ours served.
    const wrong = await server.client.withHeaders({ authorization: `Bearer ${generateApiKey().key}` }).raw("{ __typename }");
    expect(wrong.status).toBe(401);
    const keyed = await server.client.withHeaders({ authorization: `Bearer ${key}` }).raw("{ __typename }");
    expect(keyed).toMatchObject({ status: 200, data: { __typename: "Query" } });
    results = await audit(server, key);
  });

  it("runs every audit of the suite", () => {
    expect(results.length).toBeGreaterThan(50);
    expect(new Set(results.map((result) => result.id)).size).toBe(results.length);
  });

  it("no audit fails with an error", () => {
    const errors = results.flatMap((result) => (result.status === "error" ? [`${result.name}: ${result.reason}`] : []));
    expect(errors).toEqual([]);
  });

  it("the audits that end in a warning are exactly the known ones", () => {
    const warnings = results.filter((result) => result.status === "warn").map((result) => result.name);
    expect(warnings.sort()).toEqual(EXPECTED_WARNINGS);
  });

  it("the audits that end in a notice are exactly the GETs that CSRF prevention refuses", () => {
    const notices = results.filter((result) => result.status === "notice").map((result) => result.name);
    expect(notices.sort()).toEqual(EXPECTED_NOTICES);
  });

  it("every other audit passes", () => {
    const ok = results.filter((result) => result.status === "ok").length;
    expect(ok).toBe(results.length - EXPECTED_WARNINGS.length - EXPECTED_NOTICES.length);
  });
});

describe("graphql-http server audit (production mode, introspection off by default)", () => {
  /**
   * These audits send `__type(name: …)`, an introspection field, which production refuses by
   * design (GRAPHQL_INTROSPECTION turns it back on, as above). They are the only difference.
   */
  const INTROSPECTION_AUDITS = {
    "MUST accept utf-8 encoded request": "error",
    "MUST allow map {variables} parameter when accepting application/json": "error",
    "SHOULD allow map {variables} parameter when accepting application/graphql-response+json": "warn",
  };

  it("fails only the audits whose documents use introspection, each refused as introspection", async () => {
    const server = await startTestServer({ env: { NODE_ENV: "production" } });
    const results = await audit(server, await withKey(server));
    const known = new Set([...EXPECTED_WARNINGS, ...EXPECTED_NOTICES]);
    const others = Object.fromEntries(results.filter((r) => r.status !== "ok" && !known.has(r.name)).map((r) => [r.name, r.status]));
    expect(others).toEqual(INTROSPECTION_AUDITS);
    for (const name of Object.keys(INTROSPECTION_AUDITS)) {
      const failed = results.find((result) => result.name === name) as AuditFail;
      const body = JSON.parse(await failed.response.text()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(failed.response.status).toBe(400);
      expect(body.errors.length).toBeGreaterThan(0);
      for (const error of body.errors) {
        expect(error.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(error.message).toMatch(/introspection/i);
      }
    }
    // What such a client sees: a validation error naming introspection, no data and no schema.
    const key = await withKey(server);
    const response = await server.client.withHeaders({ authorization: `Bearer ${key}` }).raw('{ __type(name: "Run🏃Swim🏊") { name } }');
    expect(response.status).toBe(400);
    expect(response.data).toBeUndefined();
    expect(response.errors!.length).toBeGreaterThan(0);
    for (const error of response.errors!) expect(error.extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED" });
    for (const error of response.errors!) expect(error.message).toMatch(/introspection/i);
  });
});
