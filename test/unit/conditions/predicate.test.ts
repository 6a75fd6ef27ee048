import { catalogOf, compilePredicate, evalTime, parseCondition, type ContactFacts } from "../../../src/conditions";
import { cleanContact, type ContactInputShape, factsOf } from "../../../src/domain/contacts";

const catalog = catalogOf([
  { key: "plan", label: null, type: "TEXT" },
  { key: "score", label: null, type: "NUMBER" },
  { key: "vip", label: null, type: "BOOLEAN" },
  { key: "renewal", label: null, type: "DATE" },
  { key: "lastLogin", label: null, type: "DATETIME" },
]);

const at = (iso: string) => Date.parse(iso);
const NOW = at("2026-06-15T12:00:00.000Z");
const DAY = 86_400_000;

/** A contact as conditions see it, through the real validation and normalization. */
function contact(input: Omit<ContactInputShape, "email"> & { email?: string } = {}, createdAt = NOW - DAY, updatedAt = createdAt): ContactFacts {
  return factsOf(cleanContact({ email: "someone@example.com", ...input }, catalog), catalog, createdAt, updatedAt);
}

function matches(condition: unknown, facts: ContactFacts, now = NOW): boolean {
  return compilePredicate(parseCondition(condition, catalog).ast)(facts, evalTime(now));
}

const when = (field: string, operator: string, value?: unknown) => ({ field, operator, value });

/** [condition, contact, expected] rows, named by what they show. */
type Row = [name: string, condition: unknown, facts: ContactFacts, expected: boolean];
const check = (rows: Row[]) =>
  test.each(rows.map(([name, condition, facts, expected]) => ({ name, condition, facts, expected })))("$name", ({ condition, facts, expected }) => {
    expect(matches(condition, facts)).toBe(expected);
  });

const nobody = contact();

