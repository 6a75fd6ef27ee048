import { DomainError, ErrorCode } from "../../../src/common/errors";
import { Limits } from "../../../src/common/limits";
import { catalogOf, parseCondition, type Condition } from "../../../src/conditions";

const catalog = catalogOf([
  { key: "plan", label: null, type: "TEXT" },
  { key: "score", label: null, type: "NUMBER" },
  { key: "vip", label: null, type: "BOOLEAN" },
  { key: "renewal", label: "Renewal", type: "DATE" },
  { key: "lastLogin", label: null, type: "DATETIME" },
]);

const leaf = (field: string, operator: string, value?: unknown) => (value === undefined ? { field, operator } : { field, operator, value });
const ok = leaf("country", "EQUALS", "NO");

/** Wraps a node so it sits at `and[1].or[0]`. */
const nested = (node: unknown) => ({ and: [ok, { or: [node, ok] }] });

function refusal(input: unknown): DomainError {
  try {
    parseCondition(input, catalog);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

function expectRefused(input: unknown, path: string, reason?: RegExp): void {
  const error = refusal(input);
  expect(error).toBeInstanceOf(DomainError);
  expect(error.code).toBe(ErrorCode.BadUserInput);
  expect(error.details.conditionPath).toBe(path);
  expect(error.message.startsWith(`${path}: `)).toBe(true);
  if (reason) expect(error.message).toMatch(reason);
}

/** A chain of `not` nodes around a leaf, `levels` nodes deep in all. */
function notChain(levels: number): unknown {
  let node: unknown = ok;
  for (let i = 1; i < levels; i++) node = { not: node };
  return node;
}

type Refusal = [name: string, input: unknown, path: string, reason?: RegExp];

describe("parseCondition refuses invalid conditions with BAD_USER_INPUT naming the path", () => {
  const refusals: Refusal[] = [
    ["an unknown field", nested(leaf("favouriteColour", "EQUALS", "red")), "and[1].or[0].field", /unknown field "favouriteColour"/],
    ["an unknown custom field attributes.x", nested(leaf("attributes.x", "EQUALS", "red")), "and[1].or[0].field", /no custom field "x"/],
    ["attributes. without a key", leaf("attributes.", "EQUALS", "red"), "field"],
    ["an inherited property name as a field", leaf("toString", "EQUALS", "x"), "field"],
    ["attributes.__proto__", leaf("attributes.__proto__", "EQUALS", "x"), "field"],
    ["a missing field", { operator: "EQUALS", value: "x" }, "field"],
    ["a missing operator", { field: "country", value: "x" }, "operator", /operator is required/],
    ["an unknown operator", leaf("country", "LIKE", "x"), "operator", /unknown operator/],
    ["CONTAINS on age", nested(leaf("age", "CONTAINS", "1")), "and[1].or[0].operator", /CONTAINS does not apply to age/],
    ["HAS_ANY on country", nested(leaf("country", "HAS_ANY", ["no"])), "and[1].or[0].operator", /HAS_ANY does not apply to country/],
    ["GREATER_THAN on a TEXT custom field", leaf("attributes.plan", "GREATER_THAN", "a"), "operator"],
    ["GREATER_THAN on a built-in text field", leaf("email", "GREATER_THAN", "a"), "operator"],
    ["BEFORE on a NUMBER field", leaf("attributes.score", "BEFORE", "2026-01-01"), "operator"],
    ["WITHIN_LAST on age", leaf("age", "WITHIN_LAST", { amount: 1, unit: "YEARS" }), "operator"],
    ["GREATER_THAN on a BOOLEAN field", leaf("attributes.vip", "GREATER_THAN", true), "operator"],
    ["IN on a BOOLEAN field", leaf("attributes.vip", "IN", [true]), "operator"],
    ["EQUALS on tags", leaf("tags", "EQUALS", "vip"), "operator"],
    ["CONTAINS on a DATE field", leaf("birthDate", "CONTAINS", "2000"), "operator"],
    ["HAS_ALL on a TEXT custom field", leaf("attributes.plan", "HAS_ALL", ["a"]), "operator"],
    ["BETWEEN with one bound", nested(leaf("age", "BETWEEN", [18])), "and[1].or[0].value", /\[low, high\]/],
    ["BETWEEN with three bounds", leaf("age", "BETWEEN", [1, 2, 3]), "value"],
    ["BETWEEN with an object", leaf("age", "BETWEEN", { low: 1, high: 2 }), "value"],
    ["BETWEEN with low above high", nested(leaf("attributes.score", "BETWEEN", [10, 2])), "and[1].or[0].value", /low <= high/],
    ["BETWEEN on dates with low above high", leaf("birthDate", "BETWEEN", ["2001-01-02", "2001-01-01"]), "value"],
    ["BETWEEN with a bad high bound", leaf("age", "BETWEEN", [1, "2"]), "value[1]"],
    ["an object where a scalar belongs", nested(leaf("city", "EQUALS", { value: "Oslo" })), "and[1].or[0].value", /an object/],
    ["an array where a scalar belongs", leaf("age", "EQUALS", [18]), "value"],
    ["an object inside an IN list", leaf("city", "IN", ["Oslo", { $gt: "" }]), "value[1]"],
    ["{$ne: null} as a value", nested(leaf("email", "EQUALS", { $ne: null })), "and[1].or[0].value"],
    ["{$ne: null} as a NOT_EQUALS value", leaf("email", "NOT_EQUALS", { $ne: null }), "value"],
    ["{$ne: null} as an IS_SET value", leaf("email", "IS_SET", { $ne: null }), "value"],
    ["a null EQUALS value", leaf("email", "EQUALS", null), "value"],
    ["a number for a text field", nested(leaf("firstName", "EQUALS", 42)), "and[1].or[0].value", /expected a string/],
    ["a number for a TEXT custom field", leaf("attributes.plan", "EQUALS", 1), "value"],
    ["a string for a number field", leaf("attributes.score", "EQUALS", "1"), "value", /expected a number/],
    ["a non-finite number", leaf("attributes.score", "LESS_THAN", Number.POSITIVE_INFINITY), "value"],
    ["a string for a boolean field", leaf("attributes.vip", "EQUALS", "true"), "value", /true or false/],
    ["a number for a date field", leaf("birthDate", "EQUALS", 20000101), "value"],
    ["an invalid calendar date", leaf("birthDate", "EQUALS", "2025-02-29"), "value", /not a valid date/],
    ["a timestamp without a zone", leaf("createdAt", "AFTER", "2026-01-01T10:00:00"), "value"],
    ["year 0000", leaf("createdAt", "AFTER", "0000-12-31"), "value"],
    ["BEFORE with a number", leaf("createdAt", "BEFORE", 1_700_000_000_000), "value"],
    ["an empty CONTAINS string", leaf("city", "CONTAINS", ""), "value"],
    ["a CONTAINS list", leaf("city", "CONTAINS", ["a"]), "value"],
    ["IN with an empty list", nested(leaf("country", "IN", [])), "and[1].or[0].value", /at least one value/],
    ["NOT_IN with a scalar", leaf("country", "NOT_IN", "no"), "value", /list of values/],
    ["HAS_ANY with an empty list", leaf("tags", "HAS_ANY", []), "value"],
    ["HAS_NONE with a number among the tags", leaf("tags", "HAS_NONE", ["a", 1]), "value[1]"],
    ["IN with more values than allowed", leaf("country", "IN", Array.from({ length: Limits.maxListValues + 1 }, (_, i) => `c${i}`)), "value"],
    ["a text value over the length limit", leaf("city", "EQUALS", "x".repeat(Limits.maxTextLength + 1)), "value"],
    ["IS_SET with a value", nested(leaf("phone", "IS_SET", true)), "and[1].or[0].value", /takes no value/],
    ["IS_NOT_SET with a value", leaf("phone", "IS_NOT_SET", "x"), "value"],
    ["WITHIN_LAST with a bad unit", nested(leaf("createdAt", "WITHIN_LAST", { amount: 7, unit: "FORTNIGHTS" })), "and[1].or[0].value.unit"],
    ["WITHIN_LAST with a lower-case unit", leaf("createdAt", "WITHIN_LAST", { amount: 7, unit: "days" }), "value.unit"],
    ["WITHIN_LAST with a non-integer amount", nested(leaf("createdAt", "WITHIN_LAST", { amount: 1.5, unit: "DAYS" })), "and[1].or[0].value.amount"],
    ["WITHIN_LAST with a zero amount", leaf("createdAt", "WITHIN_LAST", { amount: 0, unit: "DAYS" }), "value.amount"],
    ["WITHIN_LAST with a string amount", leaf("createdAt", "WITHIN_LAST", { amount: "7", unit: "DAYS" }), "value.amount"],
    ["WITHIN_LAST with an extra key", nested(leaf("createdAt", "WITHIN_LAST", { amount: 7, unit: "DAYS", from: "now" })), "and[1].or[0].value.from"],
    ["MORE_THAN_AGO without a value", leaf("attributes.lastLogin", "MORE_THAN_AGO"), "value"],
    ["MORE_THAN_AGO with a string", leaf("attributes.renewal", "MORE_THAN_AGO", "7 days"), "value"],
    ["two forms in one node", nested({ and: [ok], field: "country", operator: "EQUALS", value: "no" }), "and[1].or[0]", /exactly one form/],
    ["and with not in one node", { and: [ok], not: ok }, "condition", /exactly one form/],
    ["and with or in one node", { not: { and: [ok], or: [ok] } }, "not"],
    ["an empty node", nested({}), "and[1].or[0]", /empty node/],
    ["a node of null keys", { and: null, field: null }, "condition", /empty node/],
    ["an empty and group", nested({ and: [] }), "and[1].or[0].and", /at least one condition/],
    ["an empty or group", { not: { or: [] } }, "not.or"],
    ["an and that is not a list", { and: ok }, "and"],
    ["a null item in a group", { or: [ok, null] }, "or[1]"],
    ["a string as the root", "country = 'no'", "condition"],
    ["an array as the root", [ok], "condition"],
    ["an unknown key $where", nested({ $where: "this.age > 18" }), "and[1].or[0].$where", /unknown key/],
    ["an unknown key next to a leaf", { ...ok, $where: "1" }, "$where"],
    ["an unknown key in the root", { and: [ok], options: {} }, "options"],
    ["a lone surrogate in a text value", nested(leaf("city", "EQUALS", "Oslo\uD800")), "and[1].or[0].value", /well-formed/],
    ["a lone low surrogate in a CONTAINS value", leaf("firstName", "CONTAINS", "\uDC00a"), "value"],
    ["a lone surrogate in an IN list", leaf("city", "IN", ["Oslo", "\uD83D"]), "value[1]"],
    ["a lone surrogate in a tag", leaf("tags", "HAS_ANY", ["ok", "bad\uDFFF"]), "value[1]"],
  ];
  test.each(refusals.map(([name, input, path, reason]) => ({ name, input, path, reason })))("refuses $name at its path", ({ input, path, reason }) => {
    expectRefused(input, path, reason);
  });

  test("accepts exactly the maximum depth and refuses one level more, at the deepest node", () => {
    expect(() => parseCondition(notChain(Limits.maxConditionDepth), catalog)).not.toThrow();
    const deepest = Array.from({ length: Limits.maxConditionDepth }, () => "not").join(".");
    expectRefused(notChain(Limits.maxConditionDepth + 1), deepest, /10 levels/);
  });

  test("refuses a deep and/or nesting at the first node below the limit", () => {
    let node: unknown = ok;
    for (let i = 0; i < Limits.maxConditionDepth; i++) node = i % 2 === 0 ? { and: [node] } : { or: [ok, node] };
    // Levels alternate and[0] / or[1]; the leaf is the eleventh level.
    const path = Array.from({ length: Limits.maxConditionDepth }, (_, i) => ((Limits.maxConditionDepth - 1 - i) % 2 === 0 ? "and[0]" : "or[1]")).join(".");
    expectRefused(node, path, /nest at most/);
  });

  test("accepts 200 nodes and refuses the 201st node by its path", () => {
    const leaves = (n: number) => Array.from({ length: n }, (_, i) => leaf("city", "EQUALS", `c${i}`));
    expect(() => parseCondition({ or: leaves(Limits.maxConditionNodes - 1) }, catalog)).not.toThrow();
    expectRefused({ or: leaves(Limits.maxConditionNodes) }, `or[${Limits.maxConditionNodes - 1}]`, /at most 200 nodes/);
  });

  test("counts nodes across the whole tree, not per group", () => {
    const group = () => ({ and: Array.from({ length: 49 }, () => ok) });
    // Root + 4 groups of (1 + 49) nodes = 201.
    expectRefused({ or: [group(), group(), group(), group()] }, "or[3].and[48]", /nodes/);
  });
});

describe("parseCondition accepts valid trees", () => {
  test("returns the stored form as sent, without null keys", () => {
    const input = {
      and: [
        { field: "country", operator: "EQUALS", value: "NO", and: null, or: null, not: null },
        { not: { field: "tags", operator: "HAS_ANY", value: ["VIP"] }, or: null },
        { or: [{ field: "age", operator: "IS_SET", value: null }, { field: "createdAt", operator: "WITHIN_LAST", value: { amount: 7, unit: "DAYS" } }] },
        { field: "attributes.score", operator: "BETWEEN", value: [1, 2.5] },
      ],
      not: null,
    };
    const { stored } = parseCondition(input, catalog);
    expect(stored).toEqual({
      and: [
        { field: "country", operator: "EQUALS", value: "NO" },
        { not: { field: "tags", operator: "HAS_ANY", value: ["VIP"] } },
        { or: [{ field: "age", operator: "IS_SET" }, { field: "createdAt", operator: "WITHIN_LAST", value: { amount: 7, unit: "DAYS" } }] },
        { field: "attributes.score", operator: "BETWEEN", value: [1, 2.5] },
      ],
    });
    expect(JSON.stringify(stored)).not.toContain("null");
  });

  test("parses its own stored form to the same tree and the same stored form", () => {
    const input = {
      or: [
        { field: "email", operator: "ENDS_WITH", value: "@Example.com" },
        { not: { and: [{ field: "attributes.vip", operator: "NOT_EQUALS", value: true }, { field: "birthDate", operator: "IS_NOT_SET" }] } },
      ],
    };
    const first = parseCondition(input, catalog);
    const second = parseCondition(first.stored, catalog);
    expect(second).toEqual(first);
  });

  test("accepts input-class instances as nodes, as the GraphQL layer passes them", () => {
    class Node {
      field?: string | null = null;
      operator?: string | null = null;
      value?: unknown = undefined;
      and?: Node[] | null = null;
    }
    const child = Object.assign(new Node(), { field: "city", operator: "EQUALS", value: "Oslo" });
    const root = Object.assign(new Node(), { field: null, operator: null, and: [child] });
    expect(parseCondition(root, catalog).stored).toEqual({ and: [{ field: "city", operator: "EQUALS", value: "Oslo" }] });
  });

  test.each([
    ["NOT_EQUALS", "country", "NO", { op: "in", values: ["no"] }],
    ["NOT_IN", "country", ["NO", "SE"], { op: "in", values: ["no", "se"] }],
    ["NOT_CONTAINS", "city", "OS", { op: "contains", value: "os" }],
    ["HAS_NONE", "tags", ["VIP"], { op: "hasAny", values: ["vip"] }],
    ["IS_NOT_SET", "phone", undefined, { op: "set" }],
  ])("turns %s into a not node around its positive form", (operator, field, value, test) => {
    const { ast } = parseCondition(leaf(field, operator, value), catalog);
    expect(ast.kind).toBe("not");
    const inner = (ast as Extract<Condition, { kind: "not" }>).item;
    expect(inner).toMatchObject({ kind: "leaf", field: { path: field }, test });
  });

  test("keeps positive operators as plain leaves, EQUALS as IN of one value and BEFORE/AFTER as LT/GT", () => {
    expect(parseCondition(leaf("country", "EQUALS", "No"), catalog).ast).toEqual({
      kind: "leaf",
      field: { path: "country", source: "builtin", name: "country", type: "TEXT" },
      test: { op: "in", values: ["no"] },
    });
    expect(parseCondition(leaf("birthDate", "BEFORE", "2000-01-01"), catalog).ast).toMatchObject({ test: { op: "lt", value: "2000-01-01" } });
    expect(parseCondition(leaf("birthDate", "AFTER", "2000-01-01"), catalog).ast).toMatchObject({ test: { op: "gt", value: "2000-01-01" } });
    expect(parseCondition(leaf("attributes.score", "GREATER_THAN_OR_EQUAL", 3), catalog).ast).toMatchObject({
      field: { path: "attributes.score", source: "attribute", name: "score", type: "NUMBER" },
      test: { op: "gte", value: 3 },
    });
    expect(parseCondition(leaf("age", "LESS_THAN", 18), catalog).ast).toMatchObject({ field: { type: "AGE" }, test: { op: "lt", value: 18 } });
  });

  test("lower-cases text values in Unicode NFC form", () => {
    const decomposed = "E\u0301COLE"; // É as E + combining acute
    expect(parseCondition(leaf("city", "EQUALS", decomposed), catalog).ast).toMatchObject({ test: { values: ["\u00e9cole"] } });
    expect(parseCondition(leaf("attributes.plan", "IN", ["ØSTFOLD", "Pro"]), catalog).ast).toMatchObject({ test: { values: ["østfold", "pro"] } });
    expect(parseCondition(leaf("email", "STARTS_WITH", "ANN"), catalog).ast).toMatchObject({ test: { op: "startsWith", value: "ann" } });
    expect(parseCondition(leaf("tags", "HAS_ALL", ["VIP", "Beta"]), catalog).ast).toMatchObject({ test: { op: "hasAll", values: ["vip", "beta"] } });
  });

  test("gives DATE fields YYYY-MM-DD, taking the UTC date of a timestamp", () => {
    expect(parseCondition(leaf("birthDate", "EQUALS", "2000-02-29"), catalog).ast).toMatchObject({ test: { values: ["2000-02-29"] } });
    expect(parseCondition(leaf("birthDate", "EQUALS", "2000-02-28T23:30:00-02:00"), catalog).ast).toMatchObject({ test: { values: ["2000-02-29"] } });
    expect(parseCondition(leaf("attributes.renewal", "AFTER", "2026-01-01T00:30:00+01:00"), catalog).ast).toMatchObject({
      test: { op: "gt", value: "2025-12-31" },
    });
    expect(parseCondition(leaf("attributes.renewal", "BETWEEN", ["2026-01-01T10:00:00Z", "2026-01-01"]), catalog).ast).toMatchObject({
      test: { op: "between", low: "2026-01-01", high: "2026-01-01" },
    });
  });

  test("gives DATETIME fields epoch milliseconds, taking a date as its first instant UTC", () => {
    expect(parseCondition(leaf("createdAt", "AFTER", "2026-03-01"), catalog).ast).toMatchObject({ test: { op: "gt", value: Date.UTC(2026, 2, 1) } });
    expect(parseCondition(leaf("updatedAt", "EQUALS", "2026-03-01T01:02:03.456+01:00"), catalog).ast).toMatchObject({
      test: { values: [Date.UTC(2026, 2, 1, 0, 2, 3, 456)] },
    });
    expect(parseCondition(leaf("attributes.lastLogin", "IN", ["0001-01-01", "9999-12-31T23:59:59.999Z"]), catalog).ast).toMatchObject({
      test: { values: [Date.parse("0001-01-01T00:00:00Z"), Date.parse("9999-12-31T23:59:59.999Z")] },
    });
  });

  test("keeps numbers, booleans and durations as given", () => {
    expect(parseCondition(leaf("attributes.score", "IN", [1, -2.5, 0]), catalog).ast).toMatchObject({ test: { values: [1, -2.5, 0] } });
    expect(parseCondition(leaf("attributes.vip", "EQUALS", false), catalog).ast).toMatchObject({ test: { values: [false] } });
    expect(parseCondition(leaf("createdAt", "MORE_THAN_AGO", { amount: 3, unit: "MONTHS" }), catalog).ast).toMatchObject({
      test: { op: "moreThanAgo", duration: { amount: 3, unit: "MONTHS" } },
    });
  });

  test("accepts every operator on every field type it fits", () => {
    const cases: [string, string, unknown][] = [
      ["country", "CONTAINS", "or"],
      ["country", "NOT_CONTAINS", "or"],
      ["country", "STARTS_WITH", "n"],
      ["country", "ENDS_WITH", "y"],
      ["attributes.score", "LESS_THAN_OR_EQUAL", 2],
      ["attributes.score", "GREATER_THAN", -1],
      ["attributes.vip", "IS_SET", undefined],
      ["attributes.renewal", "WITHIN_LAST", { amount: 1, unit: "WEEKS" }],
      ["attributes.lastLogin", "MORE_THAN_AGO", { amount: 90, unit: "MINUTES" }],
      ["attributes.lastLogin", "BEFORE", "2026-01-01T00:00:00+05:30"],
      ["birthDate", "IN", ["2000-01-01", "2001-01-01T12:00:00Z"]],
      ["updatedAt", "WITHIN_LAST", { amount: 2, unit: "HOURS" }],
      ["tags", "IS_NOT_SET", undefined],
      ["age", "NOT_IN", [17.5, 18]],
      ["age", "BETWEEN", [18, 18]],
    ];
    for (const [field, operator, value] of cases) expect(() => parseCondition(leaf(field, operator, value), catalog)).not.toThrow();
  });
});
