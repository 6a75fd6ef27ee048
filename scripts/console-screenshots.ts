/**
 * Screenshots of the console's main views for the README (docs/screenshots/*.png): the service on
 * a temporary database, a day of changes replayed on its clock (so the sparklines have a shape),
 * then the system's headless Chromium (scripts/chromium.ts) on each view.
 *
 *   npm run screenshots
 */
import "reflect-metadata";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app";
import { ManualClock } from "../src/common/clock";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { startServer } from "../src/server";
import { buildConsole } from "./build-console";
import { chromiumPath, launchBrowser } from "./chromium";

const HOUR = 3_600_000;
const out = join(__dirname, "..", "docs", "screenshots");

const FIRST = ["Kari", "Ola", "Ingrid", "Lars", "Nora", "Emil", "Sofie", "Jakob", "Maja", "Henrik", "Astrid", "Magnus"];
const LAST = ["Nordmann", "Hansen", "Berg", "Johansen", "Larsen", "Lund", "Dahl", "Solberg"];
const PLACES = [
  ["Norway", "Oslo"],
  ["Norway", "Bergen"],
  ["Norway", "Trondheim"],
  ["Sweden", "Stockholm"],
  ["Denmark", "Copenhagen"],
  ["Finland", "Helsinki"],
] as const;

/** A contact for row i, the same on every run. */
function person(i: number) {
  const [country, city] = PLACES[(i * 7) % PLACES.length]!;
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[(i * 5) % LAST.length]!;
  return {
    email: `${first}.${last}${i}@example.com`.toLowerCase(),
    firstName: first,
    lastName: last,
    country,
    city,
    birthDate: `${1968 + ((i * 11) % 40)}-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + ((i * 3) % 28)).padStart(2, "0")}`,
    tags: [i % 4 === 0 ? "vip" : "newsletter", ...(i % 6 === 1 ? ["trial"] : [])],
    attributes: { plan: ["free", "pro", "team"][i % 3], score: (i * 37) % 100 },
  };
}

