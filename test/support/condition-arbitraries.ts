/**
 * Generators shared by the property tests that hold each compilation of the condition language
 * (SQLite SQL, MongoDB filters, time triggers) to the reference predicate: random valid
 * condition trees over every field type and operator, and random contacts drawn from small
 * pools (mixed case, non-ASCII, NUL, numbers past 2^53, dates around Feb 29 and month ends) so
 * that conditions actually select some of them.
 */
import fc from "fast-check";
import { catalogOf, type CustomFieldDef, dates, type ValueType } from "../../src/conditions";
import type { ContactInputShape } from "../../src/domain/contacts";

const { DAY_MS, MINUTE_MS, dateOf, formatDate, midnightOf, parseDate, parseTimestamp, subtractDuration } = dates;

export const CUSTOM_FIELDS: CustomFieldDef[] = [
  { key: "plan", label: null, type: "TEXT" },
  { key: "score", label: null, type: "NUMBER" },
  { key: "vip", label: null, type: "BOOLEAN" },
  { key: "renewal", label: null, type: "DATE" },
  { key: "lastLogin", label: null, type: "DATETIME" },
];
export const catalog = catalogOf(CUSTOM_FIELDS);

// ---- instants and pools -------------------------------------------------------------------

/** Evaluation instants: midnights, the last millisecond of a day, around Feb 29 and month ends. */
export const NOWS = [
  "2026-06-15T12:00:00.000Z",
  "2025-12-31T23:59:59.999Z",
  "2026-01-01T00:00:00.000Z",
  "2024-02-28T23:59:59.999Z",
  "2024-02-29T00:00:00.000Z",
  "2024-02-29T18:00:00.000Z",
  "2025-02-28T23:59:59.999Z",
  "2025-03-01T00:00:00.000Z",
  "2026-01-31T23:59:59.999Z",
  "2026-03-31T10:30:00.000Z",
  "2026-03-29T00:30:00.000Z",
].map(Date.parse);

/**
 * Time zones the zoned property tests draw from: whole, half and three-quarter hour offsets,
 * both hemispheres, DST that moves by an hour or by 30 minutes, and zones without DST.
 */
export const TIME_ZONES = [
  "UTC",
  "Europe/Oslo",
  "America/New_York",
  "America/Sao_Paulo",
  "Asia/Kolkata",
  "Pacific/Auckland",
  "Pacific/Chatham",
  "Australia/Lord_Howe",
] as const;
export const zoneArb = fc.constantFrom(...TIME_ZONES);

/** The evaluation instants for a zone: NOWS, and the instants whose wall clock there reads NOWS. */
export function zonedNows(zone: string): number[] {
  return zone === "UTC" ? NOWS : [...NOWS, ...NOWS.map((now) => dates.instantOfWall(now, zone))];
}

type DurationInput = { amount: number; unit: dates.DurationUnit };
const DURATIONS: DurationInput[] = [
  { amount: 30, unit: "MINUTES" },
  { amount: 1, unit: "HOURS" },
  { amount: 24, unit: "HOURS" },
  { amount: 1, unit: "DAYS" },
  { amount: 7, unit: "DAYS" },
  { amount: 1, unit: "WEEKS" },
  { amount: 1, unit: "MONTHS" },
  { amount: 3, unit: "MONTHS" },
  { amount: 1, unit: "YEARS" },
  { amount: 18, unit: "YEARS" },
];

/** Instants at the edges the conditions test: now − d and its neighbours, midnights. */
const INSTANTS = [
  ...new Set(
    NOWS.flatMap((now) => [
      now,
      now - 1,
      now + 1,
      now + DAY_MS,
      midnightOf(dateOf(now)),
      midnightOf(dateOf(now)) - 1,
      midnightOf(dateOf(now)) + DAY_MS,
      ...DURATIONS.flatMap((duration) => {
        const back = subtractDuration(now, duration);
        return [back - 1, back, back + 1];
      }),
    ]),
  ),
].sort((a, b) => a - b);

