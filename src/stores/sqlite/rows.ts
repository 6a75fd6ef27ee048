/** Row shapes of the SQLite schema and their mapping to port records. */
import type { ContactFacts, CustomFieldDef, FieldCatalog, StoredCondition } from "../../conditions";
import type { ContactData } from "../../domain/contacts";
import { memberCountAt, ROW_SPAN } from "../event-runs";
import type { ApiKeyRecord, ContactRecord, ListRecord, MembershipEvent, SegmentRecord } from "../port";

export interface ListRow {
  id: number;
  workspace_id: string;
  name: string;
  custom_fields: string;
  time_zone: string;
  contact_count: number;
  created_at: number;
  updated_at: number;
}

export interface ContactRow {
  id: number;
  list_id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  country: string | null;
  city: string | null;
  gender: string | null;
  birth_date: string | null;
  tags: string;
  attributes: string;
  email_n: string;
  first_name_n: string | null;
  last_name_n: string | null;
  phone_n: string | null;
  country_n: string | null;
  city_n: string | null;
  gender_n: string | null;
  tags_n: string;
  attributes_n: string;
  created_at: number;
  updated_at: number;
}

export interface SegmentRow {
  id: number;
  list_id: number;
  name: string;
  type: "STATIC" | "DYNAMIC";
  status: "BUILDING" | "READY";
  condition: string;
  condition_seq: number;
  member_count: number;
  build_cursor: number | null;
  clock_at: number;
  next_wake_at: number | null;
  created_at: number;
  updated_at: number;
  freeze_at: number | null;
  frozen_at: number | null;
  built_at: number | null;
  /** Present where selected with SEGMENT_SELECT: 1 when any contact has an override in it. */
  has_overrides?: number;
}

/** A segment row, with whether it has overrides (select FROM segments s). */
export const SEGMENT_SELECT = "s.*, EXISTS (SELECT 1 FROM segment_overrides o WHERE o.segment_id = s.id) AS has_overrides";

export interface EventRow {
  seq: number;
  kind: MembershipEvent["kind"];
  list_id: number;
  segment_id: number | null;
  reason: MembershipEvent["reason"];
  contacts: string | null;
  count: number;
  member_count: number;
  occurred_at: number;
}

export const CONTACT_WRITE_COLUMNS = [
  "email", "first_name", "last_name", "phone", "country", "city", "gender", "birth_date", "tags", "attributes",
  "email_n", "first_name_n", "last_name_n", "phone_n", "country_n", "city_n", "gender_n", "tags_n", "attributes_n",
  "updated_at",
] as const;

/** Values for CONTACT_WRITE_COLUMNS, in order, given the contact's facts (factsOf its data). */
export function contactWriteValues(data: ContactData, facts: ContactFacts, updatedAt: number): unknown[] {
  return [
    data.email, data.firstName, data.lastName, data.phone, data.country, data.city, data.gender, data.birthDate,
    JSON.stringify(data.tags), JSON.stringify(data.attributes),
    facts.email, facts.firstName, facts.lastName, facts.phone, facts.country, facts.city, facts.gender,
    JSON.stringify(facts.tags), JSON.stringify(facts.attributes),
    updatedAt,
  ];
}

