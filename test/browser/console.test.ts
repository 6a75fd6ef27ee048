/**
 * The console at / and the GraphQL IDE at /graphql: over plain HTTP (what the service sends, under
 * which policy), and in a real headless Chromium against the real server, writing through the real
 * API. The browser part needs a Chromium (Debian's `chromium`, or CHROMIUM_PATH); without one it
 * is skipped, and says so in one line.
 */
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import type { Browser, Page } from "playwright-core";
import { buildConsole } from "../../scripts/build-console";
import { generateApiKey } from "../../src/security/api-keys";
import {
  AddContactDocument,
  AddContactsDocument,
  CreateListDocument,
  CreateSegmentDocument,
  ExplainMembershipDocument,
  ListByIdDocument,
  ListsDocument,
  ListTimeZoneDocument,
  PreviewBreakdownDocument,
  SegmentByIdDocument,
  SegmentHistoryDocument,
  type ConditionInput,
} from "../graphql/generated";
import { chromiumPath, launchBrowser, openPage, type PageWatch, seriousAxeFindings } from "../support/browser";
import { startTestServer, stopAll, type TestServer } from "../support/harness";

jest.setTimeout(120_000);

beforeAll(async () => {
  await buildConsole();
});

afterAll(async () => {
  await stopAll();
});

/** The API key the console keeps in this tab's sessionStorage. */
const sessionKey = (page: Page) => page.evaluate("sessionStorage.getItem('segments.apiKey')");

type JsonErrors = { errors: { message: string; extensions: { code: string } }[] };

function originOf(server: TestServer): string {
  return server.server.url.replace(/\/graphql$/, "");
}

