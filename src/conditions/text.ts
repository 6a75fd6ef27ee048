/**
 * The one normal form for case-insensitive text: Unicode NFC, then lower case. Stored next to
 * the original once, so comparisons never lower-case per evaluation.
 */
export function normalizeText(value: string): string {
  return value.normalize("NFC").toLowerCase();
}
