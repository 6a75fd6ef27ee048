/**
 * Seeded, realistic benchmark data: contacts (names, emails, skewed countries, birth dates,
 * tags, custom fields) and a set of CRM-style segment conditions. Every contact is a pure
 * function of (seed, index, today), so any contact can be regenerated without storing it.
 *
 * Date fields that real CRMs keep relative to "now" (lastPurchase) are generated as an offset
 * from `today` (UTC midnight of the run day by default), so WITHIN_LAST conditions select a
 * realistic share whatever the run date; birth dates are absolute (1940–2010).
 */
import { catalogOf, type CustomFieldDef, compilePredicate, evalTime, parseCondition, type Predicate } from "../../src/conditions";
import { type ContactInputShape, cleanContact, factsOf } from "../../src/domain/contacts";

export const DAY_MS = 86_400_000;

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A per-item seed from a run seed and an index (splitmix-style mixing). */
export function mix(seed: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

type Weighted<T> = readonly (readonly [T, number])[];

function picker<T>(table: Weighted<T>): (r: number) => T {
  const total = table.reduce((sum, [, w]) => sum + w, 0);
  const cumulative = table.map(([, w], i) => table.slice(0, i + 1).reduce((s, [, x]) => s + x, 0) / total);
  return (r) => {
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return table[i]![0];
    return table[table.length - 1]![0];
  };
}

const FEMALE = ["Anna", "Ingrid", "Kari", "Sofie", "Emma", "Nora", "Maja", "Ella", "Åsa", "Linnea", "Sigrid", "Freja", "Ida", "Hanna", "Astrid", "Maria", "Laura", "Julia", "Sara", "Marte"];
const MALE = ["Ole", "Lars", "Erik", "Bjørn", "Magnus", "Jonas", "Mats", "Henrik", "Anders", "Jakob", "Emil", "Oskar", "Lukas", "Mikkel", "Søren", "Johan", "Thomas", "Martin", "Daniel", "Kristian"];
const LAST = [
  "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen", "Karlsen",
  "Johansson", "Andersson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Svensson", "Nielsen", "Møller", "Virtanen",
  "Korhonen", "Müller", "Schmidt", "Smith", "Jones", "de Jong", "Dubois", "Kowalski", "García", "Rossi",
  "Sigurðsson", "Berg", "Haugen", "Bakken", "Lund",
];

export interface CountryInfo {
  name: string;
  cities: string[];
  phone: string;
  domains: string[];
}

/** Skewed like a Nordic CRM's list: Norway 30 %, Sweden 20 %, Denmark 12 %, … (1 % without a country). */
export const COUNTRIES: Weighted<CountryInfo | null> = [
  [{ name: "Norway", cities: ["Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø"], phone: "+47", domains: ["online.no", "telenor.no"] }, 30],
  [{ name: "Sweden", cities: ["Stockholm", "Göteborg", "Malmö", "Uppsala"], phone: "+46", domains: ["telia.se", "live.se"] }, 20],
  [{ name: "Denmark", cities: ["København", "Aarhus", "Odense"], phone: "+45", domains: ["mail.dk", "jubii.dk"] }, 12],
  [{ name: "Finland", cities: ["Helsinki", "Espoo", "Tampere"], phone: "+358", domains: ["elisa.fi"] }, 8],
  [{ name: "Germany", cities: ["Berlin", "Hamburg", "München"], phone: "+49", domains: ["gmx.de", "web.de"] }, 7],
  [{ name: "United Kingdom", cities: ["London", "Manchester"], phone: "+44", domains: ["btinternet.com"] }, 5],
  [{ name: "United States", cities: ["New York", "Seattle", "Chicago"], phone: "+1", domains: ["comcast.net"] }, 4],
  [{ name: "Netherlands", cities: ["Amsterdam", "Rotterdam"], phone: "+31", domains: ["ziggo.nl"] }, 3],
  [{ name: "France", cities: ["Paris", "Lyon"], phone: "+33", domains: ["orange.fr"] }, 3],
  [{ name: "Iceland", cities: ["Reykjavík"], phone: "+354", domains: ["simnet.is"] }, 2],
  [{ name: "Poland", cities: ["Warszawa", "Kraków"], phone: "+48", domains: ["wp.pl"] }, 2],
  [{ name: "Spain", cities: ["Madrid", "Barcelona"], phone: "+34", domains: ["telefonica.es"] }, 2],
  [{ name: "Italy", cities: ["Roma", "Milano"], phone: "+39", domains: ["libero.it"] }, 1],
  [null, 1],
];
const pickCountry = picker(COUNTRIES);
const pickDomain = picker<string>([["gmail.com", 40], ["hotmail.com", 18], ["outlook.com", 12], ["yahoo.com", 8], ["icloud.com", 8], ["proton.me", 2], ["acme-corp.com", 6], ["northwind.io", 6]]);
const pickGender = picker<string | null>([["female", 47], ["male", 46], ["other", 1], [null, 6]]);
const pickPlan = picker<string>([["free", 55], ["basic", 25], ["pro", 15], ["enterprise", 5]]);
const pickTagCount = picker<number>([[0, 35], [1, 35], [2, 20], [3, 10]]);
export const TAG_POOL: Weighted<string> = [
  ["newsletter", 30], ["customer", 25], ["prospect", 15], ["event-2025", 8], ["webinar", 8], ["b2b", 6], ["churned", 6],
  ["vip", 5], ["student", 5], ["beta", 4], ["partner", 3],
];
const pickTag = picker(TAG_POOL);

export const CUSTOM_FIELDS: CustomFieldDef[] = [
  { key: "score", label: "Lead score", type: "NUMBER" },
  { key: "plan", label: "Plan", type: "TEXT" },
  { key: "lastPurchase", label: "Last purchase", type: "DATE" },
  { key: "newsletter", label: "Newsletter opt-in", type: "BOOLEAN" },
];
export const CATALOG = catalogOf(CUSTOM_FIELDS);

const FOLD: Record<string, string> = { ø: "o", å: "a", æ: "ae", ä: "a", ö: "o", ü: "u", é: "e", í: "i", ð: "d", " ": "" };
function emailPart(text: string): string {
  return text.toLowerCase().replace(/[øåæäöüéíð ]/g, (c) => FOLD[c] ?? "");
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function dateText(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function utcMidnight(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export interface ContactOptions {
  /** UTC midnight that relative dates (lastPurchase) count back from. */
  today: number;
  /** Birth dates are drawn uniformly (every day of the year) between these instants. */
  birthFrom?: number;
  birthTo?: number;
  /** Share of contacts with a birth date (default 0.92). */
  birthDateShare?: number;
}

const BIRTH_FROM = Date.UTC(1940, 0, 1);
const BIRTH_TO = Date.UTC(2010, 11, 31);

/** The contact at `index` of the data set `seed` (as a client would send it in addContacts). */
export function contactAt(seed: number, index: number, options: ContactOptions): ContactInputShape & { attributes: Record<string, unknown>; tags: string[] } {
  const r = rng(mix(seed, index));
  const female = r() < 0.5;
  const firstName = (female ? FEMALE : MALE)[Math.floor(r() * 20)]!;
  const lastName = LAST[Math.floor(r() * LAST.length)]!;
  const country = pickCountry(r());
  const gender = pickGender(r());
  const domain = country && r() < 0.25 ? country.domains[Math.floor(r() * country.domains.length)]! : pickDomain(r());
  const email = `${emailPart(firstName)}.${emailPart(lastName)}${index}@${domain}`;
  const from = options.birthFrom ?? BIRTH_FROM;
  const to = options.birthTo ?? BIRTH_TO;
  const birthDate = r() < (options.birthDateShare ?? 0.92) ? dateText(from + Math.floor(r() * ((to - from) / DAY_MS + 1)) * DAY_MS) : null;
  const tags: string[] = [];
  for (let n = pickTagCount(r()), tries = 0; tags.length < n && tries < 10; tries++) {
    const tag = pickTag(r());
    if (!tags.includes(tag)) tags.push(tag);
  }
  const attributes: Record<string, unknown> = {};
  if (r() < 0.85) attributes.score = Math.round(100 * r() ** 1.5);
  if (r() < 0.9) attributes.plan = pickPlan(r());
  if (r() < 0.65) attributes.lastPurchase = dateText(options.today - Math.floor(730 * r() ** 2) * DAY_MS);
  if (r() < 0.8) attributes.newsletter = r() < 0.6;
  const phone = country && r() < 0.7 ? `${country.phone} ${String(Math.floor(10_000_000 + r() * 89_999_999))}` : null;
  return {
    email,
    firstName,
    lastName,
    phone,
    country: country?.name ?? null,
    city: country ? country.cities[Math.floor(r() * country.cities.length)]! : null,
    gender: gender === null ? null : gender === "other" ? "other" : female ? "female" : "male",
    birthDate,
    tags,
    attributes,
  };
}

export function generateContacts(seed: number, start: number, count: number, options: ContactOptions) {
  return Array.from({ length: count }, (_, i) => contactAt(seed, start + i, options));
}

/** A condition as a client sends it (ConditionInput). */
export type ConditionInput = Record<string, unknown>;

const leaf = (field: string, operator: string, value?: unknown): ConditionInput => (value === undefined ? { field, operator } : { field, operator, value });
const and = (...items: ConditionInput[]): ConditionInput => ({ and: items });
const or = (...items: ConditionInput[]): ConditionInput => ({ or: items });
const choose = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

/**
 * Segment templates a CRM user would build: single conditions and 2–3-leaf trees over
 * country, age, tags, score, plan, newsletter, email domain and lastPurchase WITHIN_LAST.
 * Each draws its parameters from small sets, so 100 segments are 100 different conditions.
 */
const TEMPLATES: { name: string; make: (r: () => number) => ConditionInput }[] = [
  { name: "country", make: (r) => leaf("country", "EQUALS", choose(r, ["Sweden", "Denmark", "Finland", "Germany"])) },
  { name: "age band", make: (r) => leaf("age", "BETWEEN", choose(r, [[18, 25], [26, 35], [36, 45], [46, 55]])) },
  { name: "vip", make: (r) => leaf("tags", "HAS_ANY", choose(r, [["vip"], ["vip", "partner"], ["beta"]])) },
  { name: "paying + opted in", make: (r) => and(leaf("attributes.plan", "IN", choose(r, [["pro", "enterprise"], ["basic", "pro"]])), leaf("attributes.newsletter", "EQUALS", true)) },
  { name: "hot leads", make: (r) => leaf("attributes.score", "GREATER_THAN", choose(r, [80, 85, 90])) },
  { name: "local domain + opted in", make: (r) => and(leaf("email", "ENDS_WITH", choose(r, [".no", ".se", ".dk"])), leaf("attributes.newsletter", "EQUALS", true)) },
  { name: "recent buyers", make: (r) => leaf("attributes.lastPurchase", "WITHIN_LAST", { amount: choose(r, [14, 30, 45]), unit: "DAYS" }) },
  { name: "lapsed customers", make: (r) => and(leaf("tags", "HAS_ANY", ["customer"]), leaf("attributes.lastPurchase", "MORE_THAN_AGO", { amount: choose(r, [6, 9, 12]), unit: "MONTHS" })) },
  {
    name: "Nordic newsletter",
    make: (r) => and(leaf("country", "IN", choose(r, [["Sweden", "Denmark"], ["Norway", "Finland"], ["Denmark", "Finland"]])), or(leaf("tags", "HAS_ANY", ["newsletter"]), leaf("attributes.newsletter", "EQUALS", true))),
  },
  { name: "seniors by country", make: (r) => and(leaf("age", "GREATER_THAN_OR_EQUAL", choose(r, [60, 65, 70])), leaf("country", "EQUALS", choose(r, ["Norway", "Sweden"]))) },
  { name: "mid-score basic", make: (r) => and(leaf("attributes.score", "BETWEEN", choose(r, [[50, 80], [40, 70]])), leaf("attributes.plan", "EQUALS", "basic")) },
  { name: "women by age", make: (r) => and(leaf("gender", "EQUALS", "female"), leaf("age", "BETWEEN", choose(r, [[30, 45], [25, 39], [40, 55]]))) },
  { name: "event invitees", make: (r) => and(leaf("tags", "HAS_ANY", choose(r, [["webinar", "event-2025"], ["webinar"]])), leaf("attributes.plan", "NOT_IN", ["pro", "enterprise"])) },
  { name: "city, not churned", make: (r) => and(leaf("city", "IN", choose(r, [["Oslo", "Bergen"], ["Stockholm", "Göteborg"], ["København", "Aarhus"]])), leaf("tags", "HAS_NONE", ["churned"])) },
  { name: "young gmail", make: (r) => and(leaf("email", "ENDS_WITH", choose(r, ["@gmail.com", "@hotmail.com"])), leaf("age", "BETWEEN", choose(r, [[18, 30], [20, 35]]))) },
  {
    name: "engaged Scandinavians",
    make: (r) =>
      and(
        leaf("attributes.newsletter", "EQUALS", true),
        leaf("attributes.lastPurchase", "WITHIN_LAST", { amount: choose(r, [60, 90]), unit: "DAYS" }),
        leaf("country", "IN", ["Norway", "Sweden", "Denmark"]),
      ),
  },
  { name: "loyal customers", make: (r) => leaf("tags", "HAS_ALL", choose(r, [["customer", "newsletter"], ["customer", "b2b"]])) },
  { name: "students or young", make: (r) => or(leaf("tags", "HAS_ANY", ["student"]), leaf("age", "LESS_THAN", choose(r, [20, 22]))) },
  { name: "enterprise", make: (r) => and(leaf("attributes.plan", "EQUALS", "enterprise"), leaf("country", "NOT_EQUALS", choose(r, ["Norway", "United States"]))) },
  { name: "prospects, high score", make: (r) => and(leaf("tags", "HAS_ANY", ["prospect"]), leaf("attributes.score", "GREATER_THAN_OR_EQUAL", choose(r, [50, 60, 70]))) },
];

export interface SegmentSpec {
  name: string;
  condition: ConditionInput;
}

/** `count` segment conditions: every template in turn, parameters from the seed. */
export function segmentConditions(count: number, seed = 7): SegmentSpec[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const template = TEMPLATES[i % TEMPLATES.length]!;
    return { name: `${template.name} #${i + 1}`, condition: template.make(r) };
  });
}

/** The compiled reference predicate of a condition on the bench lists. */
export function predicateOf(condition: ConditionInput): Predicate {
  return compilePredicate(parseCondition(condition, CATALOG).ast);
}

/** Measured share of contacts each condition selects, on a sample. */
export function selectivity(specs: readonly SegmentSpec[], seed: number, sample: number, options: ContactOptions): number[] {
  const at = evalTime(Date.now());
  const facts = generateContacts(seed, 0, sample, options).map((input) => factsOf(cleanContact(input, CATALOG), CATALOG, 0, 0));
  return specs.map((spec) => {
    const predicate = predicateOf(spec.condition);
    let hits = 0;
    for (const f of facts) if (predicate(f, at)) hits++;
    return hits / sample;
  });
}

export function describeSelectivity(shares: readonly number[]): string {
  const sorted = [...shares].sort((a, b) => a - b);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const mean = shares.reduce((s, x) => s + x, 0) / shares.length;
  const inBand = shares.filter((x) => x >= 0.02 && x <= 0.2).length;
  return `selectivity over ${shares.length} segments: mean ${pct(mean)}, median ${pct(sorted[Math.floor(sorted.length / 2)]!)}, min ${pct(sorted[0]!)}, max ${pct(sorted[sorted.length - 1]!)}; ${inBand} of ${shares.length} select 2–20%`;
}
