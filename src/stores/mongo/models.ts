/**
 * mongoose schemas of the MongoDB store. They define the collections' shapes and, above all,
 * their indexes, which are created at startup (idempotently). Reads and writes go through the
 * typed native collections of collections.ts.
 */
import { type Connection, Schema } from "mongoose";

const { ObjectId, Mixed } = Schema.Types;

export const listSchema = new Schema(
  {
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    customFields: [{ _id: false, key: String, label: { type: String, default: null }, type: { type: String } }],
    // The IANA time zone the list's calendar conditions are evaluated in; fixed at creation.
    timeZone: { type: String, default: "UTC" },
    contactCount: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "lists", versionKey: false },
);
listSchema.index({ workspaceId: 1, createdAt: -1, _id: -1 });

const normalSchema = new Schema(
  {
    email: String,
    firstName: String,
    lastName: String,
    phone: String,
    country: String,
    city: String,
    gender: String,
    tags: [String],
    attributes: Mixed,
  },
  { _id: false },
);

export const contactSchema = new Schema(
  {
    listId: { type: ObjectId, required: true },
    email: { type: String, required: true },
    firstName: String,
    lastName: String,
    phone: String,
    country: String,
    city: String,
    gender: String,
    birthDate: String,
    tags: [String],
    attributes: Mixed,
    /** Normal forms (lower-cased NFC text, DATETIME attributes as Dates) that conditions compare. */
    n: normalSchema,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "contacts", versionKey: false, minimize: false },
);
contactSchema.index({ listId: 1, "n.email": 1 }, { unique: true });
contactSchema.index({ listId: 1, _id: 1 });
contactSchema.index({ listId: 1, createdAt: -1, _id: -1 });
contactSchema.index({ listId: 1, updatedAt: 1 });
contactSchema.index({ listId: 1, "n.country": 1 });
contactSchema.index({ listId: 1, birthDate: 1 });
contactSchema.index({ listId: 1, "n.tags": 1 });

export const segmentSchema = new Schema(
  {
    listId: { type: ObjectId, required: true },
    name: { type: String, required: true },
    type: { type: String, enum: ["STATIC", "DYNAMIC"], required: true },
    status: { type: String, enum: ["BUILDING", "READY"], required: true },
    condition: { type: Mixed, required: true },
    /** The command that set the condition: older commands are not applied again. */
    conditionSeq: { type: Number, default: 0 },
    memberCount: { type: Number, default: 0 },
    /** BUILDING: the last contact _id evaluated so far. */
    buildCursor: { type: ObjectId, default: null },
    clockAt: { type: Date, required: true },
    nextWakeAt: { type: Date, default: null },
    /** STATIC: how many member buckets (segment_members) the fixed member set spans. */
    buckets: { type: Number, default: 0 },
    freezeAt: { type: Date, default: null },
    frozenAt: { type: Date, default: null },
    builtAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "segments", versionKey: false, minimize: false },
);
segmentSchema.index({ listId: 1 });
segmentSchema.index({ status: 1 });
segmentSchema.index({ type: 1, status: 1, nextWakeAt: 1 });
segmentSchema.index({ type: 1, status: 1, freezeAt: 1 });

/** A DYNAMIC segment's members: one document per (segment, contact). */
export const membershipSchema = new Schema(
  { segmentId: { type: ObjectId, required: true }, contactId: { type: ObjectId, required: true } },
  { collection: "memberships", versionKey: false },
);
membershipSchema.index({ segmentId: 1, contactId: 1 }, { unique: true });
membershipSchema.index({ contactId: 1 });

/**
 * A STATIC segment's fixed members, bucketed: a segment of millions of members spans many
 * documents, each far below the 16 MB limit (see static-buckets.ts).
 */
export const memberBucketSchema = new Schema(
  {
    segmentId: { type: ObjectId, required: true },
    bucket: { type: Number, required: true },
    contactIds: [ObjectId],
  },
  { collection: "segment_members", versionKey: false },
);
memberBucketSchema.index({ segmentId: 1, bucket: 1 }, { unique: true });
memberBucketSchema.index({ contactIds: 1 });

