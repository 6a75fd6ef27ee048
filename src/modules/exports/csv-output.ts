/** CSV out of the service (exports, an import's errors.csv), with csv-stringify. */
import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";

/**
 * A header and pages of rows as CSV text, a stream that reads the next page only when the last
 * one has been taken, so a million rows cost the memory of a page. Every value is text; a cell
 * that a spreadsheet would take for a formula (starting with =, +, -, @, a tab or a carriage
 * return) is prefixed with ' (OWASP CSV injection).
 */
export function csvStream(header: readonly string[], pages: AsyncIterable<readonly (readonly string[])[]>): Readable {
  // Whole pages are written at once: per row, a stream costs more than the CSV itself.
  const text = (rows: readonly (readonly string[])[]) => stringify(rows as string[][], { escape_formulas: true });
  return Readable.from(
    (async function* () {
      yield text([header]);
      for await (const page of pages) if (page.length > 0) yield text(page);
    })(),
    { objectMode: false },
  );
}

/** A name as a file name: characters that file systems or headers refuse become "_", at most 100 characters (whole ones: an emoji is not cut in two). */
export function fileSafe(name: string, fallback: string): string {
  const cleaned = name
    .toWellFormed()
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f"*/:<>?\\|]+/g, "_")
    .replace(/^[\s.]+|[\s.]+$/g, "");
  const safe = Array.from(cleaned).slice(0, 100).join("");
  return safe === "" ? fallback : safe;
}
