/**
 * The store port: the only way to the database. The SQLite and MongoDB adapters implement it
 * and pass one contract suite. Ids are the store's own (opaque strings); the API wraps them
 * in global ids. Conditions arrive as normalized trees; each adapter compiles them itself.
 */
import type { Condition, CustomFieldDef, EvalTime, StoredCondition } from "../conditions";
import type { ContactData, ContactPatch } from "../domain/contacts";
import type { RateLimiterAbstract } from "rate-limiter-flexible";

export interface ListRecord {
  id: string;
  workspaceId: string;
  name: string;
  customFields: CustomFieldDef[];
  /** The IANA time zone its calendar conditions are evaluated in; fixed at creation. */
  timeZone: string;
  contactCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface ContactRecord extends ContactData {
  id: string;
  listId: string;
  createdAt: number;
  updatedAt: number;
}

export type SegmentType = "STATIC" | "DYNAMIC";
export type SegmentStatus = "BUILDING" | "READY";

export interface SegmentRecord {
  id: string;
  listId: string;
  name: string;
  type: SegmentType;
  status: SegmentStatus;
  condition: StoredCondition;
  memberCount: number;
  /** A DYNAMIC segment's scheduled freeze (it turns STATIC then); null when none is scheduled. */
  freezeAt: number | null;
  /** When the segment became STATIC by freezing; null otherwise. */
  frozenAt: number | null;
  /** When its build took its first members in (READY); null while it builds. */
  builtAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type MembershipChange = "ENTERED" | "LEFT";
export type ChangeReason = "CONTACT_ADDED" | "CONTACT_UPDATED" | "CONTACT_DELETED" | "SEGMENT_UPDATED" | "TIME_PASSED" | "MANUAL";
/** A DYNAMIC segment's decision by hand for one contact, over its condition. */
export type MembershipOverride = "INCLUDED" | "EXCLUDED";
/** A hand edit of a segment's members: add (STATIC: join the set; DYNAMIC: INCLUDED), remove (leave; EXCLUDED), clear (DYNAMIC: drop the override). */
export type MemberEdit = "add" | "remove" | "clear";
/** ENTERED / LEFT are membership transitions; the others end the streams of what was deleted. */
export type EventKind = MembershipChange | "SEGMENT_DELETED" | "LIST_DELETED";

export interface MembershipEvent {
  /** Increasing, in commit order; the public event cursor encodes it. */
  seq: number;
  kind: EventKind;
  listId: string;
  /** Null only for LIST_DELETED. */
  segmentId: string | null;
  contactId: string | null;
  reason: ChangeReason | null;
  memberCount: number;
  occurredAt: number;
}

export interface EventFilter {
  segmentId?: string;
  listId?: string;
}

export interface HistoryFilter extends EventFilter {
  contactId?: string;
}

/** A run of one segment's transitions of one kind, committed together: how many, and the member count after the last. */
export interface MemberRun {
  kind: MembershipChange;
  count: number;
  memberCountAfter: number;
  occurredAt: number;
}

export interface MemberRuns {
  runs: MemberRun[];
  /** The member count after the segment's last run before `since`; null when none is retained. */
  countBefore: number | null;
  /** When the oldest retained event occurred, if retention has removed any; null when the log is whole. */
  retainedSince: number | null;
}

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/** Keyset position in "newest first" order. */
export interface TimeKey {
  createdAt: number;
  id: string;
}

export interface ContactQuery {
  first: number;
  after?: TimeKey;
  where?: Condition;
  /** When, and in which time zone (the list's), clock-dependent conditions are evaluated. */
  at: EvalTime;
}

/** A validated row: its data for an insert, and as a patch (the fields given) for an upsert. */
export interface NewContact {
  data: ContactData;
  patch: ContactPatch;
}

/**
 * A position in the change feed, opaque but to its store: a write returns the mark of its
 * changes, and the engine says up to which mark it has applied them (`EngineStatus.applied`), so
 * any process can tell whether a write is applied. Marks of one store have one width and compare
 * as strings in feed order.
 */
export type Mark = string;

/** A write's result and the mark of its changes. */
export interface Written<T> {
  value: T;
  mark: Mark;
}

export interface InsertContactsResult {
  added: number;
  updated: number;
  /** Per row: the id of the contact it created or updated, or null (a conflict). */
  ids: (string | null)[];
  /** Indexes (into the rows given) whose email already exists in the list (without upsert). */
  conflicts: number[];
  /** The mark of the changes written (null when nothing was written). */
  mark: Mark | null;
}

/** The lease that makes one process at a time the membership engine. */
export const ENGINE_LEASE = "engine";

export interface EngineStepInput {
  /** The lease holder running the step; a step whose lease was lost commits nothing. */
  holder: string;
  /** Wall-clock time, for the lease (leases measure process liveness, never the domain clock). */
  wallNow: number;
  /** The instant conditions are evaluated at (the engine's clock, injectable in tests). */
  now: number;
  /** Change-feed entries consumed per step. */
  maxChanges: number;
  /** Contacts evaluated per segment-build chunk. */
  buildChunk: number;
}

export interface EngineStepResult {
  /** False when the lease was not held: nothing was done. */
  leader: boolean;
  changes: number;
  /** The events this step committed, in order. */
  events: MembershipEvent[];
  /** The position of the newest event before this step's (to tell whether others came in between). */
  previousEvent: number;
  /** True when work remains (more feed, an unfinished build, a due time flip). */
  more: boolean;
  /** The earliest instant a clock-dependent segment can next change, if any. */
  nextWakeAt: number | null;
  /** Every change up to this mark is applied (null when the lease was not held). */
  applied: Mark | null;
}

export interface EngineStatus {
  /** Every change up to this mark is applied. */
  applied: Mark;
  /** The mark of the newest change written: waiting until it is applied waits for everything written so far. */
  latest: Mark;
  /** Changes applied since the store was made (a count, for dashboards). */
  appliedChanges: number;
  /** Changes written and not yet applied (on MongoDB: those the engine has read from the change stream). */
  pendingChanges: number;
  /** Segments still computing their initial membership. */
  building: number;
  /** The instant of the engine's last step (its view of "now"). */
  clock: number;
  latestEvent: number;
}

export interface PruneSlice {
  events: number;
  changes: number;
  more: boolean;
}

/** Which import jobs retention removes: those that ended before `endedBefore` (the service's clock), and those still RUNNING whose process last said it was alive before `silentSince` (the wall clock). */
export interface ImportCut {
  endedBefore: number;
  silentSince: number;
}

export interface ImportPruneSlice {
  /** Jobs removed, each with every refused row it kept. */
  jobs: number;
  errors: number;
  more: boolean;
}

export interface VerifyReport {
  segments: number;
  contactsChecked: number;
  /** Contacts skipped because the engine has not consumed their latest change yet. */
  pending: number;
  differences: string[];
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  name: string | null;
  /** The first characters of the key, to tell keys apart in listings. */
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export type WebhookStatus = "ACTIVE" | "FAILING" | "DISABLED";

/** The batch a webhook is delivering: every attempt at it carries the same events and delivery id. */
export interface WebhookBatch {
  /** The delivery id (the Segments-Delivery-Id header). */
  id: string;
  /** The position of its last event. */
  through: number;
  /** Requests made for it so far. */
  attempts: number;
}

export interface WebhookRecord {
  id: string;
  listId: string;
  /** Null: every segment of the list. */
  segmentIds: string[] | null;
  url: string;
  /** The signing secret (HMAC needs the secret itself). */
  secret: string;
  status: WebhookStatus;
  /** Every event of this webhook up to this event-log position is acknowledged (or came before it existed). */
  position: number;
  /** The position of the last event the receiver acknowledged; null before the first. */
  acknowledgedThrough: number | null;
  batch: WebhookBatch | null;
  /** When the current run of failures began (null while deliveries succeed). */
  failingSince: number | null;
  /** When the batch is next retried (null: as soon as it is formed). */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What the dispatcher writes after forming a batch or hearing from the receiver. */
export interface WebhookProgress {
  /** The new position; the stored one never moves back. */
  position: number;
  /** The receiver acknowledged the events up to `position`. */
  acknowledged: boolean;
  batch: WebhookBatch | null;
  /** Ignored when the webhook was DISABLED meanwhile: only enableWebhook ends that. */
  status: WebhookStatus;
  failingSince: number | null;
  nextAttemptAt: number | null;
}

/** One request to a receiver, or a note on delivery (events lost to retention), in a webhook's log. */
export interface WebhookDeliveryRecord {
  deliveryId: string;
  attempt: number;
  eventCount: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: number;
}

/** Which events a webhook delivers: ENTERED / LEFT of its list, of these segments when given. */
export interface WebhookEventFilter {
  listId: string;
  segmentIds: readonly string[] | null;
}

/** Entries kept in a webhook's delivery log. */
export const WEBHOOK_LOG_SIZE = 100;

/** The lease that makes one process at a time the webhook sender. */
export const WEBHOOK_LEASE = "webhooks";

export type ImportStatus = "RUNNING" | "DONE" | "FAILED";

/** A CSV import into a list, kept in the store so that any process can follow it. */
export interface ImportJobRecord {
  id: string;
  workspaceId: string;
  listId: string;
  status: ImportStatus;
  upsert: boolean;
  /** The file's header row as given (errors.csv repeats it). */
  columns: string[];
  /** Rows committed so far (added + updated + failed). */
  rowsRead: number;
  added: number;
  updated: number;
  failed: number;
  bytesRead: number;
  bytesTotal: number | null;
  failure: string | null;
  /** The process running the import, and when it last said it was alive (wall-clock time). */
  owner: string;
  heartbeatAt: number;
  startedAt: number;
  finishedAt: number | null;
}

/** A refused row of an import: its 1-based data row, why, and its cells as read. */
export interface ImportRowError {
  row: number;
  code: string;
  message: string;
  cells: string[];
}

/** What an import writes on its job: its totals so far, the rows just refused, and at its end how it ended. */
export interface ImportJobUpdate {
  counts?: { rowsRead: number; added: number; updated: number; failed: number };
  /** Never moves back. */
  bytesRead?: number;
  errors?: readonly ImportRowError[];
  end?: { status: "DONE" | "FAILED"; failure: string | null; at: number };
}

/** An import job's progress, written with a batch of its contacts in the batch's transaction, from what the batch did. */
export interface ImportBatch {
  jobId: string;
  /** Wall-clock time, for the job's heartbeat. */
  wallNow: number;
  update(result: InsertContactsResult): ImportJobUpdate;
}

export interface Store {
  readonly kind: "sqlite" | "mongodb";