describe("text fields", () => {
  const builtins = ["email", "firstName", "lastName", "phone", "country", "city", "gender"] as const;
  const mixed: Record<(typeof builtins)[number], string> = {
    email: "Ann.Lee@Example.COM",
    firstName: "ÅSE",
    lastName: "O'Brien",
    phone: "+47 TEL",
    country: "ØSTFOLD",
    city: "İstanbul",
    gender: "Female",
  };
  const person = contact({ ...mixed });

  test.each(builtins.map((field) => ({ field })))("$field EQUALS ignores case, NOT_EQUALS is its negation", ({ field }) => {
    const upper = mixed[field].toUpperCase();
    const lower = mixed[field].toLowerCase();
    expect(matches(when(field, "EQUALS", upper), person)).toBe(true);
    expect(matches(when(field, "EQUALS", lower), person)).toBe(true);
    expect(matches(when(field, "NOT_EQUALS", lower), person)).toBe(false);
    expect(matches(when(field, "EQUALS", `${lower}x`), person)).toBe(false);
    expect(matches(when(field, "NOT_EQUALS", `${lower}x`), person)).toBe(true);
  });

  test.each(builtins.filter((field) => field !== "email").map((field) => ({ field })))(
    "$field without a value: negative operators match it, positive ones do not",
    ({ field }) => {
      expect(matches(when(field, "EQUALS", "x"), nobody)).toBe(false);
      expect(matches(when(field, "IN", ["x", "y"]), nobody)).toBe(false);
      expect(matches(when(field, "CONTAINS", "x"), nobody)).toBe(false);
      expect(matches(when(field, "STARTS_WITH", "x"), nobody)).toBe(false);
      expect(matches(when(field, "ENDS_WITH", "x"), nobody)).toBe(false);
      expect(matches(when(field, "IS_SET"), nobody)).toBe(false);
      expect(matches(when(field, "NOT_EQUALS", "x"), nobody)).toBe(true);
      expect(matches(when(field, "NOT_IN", ["x", "y"]), nobody)).toBe(true);
      expect(matches(when(field, "NOT_CONTAINS", "x"), nobody)).toBe(true);
      expect(matches(when(field, "IS_NOT_SET"), nobody)).toBe(true);
    },
  );

  check([
    ["a non-ASCII upper-case value equals its lower-case form (ØSTFOLD = østfold)", when("country", "EQUALS", "østfold"), person, true],
    ["a decomposed accent equals the composed one", when("firstName", "EQUALS", "A\u030Ase"), person, true],
    ["CONTAINS ignores case", when("email", "CONTAINS", "LEE@EXAMPLE"), person, true],
    ["CONTAINS finds a non-ASCII substring in another case", when("country", "CONTAINS", "stfold"), contact({ country: "ØSTFOLD" }), true],
    ["CONTAINS Ø matches ø", when("country", "CONTAINS", "Ø"), contact({ country: "østfold" }), true],
    ["NOT_CONTAINS is the negation of CONTAINS", when("email", "NOT_CONTAINS", "lee@"), person, false],
    ["NOT_CONTAINS matches when the text is absent", when("email", "NOT_CONTAINS", "bob"), person, true],
    ["STARTS_WITH ignores case", when("lastName", "STARTS_WITH", "o'b"), person, true],
    ["STARTS_WITH does not match in the middle", when("lastName", "STARTS_WITH", "brien"), person, false],
    ["ENDS_WITH ignores case", when("email", "ENDS_WITH", "@EXAMPLE.com"), person, true],
    ["ENDS_WITH does not match at the start", when("email", "ENDS_WITH", "ann"), person, false],
    ["IN matches any listed value, ignoring case", when("gender", "IN", ["male", "FEMALE"]), person, true],
    ["IN matches no unlisted value", when("gender", "IN", ["male", "other"]), person, false],
    ["NOT_IN matches an unlisted value", when("gender", "NOT_IN", ["male", "other"]), person, true],
    ["NOT_IN refuses a listed value", when("gender", "NOT_IN", ["FEMALE"]), person, false],
    ["IS_SET matches a value", when("phone", "IS_SET"), person, true],
    ["IS_NOT_SET refuses a value", when("phone", "IS_NOT_SET"), person, false],
    ["a blank string is no value", when("city", "IS_NOT_SET"), contact({ city: "   " }), true],
    ["values are compared trimmed", when("city", "EQUALS", "oslo"), contact({ city: "  Oslo " }), true],
    ["CONTAINS a.c never matches abc (no pattern syntax)", when("city", "CONTAINS", "a.c"), contact({ city: "abc" }), false],
    ["CONTAINS a.c matches a literal a.c", when("city", "CONTAINS", "a.c"), contact({ city: "xa.cx" }), true],
    ["% is literal in CONTAINS", when("city", "CONTAINS", "%"), contact({ city: "abc" }), false],
    ["% is literal in STARTS_WITH", when("city", "STARTS_WITH", "a%"), contact({ city: "abc" }), false],
    ["% matches a literal %", when("city", "ENDS_WITH", "0%"), contact({ city: "100%" }), true],
    ["_ is literal in ENDS_WITH", when("city", "ENDS_WITH", "_c"), contact({ city: "abc" }), false],
    ["_ is literal in EQUALS", when("city", "EQUALS", "a_c"), contact({ city: "abc" }), false],
    ["_ matches a literal _", when("city", "CONTAINS", "a_c"), contact({ city: "A_C" }), true],
    ["* and ? are literal", when("city", "STARTS_WITH", "a*"), contact({ city: "abc" }), false],
    ["[ is literal", when("city", "CONTAINS", "[a-z]"), contact({ city: "abc" }), false],
    ["\\ is literal", when("city", "CONTAINS", "\\"), contact({ city: "a\\b" }), true],
  ]);

  describe("a TEXT custom field", () => {
    const pro = contact({ attributes: { plan: "Pro Plus" } });
    check([
      ["EQUALS ignores case", when("attributes.plan", "EQUALS", "PRO PLUS"), pro, true],
      ["EQUALS refuses another value", when("attributes.plan", "EQUALS", "pro"), pro, false],
      ["NOT_EQUALS matches another value", when("attributes.plan", "NOT_EQUALS", "pro"), pro, true],
      ["NOT_EQUALS matches a contact without the attribute", when("attributes.plan", "NOT_EQUALS", "pro"), nobody, true],
      ["CONTAINS ignores case", when("attributes.plan", "CONTAINS", "O P"), pro, true],
      ["NOT_CONTAINS matches a contact without the attribute", when("attributes.plan", "NOT_CONTAINS", "o"), nobody, true],
      ["STARTS_WITH", when("attributes.plan", "STARTS_WITH", "pro "), pro, true],
      ["ENDS_WITH", when("attributes.plan", "ENDS_WITH", "PLUS"), pro, true],
      ["ENDS_WITH refuses a contact without the attribute", when("attributes.plan", "ENDS_WITH", "s"), nobody, false],
      ["IN", when("attributes.plan", "IN", ["basic", "pro plus"]), pro, true],
      ["NOT_IN matches a contact without the attribute", when("attributes.plan", "NOT_IN", ["basic"]), nobody, true],
      ["IS_SET", when("attributes.plan", "IS_SET"), pro, true],
      ["IS_NOT_SET matches a contact without the attribute", when("attributes.plan", "IS_NOT_SET"), nobody, true],
      ["a number-like text is text", when("attributes.plan", "EQUALS", "10"), contact({ attributes: { plan: "10" } }), true],
    ]);
  });
});

