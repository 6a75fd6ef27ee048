import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { GraphQLDateTime, GraphQLJSON, GraphQLJSONObject, GraphQLLocalDate } from "graphql-scalars";

/** The contract's scalars, from graphql-scalars, under the contract's names and descriptions. */
export const DateTimeScalar = new GraphQLScalarType({
  ...GraphQLDateTime.toConfig(),
  name: "DateTime",
  description: "An ISO-8601 timestamp with time zone, e.g. 2026-11-29T10:15:00.000Z.",
});

/**
 * Output is checked by graphql-scalars' LocalDate. Input strings are passed through and checked
 * by the service, so that one impossible date in a 10,000-row addContacts is reported for its
 * row instead of refusing the whole call.
 */
export const DateScalar = new GraphQLScalarType({
  ...GraphQLLocalDate.toConfig(),
  name: "Date",
  description: "A calendar date, YYYY-MM-DD.",
  parseValue(value) {
    if (typeof value !== "string") throw new GraphQLError(`a Date is a string YYYY-MM-DD, got ${typeof value}`);
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError(`a Date is a string YYYY-MM-DD`, { nodes: ast });
    return ast.value;
  },
});

export const JSONScalar = new GraphQLScalarType({ ...GraphQLJSON.toConfig(), description: "Any JSON value." });

export const JSONObjectScalar = new GraphQLScalarType({ ...GraphQLJSONObject.toConfig(), description: "A JSON object." });