const AGES = [0, 1, 17, 18, 21, 65];
/** Birth and renewal dates: `age` years before (or after) the days around each now, Feb 29 included. */
const DATES = [
  ...new Set([
    ...NOWS.flatMap((now) =>
      [-1, 0, 1].flatMap((shift) => {
        const date = dateOf(now + shift * DAY_MS);
        const [year, month, day] = [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
        return [...AGES, -1].flatMap((age) => {
          const text = formatDate(year - age, month, day);
          return parseDate(text) ? [text] : [formatDate(year - age, 2, 28), formatDate(year - age, 3, 1)];
        });
      }),
    ),
    ...INSTANTS.map(dateOf),
    "2008-02-29",
    "2004-02-29",
    "2007-02-28",
    "2007-03-01",
    "2000-02-29",
    "1960-02-29",
  ]),
].sort();

const LOCAL_PARTS = ["ann", "Ann.Lee", "BOB", "zoë", "o_brien", "per+news", "a.c", "100%"];
const DOMAINS = ["example.com", "EXAMPLE.org", "mail.no"];
// NUL is well-formed Unicode that validation lets through, so it reaches the database.
const NAMES = ["Ann", "ANN", "anna", "Åse", "ÅSE", "Zoë", "ZOË", "Zoe\u0308", "Σοφία", "ΟΔΥΣΣΕΑΣ", "José", "O'Brien", "a%b", "a_b", "A.C", "abc", "İpek", "Nul\u0000l", "\u0000Zed\u0000"];
const COUNTRIES = ["Norway", "NORWAY", "norway", "Sweden", "ØSTFOLD", "østfold", "Deutschland", "Türkiye", "100%", "a_c", "No\u0000rway"];
const CITIES = ["Oslo", "OSLO", "Bergen", "Tromsø", "TROMSØ", "İstanbul", "a.c", "abc", "Ny\u0000by\u0000"];
const GENDERS = ["female", "Male", "X"];
const PHONES = ["+47 123 45 678", "+4712345678", "555-0100"];
const PLANS = ["Pro", "PRO", "pro plus", "Basic", "Ünlimited", "10", "\u0000pro"];
const TAGS = ["VIP", "vip", "Newsletter", "NEWSLETTER", "beta", "Østfold-kunde", "ØSTFOLD-KUNDE", "a%b", "a_b"];
/** Numbers, some past 2^53, where JSON text and the double part ways. */
const NUMBERS = [0, -0, 1, 2.5, -3, 10, 100, 0.1, 0.30000000000000004, -1e-7, 1e21, 2 ** 53, 2 ** 60];
const AGE_VALUES = [0, 1, 17, 17.5, 18, 18.5, 20, 21, 64, 65, -1, 120];
const FRAGMENTS = ["a", "A", "an", "nor", "WAY", "ø", "Ø", "%", "_", ".", "a.c", "a_c", "0%", "o", "se", "e\u0301", "é", "ë", "σ", "Σ", "ς", "i\u0307", "@example", ".COM", "+47", "\u0000", "nul\u0000", "\u0000L", "NUL\u0000l"];

const TEXT_POOL: Record<string, string[]> = {
  email: LOCAL_PARTS.flatMap((local) => DOMAINS.map((domain) => `${local}0@${domain}`)),
  firstName: NAMES,
  lastName: NAMES,
  phone: PHONES,
  country: COUNTRIES,
  city: CITIES,
  gender: GENDERS,
  "attributes.plan": PLANS,
};

// ---- contacts -----------------------------------------------------------------------------

const optional = <T>(values: readonly T[], weight = 3) =>
  fc.oneof({ weight, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.constant(null) });

const instantArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INSTANTS) },
  { weight: 1, arbitrary: fc.integer({ min: Date.parse("2022-01-01T00:00:00Z"), max: Date.parse("2027-12-31T23:59:59.999Z") }) },
);
const dateArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DATES) }, { weight: 1, arbitrary: instantArb.map(dateOf) });

