/**
 * What the engine reads from the database's change stream, as MongoDB documents its change
 * events (https://www.mongodb.com/docs/manual/reference/change-events/). One stream per process
 * watches two collections, so their changes arrive in one order, the order of the oplog:
 * contacts (any write: the engine reads the contact's current state in its own transaction and
 * compares it with the stored memberships, so no document is needed from the event) and
 * segment_commands (inserted condition changes, with their document).
 */
import type { Document, ObjectId, Timestamp } from "mongodb";
import type { CommandDoc } from "./collections";

export interface ChangeEventDoc {
  /** The resume token. */
  _id: unknown;
  operationType: string;
  ns?: { db?: string; coll?: string };
  documentKey?: { _id: unknown };
  /** Present for inserted commands only (see FEED_PIPELINE). */
  fullDocument?: Document | null;
  clusterTime?: Timestamp;
}

export type FeedChange =
  /** A contact to bring up to date (it may no longer exist). */
  | { kind: "contact"; contactId: ObjectId; added: boolean; token: unknown }
  /** A change to a segment (a condition, a hand edit of its members), in its place among the contact changes. */
  | { kind: "command"; command: CommandDoc; token: unknown }
  /** The stream ended (a watched collection or the database was dropped or renamed): reconcile and start again. */
  | { kind: "invalidated"; token: unknown }
  | { kind: "ignored"; token: unknown };

const WATCHED = ["contacts", "segment_commands"];

/** The fixed pipeline the stream is opened with: only what the engine reads. */
export const FEED_PIPELINE: Document[] = [
  {
    $match: {
      $or: [
        { "ns.coll": "contacts", operationType: { $in: ["insert", "update", "replace", "delete"] } },
        { "ns.coll": "segment_commands", operationType: "insert" },
        { "ns.coll": { $in: WATCHED }, operationType: { $in: ["drop", "rename"] } },
        { operationType: { $in: ["dropDatabase", "invalidate"] } },
      ],
    },
  },
  {
    $project: {
      operationType: 1,
      ns: 1,
      documentKey: 1,
      clusterTime: 1,
      fullDocument: { $cond: [{ $eq: ["$ns.coll", "segment_commands"] }, "$fullDocument", "$$REMOVE"] },
    },
  },
];

function isObjectId(value: unknown): value is ObjectId {
  return typeof (value as { toHexString?: unknown } | null)?.toHexString === "function";
}

function isCommand(document: Document | null | undefined): document is CommandDoc {
  if (!document || typeof document._id !== "number" || !isObjectId(document.segmentId)) return false;
  if (document.kind === "members") return ["add", "remove", "clear"].includes(document.edit) && Array.isArray(document.contactIds) && document.contactIds.every(isObjectId);
  if (document.kind === "freeze") return document.at === null || document.at instanceof Date;
  return (document.kind === undefined || document.kind === "condition") && typeof document.condition === "object" && document.condition !== null;
}

export function translateChange(change: ChangeEventDoc): FeedChange {
  const token = change._id;
  const id = change.documentKey?._id;
  switch (change.operationType) {
    case "insert":
    case "update":
    case "replace":
    case "delete":
      if (change.ns?.coll === "segment_commands") return isCommand(change.fullDocument) ? { kind: "command", command: change.fullDocument, token } : { kind: "ignored", token };
      return isObjectId(id) ? { kind: "contact", contactId: id, added: change.operationType === "insert", token } : { kind: "ignored", token };
    case "drop":
    case "rename":
    case "dropDatabase":
    case "invalidate":
      return { kind: "invalidated", token };
    default:
      return { kind: "ignored", token };
  }
}

/**
 * The cluster time a resume token stands at, as a mark: a token's `_data` is hex of MongoDB's
 * KeyString encoding, whose first value is that time (type byte 0x82, then the 8-byte timestamp,
 * seconds and increment). Null for a token of another shape.
 */
export function tokenMark(token: unknown): string | null {
  const data = (token as { _data?: unknown } | null)?._data;
  if (typeof data !== "string" || !/^82[0-9a-fA-F]{16}/.test(data)) return null;
  return data.slice(2, 18).toLowerCase();
}

/** The mark just before another: everything up to, and not including, its cluster time. */
export function previousMark(mark: string): string {
  const t = parseInt(mark.slice(0, 8), 16);
  const i = parseInt(mark.slice(8, 16), 16);
  return i > 0 ? mark.slice(0, 8) + (i - 1).toString(16).padStart(8, "0") : (t - 1).toString(16).padStart(8, "0") + "ffffffff";
}

/** A cluster time as a mark: seconds and increment, 8 hex digits each, so marks compare as strings. */
export function timestampMark(time: Timestamp): string {
  return time.t.toString(16).padStart(8, "0") + time.i.toString(16).padStart(8, "0");
}
