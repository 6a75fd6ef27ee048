import { badInput } from "./errors";

/** A required display name: trimmed, non-empty, well-formed, bounded. */
export function cleanName(value: unknown, field: string, max = 200): string {
  if (typeof value !== "string") throw badInput(`${field}: expected a string`, { field });
  if (!value.isWellFormed()) throw badInput(`${field}: the text is not well-formed Unicode`, { field });
  const name = value.trim();
  if (name.length === 0) throw badInput(`${field}: cannot be empty`, { field });
  if (name.length > max) throw badInput(`${field}: at most ${max} characters`, { field });
  return name;
}