  createList(input: { workspaceId: string; name: string; customFields: CustomFieldDef[]; timeZone?: string }, now: number): Promise<ListRecord>;
  getLists(ids: readonly string[]): Promise<(ListRecord | null)[]>;
  pageLists(workspaceId: string, first: number, after?: TimeKey): Promise<Page<ListRecord>>;
  countLists(workspaceId: string): Promise<number>;
  updateList(id: string, patch: { name?: string; customFields?: CustomFieldDef[] }, now: number): Promise<ListRecord | null>;
  /** Deletes the list, its contacts, segments and memberships, and ends their event streams. */
  deleteList(id: string, now: number): Promise<boolean>;

  /**
   * Inserts validated rows (and with upsert updates existing emails), each with a change-feed
   * entry; an upserted row that changes nothing leaves its contact as it is. With `job`, writes
   * that import's progress in the same transaction, and writes nothing (CONFLICT) when the job is
   * no longer RUNNING.
   */
  insertContacts(list: ListRecord, rows: NewContact[], upsert: boolean, now: number, job?: ImportBatch): Promise<InsertContactsResult>;
  /**
   * Applies the patch that `patchFor` makes against the contact's list (its custom fields); null
   * when the contact does not exist or its list belongs to another workspace. The reads and the
   * write happen together (on SQLite in the write's transaction), so the list the patch was
   * checked against is the one it is written with. When patchFor throws, nothing is written and
   * the error is the caller's. Throws CONFLICT on a taken email.
   */
  updateContact(id: string, workspaceId: string, patchFor: (list: ListRecord) => ContactPatch, now: number): Promise<Written<ContactRecord> | null>;
  deleteContact(id: string, now: number): Promise<Written<ContactRecord> | null>;
  getContacts(ids: readonly string[]): Promise<(ContactRecord | null)[]>;
  pageContacts(listId: string, query: ContactQuery): Promise<Page<ContactRecord>>;
  countContacts(listId: string, where: Condition | undefined, at: EvalTime): Promise<number>;
  /** How many contacts of the list each condition selects, in one pass over the list. */
  countEach(listId: string, conditions: readonly Condition[], at: EvalTime): Promise<number[]>;

