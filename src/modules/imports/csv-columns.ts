/**
 * How a CSV file's columns become contact fields: the separator (from the header line), the field
 * each column names (ignoring case, spaces, `_` and `-`), and a row's cells as a contact input.
 */
import { badInput } from "../../common/errors";
import type { CustomFieldDef, CustomFieldType } from "../../conditions";
import type { ContactInputShape } from "../../domain/contacts";

type TextField = "email" | "firstName" | "lastName" | "phone" | "country" | "city" | "gender" | "birthDate";

/** Where a column's cells go. */
export type ColumnTarget = { kind: "field"; field: TextField } | { kind: "tags" } | { kind: "attribute"; key: string; type: CustomFieldType } | { kind: "ignored" };

/** A column name as compared: lower case, without spaces, `_` and `-`. */
export function columnKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, "");
}

const FIELDS: ReadonlyMap<string, TextField> = new Map(
  (["email", "firstName", "lastName", "phone", "country", "city", "gender", "birthDate"] as const).map((field) => [columnKey(field), field]),
);

/** Columns of the service's own exports that an import cannot set: skipped (unless a custom field has the name), so that an export imports back as it is. */
const EXPORT_ONLY = new Set(["id", "createdat", "updatedat", "joinedat"].map(columnKey));

/**
 * The separator of a file: `;` when its header line holds more semicolons than commas outside
 * quotes, `,` otherwise.
 */
export function detectDelimiter(headerLine: string): "," | ";" {
  let [commas, semicolons, quoted] = [0, 0, false];
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === ",") commas++;
    else if (!quoted && char === ";") semicolons++;
  }
  return semicolons > commas ? ";" : ",";
}

const shown = (name: string) => JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);

/**
 * Each column's target, from the header's names. A column that names no field is refused
 * (BAD_USER_INPUT, naming it) unless `ignoreUnknown`; so are two columns for one field, and a name
 * that fits several custom fields. Whether an email column exists is the caller's to check.
 */
export function mapColumns(header: readonly string[], customFields: readonly CustomFieldDef[], ignoreUnknown: boolean): ColumnTarget[] {
  const byKey = new Map<string, CustomFieldDef[]>();
  for (const field of customFields) byKey.set(columnKey(field.key), [...(byKey.get(columnKey(field.key)) ?? []), field]);
  const attribute = (name: string): ColumnTarget | null => {
    // An exact key first: keys differing only in case or `_` are told apart by it.
    const exact = customFields.find((field) => field.key === name);
    if (exact) return { kind: "attribute", key: exact.key, type: exact.type };
    const fits = byKey.get(columnKey(name)) ?? [];
    if (fits.length > 1) throw badInput(`the column ${shown(name)} fits several custom fields (${fits.map((f) => f.key).join(", ")}): name one by its exact key`, { column: name });
    return fits[0] ? { kind: "attribute", key: fits[0].key, type: fits[0].type } : null;
  };
  // Custom fields the header names as attributes.<key>: an export names them so, beside its own
  // id, createdAt, updatedAt and joinedAt columns.
  const prefixedKeys = new Set(
    header.flatMap((raw) => {
      const name = raw.trim();
      const prefixed = /^attributes\./i.exec(name);
      const target = prefixed ? attribute(name.slice(prefixed[0].length)) : null;
      return target?.kind === "attribute" ? [target.key] : [];
    }),
  );
  /** An export-only name is a custom field of that key, unless the header names that field as attributes.<key> too. */
  const exportOnly = (name: string): ColumnTarget => {
    const field = attribute(name);
    return field?.kind === "attribute" && !prefixedKeys.has(field.key) ? field : { kind: "ignored" };
  };
  const unknown: string[] = [];
  const claimed = new Map<string, string>();
  const targets = header.map((raw): ColumnTarget => {
    const name = raw.trim();
    const key = columnKey(name);
    const prefixed = /^attributes\./i.exec(name);
    const target: ColumnTarget | null = prefixed
      ? attribute(name.slice(prefixed[0].length))
      : FIELDS.has(key)
        ? { kind: "field", field: FIELDS.get(key)! }
        : key === "tags"
          ? { kind: "tags" }
          : EXPORT_ONLY.has(key)
            ? exportOnly(name)
            : attribute(name);
    if (target === null) {
      unknown.push(name);
      return { kind: "ignored" };
    }
    if (target.kind !== "ignored") {
      const field = target.kind === "attribute" ? `attributes.${target.key}` : target.kind === "tags" ? "tags" : target.field;
      const earlier = claimed.get(field);
      if (earlier !== undefined) throw badInput(`the columns ${shown(earlier)} and ${shown(name)} both name ${field}`, { column: name });
      claimed.set(field, name);
    }
    return target;
  });
  if (unknown.length > 0 && !ignoreUnknown) {
    const names = unknown.map((name) => (name === "" ? "(a column without a name)" : shown(name)));
    throw badInput(
      `the header names ${unknown.length === 1 ? "a column" : "columns"} that this list has no field for: ${names.join(", ")}. ` +
        "Known columns are email, firstName, lastName, phone, country, city, gender, birthDate, tags and the list's custom fields " +
        "(by key, or attributes.<key>); ignoreUnknownColumns=true skips the others.",
      { columns: unknown },
    );
  }
  return targets;
}

/** What exports (csv-stringify's escape_formulas) prefix with ': =, +, -, @, tab, CR, and their full-width forms. */
const FORMULA_STARTS = "=+-@\t\r\uFF1D\uFF0B\uFF0D\uFF20";

/** A cell that an export escaped against spreadsheet formulas ('=…), as it was. */
function unescapeCell(cell: string): string {
  return cell.length > 1 && cell[0] === "'" && FORMULA_STARTS.includes(cell[1]!) ? cell.slice(1) : cell;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["yes", true],
  ["1", true],
  ["false", false],
  ["no", false],
  ["0", false],
]);

/** A custom field's cell in its type; a cell that is not of it stays text, for validation to refuse by name. */
function attributeValue(type: CustomFieldType, cell: string): unknown {
  const text = cell.trim();
  if (type === "NUMBER") return NUMBER.test(text) ? Number(text) : cell;
  if (type === "BOOLEAN") return BOOLEANS.get(text.toLowerCase()) ?? cell;
  return cell;
}

/**
 * A row's cells as a contact input. An empty cell gives no value (with upsert, the stored one
 * stays); tags are separated by `;` or `|`.
 */
export function contactOfRow(cells: readonly string[], targets: readonly ColumnTarget[]): ContactInputShape {
  const contact: ContactInputShape & Record<string, unknown> = {};
  let attributes: Record<string, unknown> | undefined;
  targets.forEach((target, i) => {
    const cell = unescapeCell(cells[i] ?? "");
    if (target.kind === "ignored" || cell.trim() === "") return;
    if (target.kind === "field") contact[target.field] = cell;
    else if (target.kind === "tags") contact.tags = cell.split(/[;|]/).map((tag) => tag.trim()).filter((tag) => tag !== "");
    else (attributes ??= {})[target.key] = attributeValue(target.type, cell);
  });
  if (attributes) contact.attributes = attributes;
  return contact;
}
