import { GraphQLScalarType } from "graphql";
import { GraphQLDateTime, GraphQLJSON, GraphQLJSONObject, GraphQLLocalDate } from "graphql-scalars";

/** The contract's scalars, from graphql-scalars, under the contract's names and descriptions. */
export const DateTimeScalar = new GraphQLScalarType({
  ...GraphQLDateTime.toConfig(),
  name: "DateTime",
  description: "An ISO-8601 timestamp with time zone, e.g. 2026-11-29T10:15:00.000Z.",
});

export const DateScalar = new GraphQLScalarType({
  ...GraphQLLocalDate.toConfig(),
  name: "Date",
  description: "A calendar date, YYYY-MM-DD.",
});

export const JSONScalar = new GraphQLScalarType({ ...GraphQLJSON.toConfig(), description: "Any JSON value." });

export const JSONObjectScalar = new GraphQLScalarType({ ...GraphQLJSONObject.toConfig(), description: "A JSON object." });