async function main(): Promise<void> {
  const chromium = chromiumPath();
  if (!chromium) throw new Error("no Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH)");
  await buildConsole();
  const dir = mkdtempSync(join(tmpdir(), "segments-screenshots-"));
  const now = Date.now();
  const clock = new ManualClock(now - 24 * HOUR);
  const config = loadConfig({ SQLITE_PATH: join(dir, "segments.db"), LOG_LEVEL: "silent", RATE_LIMIT_PER_SECOND: "1000000" });
  const app = await createApp(config, createLogger("silent"), { clock });
  const server = await startServer(app, { port: 0, host: "127.0.0.1" });
  const call = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const addContacts = (listId: string, contacts: unknown[]) =>
    call(`mutation($listId: ID!, $contacts: [ContactInput!]!) { addContacts(listId: $listId, contacts: $contacts) { added } }`, { listId, contacts });
  const createSegment = async (input: Record<string, unknown>) =>
    (await call<{ createSegment: { id: string } }>(`mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, { input })).createSegment.id;
  const createList = async (input: Record<string, unknown>) =>
    (await call<{ createContactList: { id: string } }>(`mutation($input: CreateContactListInput!) { createContactList(input: $input) { id } }`, { input })).createContactList.id;

  try {
    const listId = await createList({
      name: "Newsletter",
      timeZone: "Europe/Oslo",
      customFields: [
        { key: "plan", label: "Plan", type: "TEXT" },
        { key: "score", label: "Engagement score", type: "NUMBER" },
      ],
    });
    const other = await createList({ name: "Event attendees", timeZone: "Europe/Stockholm" });
    await addContacts(other, Array.from({ length: 64 }, (_, i) => ({ ...person(500 + i), attributes: undefined })));
    await createList({ name: "Partners", timeZone: "UTC" });
    await addContacts(listId, Array.from({ length: 90 }, (_, i) => person(i)));
    const norway = await createSegment({ listId, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } });
    const young = await createSegment({
      listId,
      name: "Young Norwegians",
      type: "DYNAMIC",
      condition: { and: [{ inSegment: norway }, { field: "age", operator: "BETWEEN", value: [18, 35] }] },
    });
    await createSegment({ listId, name: "VIP customers", type: "DYNAMIC", condition: { field: "tags", operator: "HAS_ANY", value: ["vip"] } });
    await createSegment({
      listId,
      name: "Engaged pro users",
      type: "DYNAMIC",
      condition: { and: [{ field: "attributes.plan", operator: "IN", value: ["pro", "team"] }, { field: "attributes.score", operator: "GREATER_THAN_OR_EQUAL", value: 60 }] },
    });
    await createSegment({ listId, name: "Nordics outside Norway", type: "STATIC", condition: { field: "country", operator: "IN", value: ["Sweden", "Denmark", "Finland"] } });
    await app.engine.drain();

    // A day of sign-ups and moves, an hour at a time.
    for (let hour = 1; hour <= 24; hour++) {
      clock.set(now - (24 - hour) * HOUR);
      const batch = Array.from({ length: 2 + ((hour * 5) % 7) }, (_, i) => person(100 + hour * 10 + i));
      await addContacts(listId, batch);
      await app.engine.drain();
    }
    clock.set(now);
    await app.engine.drain();

    mkdirSync(out, { recursive: true });
    const browser = await launchBrowser(chromium);
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, baseURL: server.url.replace(/\/graphql$/, ""), deviceScaleFactor: 1 });
    const page = await context.newPage();
    const shot = (name: string) => page.screenshot({ path: join(out, `${name}.png`) });

    await page.goto("/");
    await page.getByRole("link", { name: "Newsletter" }).waitFor();
    await shot("lists");

    await page.goto(`/#/lists/${listId}`);
    await page.locator('[data-testid="live-status"][data-status="live"]').waitFor();
    for (let i = 0; i < 4; i++) {
      await addContacts(listId, [person(400 + i)]);
      await page.waitForTimeout(150);
    }
    await page.locator('[data-testid="feed"] li').nth(3).waitFor();
    await shot("list");

    await page.goto(`/#/lists/${listId}/new-segment`);
    const control = (path: string, label: string) => page.locator(`[data-path="${path}"] > .node-head [aria-label="${label}"]`);
    await control("and[0]", "Operator").selectOption("IN");
    await control("and[0]", "Values").focus();
    await page.keyboard.type("Norway, Sweden,");
    await page.locator('[data-path=""] > .node-add').getByRole("button", { name: "+ Group" }).click();
    await control("and[1].or[0]", "Field").selectOption("tags");
    await control("and[1].or[0]", "Operator").selectOption("HAS_ANY");
    await control("and[1].or[0]", "Tags").focus();
    await page.keyboard.type("vip,");
    await page.locator('[data-path="and[1]"] > .node-add').getByRole("button", { name: "+ Condition" }).click();
    await control("and[1].or[1]", "Field").selectOption("createdAt");
    await control("and[1].or[1]", "Operator").selectOption("WITHIN_LAST");
    await control("and[1].or[1]", "Amount").fill("12");
    await control("and[1].or[1]", "Unit").selectOption("HOURS");
    await page.locator('[data-path=""] > .node-add').getByRole("button", { name: "+ Condition" }).click();
    await control("and[2]", "Field").selectOption("attributes.score");
    await control("and[2]", "Operator").selectOption("GREATER_THAN_OR_EQUAL");
    await control("and[2]", "Value").fill("40");
    await page.getByLabel("Name", { exact: true }).fill("Active Scandinavians");
    await page.locator('[data-testid="preview-count"][data-loading="false"]').waitFor();
    await page.waitForTimeout(300);
    await shot("builder");

    await page.goto(`/#/segments/${norway}`);
    await page.getByRole("heading", { name: "Norway" }).waitFor();
    await page.locator('[data-testid="node-count"]').filter({ hasNotText: "–" }).first().waitFor();
    await shot("segment");

    const { segment } = await call<{ segment: { members: { nodes: { id: string }[] } } }>(`query($id: ID!) { segment(id: $id) { members(first: 1) { nodes { id } } } }`, { id: young });
    await page.goto(`/#/contacts/${segment.members.nodes[0]!.id}`);
    await page.getByRole("button", { name: /^Young Norwegians/ }).click();
    await page.getByTestId("explanation").locator(".verdicts li").nth(2).waitFor();
    await shot("contact");

    await page.goto("/graphql");
    await page.locator(".graphiql-execute-button").click();
    await page.locator(".graphiql-response", { hasText: "Newsletter" }).waitFor();
    await shot("ide");

    await browser.close();
    console.log(`wrote ${out}/{lists,list,builder,segment,contact,ide}.png`);
  } finally {
    await server.close();
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