  /** Creates a segment in BUILDING state; the engine computes its members. */
  createSegment(
    input: { listId: string; name: string; type: SegmentType; condition: StoredCondition },
    now: number,
  ): Promise<SegmentRecord>;
  renameSegment(id: string, name: string, now: number): Promise<SegmentRecord | null>;
  /**
   * Queues a DYNAMIC segment's freeze at an instant (now or later), or with null the cancelling
   * of a scheduled one. The engine applies it in its place in the feed: a freeze due then turns
   * the segment STATIC with the members it has once every change written before is applied.
   */
  requestFreeze(id: string, at: number | null, now: number): Promise<Mark>;
  /**
   * A new segment with another's condition: STATIC, a snapshot of the source's members now
   * (READY, no events); DYNAMIC, with the source's overrides, BUILDING like any new segment.
   */
  duplicateSegment(sourceId: string, name: string, type: SegmentType, now: number): Promise<SegmentRecord | null>;
  /** Queues a condition change; the engine applies it with its membership difference in one step. */
  requestConditionChange(id: string, condition: StoredCondition, now: number): Promise<Mark>;
  /**
   * Queues a hand edit of a segment's members (ids of contacts of its list); the engine applies
   * it in its place in the feed, with its events (reason MANUAL).
   */
  requestMemberEdit(segmentId: string, edit: MemberEdit, contactIds: readonly string[], now: number): Promise<Mark>;
  /** A DYNAMIC segment's contacts with an override of one kind, most recently added contacts first. */
  pageOverrides(segmentId: string, override: MembershipOverride, first: number, afterContactId?: string): Promise<Page<string>>;
  countOverrides(segmentId: string, override: MembershipOverride): Promise<number>;
  /** One contact's override in a segment, if any. */
  overrideOf(segmentId: string, contactId: string): Promise<MembershipOverride | null>;
  deleteSegment(id: string, now: number): Promise<boolean>;
  getSegments(ids: readonly string[]): Promise<(SegmentRecord | null)[]>;
  segmentsOfLists(listIds: readonly string[]): Promise<SegmentRecord[][]>;
  segmentIdsOfContacts(contactIds: readonly string[]): Promise<string[][]>;
  /** Member contact ids, most recently added contacts first. */
  pageMembers(segmentId: string, first: number, afterContactId?: string): Promise<Page<string>>;
  /** When each of these members last entered the segment; members its build took in are absent (they joined at `builtAt`). */
  joinedAt(segmentId: string, contactIds: readonly string[]): Promise<Map<string, number>>;

