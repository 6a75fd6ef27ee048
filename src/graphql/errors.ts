/**
 * How errors reach clients, over HTTP and WebSocket alike. Domain errors keep their code and
 * message; GraphQL's own (syntax, validation, variable coercion) keep theirs; anything else is
 * an internal error: in production its message is replaced and only the request id is shown.
 */
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { DomainError, ErrorCode } from "../common/errors";

export interface ErrorFormatting {
  production: boolean;
  /** Drop "Did you mean …?" hints, which reveal the schema when introspection is off. */
  hideSuggestions?: boolean;
  requestId?: string;
  /** Called once for each internal error, with the original error. */
  onInternal?: (error: unknown, requestId: string | undefined) => void;
}

const PUBLIC_GRAPHQL_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((code) => code !== ErrorCode.Internal),
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

function originalOf(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError && current.originalError !== current) {
    current = current.originalError;
  }
  return current;
}

/** True for graphql-js's own request errors: syntax, validation, variable coercion (no path, no cause of ours). */
function isRequestError(error: unknown): error is GraphQLError {
  return (
    error instanceof GraphQLError &&
    error.path === undefined &&
    (error.originalError === undefined || error.originalError === null || error.originalError instanceof GraphQLError)
  );
}

/** The GraphQLError for a domain error raised outside a resolver (limits, authentication). */
export function toGraphQLError(error: DomainError, httpStatus?: number): GraphQLError {
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { ...error.details, code: error.code, ...(httpStatus ? { http: { status: httpStatus } } : {}) },
  });
}

export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, options: ErrorFormatting): GraphQLFormattedError {
  const shown = formatWithoutHints(formatted, error, options);
  return options.hideSuggestions ? { ...shown, message: shown.message.replace(/ ?Did you mean .*\?$/, "") } : shown;
}

function formatWithoutHints(formatted: GraphQLFormattedError, error: unknown, options: ErrorFormatting): GraphQLFormattedError {
  const original = originalOf(error);
  const { locations, path } = formatted;
  const base = { ...(locations ? { locations } : {}), ...(path ? { path } : {}) };
  if (original instanceof DomainError) {
    return { ...base, message: original.message, extensions: { ...original.details, code: original.code } };
  }
  const code = formatted.extensions?.code;
  if (path === undefined && original instanceof RangeError && /call stack/i.test(original.message)) {
    // graphql-js parses documents and coerces variables recursively: input nested about a thousand deep overflows the stack.
    return { ...base, message: "the request is nested too deeply", extensions: { code: code === "GRAPHQL_PARSE_FAILED" ? code : ErrorCode.BadUserInput } };
  }
  if (typeof code === "string" && PUBLIC_GRAPHQL_CODES.has(code)) {
    return { ...base, message: formatted.message, extensions: { code } };
  }
  if (isRequestError(error)) {
    // Over graphql-ws these arrive without Apollo's codes.
    const inferred = formatted.message.startsWith('Variable "$') ? ErrorCode.BadUserInput : "GRAPHQL_VALIDATION_FAILED";
    return { ...base, message: formatted.message, extensions: { code: inferred } };
  }
  options.onInternal?.(original, options.requestId);
  const requestId = options.requestId;
  return {
    ...base,
    message: options.production ? "Internal server error" : formatted.message,
    extensions: { code: ErrorCode.Internal, ...(requestId ? { requestId } : {}) },
  };
}

/** The same for graphql-ws, which hands over GraphQLError objects. */
export function formatErrors(errors: readonly GraphQLError[], options: ErrorFormatting): GraphQLFormattedError[] {
  return errors.map((error) => {
    // graphql-js passes on whatever variable coercion threw (a RangeError), which has no toJSON.
    const graphQLError = error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error), { originalError: error as Error });
    return formatGraphQLError(graphQLError.toJSON(), graphQLError, options);
  });
}
