/** Errors of the HTTP endpoints, in the shape GraphQL errors have: `{ "errors": [{ "message", "extensions": { "code" } }] }`. */
import type { Response } from "express";

export function jsonError(res: Response, status: number, code: string, message: string, extensions: Record<string, unknown> = {}): void {
  res.status(status).json({ errors: [{ message, extensions: { ...extensions, code } }] });
}