describe("a NUMBER custom field", () => {
  const seven = contact({ attributes: { score: 7 } });
  const half = contact({ attributes: { score: 2.5 } });
  const zero = contact({ attributes: { score: 0 } });
  check([
    ["EQUALS", when("attributes.score", "EQUALS", 7), seven, true],
    ["EQUALS refuses another number", when("attributes.score", "EQUALS", 7.5), seven, false],
    ["EQUALS 0 matches 0 (not missing)", when("attributes.score", "EQUALS", 0), zero, true],
    ["EQUALS 0 refuses a contact without the attribute", when("attributes.score", "EQUALS", 0), nobody, false],
    ["NOT_EQUALS matches a contact without the attribute", when("attributes.score", "NOT_EQUALS", 0), nobody, true],
    ["NOT_EQUALS refuses the value", when("attributes.score", "NOT_EQUALS", 7), seven, false],
    ["IN", when("attributes.score", "IN", [1, 2.5]), half, true],
    ["NOT_IN", when("attributes.score", "NOT_IN", [1, 2.5]), seven, true],
    ["NOT_IN matches a contact without the attribute", when("attributes.score", "NOT_IN", [1]), nobody, true],
    ["GREATER_THAN is strict", when("attributes.score", "GREATER_THAN", 7), seven, false],
    ["GREATER_THAN", when("attributes.score", "GREATER_THAN", 6.9), seven, true],
    ["GREATER_THAN_OR_EQUAL includes the bound", when("attributes.score", "GREATER_THAN_OR_EQUAL", 7), seven, true],
    ["LESS_THAN is strict", when("attributes.score", "LESS_THAN", 2.5), half, false],
    ["LESS_THAN with a negative number", when("attributes.score", "LESS_THAN", -1), zero, false],
    ["LESS_THAN_OR_EQUAL includes the bound", when("attributes.score", "LESS_THAN_OR_EQUAL", 2.5), half, true],
    ["BETWEEN includes the low bound", when("attributes.score", "BETWEEN", [2.5, 7]), half, true],
    ["BETWEEN includes the high bound", when("attributes.score", "BETWEEN", [2.5, 7]), seven, true],
    ["BETWEEN excludes values outside", when("attributes.score", "BETWEEN", [1, 2]), half, false],
    ["LESS_THAN never matches a contact without the attribute", when("attributes.score", "LESS_THAN", 1e9), nobody, false],
    ["GREATER_THAN never matches a contact without the attribute", when("attributes.score", "GREATER_THAN", -1e9), nobody, false],
    ["BETWEEN never matches a contact without the attribute", when("attributes.score", "BETWEEN", [-1e9, 1e9]), nobody, false],
    ["NOT around an order operator matches a contact without the attribute", { not: when("attributes.score", "GREATER_THAN", 0) }, nobody, true],
    ["IS_SET", when("attributes.score", "IS_SET"), zero, true],
    ["IS_NOT_SET", when("attributes.score", "IS_NOT_SET"), zero, false],
  ]);
});

describe("a BOOLEAN custom field", () => {
  const yes = contact({ attributes: { vip: true } });
  const no = contact({ attributes: { vip: false } });
  check([
    ["EQUALS true", when("attributes.vip", "EQUALS", true), yes, true],
    ["EQUALS true refuses false", when("attributes.vip", "EQUALS", true), no, false],
    ["EQUALS false matches false", when("attributes.vip", "EQUALS", false), no, true],
    ["EQUALS false refuses a contact without the attribute", when("attributes.vip", "EQUALS", false), nobody, false],
    ["NOT_EQUALS true matches false", when("attributes.vip", "NOT_EQUALS", true), no, true],
    ["NOT_EQUALS true matches a contact without the attribute", when("attributes.vip", "NOT_EQUALS", true), nobody, true],
    ["NOT_EQUALS true refuses true", when("attributes.vip", "NOT_EQUALS", true), yes, false],
    ["IS_SET matches false", when("attributes.vip", "IS_SET"), no, true],
    ["IS_NOT_SET matches a contact without the attribute", when("attributes.vip", "IS_NOT_SET"), nobody, true],
  ]);
});

