/**
 * The MongoDB store's collections, typed: every query of the adapter goes through these, so the
 * type checker holds filters, updates and results to the documents' shapes. mongoose keeps the
 * connection, the schemas and the indexes (models.ts); documents whose `_id` is an ObjectId made
 * by the driver leave it out here (the driver's WithId adds it to what it reads).
 */
import type { Db, ObjectId, Timestamp } from "mongodb";
import type { CustomFieldDef, StoredCondition } from "../../conditions";
import type { MemberEdit, MembershipEvent, SegmentStatus, SegmentType, WebhookBatch, WebhookStatus, ImportStatus } from "../port";
import type { ContactDoc } from "./documents";

export interface ListDoc {
  workspaceId: string;
  name: string;
  customFields: CustomFieldDef[];
  /** Absent on lists stored before time zones: those are UTC. */
  timeZone?: string;
  contactCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SegmentDoc {
  listId: ObjectId;
  name: string;
  type: SegmentType;
  status: SegmentStatus;
  condition: StoredCondition;
  /** The command that set the condition: older commands are not applied again. */
  conditionSeq: number;
  memberCount: number;
  /** BUILDING: the last contact evaluated so far. */
  buildCursor: ObjectId | null;
  clockAt: Date;
  nextWakeAt: Date | null;
  /** STATIC: how many member buckets the fixed member set spans. */
  buckets: number;
  /** A DYNAMIC segment's scheduled freeze (absent on segments stored before freezing existed). */
  freezeAt?: Date | null;
  /** When the segment became STATIC by freezing. */
  frozenAt?: Date | null;
  /** When its build took its members in (absent on segments built before this was kept: their creation). */
  builtAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A DYNAMIC segment's member. */
export interface MembershipDoc {
  segmentId: ObjectId;
  contactId: ObjectId;
}

/** A STATIC segment's members, in buckets (static-buckets.ts). */
export interface BucketDoc {
  segmentId: ObjectId;
  bucket: number;
  contactIds: ObjectId[];
}

/** A change to a segment waiting for the engine (a condition, or a hand edit of its members); `_id` numbers them in order. */
export type CommandDoc = { _id: number; segmentId: ObjectId; createdAt: Date } & CommandBody;

/** What a command asks for. */
export type CommandBody =
  | { kind?: "condition"; condition: StoredCondition }
  | { kind: "members"; edit: MemberEdit; contactIds: ObjectId[] }
  /** A freeze scheduled at `at` (due at once when it is not later than the engine's clock); null cancels. */
  | { kind: "freeze"; at: Date | null };

/** A DYNAMIC segment's decision by hand for one contact, over its condition. */
export interface OverrideDoc {
  segmentId: ObjectId;
  contactId: ObjectId;
  /** true: INCLUDED; false: EXCLUDED. */
  included: boolean;
}

/** When a member last entered its segment; members a build took in have none (they joined at builtAt). */
export interface JoinDoc {
  segmentId: ObjectId;
  contactId: ObjectId;
  joinedAt: Date;
}

/** A run of membership events; `_id` is the run's sequence number (see event-runs.ts). */
export interface EventDoc {
  _id: number;
  kind: MembershipEvent["kind"];
  listId: ObjectId;
  segmentId: ObjectId | null;
  reason: MembershipEvent["reason"];
  contacts: ObjectId[];
  count: number;
  memberCount: number;
  occurredAt: Date;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

/** The engine's checkpoint. */
export interface EngineStateDoc {
  _id: string;
  /** Where the change stream resumes (null: at startAtOperationTime). */
  resumeToken: unknown;
  startAtOperationTime: Timestamp | null;
  /** The engine's clock at its last step. */
  clock: Date | null;
  /** The mark of the last change applied (the cluster time of its position). */
  applied: string;
  /** Changes applied since the store was made. */
  processed: number;
  /** Changes the engine has read from the stream and not applied yet, as of its last step. */
  pending: number;
}

export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: Date;
}

export interface ApiKeyDoc {
  workspaceId: string;
  name: string | null;
  prefix: string;
  hash: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A webhook: its position in the event log and the batch it is delivering. */
export interface WebhookDoc {
  listId: ObjectId;
  /** Null: every segment of the list. */
  segmentIds: ObjectId[] | null;
  url: string;
  secret: string;
  status: WebhookStatus;
  position: number;
  acknowledgedThrough: number | null;
  batch: WebhookBatch | null;
  failingSince: Date | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One entry of a webhook's delivery log (the last 100 are kept). */
export interface WebhookDeliveryDoc {
  webhookId: ObjectId;
  deliveryId: string;
  attempt: number;
  eventCount: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: Date;
}

/** A CSV import: where it stands, and the process running it with its last heartbeat. */
export interface ImportJobDoc {
  workspaceId: string;
  listId: ObjectId;
  status: ImportStatus;
  upsert: boolean;
  columns: string[];
  rowsRead: number;
  added: number;
  updated: number;
  failed: number;
  bytesRead: number;
  bytesTotal: number | null;
  failure: string | null;
  owner: string;
  heartbeatAt: Date;
  startedAt: Date;
  finishedAt: Date | null;
}

/** A refused row of an import, with its cells as read. */
export interface ImportErrorDoc {
  jobId: ObjectId;
  row: number;
  code: string;
  message: string;
  cells: string[];
}

export const ENGINE_STATE_ID = "engine";

export function collectionsOf(db: Db) {
  return {
    lists: db.collection<ListDoc>("lists"),
    contacts: db.collection<ContactDoc>("contacts"),
    segments: db.collection<SegmentDoc>("segments"),
    memberships: db.collection<MembershipDoc>("memberships"),
    buckets: db.collection<BucketDoc>("segment_members"),
    overrides: db.collection<OverrideDoc>("segment_overrides"),
    joins: db.collection<JoinDoc>("member_joins"),
    commands: db.collection<CommandDoc>("segment_commands"),
    events: db.collection<EventDoc>("events"),
    counters: db.collection<CounterDoc>("counters"),
    state: db.collection<EngineStateDoc>("engine_state"),
    leases: db.collection<LeaseDoc>("leases"),
    apiKeys: db.collection<ApiKeyDoc>("api_keys"),
    webhooks: db.collection<WebhookDoc>("webhooks"),
    webhookDeliveries: db.collection<WebhookDeliveryDoc>("webhook_deliveries"),
    importJobs: db.collection<ImportJobDoc>("import_jobs"),
    importErrors: db.collection<ImportErrorDoc>("import_errors"),
  };
}

export type Collections = ReturnType<typeof collectionsOf>;
