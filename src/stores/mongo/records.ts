/** Mapping MongoDB documents to port records. */
import { ObjectId, type WithId } from "mongodb";
import { memberCountAt, ROW_SPAN } from "../event-runs";
import type { ApiKeyRecord, ContactRecord, ListRecord, MembershipEvent, SegmentRecord } from "../port";
import type { ApiKeyDoc, EventDoc, ListDoc, SegmentDoc } from "./collections";
import { type ContactDoc, contactDataOf } from "./documents";

/** A store id as an ObjectId, or null when it cannot name a document here. */
export function oid(id: string | undefined | null): ObjectId | null {
  return typeof id === "string" && /^[0-9a-f]{24}$/.test(id) ? new ObjectId(id) : null;
}

export function oids(ids: readonly string[]): ObjectId[] {
  return ids.map(oid).filter((id): id is ObjectId => id !== null);
}

export function listRecord(doc: WithId<ListDoc>): ListRecord {
  return {
    id: doc._id.toHexString(),
    workspaceId: doc.workspaceId,
    name: doc.name,
    customFields: (doc.customFields ?? []).map((field) => ({ key: field.key, label: field.label ?? null, type: field.type })),
    timeZone: doc.timeZone ?? "UTC",
    contactCount: doc.contactCount,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

export function contactRecord(doc: WithId<ContactDoc>): ContactRecord {
  return { id: doc._id.toHexString(), listId: doc.listId.toHexString(), ...contactDataOf(doc), createdAt: doc.createdAt.getTime(), updatedAt: doc.updatedAt.getTime() };
}

export function segmentRecord(doc: WithId<SegmentDoc>): SegmentRecord {
  return {
    id: doc._id.toHexString(),
    listId: doc.listId.toHexString(),
    name: doc.name,
    type: doc.type,
    status: doc.status,
    condition: doc.condition,
    memberCount: doc.memberCount,
    freezeAt: doc.freezeAt ? doc.freezeAt.getTime() : null,
    frozenAt: doc.frozenAt ? doc.frozenAt.getTime() : null,
    builtAt: doc.builtAt ? doc.builtAt.getTime() : doc.status === "READY" ? doc.createdAt.getTime() : null,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

export function apiKeyRecord(doc: WithId<ApiKeyDoc>): ApiKeyRecord {
  return {
    id: doc._id.toHexString(),
    workspaceId: doc.workspaceId,
    name: doc.name,
    prefix: doc.prefix,
    createdAt: doc.createdAt.getTime(),
    revokedAt: doc.revokedAt ? doc.revokedAt.getTime() : null,
  };
}

/** The events of one run, with their positions. */
export function eventsOfRun(doc: EventDoc): MembershipEvent[] {
  const base = doc._id * ROW_SPAN;
  const listId = doc.listId.toHexString();
  const segmentId = doc.segmentId ? doc.segmentId.toHexString() : null;
  if (!doc.contacts || doc.contacts.length === 0) {
    return [{ seq: base, kind: doc.kind, listId, segmentId, contactId: null, reason: doc.reason, memberCount: doc.memberCount, occurredAt: doc.occurredAt.getTime() }];
  }
  return doc.contacts.map((contactId, i) => ({
    seq: base + i,
    kind: doc.kind,
    listId,
    segmentId,
    contactId: contactId.toHexString(),
    reason: doc.reason,
    memberCount: memberCountAt(doc.kind, doc.memberCount, i),
    occurredAt: doc.occurredAt.getTime(),
  }));
}