export function listFromRow(row: ListRow): ListRecord {
  return {
    id: String(row.id),
    workspaceId: row.workspace_id,
    name: row.name,
    customFields: JSON.parse(row.custom_fields) as CustomFieldDef[],
    timeZone: row.time_zone,
    contactCount: row.contact_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A contact's stored tags (a JSON array), read; the empty array, the most common, without a parse. */
function tagsOf(text: string): string[] {
  return text === "[]" ? [] : JSON.parse(text);
}

/** A contact's stored attributes (a JSON object), read; the empty object without a parse. */
function attributesOf(text: string): ContactData["attributes"] {
  return text === "{}" ? {} : JSON.parse(text);
}

export function contactDataFromRow(row: ContactRow): ContactData {
  return {
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    phone: row.phone,
    country: row.country,
    city: row.city,
    gender: row.gender,
    birthDate: row.birth_date,
    tags: tagsOf(row.tags),
    attributes: attributesOf(row.attributes),
  };
}

export function contactFromRow(row: ContactRow): ContactRecord {
  return { id: String(row.id), listId: String(row.list_id), ...contactDataFromRow(row), createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The columns contactFromRow reads (the normal forms stay in the database), in the order of RecordTuple. */
export const RECORD_COLUMNS =
  "id, list_id, email, first_name, last_name, phone, country, city, gender, birth_date, tags, attributes, created_at, updated_at";

/** A contact's RECORD_COLUMNS as an array (a statement in raw mode): cheaper to read in bulk than a row object. */
export type RecordTuple = [
  id: number,
  listId: number,
  email: string,
  firstName: string | null,
  lastName: string | null,
  phone: string | null,
  country: string | null,
  city: string | null,
  gender: string | null,
  birthDate: string | null,
  tags: string,
  attributes: string,
  createdAt: number,
  updatedAt: number,
];

/** contactFromRow for a RecordTuple. */
export function contactFromTuple(row: RecordTuple): ContactRecord {
  return {
    id: String(row[0]),
    listId: String(row[1]),
    email: row[2],
    firstName: row[3],
    lastName: row[4],
    phone: row[5],
    country: row[6],
    city: row[7],
    gender: row[8],
    birthDate: row[9],
    tags: tagsOf(row[10]),
    attributes: attributesOf(row[11]),
    createdAt: row[12],
    updatedAt: row[13],
  };
}

/** The columns factsFromRow reads. */
export const FACT_COLUMNS =
  "id, list_id, email_n, first_name_n, last_name_n, phone_n, country_n, city_n, gender_n, birth_date, tags_n, attributes_n, created_at, updated_at";

const EMPTY_TAGS: readonly string[] = Object.freeze([]);
const EMPTY_ATTRIBUTES = Object.freeze({});

/** The fact each column that conditions read holds (see factsFromRow); attributes_n holds many. */
const FACT_OF_COLUMN: Readonly<Record<string, string>> = {
  email_n: "email",
  first_name_n: "firstName",
  last_name_n: "lastName",
  phone_n: "phone",
  country_n: "country",
  city_n: "city",
  gender_n: "gender",
  birth_date: "birthDate",
  tags_n: "tags",
  created_at: "createdAt",
  updated_at: "updatedAt",
};

/**
 * The facts (factsRead's names) that differ between two versions of a contact row, given the
 * columns whose values differ.
 */
export function changedFacts(before: ContactRow, after: ContactRow, columns: readonly string[]): string[] {
  const changed: string[] = [];
  for (const column of columns) {
    const fact = FACT_OF_COLUMN[column];
    if (fact) changed.push(fact);
    else if (column === "attributes_n") {
      const was = JSON.parse(before.attributes_n) as Record<string, unknown>;
      const is = JSON.parse(after.attributes_n) as Record<string, unknown>;
      for (const key of new Set([...Object.keys(was), ...Object.keys(is)])) if (was[key] !== is[key]) changed.push(`attributes.${key}`);
    }
  }
  return changed;
}

export function factsFromRow(row: ContactRow): ContactFacts {
  return {
    email: row.email_n,
    firstName: row.first_name_n,
    lastName: row.last_name_n,
    phone: row.phone_n,
    country: row.country_n,
    city: row.city_n,
    gender: row.gender_n,
    birthDate: row.birth_date,
    tags: row.tags_n === "[]" ? EMPTY_TAGS : JSON.parse(row.tags_n),
    attributes: row.attributes_n === "{}" ? EMPTY_ATTRIBUTES : JSON.parse(row.attributes_n),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function segmentFromRow(row: SegmentRow): SegmentRecord {
  let condition: StoredCondition | undefined;
  return {
    id: String(row.id),
    listId: String(row.list_id),
    name: row.name,
    type: row.type,
    status: row.status,
    // Parsed when read: most reads of a segment (names, counts) never look at its condition.
    get condition() {
      return (condition ??= JSON.parse(row.condition) as StoredCondition);
    },
    memberCount: row.member_count,
    freezeAt: row.freeze_at,
    frozenAt: row.frozen_at,
    builtAt: row.built_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The events of one row, with their positions. */
export function eventsFromRow(row: EventRow): MembershipEvent[] {
  const base = row.seq * ROW_SPAN;
  const listId = String(row.list_id);
  const segmentId = row.segment_id === null ? null : String(row.segment_id);
  if (row.contacts === null) {
    return [{ seq: base, kind: row.kind, listId, segmentId, contactId: null, reason: row.reason, memberCount: row.member_count, occurredAt: row.occurred_at }];
  }
  return row.contacts.split(",").map((contactId, i) => ({
    seq: base + i,
    kind: row.kind,
    listId,
    segmentId,
    contactId,
    reason: row.reason,
    memberCount: memberCountAt(row.kind, row.member_count, i),
    occurredAt: row.occurred_at,
  }));
}

export interface ApiKeyRow {
  id: number;
  workspace_id: string;
  name: string | null;
  prefix: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

export function apiKeyFromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: String(row.id),
    workspaceId: row.workspace_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
