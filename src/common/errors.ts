/**
 * The error codes clients rely on (see the API contract), in one place. Domain code throws
 * `DomainError`; the GraphQL layer turns it into a GraphQLError with `extensions.code`.
 */
export enum ErrorCode {
  BadUserInput = "BAD_USER_INPUT",
  NotFound = "NOT_FOUND",
  Conflict = "CONFLICT",
  CursorExpired = "CURSOR_EXPIRED",
  Unauthenticated = "UNAUTHENTICATED",
  Forbidden = "FORBIDDEN",
  RateLimited = "RATE_LIMITED",
  QueryTooComplex = "QUERY_TOO_COMPLEX",
  Unavailable = "SERVICE_UNAVAILABLE",
  Internal = "INTERNAL_SERVER_ERROR",
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra, safe-to-show facts for `extensions` (a path, a field name, …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new DomainError(ErrorCode.BadUserInput, message, details);

export const notFound = (what: string, id: string) =>
  new DomainError(ErrorCode.NotFound, `${what} ${id} does not exist`, { id });

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new DomainError(ErrorCode.Conflict, message, details);

export const cursorExpired = (message: string) => new DomainError(ErrorCode.CursorExpired, message);