describe("tags", () => {
  const tagged = contact({ tags: ["VIP", "Østfold-Kunde", "beta"] });
  check([
    ["HAS_ANY ignores case", when("tags", "HAS_ANY", ["vip"]), tagged, true],
    ["HAS_ANY with non-ASCII in another case", when("tags", "HAS_ANY", ["ØSTFOLD-KUNDE"]), tagged, true],
    ["HAS_ANY needs one listed tag", when("tags", "HAS_ANY", ["gold", "silver"]), tagged, false],
    ["HAS_ANY is not a substring test", when("tags", "HAS_ANY", ["bet"]), tagged, false],
    ["HAS_ALL needs every listed tag", when("tags", "HAS_ALL", ["vip", "BETA"]), tagged, true],
    ["HAS_ALL refuses when one is missing", when("tags", "HAS_ALL", ["vip", "gold"]), tagged, false],
    ["HAS_ALL with a repeated tag", when("tags", "HAS_ALL", ["vip", "VIP"]), tagged, true],
    ["HAS_NONE refuses a listed tag", when("tags", "HAS_NONE", ["gold", "Beta"]), tagged, false],
    ["HAS_NONE matches without listed tags", when("tags", "HAS_NONE", ["gold"]), tagged, true],
    ["HAS_NONE matches a contact without tags", when("tags", "HAS_NONE", ["gold"]), nobody, true],
    ["HAS_ANY refuses a contact without tags", when("tags", "HAS_ANY", ["gold"]), nobody, false],
    ["HAS_ALL refuses a contact without tags", when("tags", "HAS_ALL", ["gold"]), nobody, false],
    ["IS_SET matches a contact with tags", when("tags", "IS_SET"), tagged, true],
    ["IS_SET refuses an empty tag list", when("tags", "IS_SET"), contact({ tags: [] }), false],
    ["IS_NOT_SET matches a contact without tags", when("tags", "IS_NOT_SET"), nobody, true],
  ]);
});

describe("age", () => {
  // NOW is 2026-06-15: born 2008-06-15 is 18 today, born 2008-06-16 is still 17.
  const eighteen = contact({ birthDate: "2008-06-15" });
  const seventeen = contact({ birthDate: "2008-06-16" });
  check([
    ["EQUALS the whole years", when("age", "EQUALS", 18), eighteen, true],
    ["EQUALS on the day before the birthday", when("age", "EQUALS", 17), seventeen, true],
    ["EQUALS a fraction never matches", when("age", "EQUALS", 17.5), seventeen, false],
    ["NOT_EQUALS", when("age", "NOT_EQUALS", 18), seventeen, true],
    ["NOT_EQUALS matches a contact without a birth date", when("age", "NOT_EQUALS", 18), nobody, true],
    ["IN", when("age", "IN", [16, 17]), seventeen, true],
    ["IN refuses", when("age", "IN", [16, 17]), eighteen, false],
    ["NOT_IN", when("age", "NOT_IN", [16, 17]), eighteen, true],
    ["NOT_IN matches a contact without a birth date", when("age", "NOT_IN", [16, 17]), nobody, true],
    ["GREATER_THAN", when("age", "GREATER_THAN", 17), eighteen, true],
    ["GREATER_THAN is strict", when("age", "GREATER_THAN", 18), eighteen, false],
    ["GREATER_THAN a fraction", when("age", "GREATER_THAN", 17.5), eighteen, true],
    ["GREATER_THAN_OR_EQUAL", when("age", "GREATER_THAN_OR_EQUAL", 18), seventeen, false],
    ["GREATER_THAN_OR_EQUAL a fraction rounds up", when("age", "GREATER_THAN_OR_EQUAL", 17.5), seventeen, false],
    ["LESS_THAN", when("age", "LESS_THAN", 18), seventeen, true],
    ["LESS_THAN a fraction", when("age", "LESS_THAN", 17.5), seventeen, true],
    ["LESS_THAN_OR_EQUAL", when("age", "LESS_THAN_OR_EQUAL", 17), eighteen, false],
    ["BETWEEN includes both ends", when("age", "BETWEEN", [17, 18]), eighteen, true],
    ["BETWEEN with fractions", when("age", "BETWEEN", [17.2, 17.9]), seventeen, false],
    ["LESS_THAN never matches a contact without a birth date", when("age", "LESS_THAN", 200), nobody, false],
    ["GREATER_THAN_OR_EQUAL never matches a contact without a birth date", when("age", "GREATER_THAN_OR_EQUAL", 0), nobody, false],
    ["BETWEEN never matches a contact without a birth date", when("age", "BETWEEN", [0, 200]), nobody, false],
    ["IS_SET", when("age", "IS_SET"), eighteen, true],
    ["IS_NOT_SET matches a contact without a birth date", when("age", "IS_NOT_SET"), nobody, true],
    ["a birth date in the future gives a negative age", when("age", "LESS_THAN", 0), contact({ birthDate: "2030-01-01" }), true],
  ]);
});