/** An ISO-8601 timestamp of an instant, in UTC or with an offset. */
function isoWithOffset(ms: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(ms).toISOString();
  const local = new Date(ms + offsetMinutes * MINUTE_MS).toISOString().slice(0, 23);
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
const offsetArb = fc.constantFrom(0, 0, 60, -120, 330, -23 * 60 - 59);
const timestampArb = fc.tuple(instantArb, offsetArb).map(([ms, offset]) => isoWithOffset(ms, offset));

export const contactArb = fc.record({
  local: fc.constantFrom(...LOCAL_PARTS),
  domain: fc.constantFrom(...DOMAINS),
  firstName: optional(NAMES),
  lastName: optional(NAMES, 1),
  phone: optional(PHONES, 1),
  country: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom("Norway", "NORWAY", "norway") },
    { weight: 3, arbitrary: fc.constantFrom(...COUNTRIES) },
    { weight: 1, arbitrary: fc.constant(null) },
  ),
  city: optional(CITIES),
  gender: optional(GENDERS),
  birthDate: optional(DATES),
  tags: fc.subarray(TAGS, { maxLength: 4 }),
  attributes: fc.record(
    {
      plan: fc.constantFrom(...PLANS),
      score: fc.constantFrom(...NUMBERS),
      vip: fc.boolean(),
      renewal: dateArb,
      lastLogin: timestampArb,
    },
    { requiredKeys: [] },
  ),
  createdAt: instantArb,
  updatedAt: instantArb,
});
export type GeneratedContact = typeof contactArb extends fc.Arbitrary<infer T> ? T : never;

// ---- conditions ---------------------------------------------------------------------------

/** A pool value in upper, lower or its own case. */
const recased = (values: readonly string[]) =>
  fc.tuple(fc.constantFrom(...values), fc.constantFrom("same", "upper", "lower")).map(([value, casing]) =>
    casing === "upper" ? value.toUpperCase() : casing === "lower" ? value.toLowerCase() : value,
  );
/** A fragment, or a non-empty prefix, suffix or inner run of code points of a pool value. */
const fragment = (values: readonly string[]) =>
  fc.oneof(
    fc.constantFrom(...FRAGMENTS),
    fc.tuple(recased(values), fc.nat(), fc.nat(), fc.constantFrom("prefix", "suffix", "inner")).map(([value, a, b, part]) => {
      const points = Array.from(value);
      const length = 1 + (a % points.length);
      if (part === "prefix") return points.slice(0, length).join("");
      if (part === "suffix") return points.slice(points.length - length).join("");
      const start = b % (points.length - length + 1);
      return points.slice(start, start + length).join("");
    }),
  );
const listOf = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 3 });
const durationArb: fc.Arbitrary<DurationInput> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...DURATIONS) },
  { weight: 1, arbitrary: fc.record({ amount: fc.integer({ min: 1, max: 40 }), unit: fc.constantFrom(...dates.DURATION_UNITS) }) },
);

type Leaf = { field: string; operator: string; value?: unknown };
const leaf = (field: string) => (operator: string) => (value?: unknown): Leaf => (value === undefined ? { field, operator } : { field, operator, value });

/** [low, high] ordered by the normal form they take on the field. */
function ordered<T>(pair: [T, T], key: (value: T) => number | string): [T, T] {
  return key(pair[0]) <= key(pair[1]) ? pair : [pair[1], pair[0]];
}
const dateKey = (value: string) => parseDate(value) ?? dateOf(parseTimestamp(value)!);
const instantKey = (value: string) => (parseDate(value) ? midnightOf(value) : parseTimestamp(value)!);

