import isEmail from "validator/lib/isEmail";
import { badInput, DomainError, ErrorCode } from "../common/errors";
import { Limits } from "../common/limits";
import { type ContactFacts, type CustomFieldDef, type FieldCatalog, normalizeText, type Scalar, TEXT_FIELDS, type TextField, dates } from "../conditions";

/** A contact's own values as stored and shown; attributes hold only declared keys. */
export interface ContactData {
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  country: string | null;
  city: string | null;
  gender: string | null;
  /** "YYYY-MM-DD". */
  birthDate: string | null;
  tags: string[];
  /** TEXT string, NUMBER number, DATE "YYYY-MM-DD", DATETIME ISO-8601 (UTC), BOOLEAN. */
  attributes: Record<string, Scalar>;
}

/**
 * A validated partial update: absent keys stay, null clears. Attributes merge by key (a key set
 * to null is cleared); `attributes: null` clears them all.
 */
export interface ContactPatch {
  fields: Partial<Omit<ContactData, "attributes" | "email">> & { email?: string };
  attributes?: Record<string, Scalar | null> | null;
}

/** What a client sends for one contact (ContactInput / ContactPatchInput). */
export interface ContactInputShape {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  country?: string | null;
  city?: string | null;
  gender?: string | null;
  birthDate?: string | null;
  tags?: string[] | null;
  attributes?: Record<string, unknown> | null;
}

const OPTIONAL_TEXT = TEXT_FIELDS.filter((field) => field !== "email") as Exclude<TextField, "email">[];

function invalid(field: string, message: string): DomainError {
  return badInput(`${field}: ${message}`, { field });
}

function cleanText(field: string, value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw invalid(field, "expected a string");
  if (!value.isWellFormed()) throw invalid(field, "the text is not well-formed Unicode");
  const trimmed = value.trim();
  if (trimmed.length > max) throw invalid(field, `at most ${max} characters`);
  // An empty string is no value: IS_SET and IS_NOT_SET see it as unset.
  return trimmed.length === 0 ? null : trimmed;
}

/**
 * validator's isEmail, with its length limits checked by withinEmailLengths instead: it measures
 * bytes by splitting encodeURI's output into an array of one entry per byte, twice an
 * address, which was most of an ingest's validation. (Not frozen: isEmail fills its defaults in.)
 */
const EMAIL_OPTIONS = { allow_utf8_local_part: true, require_tld: true, allow_ip_domain: false, ignore_max_length: true };

/**
 * The limits isEmail applies unless told to ignore them: at most 254 characters, a local part of
 * at most 64 bytes (UTF-8) and a domain of at most 254, each domain label at most 63 characters.
 * For a well-formed string, UTF-8 bytes are what isEmail counts.
 */
export function withinEmailLengths(email: string): boolean {
  if (email.length > 254) return false;
  const at = email.lastIndexOf("@");
  if (at < 0) return false;
  const domain = email.slice(at + 1);
  if (Buffer.byteLength(domain, "utf8") > 254 || Buffer.byteLength(email.slice(0, at), "utf8") > 64) return false;
  let label = 0;
  for (let i = 0; i < domain.length; i++) {
    if (domain.charCodeAt(i) === 46) label = 0;
    else if (++label > 63) return false;
  }
  return true;
}

export function cleanEmail(value: unknown): string {
  const email = cleanText("email", value, Limits.maxEmailLength);
  if (email === null) throw invalid("email", "an email address is required");
  // Invisible (format, control, separator) characters would make look-alike duplicates of an address.
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(email)) throw invalid("email", "an email address cannot contain invisible or control characters");
  if (!isEmail(email, EMAIL_OPTIONS) || !withinEmailLengths(email)) {
    throw invalid("email", `"${email.length > 60 ? email.slice(0, 60) + "…" : email}" is not a valid email address`);
  }
  return email;
}

function cleanBirthDate(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" || dates.parseDate(value) === null) throw invalid("birthDate", "expected a date YYYY-MM-DD");
  return value;
}

function cleanTags(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw invalid("tags", "expected a list of strings");
  if (value.length > Limits.maxTags) throw invalid("tags", `at most ${Limits.maxTags} tags`);
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const [index, tag] of value.entries()) {
    const text = cleanText(`tags[${index}]`, tag, Limits.maxTagLength);
    if (text === null) throw invalid(`tags[${index}]`, "a tag cannot be empty");
    const key = normalizeText(text);
    if (!seen.has(key)) {
      seen.add(key);
      tags.push(text);
    }
  }
  return tags;
}

