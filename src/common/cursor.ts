import { badInput } from "./errors";

/**
 * Opaque cursors: base64url of a kind tag and its key parts. A cursor names a position in an
 * order (a keyset), not an offset, so pages stay stable while rows are added and removed.
 */
export function encodeCursor(kind: string, parts: readonly (string | number)[]): string {
  return Buffer.from([kind, ...parts].join("|"), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string, kind: string, arity: number): string[] {
  const fail = () => badInput(`"${cursor.length > 40 ? cursor.slice(0, 40) + "…" : cursor}" is not a valid cursor here`, { argument: "after" });
  if (typeof cursor !== "string" || cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw fail();
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (parts.length !== arity + 1 || parts[0] !== kind) throw fail();
  return parts.slice(1);
}

/** Decodes a cursor whose parts are all non-negative safe integers. */
export function decodeIntCursor(cursor: string, kind: string, arity: number): number[] {
  const parts = decodeCursor(cursor, kind, arity);
  const numbers = parts.map((part) => (/^\d{1,16}$/.test(part) ? Number(part) : NaN));
  if (numbers.some((n) => !Number.isSafeInteger(n))) throw badInput(`"${cursor}" is not a valid cursor here`, { argument: "after" });
  return numbers;
}

/** Validates a page size. */
export function pageSize(first: number | null | undefined, max: number, fallback = 50): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw badInput(`first must be between 1 and ${max}, got ${size}`, { argument: "first" });
  }
  return size;
}