function leafArb(field: string, type: ValueType): fc.Arbitrary<Leaf> {
  const on = leaf(field);
  const presence = fc.constantFrom("IS_SET", "IS_NOT_SET").map((op) => on(op)());
  const ops = <T>(operators: string[], value: fc.Arbitrary<T>) => fc.tuple(fc.constantFrom(...operators), value).map(([op, v]) => on(op)(v));
  switch (type) {
    case "TEXT": {
      const pool = TEXT_POOL[field]!;
      return fc.oneof(
        ops(["EQUALS", "NOT_EQUALS"], recased(pool)),
        ops(["IN", "NOT_IN"], listOf(recased(pool))),
        { weight: 2, arbitrary: ops(["CONTAINS", "NOT_CONTAINS", "STARTS_WITH", "ENDS_WITH"], fragment(pool)) },
        presence,
      );
    }
    case "NUMBER":
    case "AGE": {
      const pool = type === "AGE" ? AGE_VALUES : NUMBERS;
      const value = fc.constantFrom(...pool);
      return fc.oneof(
        ops(["EQUALS", "NOT_EQUALS", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"], value),
        ops(["IN", "NOT_IN"], listOf(value)),
        ops(["BETWEEN"], fc.tuple(value, value).map((pair) => ordered(pair, (v) => v))),
        presence,
      );
    }
    case "BOOLEAN":
      return fc.oneof(ops(["EQUALS", "NOT_EQUALS"], fc.boolean()), presence);
    case "DATE":
    case "DATETIME": {
      const value = fc.oneof(dateArb, timestampArb);
      const key = type === "DATE" ? dateKey : instantKey;
      return fc.oneof(
        ops(["EQUALS", "NOT_EQUALS", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "BEFORE", "AFTER"], value),
        ops(["IN", "NOT_IN"], listOf(value)),
        ops(["BETWEEN"], fc.tuple(value, value).map((pair) => ordered(pair, key))),
        { weight: 2, arbitrary: ops(["WITHIN_LAST", "MORE_THAN_AGO"], durationArb) },
        presence,
      );
    }
    case "TAGS":
      return fc.oneof(ops(["HAS_ANY", "HAS_ALL", "HAS_NONE"], listOf(recased(TAGS))), presence);
  }
}

export const FIELDS: [string, ValueType][] = [
  ["email", "TEXT"],
  ["firstName", "TEXT"],
  ["lastName", "TEXT"],
  ["phone", "TEXT"],
  ["country", "TEXT"],
  ["city", "TEXT"],
  ["gender", "TEXT"],
  ["birthDate", "DATE"],
  ["age", "AGE"],
  ["tags", "TAGS"],
  ["createdAt", "DATETIME"],
  ["updatedAt", "DATETIME"],
  ["attributes.plan", "TEXT"],
  ["attributes.score", "NUMBER"],
  ["attributes.vip", "BOOLEAN"],
  ["attributes.renewal", "DATE"],
  ["attributes.lastLogin", "DATETIME"],
];
const anyLeafArb = fc.oneof(...FIELDS.map(([field, type]) => leafArb(field, type)));

export const { tree: conditionArb } = fc.letrec<{ tree: unknown; and: unknown; or: unknown; not: unknown }>((tie) => ({
  tree: fc.oneof({ maxDepth: 4, depthIdentifier: "condition" }, anyLeafArb, tie("and"), tie("or"), tie("not")),
  and: fc.array(tie("tree"), { minLength: 1, maxLength: 3, depthIdentifier: "condition" }).map((items) => ({ and: items })),
  or: fc.array(tie("tree"), { minLength: 1, maxLength: 3, depthIdentifier: "condition" }).map((items) => ({ or: items })),
  not: tie("tree").map((item) => ({ not: item })),
}));

/** A generated contact as the API would receive it (emails made unique by index). */
/**
 * A generated condition as it is valid in a zone: BETWEEN bounds on date fields are ordered in
 * UTC by the generator, and a date and a timestamp can compare the other way in another zone.
 */
export function inZone(condition: unknown, zone: string): unknown {
  const node = condition as { and?: unknown[]; or?: unknown[]; not?: unknown; field?: string; operator?: string; value?: unknown };
  if (node.and) return { and: node.and.map((item) => inZone(item, zone)) };
  if (node.or) return { or: node.or.map((item) => inZone(item, zone)) };
  if (node.not) return { not: inZone(node.not, zone) };
  const type = FIELDS.find(([field]) => field === node.field)?.[1];
  if (node.operator !== "BETWEEN" || (type !== "DATE" && type !== "DATETIME")) return condition;
  const key =
    type === "DATE"
      ? (value: string) => parseDate(value) ?? dates.dateIn(parseTimestamp(value)!, zone)
      : (value: string) => (parseDate(value) ? dates.midnightIn(value, zone) : parseTimestamp(value)!);
  return { ...node, value: ordered(node.value as [string, string], key) };
}

export function contactInput(contact: GeneratedContact, index: number): ContactInputShape {
  return { ...contact, email: `${contact.local}${index}@${contact.domain}` };
}