/** A list with custom fields and 30 contacts (a third in Norway), and a DYNAMIC "Norwegians" segment. */
async function seedList(server: TestServer, name = "Newsletter") {
  const { createContactList: list } = await server.client.data(CreateListDocument, {
    input: { name, timeZone: "Europe/Oslo", customFields: [{ key: "score", label: "Score", type: "NUMBER" }, { key: "plan", type: "TEXT" }] },
  });
  const countries = ["Norway", "Sweden", "Denmark"];
  await server.client.data(AddContactsDocument, {
    listId: list.id,
    contacts: Array.from({ length: 30 }, (_, i) => ({
      email: `person${i}@example.no`,
      firstName: ["Kari", "Ola", "Ingrid", "Lars", "Nora"][i % 5],
      lastName: ["Nordmann", "Hansen", "Berg"][i % 3],
      country: countries[i % 3],
      birthDate: `${1970 + i}-04-12`,
      tags: i % 2 ? ["vip"] : ["newsletter", i % 4 === 0 ? "trial" : "partner"],
      attributes: { score: i * 3, plan: i % 3 ? "pro" : "free" },
    })),
  });
  const { createSegment: norwegians } = await server.client.data(CreateSegmentDocument, {
    input: { listId: list.id, name: "Norwegians", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  });
  return { list, norwegians };
}

describe("the console over HTTP", () => {
  let server: TestServer;
  let origin: string;
  beforeAll(async () => {
    server = await startTestServer();
    origin = originOf(server);
  });

  it("/ is the console page: its script and style from this origin, under a policy with no inline script or style", async () => {
    const response = await fetch(`${origin}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const policy = response.headers.get("content-security-policy")!;
    expect(policy).toMatch(/(^|;)script-src 'self'(;|$)/);
    expect(policy).toMatch(/(^|;)style-src 'self'(;|$)/);
    expect(policy).toMatch(/(^|;)default-src 'none'/);
    expect(policy).toContain(`connect-src 'self' ws://${new URL(origin).host} wss://${new URL(origin).host}`);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const file = await fetch(`${origin}${asset}`);
      expect(file.status).toBe(200);
      expect(file.headers.get("cache-control")).toMatch(/immutable/);
      expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("GET /graphql from a browser is the IDE page; GET and POST operations still reach the API", async () => {
    const page = await fetch(server.server.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script type="module" src="\/assets\/ide-[A-Z0-9]+\.js">/);
    const query = await fetch(`${server.server.url}?query=${encodeURIComponent("{ contactLists { totalCount } }")}`, { headers: { accept: "application/json", "apollo-require-preflight": "1" } });
    expect(await query.json()).toEqual({ data: { contactLists: { totalCount: 0 } } });
    const lists = await server.client.data(ListsDocument, {});
    expect(lists.contactLists.totalCount).toBe(0);
  });

  it("a missing asset is a JSON 404", async () => {
    const response = await fetch(`${origin}/assets/nothing-here.js`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as JsonErrors).errors[0]!.extensions.code).toBe("NOT_FOUND");
  });

  it("the IDE is off in production, with a JSON 404 that says how to turn it on, and on with GRAPHQL_INTROSPECTION=true", async () => {
    const production = await startTestServer({ env: { NODE_ENV: "production" } });
    const off = await fetch(production.server.url, { headers: { accept: "text/html" } });
    expect(off.status).toBe(404);
    const [error] = ((await off.json()) as JsonErrors).errors;
    expect(error!.extensions.code).toBe("NOT_FOUND");
    expect(error!.message).toMatch(/GRAPHQL_INTROSPECTION=true/);
    // The console itself is a client like any other: it is served in production too.
    expect((await fetch(`${originOf(production)}/`)).status).toBe(200);

    const enabled = await startTestServer({ env: { NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" } });
    const on = await fetch(enabled.server.url, { headers: { accept: "text/html" } });
    expect(on.status).toBe(200);
    expect(await on.text()).toMatch(/\/assets\/ide-/);
  });
});

const chromium = chromiumPath();
if (!chromium) {
  process.stdout.write("Browser suite (test/browser/console.test.ts) skipped: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH).\n");
}

(chromium ? describe : describe.skip)("the console in a browser", () => {
  let browser: Browser;
  let server: TestServer;
  let origin: string;
  let seeded: Awaited<ReturnType<typeof seedList>>;
  let watch: PageWatch;
  let page: Page;
  /** The service's WebSockets (so that a test can cut them), and whether new ones are refused. */
  const sockets = new Set<Socket>();
  let refuseUpgrades = false;

  beforeAll(async () => {
    browser = await launchBrowser(chromium!);
    server = await startTestServer();
    origin = originOf(server);
    server.server.httpServer.prependListener("upgrade", (_request, socket: Socket) => {
      if (refuseUpgrades) return void socket.destroy();
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    seeded = await seedList(server);
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    watch = await openPage(browser, origin);
    page = watch.page;
    page.on("dialog", (dialog) => void dialog.accept());
  });

  afterEach(async () => {
    await watch.context.close();
    // Every test: no request outside the service's origin, no uncaught error, no console error.
    expect(watch.problems).toEqual([]);
  });

  const countOf = async (segmentId: string) => Number((await page.getByTestId(`member-count-${segmentId}`).textContent())!.replace(/,/g, ""));
  // Locators wait without evaluating strings in the page, which its policy (no unsafe-eval) forbids.
  const exactly = (text: string) => new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);
  const waitForText = (selector: string, text: string, timeout = 5_000) => page.locator(selector).filter({ hasText: exactly(text) }).waitFor({ timeout });
  const waitForFeed = (length: number) => page.locator('[data-testid="feed"] li').nth(length - 1).waitFor();
  const waitForLive = () => page.waitForSelector('[data-testid="live-status"][data-status="live"]');
  const node = (path: string) => page.locator(`[data-path="${path}"]`);
  /** A leaf node's own control (not one of a nested node's). */
  const control = (path: string, label: string) => node(path).locator(`:scope > .node-head [aria-label="${label}"]`);

  it("a segment's member count on the page changes within 1 s of a write made through the API", async () => {
    await page.goto(`/#/lists/${seeded.list.id}`);
    await page.getByTestId(`segment-${seeded.norwegians.id}`).waitFor();
    await waitForLive();
    const before = await countOf(seeded.norwegians.id);
    await server.client.data(AddContactDocument, { listId: seeded.list.id, input: { email: "live@example.no", country: "Norway" } });
    await waitForText(`[data-testid="member-count-${seeded.norwegians.id}"]`, String(before + 1), 1_000);
    await page.locator('[data-testid="feed"] li', { hasText: "entered" }).first().waitFor({ timeout: 1_000 });
    expect(await page.getByTestId("feed").textContent()).toContain("Norwegians");
  });

  it("the preview count and each node's count equal segmentPreview for the same condition", async () => {
    await page.goto(`/#/lists/${seeded.list.id}/new-segment`);
    await control("and[0]", "Field").selectOption("country");
    await control("and[0]", "Operator").selectOption("EQUALS");
    await control("and[0]", "Value").fill("Norway");
    await node("").locator(":scope > .node-add").getByRole("button", { name: "+ Condition" }).click();
    await control("and[1]", "Field").selectOption("age");
    await control("and[1]", "Operator").selectOption("BETWEEN");
    await control("and[1]", "From").fill("20");
    await control("and[1]", "To").fill("45");

    const condition: ConditionInput = { and: [{ field: "country", operator: "EQUALS", value: "Norway" }, { field: "age", operator: "BETWEEN", value: [20, 45] }] };
    const { segmentPreview } = await server.client.data(PreviewBreakdownDocument, { listId: seeded.list.id, condition });
    expect(segmentPreview.count).toBeGreaterThan(0);
    await waitForText('[data-testid="preview-count"]', String(segmentPreview.count));
    for (const verdict of segmentPreview.breakdown) {
      await waitForText(`[data-path="${verdict.path}"] > .node-head [data-testid="node-count"]`, String(verdict.count));
    }
  });

  it("a segment made in the builder exists through the API with the same condition", async () => {
    await page.goto(`/#/lists/${seeded.list.id}/new-segment`);
    // and[0]: tags has any of vip, trial (typed into the token input, by keyboard)
    await control("and[0]", "Field").selectOption("tags");
    await control("and[0]", "Operator").selectOption("HAS_ANY");
    await control("and[0]", "Tags").focus();
    await page.keyboard.type("vip");
    await page.keyboard.press("Enter");
    await page.keyboard.type("trial,");
    // and[1]: not (country is Sweden or created within the last 30 days)
    await node("").locator(":scope > .node-add").getByRole("button", { name: "+ Group" }).click();
    await node("and[1]").locator(":scope > .node-head").getByLabel("Not").check();
    await control("and[1].not.or[0]", "Value").fill("Sweden");
    // A negated node answers for its `not` too: the group is at and[1], its items at and[1].not.or[…].
    await node("and[1]").locator(":scope > .node-add").getByRole("button", { name: "+ Condition" }).click();
    await control("and[1].not.or[1]", "Field").selectOption("createdAt");
    await control("and[1].not.or[1]", "Operator").selectOption("WITHIN_LAST");
    await control("and[1].not.or[1]", "Amount").fill("30");
    await control("and[1].not.or[1]", "Unit").selectOption("DAYS");
    // and[2]: a member of Norwegians
    await node("").locator(":scope > .node-add").getByRole("button", { name: "+ In segment" }).click();
    await control("and[2]", "Segment").selectOption({ label: "Norwegians" });
    // and[3]: a custom field
    await node("").locator(":scope > .node-add").getByRole("button", { name: "+ Condition" }).click();
    await control("and[3]", "Field").selectOption("attributes.score");
    await control("and[3]", "Operator").selectOption("GREATER_THAN_OR_EQUAL");
    await control("and[3]", "Value").fill("10");

    const expected = {
      and: [
        { field: "tags", operator: "HAS_ANY", value: ["vip", "trial"] },
        { not: { or: [{ field: "country", operator: "EQUALS", value: "Sweden" }, { field: "createdAt", operator: "WITHIN_LAST", value: { amount: 30, unit: "DAYS" } }] } },
        { inSegment: seeded.norwegians.id },
        { field: "attributes.score", operator: "GREATER_THAN_OR_EQUAL", value: 10 },
      ],
    };
    const { segmentPreview } = await server.client.data(PreviewBreakdownDocument, { listId: seeded.list.id, condition: expected as ConditionInput });
    await waitForText('[data-testid="preview-count"]', String(segmentPreview.count));

    await page.getByLabel("Name", { exact: true }).fill("Made in the builder");
    await page.getByLabel(/^Static/).check();
    await page.getByRole("button", { name: "Save segment" }).click();
    await page.waitForURL(/#\/segments\/[^/]+$/);
    const id = decodeURIComponent(new URL(page.url()).hash.split("/").pop()!);
    const { segment } = await server.client.data(SegmentByIdDocument, { id });
    expect(segment).toMatchObject({ name: "Made in the builder", type: "STATIC", condition: expected, memberCount: segmentPreview.count });
    await page.getByTestId(`member-count-${id}`).waitFor();
    expect(await countOf(id)).toBe(segmentPreview.count);
  });

  it("the service's error about a condition is shown at the node its path names, and goes when the node is fixed", async () => {
    await page.goto(`/#/lists/${seeded.list.id}/new-segment`);
    await node("").locator(":scope > .node-add").getByRole("button", { name: "+ Condition" }).click();
    await control("and[1]", "Field").selectOption("firstName");
    await control("and[1]", "Operator").selectOption("CONTAINS");
    const error = node("and[1]").getByTestId("node-error");
    await error.waitFor();
    expect(await error.textContent()).toBe("CONTAINS needs a non-empty string");
    expect(await node("and[0]").getByTestId("node-error").count()).toBe(0);
    expect(await page.getByTestId("preview-count").textContent()).toBe("–");
    await control("and[1]", "Value").fill("ar");
    await error.waitFor({ state: "detached" });
    const { segmentPreview } = await server.client.data(PreviewBreakdownDocument, {
      listId: seeded.list.id,
      condition: { and: [{ field: "country", operator: "EQUALS", value: "" }, { field: "firstName", operator: "CONTAINS", value: "ar" }] },
    });
    await waitForText('[data-testid="preview-count"]', String(segmentPreview.count));
  });

  it("the feed resumes without a gap after its socket is cut, and says it is reconnecting meanwhile", async () => {
    const { list, norwegians } = await seedList(server, "Resume");
    await page.goto(`/#/lists/${list.id}`);
    await waitForLive();
    const add = (email: string) => server.client.data(AddContactDocument, { listId: list.id, input: { email, country: "Norway" } });
    await add("before-cut@example.no");
    await waitForFeed(1);

    refuseUpgrades = true;
    for (const socket of sockets) socket.destroy();
    await page.waitForSelector('[data-testid="live-status"][data-status="reconnecting"]');
    expect(await page.getByTestId("live-status").textContent()).toBe("Reconnecting…");
    for (const email of ["cut-1@example.no", "cut-2@example.no", "cut-3@example.no"]) await add(email);
    await new Promise((resolve) => setTimeout(resolve, 300));
    refuseUpgrades = false;

    await waitForLive();
    await waitForFeed(4);
    await add("after-cut@example.no");
    await waitForFeed(5);
    const shown = await Promise.all((await page.locator('[data-testid="feed"] li').all()).map((item) => item.getAttribute("data-cursor")));
    const { segment } = await server.client.data(SegmentHistoryDocument, { id: norwegians.id, first: 5 });
    expect(shown).toEqual(segment!.history.edges.map((edge) => edge.cursor));
    expect(segment!.history.nodes.map((event) => event.contact!.email)).toEqual([
      "after-cut@example.no",
      "cut-3@example.no",
      "cut-2@example.no",
      "cut-1@example.no",
      "before-cut@example.no",
    ]);
    await waitForText(`[data-testid="member-count-${norwegians.id}"]`, String(segment!.history.nodes[0]!.memberCount));
    // Chromium logs each refused reconnection attempt itself; those are the outage this test made.
    watch.problems.splice(0, watch.problems.length, ...watch.problems.filter((problem) => !/WebSocket connection to '.*' failed/.test(problem)));
  });

  it("a contact is found by search, explained, removed by hand and handed back to the condition", async () => {
    await page.goto(`/#/lists/${seeded.list.id}/contacts`);
    await page.getByLabel("Search by email or name").fill("person3@");
    await page.getByRole("link", { name: "person3@example.no" }).click();
    await page.waitForURL(/#\/contacts\//);
    const contactId = decodeURIComponent(new URL(page.url()).hash.split("/").pop()!);
    await page.getByRole("button", { name: /^Norwegians/ }).click();
    const explanation = page.getByTestId("explanation");
    await explanation.getByText("A member").waitFor();
    expect(await explanation.textContent()).toContain("the condition holds");
    expect(await explanation.locator("li").first().textContent()).toContain("Country is Norway");

    await explanation.getByRole("button", { name: "Remove from Norwegians by hand" }).click();
    await explanation.getByText("Not a member").waitFor();
    const removed = await server.client.data(ExplainMembershipDocument, { segmentId: seeded.norwegians.id, contactId });
    expect(removed.explainMembership).toMatchObject({ member: false, override: "EXCLUDED", conditionMatched: true });

    await explanation.getByRole("button", { name: "Let the condition decide again" }).click();
    await explanation.getByText("A member").waitFor();
    const restored = await server.client.data(ExplainMembershipDocument, { segmentId: seeded.norwegians.id, contactId });
    expect(restored.explainMembership).toMatchObject({ member: true, override: null });
    await page.getByTestId("feed").getByText(/by hand/).first().waitFor();
  });

  it("a segment's condition is edited, then the segment is duplicated, frozen and deleted", async () => {
    const { createSegment: segment } = await server.client.data(CreateSegmentDocument, {
      input: { listId: seeded.list.id, name: "Swedes", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Sweden" } },
    });
    await page.goto(`/#/segments/${segment.id}`);
    await control("", "Value").fill("Denmark");
    await page.getByRole("button", { name: "Save condition" }).click();
    // Saved once the edit is no longer pending: the button turns into "Saving…" at the click, and
    // Discard goes only when the answer came.
    await page.getByRole("button", { name: "Discard" }).waitFor({ state: "detached" });
    const edited = await server.client.data(SegmentByIdDocument, { id: segment.id });
    expect(edited.segment!.condition).toEqual({ field: "country", operator: "EQUALS", value: "Denmark" });
    await waitForText(`[data-testid="member-count-${segment.id}"]`, String(edited.segment!.memberCount));

    await page.getByRole("button", { name: "Duplicate" }).click();
    await page.getByLabel("Name of the copy").fill("Danes, fixed");
    await page.getByRole("combobox", { name: /^Type\b/ }).selectOption("STATIC");
    await page.getByRole("button", { name: "Duplicate", exact: true }).last().click();
    await page.waitForURL((url) => url.hash.startsWith("#/segments/") && !url.hash.endsWith(encodeURIComponent(segment.id)) && !url.hash.endsWith(segment.id));
    const copyId = decodeURIComponent(new URL(page.url()).hash.split("/").pop()!);
    expect((await server.client.data(SegmentByIdDocument, { id: copyId })).segment).toMatchObject({ name: "Danes, fixed", type: "STATIC", memberCount: edited.segment!.memberCount });

    await page.goto(`/#/segments/${segment.id}`);
    await page.getByRole("button", { name: "Freeze" }).click();
    await page.getByRole("button", { name: "Freeze now" }).click();
    await page.locator(".badge-static").waitFor();
    expect((await server.client.data(SegmentByIdDocument, { id: segment.id })).segment!.type).toBe("STATIC");

    await page.getByRole("button", { name: "Delete" }).click();
    await page.waitForURL(new RegExp(`#/lists/${encodeURIComponent(seeded.list.id)}$`));
    expect((await server.client.data(SegmentByIdDocument, { id: segment.id })).segment).toBeNull();
  });

  it("a list is created with a time zone and custom fields", async () => {
    await page.goto("/");
    await page.getByRole("button", { name: "New list" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Customers");
    await page.getByLabel("Time zone").selectOption("America/St_Johns");
    await page.getByRole("button", { name: "Add a field" }).click();
    await page.getByLabel("Key", { exact: true }).fill("loyaltyTier");
    await page.getByLabel("Label", { exact: true }).fill("Loyalty tier");
    // A select's name is its label and its chosen option ("Type Text").
    await page.getByRole("combobox", { name: /^Type\b/ }).selectOption("NUMBER");
    await page.getByRole("button", { name: "Create list" }).click();
    await page.waitForURL(/#\/lists\/[^/]+$/);
    const id = decodeURIComponent(new URL(page.url()).hash.split("/").pop()!);
    const { contactList } = await server.client.data(ListTimeZoneDocument, { id });
    expect(contactList!.timeZone).toBe("America/St_Johns");
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    expect(await page.textContent("main")).toContain("Loyalty tier");
  });

  it("a CSV upload shows its progress and ends with the rows in the list; a segment downloads as CSV", async () => {
    const { list, norwegians } = await seedList(server, "Imports");
    await page.goto(`/#/lists/${list.id}`);
    await page.getByRole("button", { name: "Import CSV" }).click();
    const rows = Array.from({ length: 500 }, (_, i) => `imported${i}@example.no,Name${i},${i % 2 ? "Norway" : "Sweden"},a;b`);
    const csv = ["email,firstName,country,tags", ...rows, "not-an-email,Bad,Norway,"].join("\n");
    await page.getByLabel("CSV file").setInputFiles({ name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Import", exact: true }).click();
    const progress = page.getByTestId("import-progress");
    await page.locator('[data-testid="import-progress"][data-status="DONE"]').waitFor();
    expect(await progress.getByRole("status").textContent()).toBe("Done: 501 rows read · 500 added · 0 updated · 1 refused");
    expect(await progress.locator("progress").evaluate((bar) => [bar.value, bar.max])).toEqual([csv.length, csv.length]);
    expect(await progress.locator("li").textContent()).toMatch(/^Row 501: /);
    const { contactList } = await server.client.data(ListByIdDocument, { id: list.id });
    expect(contactList!.contactCount).toBe(530);
    await page.getByText("530 contacts").waitFor();

    await page.goto(`/#/segments/${norwegians.id}`);
    const memberCount = contactList!.segments.find((segment) => segment.id === norwegians.id)!.memberCount;
    await waitForText(`[data-testid="member-count-${norwegians.id}"]`, String(memberCount));
    const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    expect(file.suggestedFilename()).toBe("Norwegians.csv");
    const lines = readFileSync((await file.path())!, "utf8").trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^id,email,firstName,/);
    expect(lines).toHaveLength(memberCount + 1);
  });

  it("axe-core finds no serious or critical problem on the main views", async () => {
    const contact = (await server.client.data(AddContactDocument, { listId: seeded.list.id, input: { email: "axe@example.no", country: "Norway", tags: ["vip"] } })).addContact;
    const views: [string, string][] = [
      ["lists", "/"],
      ["list", `/#/lists/${seeded.list.id}`],
      ["builder", `/#/lists/${seeded.list.id}/new-segment`],
      ["segment", `/#/segments/${seeded.norwegians.id}`],
      ["contacts", `/#/lists/${seeded.list.id}/contacts?q=person`],
      ["contact", `/#/contacts/${contact.id}`],
    ];
    const findings: Record<string, unknown> = {};
    for (const [name, path] of views) {
      await page.goto(path);
      await page.locator("main h1").first().waitFor();
      await page.waitForLoadState("networkidle");
      findings[name] = await seriousAxeFindings(page);
    }
    views.push(["import", "the list's import form"]);
    await page.goto(`/#/lists/${seeded.list.id}`);
    await page.getByRole("button", { name: "Import CSV" }).click();
    await page.getByLabel("CSV file").waitFor();
    findings.import = await seriousAxeFindings(page);
    expect(findings).toEqual(Object.fromEntries(views.map(([name]) => [name, []])));
  });

  it("the IDE runs a subscription over graphql-ws", async () => {
    await page.goto("/graphql");
    const editor = page.locator(".graphiql-query-editor .CodeMirror textarea");
    await editor.waitFor({ state: "attached" });
    await page.locator(".graphiql-query-editor .CodeMirror").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.type(`subscription Watch { segmentMembershipChanged(segmentId: "${seeded.norwegians.id}") { change contact { email } } }`);
    await page.keyboard.press("Escape");
    // GraphiQL names the tab after the operation once it has parsed the edit: then it sends that name.
    await page.locator(".graphiql-tab", { hasText: "Watch" }).waitFor();
    await page.locator(".graphiql-execute-button").click();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.client.data(AddContactDocument, { listId: seeded.list.id, input: { email: "ide-sub@example.no", country: "Norway" } });
    await page.locator(".graphiql-response", { hasText: "ide-sub@example.no" }).waitFor();
    expect(await page.locator(".graphiql-response").textContent()).toContain("ENTERED");
  });
});

(chromium ? describe : describe.skip)("signing in with an API key", () => {
  let browser: Browser;
  let server: TestServer;
  let watch: PageWatch;
  let key: string;

  beforeAll(async () => {
    browser = await launchBrowser(chromium!);
    server = await startTestServer();
    const generated = generateApiKey();
    key = generated.key;
    await server.app.store.createApiKey({ workspaceId: "acme", name: "console", prefix: generated.prefix, hash: generated.hash }, Date.now());
    await server.client.withHeaders({ authorization: `Bearer ${key}` }).data(CreateListDocument, { input: { name: "Acme customers" } });
    // The service notices its first key within about a second; from then on a request without one is refused.
    for (let tries = 0; (await fetch(server.server.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{__typename}"}' })).status !== 401; tries++) {
      if (tries > 50) throw new Error("the service still runs open");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    watch = await openPage(browser, originOf(server));
  });

  afterAll(async () => {
    await watch?.context.close();
    await browser?.close();
  });

  it("a refused key is said so, a good one opens the workspace's lists, and the IDE sends it from its headers", async () => {
    const { page, problems } = watch;
    await page.goto("/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await seriousAxeFindings(page)).toEqual([]);
    await page.getByLabel("API key").fill(generateApiKey().key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("this API key is not valid or has been revoked").waitFor();

    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Acme customers" }).waitFor();
    expect(await sessionKey(page)).toBe(key);

    await page.goto("/graphql");
    await page.locator(".graphiql-editor-tool", { hasText: `Bearer ${key}` }).first().waitFor({ state: "attached" });
    await page.locator(".graphiql-execute-button").click();
    await page.locator(".graphiql-response", { hasText: "Acme customers" }).waitFor();

    await page.goto("/");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await sessionKey(page)).toBeNull();
    // The refused sign-in above is a 401, which the browser reports as a failed resource; nothing else may be logged.
    expect(problems.filter((problem) => !/status of 401/.test(problem))).toEqual([]);
  });
});

export {};
