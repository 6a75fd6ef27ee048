/**
 * npm run seed [-- --workspace <name>]
 *
 * Fills the database the service uses (SQLITE_PATH or MONGODB_URI) with demo data: the list
 * "Demo contacts" with 10,000 contacts made by @faker-js/faker from a fixed seed (names, emails,
 * phones and cities of their countries, genders, birth dates, tags, and the custom fields plan,
 * score, lastPurchase and newsletter), and a few STATIC and DYNAMIC segments over them. Running
 * it again makes nothing new and says so; a run that was cut short is completed. Prints what it
 * made, with each segment's member count.
 */
import "reflect-metadata";
import { parseArgs } from "node:util";
import { type Faker, faker, fakerDA, fakerDE, fakerEN_GB, fakerEN_US, fakerES, fakerFI, fakerFR, fakerNB_NO, fakerSV } from "@faker-js/faker";
import { createApp } from "../src/app";
import { Caller } from "../src/caller";
import { toGlobalId } from "../src/common/ids";
import { loadConfig } from "../src/config";
import type { ContactInputShape } from "../src/domain/contacts";
import { createLogger } from "../src/logger";
import { OPEN_WORKSPACE } from "../src/security/api-keys";
import type { ListRecord, SegmentType } from "../src/stores/port";
import { runMain } from "./cli";

export const DEMO_LIST = "Demo contacts";
export const DEMO_CONTACTS = 10_000;
const SEED = 20_260_101;
/** Birth dates and purchases are drawn relative to this day, so every run makes the same contacts. */
const REFERENCE = new Date(Date.UTC(2026, 0, 1));
const BATCH = 2_000;

const CUSTOM_FIELDS = [
  { key: "plan", label: "Plan", type: "TEXT" },
  { key: "score", label: "Lead score", type: "NUMBER" },
  { key: "lastPurchase", label: "Last purchase", type: "DATE" },
  { key: "newsletter", label: "Newsletter opt-in", type: "BOOLEAN" },
];

/** Countries with the faker locale whose names, cities and phones fit them, and how often they occur. */
const COUNTRIES: { weight: number; value: { country: string; local: Faker; domain: string } }[] = [
  { weight: 30, value: { country: "Norway", local: fakerNB_NO, domain: "no.example.com" } },
  { weight: 20, value: { country: "Sweden", local: fakerSV, domain: "se.example.com" } },
  { weight: 12, value: { country: "Denmark", local: fakerDA, domain: "dk.example.com" } },
  { weight: 8, value: { country: "Finland", local: fakerFI, domain: "fi.example.com" } },
  { weight: 8, value: { country: "Germany", local: fakerDE, domain: "de.example.com" } },
  { weight: 7, value: { country: "United Kingdom", local: fakerEN_GB, domain: "uk.example.com" } },
  { weight: 5, value: { country: "France", local: fakerFR, domain: "fr.example.com" } },
  { weight: 5, value: { country: "United States", local: fakerEN_US, domain: "us.example.com" } },
  { weight: 5, value: { country: "Spain", local: fakerES, domain: "es.example.com" } },
];
/** Mail domains reserved for examples (RFC 2606): no demo address can reach a real mailbox. */
const PROVIDERS = ["example.com", "example.net", "example.org", "mail.example.com", "mail.example.net", "mail.example.org"];
const TAGS: { weight: number; value: string }[] = [
  { weight: 30, value: "newsletter" },
  { weight: 25, value: "customer" },
  { weight: 15, value: "prospect" },
  { weight: 8, value: "webinar" },
  { weight: 6, value: "vip" },
  { weight: 6, value: "b2b" },
  { weight: 5, value: "churned" },
  { weight: 5, value: "student" },
];
const PLANS = [
  { weight: 55, value: "free" },
  { weight: 25, value: "basic" },
  { weight: 15, value: "pro" },
  { weight: 5, value: "enterprise" },
];

const day = (date: Date) => date.toISOString().slice(0, 10);

/** The demo contacts, the same on every run. */
export function demoContacts(count = DEMO_CONTACTS): ContactInputShape[] {
  for (const { value } of COUNTRIES) value.local.seed(SEED);
  faker.seed(SEED);
  return Array.from({ length: count }, (_, i) => {
    const { country, local, domain } = faker.helpers.weightedArrayElement(COUNTRIES);
    const sex = faker.person.sex() as "female" | "male";
    const firstName = local.person.firstName(sex);
    const lastName = local.person.lastName(sex);
    const user = faker.internet.username({ firstName, lastName }).toLowerCase().replace(/[^a-z0-9._-]/g, "");
    const provider = faker.datatype.boolean(0.25) ? domain : faker.helpers.arrayElement(PROVIDERS);
    const attributes: Record<string, unknown> = { plan: faker.helpers.weightedArrayElement(PLANS) };
    if (faker.datatype.boolean(0.85)) attributes.score = faker.number.int({ min: 0, max: 100 });
    if (faker.datatype.boolean(0.65)) attributes.lastPurchase = day(faker.date.past({ years: 2, refDate: REFERENCE }));
    if (faker.datatype.boolean(0.8)) attributes.newsletter = faker.datatype.boolean(0.6);
    return {
      email: `${user}${i}@${provider}`,
      firstName,
      lastName,
      phone: faker.datatype.boolean(0.7) ? local.phone.number() : null,
      country,
      city: local.location.city(),
      gender: faker.datatype.boolean(0.95) ? sex : null,
      birthDate: faker.datatype.boolean(0.92) ? day(faker.date.birthdate({ mode: "age", min: 16, max: 85, refDate: REFERENCE })) : null,
      tags: [...new Set(faker.helpers.multiple(() => faker.helpers.weightedArrayElement(TAGS), { count: { min: 0, max: 3 } }))],
      attributes,
    };
  });
}

