import "reflect-metadata";
import { parse } from "graphql";
import { DomainError } from "../../../src/common/errors";
import { buildAppSchema } from "../../../src/schema";
import { checkCost, type OperationLimits } from "../../../src/security/operation-limits";

const schema = buildAppSchema();
const limits: OperationLimits = { maxTokens: 10_000, maxDepth: 12, maxAliases: 30, maxDirectives: 20, maxCost: 5_000, introspection: false };

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof DomainError ? error.code : "other";
  }
}

describe("operation cost, reused per parsed document", () => {
  it("recomputes a cost that a page size variable changes, on the same document", () => {
    const document = parse("query ($n: Int) { contactLists(first: $n) { nodes { contacts(first: $n) { nodes { id email } } } } }");
    const small = checkCost(schema, document, { n: 2 }, undefined, limits);
    expect(checkCost(schema, document, { n: 3 }, undefined, limits)).toBeGreaterThan(small);
    expect(codeOf(() => checkCost(schema, document, { n: 100 }, undefined, limits))).toBe("QUERY_TOO_COMPLEX");
    expect(checkCost(schema, document, { n: 2 }, undefined, limits)).toBe(small);
  });

  it("recomputes a cost that a directive's variable changes", () => {
    const document = parse(
      "query ($skip: Boolean!) { contactLists(first: 100) { nodes { contacts(first: 100) @skip(if: $skip) { nodes { id } } } } }",
    );
    expect(checkCost(schema, document, { skip: true }, undefined, limits)).toBeLessThan(limits.maxCost);
    expect(codeOf(() => checkCost(schema, document, { skip: false }, undefined, limits))).toBe("QUERY_TOO_COMPLEX");
  });

  it("keeps refusing a fixed costly document, also after a request whose variables did not fit", () => {
    const document = parse("query ($id: ID!) { node(id: $id) { id } contactLists(first: 100) { nodes { contacts(first: 100) { nodes { id } } } } }");
    // Unfit variables make no cost (execution answers BAD_USER_INPUT); that must not be remembered.
    expect(checkCost(schema, document, { id: { not: "an id" } }, undefined, limits)).toBe(0);
    expect(codeOf(() => checkCost(schema, document, { id: "x" }, undefined, limits))).toBe("QUERY_TOO_COMPLEX");
    expect(codeOf(() => checkCost(schema, document, { id: "y" }, undefined, limits))).toBe("QUERY_TOO_COMPLEX");
  });

  it("gives each operation of a document its own cost", () => {
    const document = parse("query Cheap { contactLists(first: 1) { totalCount } } query Dear { contactLists(first: 100) { nodes { contacts(first: 100) { nodes { id } } } } }");
    expect(checkCost(schema, document, {}, "Cheap", limits)).toBeLessThan(10);
    expect(codeOf(() => checkCost(schema, document, {}, "Dear", limits))).toBe("QUERY_TOO_COMPLEX");
    expect(checkCost(schema, document, {}, "Cheap", limits)).toBeLessThan(10);
  });
});