/** Condition changes waiting for the engine (applied with their membership difference). */
export const commandSchema = new Schema(
  {
    _id: { type: Number },
    segmentId: { type: ObjectId, required: true },
    /** "condition" (or absent): a new condition; "members": a hand edit of the members; "freeze": a freeze scheduled or cancelled. */
    kind: { type: String, default: undefined },
    condition: { type: Mixed, default: undefined },
    edit: { type: String, default: undefined },
    contactIds: { type: [ObjectId], default: undefined },
    /** "freeze": when (null cancels a scheduled freeze). */
    at: { type: Date, default: undefined },
    createdAt: { type: Date, required: true },
  },
  { collection: "segment_commands", versionKey: false },
);

/** A DYNAMIC segment's overrides: one document per (segment, contact). */
export const overrideSchema = new Schema(
  { segmentId: { type: ObjectId, required: true }, contactId: { type: ObjectId, required: true }, included: { type: Boolean, required: true } },
  { collection: "segment_overrides", versionKey: false },
);
overrideSchema.index({ segmentId: 1, contactId: 1 }, { unique: true });
overrideSchema.index({ contactId: 1 });

/** When each member last entered its segment: one document per (segment, contact) that entered after the build. */
export const joinSchema = new Schema(
  { segmentId: { type: ObjectId, required: true }, contactId: { type: ObjectId, required: true }, joinedAt: { type: Date, required: true } },
  { collection: "member_joins", versionKey: false },
);
joinSchema.index({ segmentId: 1, contactId: 1 }, { unique: true });

/** Runs of membership events; `_id` is the run's sequence number (see the SQLite store). */
export const eventSchema = new Schema(
  {
    _id: { type: Number },
    kind: { type: String, required: true },
    listId: { type: ObjectId, required: true },
    segmentId: { type: ObjectId, default: null },
    reason: { type: String, default: null },
    contacts: [ObjectId],
    count: { type: Number, default: 1 },
    memberCount: { type: Number, default: 0 },
    occurredAt: { type: Date, required: true },
  },
  { collection: "events", versionKey: false },
);
eventSchema.index({ segmentId: 1, _id: 1 });
eventSchema.index({ listId: 1, _id: 1 });

/** Counters for sequence numbers (events, commands). */
export const counterSchema = new Schema({ _id: String, seq: Number }, { collection: "counters", versionKey: false });

/** The engine's checkpoint: resume token (or start time), clock, the mark applied, counts. */
export const engineStateSchema = new Schema(
  {
    _id: String,
    resumeToken: { type: Mixed, default: null },
    startAtOperationTime: { type: Mixed, default: null },
    clock: { type: Date, default: null },
    /** The mark of the last change applied. */
    applied: { type: String, default: "0000000000000000" },
    processed: { type: Number, default: 0 },
    pending: { type: Number, default: 0 },
  },
  { collection: "engine_state", versionKey: false },
);

export const leaseSchema = new Schema({ _id: String, holder: String, expiresAt: Date }, { collection: "leases", versionKey: false });

export const apiKeySchema = new Schema(
  {
    workspaceId: { type: String, required: true },
    name: { type: String, default: null },
    prefix: { type: String, required: true },
    hash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
  },
  { collection: "api_keys", versionKey: false },
);
apiKeySchema.index({ hash: 1 }, { unique: true });
apiKeySchema.index({ prefix: 1 });

export const webhookSchema = new Schema(
  {
    listId: { type: ObjectId, required: true },
    segmentIds: { type: [ObjectId], default: null },
    url: { type: String, required: true },
    secret: { type: String, required: true },
    status: { type: String, enum: ["ACTIVE", "FAILING", "DISABLED"], required: true },
    /** Every event of the webhook up to this event-log position is acknowledged. */
    position: { type: Number, required: true },
    acknowledgedThrough: { type: Number, default: null },
    /** The batch being delivered: delivery id, last position, attempts so far. */
    batch: { type: Mixed, default: null },
    failingSince: { type: Date, default: null },
    nextAttemptAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "webhooks", versionKey: false },
);
webhookSchema.index({ listId: 1 });