  /**
   * Takes or renews a lease; `wallNow` is wall-clock time. With `replacing`, a lease held by that
   * holder is taken even before it expires (its process is known to be gone).
   */
  acquireLease(name: string, holder: string, wallNow: number, ttlMs: number, replacing?: string): Promise<boolean>;
  /** The lease's holder while it is unexpired, null otherwise. */
  leaseHolder(name: string, wallNow: number): Promise<string | null>;
  releaseLease(name: string, holder: string): Promise<void>;
  engineStep(input: EngineStepInput): Promise<EngineStepResult>;
  engineStatus(): Promise<EngineStatus>;

  /** Events after a sequence number, oldest first. */
  eventsAfter(seq: number, filter: EventFilter, limit: number): Promise<MembershipEvent[]>;
  /**
   * Membership transitions (ENTERED / LEFT) before a position (null: the newest), newest first, at
   * most `limit`; `contactId` narrows to one contact's.
   */
  eventsBefore(position: number | null, filter: HistoryFilter, limit: number): Promise<MembershipEvent[]>;
  /** A segment's event runs that occurred in [since, until), oldest first, and what a chart of its member count needs around them. */
  memberRuns(segmentId: string, since: number, until: number): Promise<MemberRuns>;
  /** Events up to this sequence number have been removed by retention. */
  prunedThrough(): Promise<number>;
  /**
   * One slice of retention, of about `budgetMs`: removes events that occurred before `before`,
   * and change-feed entries the engine has applied, oldest first. `more` when some remain.
   */
  prune(before: number, budgetMs: number): Promise<PruneSlice>;

  /** Re-evaluates every segment from scratch and compares with stored membership and counts. */
  verify(): Promise<VerifyReport>;

  createApiKey(input: { workspaceId: string; name: string | null; prefix: string; hash: string }, now: number): Promise<ApiKeyRecord>;
  /** Revokes by id or prefix; null when no such key. */
  revokeApiKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  findApiKey(hash: string): Promise<ApiKeyRecord | null>;
  /** The keys among these ids that are still active. */
  activeApiKeyIds(ids: readonly string[]): Promise<string[]>;
  /** Keys ever created, revoked ones included. */
  countApiKeys(): Promise<number>;