describe("DATE fields (birthDate and a DATE custom field)", () => {
  for (const field of ["birthDate", "attributes.renewal"]) {
    const on = (date: string) => (field === "birthDate" ? contact({ birthDate: date }) : contact({ attributes: { renewal: date } }));
    const d = on("2026-06-10");
    describe(field, () => {
      check([
        ["EQUALS a date", when(field, "EQUALS", "2026-06-10"), d, true],
        ["EQUALS a timestamp on that UTC date", when(field, "EQUALS", "2026-06-10T23:59:59Z"), d, true],
        ["EQUALS a timestamp whose UTC date differs", when(field, "EQUALS", "2026-06-10T23:30:00-01:00"), d, false],
        ["NOT_EQUALS matches a contact without a value", when(field, "NOT_EQUALS", "2026-06-10"), nobody, true],
        ["IN", when(field, "IN", ["2026-06-09", "2026-06-10"]), d, true],
        ["NOT_IN", when(field, "NOT_IN", ["2026-06-09"]), d, true],
        ["GREATER_THAN is strict", when(field, "GREATER_THAN", "2026-06-10"), d, false],
        ["GREATER_THAN_OR_EQUAL", when(field, "GREATER_THAN_OR_EQUAL", "2026-06-10"), d, true],
        ["LESS_THAN across a year", when(field, "LESS_THAN", "2027-01-01"), d, true],
        ["LESS_THAN_OR_EQUAL", when(field, "LESS_THAN_OR_EQUAL", "2026-06-09"), d, false],
        ["BETWEEN inclusive", when(field, "BETWEEN", ["2026-06-10", "2026-06-10"]), d, true],
        ["BEFORE is strict", when(field, "BEFORE", "2026-06-10"), d, false],
        ["BEFORE", when(field, "BEFORE", "2026-06-11"), d, true],
        ["AFTER", when(field, "AFTER", "2026-06-09"), d, true],
        ["AFTER a timestamp on the same date is false", when(field, "AFTER", "2026-06-10T00:00:00Z"), d, false],
        ["BEFORE never matches a contact without a value", when(field, "BEFORE", "9999-12-31"), nobody, false],
        ["AFTER never matches a contact without a value", when(field, "AFTER", "0001-01-01"), nobody, false],
        ["BETWEEN never matches a contact without a value", when(field, "BETWEEN", ["0001-01-01", "9999-12-31"]), nobody, false],
        ["WITHIN_LAST 7 DAYS (five days ago)", when(field, "WITHIN_LAST", { amount: 7, unit: "DAYS" }), d, true],
        ["WITHIN_LAST 5 DAYS (five days ago is the bound, excluded)", when(field, "WITHIN_LAST", { amount: 5, unit: "DAYS" }), d, false],
        ["WITHIN_LAST never matches a future date", when(field, "WITHIN_LAST", { amount: 7, unit: "DAYS" }), on("2026-06-16"), false],
        ["WITHIN_LAST 1 DAYS matches today's date", when(field, "WITHIN_LAST", { amount: 1, unit: "DAYS" }), on("2026-06-15"), true],
        ["WITHIN_LAST 1 MINUTES refuses today's date at noon (it counts from 00:00)", when(field, "WITHIN_LAST", { amount: 1, unit: "MINUTES" }), on("2026-06-15"), false],
        ["MORE_THAN_AGO 5 DAYS (the bound, included)", when(field, "MORE_THAN_AGO", { amount: 5, unit: "DAYS" }), d, true],
        ["MORE_THAN_AGO 6 DAYS", when(field, "MORE_THAN_AGO", { amount: 6, unit: "DAYS" }), d, false],
        ["WITHIN_LAST never matches a contact without a value", when(field, "WITHIN_LAST", { amount: 100, unit: "YEARS" }), nobody, false],
        ["MORE_THAN_AGO never matches a contact without a value", when(field, "MORE_THAN_AGO", { amount: 1, unit: "MINUTES" }), nobody, false],
        ["NOT WITHIN_LAST matches a contact without a value", { not: when(field, "WITHIN_LAST", { amount: 1, unit: "DAYS" }) }, nobody, true],
        ["IS_SET", when(field, "IS_SET"), d, true],
        ["IS_NOT_SET", when(field, "IS_NOT_SET"), nobody, true],
      ]);
    });
  }
});