/** The demo segments; `inSegment` conditions name another demo segment by its name. */
export const DEMO_SEGMENTS: { name: string; type: SegmentType; condition: Record<string, unknown> }[] = [
  { name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  { name: "Young adults (18–25)", type: "DYNAMIC", condition: { field: "age", operator: "BETWEEN", value: [18, 25] } },
  { name: "VIP customers", type: "DYNAMIC", condition: { field: "tags", operator: "HAS_ALL", value: ["vip", "customer"] } },
  { name: "Paying plans", type: "DYNAMIC", condition: { field: "attributes.plan", operator: "IN", value: ["pro", "enterprise"] } },
  { name: "Adults in Norway", type: "DYNAMIC", condition: { and: [{ inSegment: "Norway" }, { field: "age", operator: "GREATER_THAN_OR_EQUAL", value: 18 }] } },
  {
    name: "Lapsed customers",
    type: "DYNAMIC",
    condition: { and: [{ field: "tags", operator: "HAS_ANY", value: ["customer"] }, { field: "attributes.lastPurchase", operator: "MORE_THAN_AGO", value: { amount: 1, unit: "YEARS" } }] },
  },
  { name: "Newsletter opt-ins (snapshot)", type: "STATIC", condition: { field: "attributes.newsletter", operator: "EQUALS", value: true } },
  { name: "Hot leads (snapshot)", type: "STATIC", condition: { and: [{ field: "tags", operator: "HAS_ANY", value: ["prospect"] }, { field: "attributes.score", operator: "GREATER_THAN_OR_EQUAL", value: 80 }] } },
];

/** A condition with the names in its inSegment nodes replaced by those segments' ids. */
function withSegmentIds(condition: unknown, idOf: (name: string) => string): unknown {
  if (Array.isArray(condition)) return condition.map((item) => withSegmentIds(item, idOf));
  if (condition === null || typeof condition !== "object") return condition;
  const node = condition as Record<string, unknown>;
  if (typeof node.inSegment === "string") return { inSegment: idOf(node.inSegment) };
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === "value" ? value : withSegmentIds(value, idOf)]));
}

const count = (n: number) => n.toLocaleString("en-US");

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { workspace: { type: "string", default: OPEN_WORKSPACE } } });
  const app = await createApp(loadConfig(), createLogger("warn"));
  try {
    const { store, services } = app;
    const ctx = new Caller(store, values.workspace!);
    let list: ListRecord | undefined;
    for (let after; !list; ) {
      const page = await store.pageLists(ctx.workspaceId, 500, after);
      list = page.items.find((candidate) => candidate.name === DEMO_LIST);
      if (!page.hasNextPage) break;
      after = page.items[page.items.length - 1];
    }
    const listCreated = !list;
    list ??= await services.lists.create(ctx, { name: DEMO_LIST, customFields: CUSTOM_FIELDS });
    const listId = toGlobalId("ContactList", list.id);
    console.log(`list ${JSON.stringify(DEMO_LIST)} (${listId}) in workspace ${ctx.workspaceId}: ${listCreated ? "created" : "already there"}`);

    // Contacts already there are refused as CONFLICT and left as they are; missing ones are added.
    const contacts = demoContacts();
    let added = 0;
    for (let start = 0; start < contacts.length; start += BATCH) {
      const result = await services.contacts.addMany(ctx, listId, contacts.slice(start, start + BATCH), false);
      const other = result.errors.find((error) => error.code !== "CONFLICT");
      if (other) throw new Error(`demo contact ${start + other.index} was refused: ${other.message}`);
      added += result.added;
    }
    console.log(`contacts: ${added > 0 ? `${count(added)} added` : "none added"} (${count(contacts.length - added)} already there)`);

    const existing = new Map((await store.segmentsOfLists([list.id]))[0]!.map((segment) => [segment.name, segment]));
    const made: string[] = [];
    for (const spec of DEMO_SEGMENTS) {
      if (existing.has(spec.name)) continue;
      const condition = withSegmentIds(spec.condition, (name) => toGlobalId("Segment", existing.get(name)!.id));
      existing.set(spec.name, await services.segments.create(ctx, { listId, name: spec.name, type: spec.type, condition }));
      made.push(spec.name);
    }
    console.log(`segments: ${made.length > 0 ? `${made.length} created` : "none created"} (${DEMO_SEGMENTS.length - made.length} already there)`);

    // Member counts once the engine (this process's, or a running service's) has applied everything.
    await app.engine.drain(60_000);
    const segments = (await store.segmentsOfLists([list.id]))[0]!;
    for (const spec of DEMO_SEGMENTS) {
      const segment = segments.find((candidate) => candidate.name === spec.name);
      if (segment) console.log(`  ${segment.type.padEnd(7)} ${segment.name}: ${segment.status === "READY" ? `${count(segment.memberCount)} members` : "still building"}`);
    }
    console.log(listCreated || added > 0 || made.length > 0 ? "demo data ready" : "nothing new: the demo data was already there");
    return 0;
  } finally {
    await app.stop();
  }
}

if (require.main === module) runMain(main);