  createWebhook(
    input: { listId: string; segmentIds: string[] | null; url: string; secret: string; position: number },
    now: number,
  ): Promise<WebhookRecord>;
  getWebhooks(ids: readonly string[]): Promise<(WebhookRecord | null)[]>;
  /** A list's webhooks, oldest first. */
  webhooksOfList(listId: string): Promise<WebhookRecord[]>;
  /** The ids of every webhook that is not DISABLED (the dispatcher's work). */
  activeWebhookIds(): Promise<string[]>;
  /**
   * Disables a webhook, or enables it: ACTIVE again, its failures forgotten, its unacknowledged
   * batch dropped (the next one starts after the position). Null when it does not exist.
   */
  setWebhookEnabled(id: string, enabled: boolean, now: number): Promise<WebhookRecord | null>;
  /**
   * In one write: appends `delivery` to the webhook's log (keeping the last WEBHOOK_LOG_SIZE),
   * moves its position forward, and, when its stored batch is still `expectedBatch` (null: none),
   * sets the rest of `progress`. Null when the webhook does not exist.
   */
  saveWebhookProgress(id: string, expectedBatch: string | null, progress: WebhookProgress, delivery: WebhookDeliveryRecord | null, now: number): Promise<WebhookRecord | null>;
  /** Appends to a webhook's log alone (a ping). */
  logWebhookDelivery(id: string, delivery: WebhookDeliveryRecord): Promise<void>;
  /** A webhook's log, newest first. */
  webhookDeliveries(id: string, first: number): Promise<WebhookDeliveryRecord[]>;
  deleteWebhook(id: string): Promise<boolean>;
  /** How many ENTERED / LEFT events matching the filter come after a position. */
  countEventsAfter(position: number, filter: WebhookEventFilter): Promise<number>;

  /** A RUNNING import job; `startedAt` on the service's clock, `wallNow` (its first heartbeat) on the wall clock. */
  createImportJob(
    input: { workspaceId: string; listId: string; upsert: boolean; columns: string[]; bytesTotal: number | null; owner: string },
    startedAt: number,
    wallNow: number,
  ): Promise<ImportJobRecord>;
  /**
   * Writes progress on a RUNNING job and renews its heartbeat. Null when the job is not RUNNING (a
   * finished job never changes), or, with `staleBefore`, when its heartbeat is not older than that
   * (ending a job whose process stopped).
   */
  updateImportJob(id: string, update: ImportJobUpdate, wallNow: number, staleBefore?: number): Promise<ImportJobRecord | null>;
  getImportJobs(ids: readonly string[]): Promise<(ImportJobRecord | null)[]>;
  /** A job's refused rows after a row number, in row order. */
  importErrors(jobId: string, afterRow: number, first: number): Promise<ImportRowError[]>;
  /** One slice of import retention, of about `budgetMs`: removes the jobs `cut` selects with their refused rows, oldest first. `more` when some remain. */
  pruneImports(cut: ImportCut, budgetMs: number): Promise<ImportPruneSlice>;

  /**
   * A value that changes with every commit to the store, by this process or another, read
   * without I/O; null when the store cannot tell (nothing may then be cached on it).
   */
  commitGeneration(): string | null;

  /** Rate limits and connection counts shared by every process on this store. */
  sharedLimits(): SharedLimits;

  /** A value that changes whenever any process commits to the store (cheap to poll). */
  changeToken(): Promise<string>;
  /**
   * Calls `onCommit` soon after another process commits (SQLite: within a millisecond or two;
   * MongoDB: from a change stream on the events and leases). Returns a function that stops it.
   */
  watchCommits(onCommit: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Limits that hold across the processes of one store (cluster workers, instances on other
 * machines), so that N processes do not give a key N times its limit.
 */
export interface SharedLimits {
  /** A rate-limiter-flexible limiter whose counts live in the store. */
  rateLimiter(options: { points: number; durationSec: number; keyPrefix: string }): RateLimiterAbstract;
  /**
   * Counts one more open connection of `key`, held by `holder` (a process), unless `max` are
   * already open across the processes seen since `staleBefore`. Whether it was counted.
   */
  openConnection(key: string, holder: string, max: number, wallNow: number, staleBefore: number): Promise<boolean>;
  closeConnection(key: string, holder: string): Promise<void>;
  /** Marks this holder's counts as alive at `wallNow`; returns the other holders that have counts. */
  heartbeat(holder: string, wallNow: number): Promise<string[]>;
  /** Forgets a holder's counts (its process is gone). */
  dropHolder(holder: string): Promise<void>;
  close(): Promise<void>;
}