function cleanAttribute(key: string, type: CustomFieldDef["type"], value: unknown): Scalar {
  const field = `attributes.${key}`;
  switch (type) {
    case "TEXT": {
      const text = cleanText(field, value, Limits.maxTextLength);
      if (text === null) throw invalid(field, "expected a non-empty string (use null to clear it)");
      return text;
    }
    case "NUMBER":
      if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(field, "expected a number");
      return value;
    case "BOOLEAN":
      if (typeof value !== "boolean") throw invalid(field, "expected true or false");
      return value;
    case "DATE":
      if (typeof value !== "string" || dates.parseDate(value) === null) throw invalid(field, "expected a date YYYY-MM-DD");
      return value;
    case "DATETIME": {
      const ms = typeof value === "string" ? dates.parseTimestamp(value) : null;
      if (ms === null) throw invalid(field, "expected an ISO-8601 timestamp with a zone");
      return new Date(ms).toISOString();
    }
  }
}

function cleanAttributes(value: unknown, catalog: FieldCatalog, allowNull: boolean): Record<string, Scalar | null> {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("attributes", "expected an object");
  const result: Record<string, Scalar | null> = {};
  for (const [key, raw] of Object.entries(value)) {
    const type = catalog.get(key);
    if (type === undefined) {
      throw invalid(`attributes.${key.length > 40 ? key.slice(0, 40) + "…" : key}`, "the list declares no such custom field");
    }
    if (raw === null) {
      if (allowNull) result[key] = null;
      continue;
    }
    result[key] = cleanAttribute(key, type, raw);
  }
  return result;
}

/** Validates and normalizes a new contact. Throws BAD_USER_INPUT naming the field. */
export function cleanContact(input: ContactInputShape, catalog: FieldCatalog): ContactData {
  const data: ContactData = {
    email: cleanEmail(input.email),
    firstName: null,
    lastName: null,
    phone: null,
    country: null,
    city: null,
    gender: null,
    birthDate: cleanBirthDate(input.birthDate),
    tags: cleanTags(input.tags),
    attributes: cleanAttributes(input.attributes, catalog, false) as Record<string, Scalar>,
  };
  for (const field of OPTIONAL_TEXT) data[field] = cleanText(field, input[field], Limits.maxTextLength);
  return data;
}

/** Validates a partial update: only keys present in the input change. */
export function cleanContactPatch(input: ContactInputShape, catalog: FieldCatalog): ContactPatch {
  const fields: ContactPatch["fields"] = {};
  if (input.email !== undefined) fields.email = cleanEmail(input.email);
  for (const field of OPTIONAL_TEXT) {
    if (input[field] !== undefined) fields[field] = cleanText(field, input[field], Limits.maxTextLength);
  }
  if (input.birthDate !== undefined) fields.birthDate = cleanBirthDate(input.birthDate);
  if (input.tags !== undefined) fields.tags = cleanTags(input.tags);
  const patch: ContactPatch = { fields };
  if (input.attributes !== undefined) patch.attributes = input.attributes === null ? null : cleanAttributes(input.attributes, catalog, true);
  return patch;
}

/** Applies a patch to stored data. */
export function applyPatch(data: ContactData, patch: ContactPatch): ContactData {
  const next: ContactData = { ...data, ...patch.fields, attributes: patch.attributes === null ? {} : { ...data.attributes } };
  for (const [key, value] of Object.entries(patch.attributes ?? {})) {
    if (value === null) delete next.attributes[key];
    else next.attributes[key] = value;
  }
  return next;
}

/** The condition-language view of a stored contact. */
export function factsOf(data: ContactData, catalog: FieldCatalog, createdAt: number, updatedAt: number): ContactFacts {
  return {
    email: normalizeText(data.email),
    firstName: data.firstName === null ? null : normalizeText(data.firstName),
    lastName: data.lastName === null ? null : normalizeText(data.lastName),
    phone: data.phone === null ? null : normalizeText(data.phone),
    country: data.country === null ? null : normalizeText(data.country),
    city: data.city === null ? null : normalizeText(data.city),
    gender: data.gender === null ? null : normalizeText(data.gender),
    birthDate: data.birthDate,
    tags: data.tags.map(normalizeText),
    createdAt,
    updatedAt,
    attributes: normalizeAttributes(data.attributes, catalog),
  };
}

/** Attributes in condition form: TEXT lower-cased, DATETIME epoch ms, the rest as stored. */
export function normalizeAttributes(attributes: Readonly<Record<string, Scalar>>, catalog: FieldCatalog): Record<string, Scalar> {
  const result: Record<string, Scalar> = {};
  for (const [key, value] of Object.entries(attributes)) {
    const type = catalog.get(key);
    if (type === "TEXT") result[key] = normalizeText(value as string);
    else if (type === "DATETIME") result[key] = Date.parse(value as string);
    else result[key] = value;
  }
  return result;
}

export const rowError = (code: ErrorCode, message: string) => ({ code, message });
