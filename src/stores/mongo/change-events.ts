/**
 * What the engine reads from a contacts change stream, as MongoDB documents its change events
 * (https://www.mongodb.com/docs/manual/reference/change-events/). Opened with
 * `fullDocument: "updateLookup"`, an update carries the document as it is *now*, not as it was
 * at the event: the engine therefore only uses it as the current state, compares it with the
 * stored memberships (the "before" state), and treats a missing document as a delete.
 */
import type { ObjectId } from "mongodb";
import type { ChangeReason } from "../port";
import type { ContactDoc } from "./documents";

export interface ChangeEventDoc {
  /** The resume token. */
  _id: unknown;
  operationType: string;
  documentKey?: { _id: ObjectId; listId?: ObjectId };
  fullDocument?: ContactDoc | null;
  clusterTime?: unknown;
}

export type FeedEntry =
  /** A contact to bring up to date; `document` null means it no longer exists. */
  | { kind: "contact"; contactId: ObjectId; reason: ChangeReason; document: ContactDoc | null; token: unknown }
  /** The stream ended (the collection was dropped or renamed): reconcile and start again. */
  | { kind: "invalidated"; token: unknown }
  | { kind: "ignored"; token: unknown };

/** The fixed pipeline the contacts stream is opened with: only what the engine reads. */
export const CONTACT_STREAM_PIPELINE = [
  { $match: { operationType: { $in: ["insert", "update", "replace", "delete", "drop", "rename", "dropDatabase", "invalidate"] } } },
  { $project: { operationType: 1, documentKey: 1, fullDocument: 1, clusterTime: 1 } },
];

export function translateChange(change: ChangeEventDoc): FeedEntry {
  const token = change._id;
  switch (change.operationType) {
    case "insert":
      return { kind: "contact", contactId: change.documentKey!._id, reason: "CONTACT_ADDED", document: change.fullDocument ?? null, token };
    case "update":
    case "replace": {
      // The lookup found nothing: deleted since this event.
      const document = change.fullDocument ?? null;
      return { kind: "contact", contactId: change.documentKey!._id, reason: document ? "CONTACT_UPDATED" : "CONTACT_DELETED", document, token };
    }
    case "delete":
      return { kind: "contact", contactId: change.documentKey!._id, reason: "CONTACT_DELETED", document: null, token };
    case "drop":
    case "rename":
    case "dropDatabase":
    case "invalidate":
      return { kind: "invalidated", token };
    default:
      return { kind: "ignored", token };
  }
}