describe("DATETIME fields (createdAt, updatedAt and a DATETIME custom field)", () => {
  const T = at("2026-06-10T08:30:00.000Z");
  const withValue = (field: string, ms: number) => {
    if (field === "createdAt") return contact({}, ms, NOW);
    if (field === "updatedAt") return contact({}, NOW - 400 * DAY, ms);
    // Given with an offset; stored and compared as the same instant.
    return contact({ attributes: { lastLogin: new Date(ms + 2 * 3_600_000).toISOString().replace("Z", "+02:00") } });
  };
  for (const field of ["createdAt", "updatedAt", "attributes.lastLogin"]) {
    const c = withValue(field, T);
    describe(field, () => {
      check([
        ["EQUALS the same instant in another zone", when(field, "EQUALS", "2026-06-10T10:30:00+02:00"), c, true],
        ["EQUALS a millisecond later is false", when(field, "EQUALS", "2026-06-10T08:30:00.001Z"), c, false],
        ["EQUALS a date means its midnight", when(field, "EQUALS", "2026-06-10"), c, false],
        ["NOT_EQUALS", when(field, "NOT_EQUALS", "2026-06-10T08:30:00Z"), c, false],
        ["IN", when(field, "IN", ["2026-06-10", "2026-06-10T08:30:00Z"]), c, true],
        ["NOT_IN", when(field, "NOT_IN", ["2026-06-10"]), c, true],
        ["GREATER_THAN a date (its midnight)", when(field, "GREATER_THAN", "2026-06-10"), c, true],
        ["GREATER_THAN_OR_EQUAL the instant", when(field, "GREATER_THAN_OR_EQUAL", "2026-06-10T08:30:00Z"), c, true],
        ["LESS_THAN is strict", when(field, "LESS_THAN", "2026-06-10T08:30:00Z"), c, false],
        ["LESS_THAN_OR_EQUAL", when(field, "LESS_THAN_OR_EQUAL", "2026-06-10T08:30:00Z"), c, true],
        ["BETWEEN two dates", when(field, "BETWEEN", ["2026-06-10", "2026-06-11"]), c, true],
        ["BEFORE a date (its midnight)", when(field, "BEFORE", "2026-06-10"), c, false],
        ["BEFORE the next midnight", when(field, "BEFORE", "2026-06-11"), c, true],
        ["AFTER a timestamp with an offset", when(field, "AFTER", "2026-06-10T10:29:59.999+02:00"), c, true],
        ["WITHIN_LAST 7 DAYS", when(field, "WITHIN_LAST", { amount: 7, unit: "DAYS" }), c, true],
        ["WITHIN_LAST 5 DAYS", when(field, "WITHIN_LAST", { amount: 5, unit: "DAYS" }), c, false],
        ["WITHIN_LAST 120 HOURS + 4 hours", when(field, "WITHIN_LAST", { amount: 124, unit: "HOURS" }), c, true],
        ["MORE_THAN_AGO 5 DAYS", when(field, "MORE_THAN_AGO", { amount: 5, unit: "DAYS" }), c, true],
        ["MORE_THAN_AGO 1 WEEKS", when(field, "MORE_THAN_AGO", { amount: 1, unit: "WEEKS" }), c, false],
        ["WITHIN_LAST never matches the future", when(field, "WITHIN_LAST", { amount: 1, unit: "YEARS" }), withValue(field, NOW + 1), false],
        ["WITHIN_LAST matches now itself", when(field, "WITHIN_LAST", { amount: 1, unit: "MINUTES" }), withValue(field, NOW), true],
        ["MORE_THAN_AGO refuses the future", when(field, "MORE_THAN_AGO", { amount: 1, unit: "MINUTES" }), withValue(field, NOW + DAY), false],
        ["IS_SET", when(field, "IS_SET"), c, true],
        ["IS_NOT_SET", when(field, "IS_NOT_SET"), c, false],
      ]);
    });
  }
  check([
    ["a DATETIME custom field: order operators never match a contact without it", when("attributes.lastLogin", "GREATER_THAN", "0001-01-01"), nobody, false],
    ["a DATETIME custom field: WITHIN_LAST never matches a contact without it", when("attributes.lastLogin", "WITHIN_LAST", { amount: 9, unit: "YEARS" }), nobody, false],
    ["a DATETIME custom field: NOT_EQUALS matches a contact without it", when("attributes.lastLogin", "NOT_EQUALS", "2026-01-01"), nobody, true],
    ["a DATETIME custom field: IS_NOT_SET", when("attributes.lastLogin", "IS_NOT_SET"), nobody, true],
  ]);
});

