/**
 * The MongoDB documents of the store and their mapping to port records and condition facts.
 * A contact keeps its values as given and, under `n`, in the normal form conditions compare
 * (lower-cased NFC text, tags and TEXT attributes likewise, DATETIME attributes as Dates).
 */
import type { ObjectId } from "mongodb";
import { type ContactFacts, type FieldCatalog, normalizeText, type Scalar } from "../../conditions";
import type { ContactData } from "../../domain/contacts";

export interface ContactNormal {
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  country: string | null;
  city: string | null;
  gender: string | null;
  tags: string[];
  attributes: Record<string, string | number | boolean | Date>;
}

/** A contact document (its `_id` is the driver's ObjectId). */
export interface ContactDoc extends ContactData {
  listId: ObjectId;
  n: ContactNormal;
  createdAt: Date;
  updatedAt: Date;
}

const lower = (value: string | null) => (value === null ? null : normalizeText(value));

/** The normal form stored under `n`. */
export function normalOf(data: ContactData, catalog: FieldCatalog): ContactNormal {
  const attributes: ContactNormal["attributes"] = {};
  for (const [key, value] of Object.entries(data.attributes)) {
    const type = catalog.get(key);
    attributes[key] = type === "TEXT" ? normalizeText(value as string) : type === "DATETIME" ? new Date(value as string) : value;
  }
  return {
    email: normalizeText(data.email),
    firstName: lower(data.firstName),
    lastName: lower(data.lastName),
    phone: lower(data.phone),
    country: lower(data.country),
    city: lower(data.city),
    gender: lower(data.gender),
    tags: data.tags.map(normalizeText),
    attributes,
  };
}

/** The fields a contact document stores, besides ids and timestamps. */
export function contactFields(data: ContactData, catalog: FieldCatalog) {
  return {
    email: data.email,
    firstName: data.firstName,
    lastName: data.lastName,
    phone: data.phone,
    country: data.country,
    city: data.city,
    gender: data.gender,
    birthDate: data.birthDate,
    tags: data.tags,
    attributes: data.attributes,
    n: normalOf(data, catalog),
  };
}

export function contactDataOf(doc: ContactDoc): ContactData {
  return {
    email: doc.email,
    firstName: doc.firstName ?? null,
    lastName: doc.lastName ?? null,
    phone: doc.phone ?? null,
    country: doc.country ?? null,
    city: doc.city ?? null,
    gender: doc.gender ?? null,
    birthDate: doc.birthDate ?? null,
    tags: doc.tags ?? [],
    attributes: doc.attributes ?? {},
  };
}

/** The condition-language view of a stored (or change-stream) contact document. */
export function factsOfDoc(doc: ContactDoc): ContactFacts {
  const attributes: Record<string, Scalar> = {};
  for (const [key, value] of Object.entries(doc.n.attributes ?? {})) attributes[key] = value instanceof Date ? value.getTime() : value;
  return {
    email: doc.n.email,
    firstName: doc.n.firstName ?? null,
    lastName: doc.n.lastName ?? null,
    phone: doc.n.phone ?? null,
    country: doc.n.country ?? null,
    city: doc.n.city ?? null,
    gender: doc.n.gender ?? null,
    birthDate: doc.birthDate ?? null,
    tags: doc.n.tags ?? [],
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
    attributes,
  };
}