export const webhookDeliverySchema = new Schema(
  {
    webhookId: { type: ObjectId, required: true },
    deliveryId: { type: String, required: true },
    attempt: { type: Number, required: true },
    eventCount: { type: Number, required: true },
    statusCode: { type: Number, default: null },
    error: { type: String, default: null },
    durationMs: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { collection: "webhook_deliveries", versionKey: false },
);
webhookDeliverySchema.index({ webhookId: 1, _id: -1 });

/** CSV imports: where each stands, and the process running it with its last heartbeat. */
export const importJobSchema = new Schema(
  {
    workspaceId: { type: String, required: true },
    listId: { type: ObjectId, required: true },
    status: { type: String, enum: ["RUNNING", "DONE", "FAILED"], required: true },
    upsert: { type: Boolean, required: true },
    /** The file's header row as given. */
    columns: [String],
    rowsRead: { type: Number, default: 0 },
    added: { type: Number, default: 0 },
    updated: { type: Number, default: 0 },
    failed: { type: Number, default: 0 },
    bytesRead: { type: Number, default: 0 },
    bytesTotal: { type: Number, default: null },
    failure: { type: String, default: null },
    owner: { type: String, required: true },
    heartbeatAt: { type: Date, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
  },
  { collection: "import_jobs", versionKey: false },
);

/** Every refused row of an import, with its cells as read. */
export const importErrorSchema = new Schema(
  {
    jobId: { type: ObjectId, required: true },
    row: { type: Number, required: true },
    code: { type: String, required: true },
    message: { type: String, required: true },
    cells: [String],
  },
  { collection: "import_errors", versionKey: false },
);
importErrorSchema.index({ jobId: 1, row: 1 }, { unique: true });

/** The event runs' schema with retention as a TTL index (it follows EVENT_RETENTION at each start). */
function eventsWithRetention(retentionSeconds: number): Schema {
  const events = eventSchema.clone();
  events.index({ occurredAt: 1 }, { expireAfterSeconds: retentionSeconds, name: "events_retention" });
  return events;
}

function schemas(retentionSeconds: number) {
  return {
    List: listSchema,
    Contact: contactSchema,
    Segment: segmentSchema,
    Membership: membershipSchema,
    MemberBucket: memberBucketSchema,
    Command: commandSchema,
    Override: overrideSchema,
    Join: joinSchema,
    Event: eventsWithRetention(retentionSeconds),
    Counter: counterSchema,
    EngineState: engineStateSchema,
    Lease: leaseSchema,
    ApiKey: apiKeySchema,
    Webhook: webhookSchema,
    WebhookDelivery: webhookDeliverySchema,
    ImportJob: importJobSchema,
    ImportError: importErrorSchema,
  };
}

export function defineModels(connection: Connection, retentionSeconds: number) {
  const all = schemas(retentionSeconds);
  return {
    List: connection.model("List", all.List),
    Contact: connection.model("Contact", all.Contact),
    Segment: connection.model("Segment", all.Segment),
    Membership: connection.model("Membership", all.Membership),
    MemberBucket: connection.model("MemberBucket", all.MemberBucket),
    Command: connection.model("Command", all.Command),
    Override: connection.model("Override", all.Override),
    Join: connection.model("Join", all.Join),
    Event: connection.model("Event", all.Event),
    Counter: connection.model("Counter", all.Counter),
    EngineState: connection.model("EngineState", all.EngineState),
    Lease: connection.model("Lease", all.Lease),
    ApiKey: connection.model("ApiKey", all.ApiKey),
    Webhook: connection.model("Webhook", all.Webhook),
    WebhookDelivery: connection.model("WebhookDelivery", all.WebhookDelivery),
    ImportJob: connection.model("ImportJob", all.ImportJob),
    ImportError: connection.model("ImportError", all.ImportError),
  };
}

export type Models = ReturnType<typeof defineModels>;

/** Every index the store creates, by collection (a test pins this list). */
export function indexDefinitions(retentionSeconds: number): Record<string, unknown[]> {
  return Object.fromEntries(Object.values(schemas(retentionSeconds)).map((schema) => [schema.get("collection"), schema.indexes()]));
}