describe("and, or, not", () => {
  const person = contact({ country: "Norway", tags: ["vip"] });
  check([
    ["and needs every item", { and: [when("country", "EQUALS", "norway"), when("tags", "HAS_ANY", ["vip"])] }, person, true],
    ["and fails on one item", { and: [when("country", "EQUALS", "norway"), when("tags", "HAS_ANY", ["x"])] }, person, false],
    ["or needs one item", { or: [when("country", "EQUALS", "sweden"), when("tags", "HAS_ANY", ["vip"])] }, person, true],
    ["or fails when none match", { or: [when("country", "EQUALS", "sweden"), when("tags", "HAS_ANY", ["x"])] }, person, false],
    ["not negates", { not: when("country", "EQUALS", "norway") }, person, false],
    ["double not is the identity", { not: { not: when("country", "EQUALS", "norway") } }, person, true],
    ["NOT_EQUALS equals not EQUALS on a missing value", { not: when("city", "EQUALS", "x") }, person, true],
  ]);
});

describe("time: evaluated at a fixed now", () => {
  const age = (birthDate: string, iso: string) => {
    const facts = contact({ birthDate });
    const years = [...Array(120).keys()].find((n) => matches(when("age", "EQUALS", n), facts, at(iso)));
    return years;
  };

  test("a contact turns 18 at 00:00 UTC on the birthday", () => {
    const facts = contact({ birthDate: "2008-06-16" });
    const adult = when("age", "GREATER_THAN_OR_EQUAL", 18);
    expect(matches(adult, facts, at("2026-06-15T23:59:59.999Z"))).toBe(false);
    expect(matches(adult, facts, at("2026-06-16T00:00:00.000Z"))).toBe(true);
    expect(age("2008-06-16", "2026-06-15T23:59:59.999Z")).toBe(17);
    expect(age("2008-06-16", "2026-06-16T00:00:00.000Z")).toBe(18);
  });

  test("a Feb 29 birthday turns a year older on Mar 1 in years without Feb 29", () => {
    expect(age("2008-02-29", "2026-02-28T23:59:59.999Z")).toBe(17);
    expect(age("2008-02-29", "2026-03-01T00:00:00.000Z")).toBe(18);
    expect(matches(when("age", "EQUALS", 18), contact({ birthDate: "2008-02-29" }), at("2026-02-28T12:00:00Z"))).toBe(false);
  });

  test("a Feb 29 birthday turns a year older on Feb 29 in leap years", () => {
    expect(age("2008-02-29", "2028-02-28T23:59:59.999Z")).toBe(19);
    expect(age("2008-02-29", "2028-02-29T00:00:00.000Z")).toBe(20);
  });

  test("a birthday on Mar 1 is not affected by Feb 29", () => {
    expect(age("2007-03-01", "2024-02-29T12:00:00Z")).toBe(16);
    expect(age("2007-03-01", "2024-03-01T00:00:00Z")).toBe(17);
  });

  test("WITHIN_LAST 7 DAYS on createdAt stops matching exactly at createdAt + 7 days", () => {
    const created = at("2026-03-01T10:15:00.000Z");
    const facts = contact({}, created);
    const recent = when("createdAt", "WITHIN_LAST", { amount: 7, unit: "DAYS" });
    expect(matches(recent, facts, created - 1)).toBe(false);
    expect(matches(recent, facts, created)).toBe(true);
    expect(matches(recent, facts, created + 7 * DAY - 1)).toBe(true);
    expect(matches(recent, facts, created + 7 * DAY)).toBe(false);
  });

  test("MORE_THAN_AGO 7 DAYS on createdAt starts matching exactly at createdAt + 7 days", () => {
    const created = at("2026-03-01T10:15:00.000Z");
    const facts = contact({}, created);
    const old = when("createdAt", "MORE_THAN_AGO", { amount: 7, unit: "DAYS" });
    expect(matches(old, facts, created + 7 * DAY - 1)).toBe(false);
    expect(matches(old, facts, created + 7 * DAY)).toBe(true);
    expect(matches(old, facts, created + 700 * DAY)).toBe(true);
  });

  test("WITHIN_LAST 1 MONTHS from Jan 31 lasts until Mar 1 00:00 (no Feb 31)", () => {
    const created = at("2026-01-31T10:00:00.000Z");
    const facts = contact({}, created);
    const recent = when("createdAt", "WITHIN_LAST", { amount: 1, unit: "MONTHS" });
    const old = when("createdAt", "MORE_THAN_AGO", { amount: 1, unit: "MONTHS" });
    for (const iso of ["2026-02-28T10:00:00.000Z", "2026-02-28T23:59:59.999Z"]) {
      expect(matches(recent, facts, at(iso))).toBe(true);
      expect(matches(old, facts, at(iso))).toBe(false);
    }
    for (const iso of ["2026-03-01T00:00:00.000Z", "2026-03-02T10:00:00.000Z", "2026-03-31T09:00:00.000Z"]) {
      expect(matches(recent, facts, at(iso))).toBe(false);
      expect(matches(old, facts, at(iso))).toBe(true);
    }
  });

  test("MONTHS keep the time of day when the day exists in both months", () => {
    const created = at("2026-01-15T10:00:00.000Z");
    const facts = contact({}, created);
    const old = when("createdAt", "MORE_THAN_AGO", { amount: 1, unit: "MONTHS" });
    expect(matches(old, facts, at("2026-02-15T09:59:59.999Z"))).toBe(false);
    expect(matches(old, facts, at("2026-02-15T10:00:00.000Z"))).toBe(true);
  });

  test("MONTHS at a month end never flip back as the month runs out of days", () => {
    // Mar 28 12:00 is one month after Feb 28 12:00; Mar 29–31 have no Feb counterpart.
    const facts = contact({}, at("2026-02-28T11:00:00.000Z"));
    const old = when("createdAt", "MORE_THAN_AGO", { amount: 1, unit: "MONTHS" });
    const instants = ["2026-03-28T12:00:00Z", "2026-03-29T10:00:00Z", "2026-03-30T00:00:00Z", "2026-03-31T23:59:59.999Z", "2026-04-01T00:00:00Z"];
    for (const iso of instants) expect(matches(old, facts, at(iso))).toBe(true);
  });

  test("YEARS from Feb 29 last until Mar 1 of the next year", () => {
    const facts = contact({ attributes: { lastLogin: "2024-02-29T08:00:00Z" } });
    const recent = when("attributes.lastLogin", "WITHIN_LAST", { amount: 1, unit: "YEARS" });
    expect(matches(recent, facts, at("2025-02-28T23:59:59.999Z"))).toBe(true);
    expect(matches(recent, facts, at("2025-03-01T00:00:00.000Z"))).toBe(false);
  });

  test("WITHIN_LAST on a DATE field counts the date from its first instant", () => {
    const facts = contact({ attributes: { renewal: "2026-06-08" } });
    const recent = when("attributes.renewal", "WITHIN_LAST", { amount: 7, unit: "DAYS" });
    expect(matches(recent, facts, at("2026-06-14T23:59:59.999Z"))).toBe(true);
    expect(matches(recent, facts, at("2026-06-15T00:00:00.000Z"))).toBe(false);
    // A future date starts being within the last 7 days at its midnight.
    const soon = contact({ attributes: { renewal: "2026-06-20" } });
    expect(matches(recent, soon, at("2026-06-19T23:59:59.999Z"))).toBe(false);
    expect(matches(recent, soon, at("2026-06-20T00:00:00.000Z"))).toBe(true);
  });

  test("WITHIN_LAST HOURS on a DATE field counts the date as its 00:00 UTC", () => {
    const facts = contact({ attributes: { renewal: "2026-06-15" } });
    const recent = when("attributes.renewal", "WITHIN_LAST", { amount: 1, unit: "HOURS" });
    expect(matches(recent, facts, at("2026-06-14T23:59:59.999Z"))).toBe(false);
    expect(matches(recent, facts, at("2026-06-15T00:00:00.000Z"))).toBe(true);
    expect(matches(recent, facts, at("2026-06-15T00:59:59.999Z"))).toBe(true);
    expect(matches(recent, facts, at("2026-06-15T01:00:00.000Z"))).toBe(false);
  });
});
