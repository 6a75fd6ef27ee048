/**
 * The MongoDB store: the same port as the embedded one, on a replica set (or sharded cluster).
 * Contact writes are plain writes — the membership engine (step-tx.ts) follows them through one
 * change stream on the database, so writes made by other programs count too. A write's mark is
 * the cluster time its session reports after it.
 */
import { isDeepStrictEqual } from "node:util";
import { type ChangeStream, type ClientSession, type Document, type Filter, type MongoClient, MongoServerError, type ObjectId, type WithId } from "mongodb";
import type { Connection } from "mongoose";
import { type Condition, catalogOf, type CustomFieldDef, type EvalTime, normalizeText, type StoredCondition } from "../../conditions";
import { conflict, notFound } from "../../common/errors";
import { applyPatch, type ContactData, type ContactPatch } from "../../domain/contacts";
import { SegmentCompiler } from "../../engine/membership";
import { verifyStore } from "../../engine/verify";
import { runAsync } from "../../engine/work";
import { memberCountAt, ROW_SPAN, takeNewestFirst } from "../event-runs";
import {
  ENGINE_LEASE,
  type ApiKeyRecord,
  type ContactQuery,
  type ContactRecord,
  type EngineStatus,
  type EngineStepInput,
  type EngineStepResult,
  type EventFilter,
  type InsertContactsResult,
  type ListRecord,
  type Mark,
  type HistoryFilter,
  type MemberEdit,
  type MemberRuns,
  type MembershipChange,
  type MembershipEvent,
  type MembershipOverride,
  type NewContact,
  type Page,
  type PruneSlice,
  type SegmentRecord,
  type SegmentType,
  type Store,
  type TimeKey,
  type VerifyReport,
  type Written,
  type WebhookDeliveryRecord,
  type WebhookEventFilter,
  type WebhookProgress,
  type WebhookRecord,
  type ImportBatch,
  type ImportCut,
  type ImportJobRecord,
  type ImportJobUpdate,
  type ImportPruneSlice,
  type ImportRowError,
} from "../port";
import { type ChangeEventDoc, FEED_PIPELINE, timestampMark } from "./change-events";
import type { ChangeStreamLike, FeedPosition } from "./change-feed";
import { type Collections, collectionsOf, type CommandBody, type CommandDoc, ENGINE_STATE_ID, type EventDoc, type ListDoc, type SegmentDoc } from "./collections";
import { MongoSharedLimits } from "./shared-limits";
import { compileMongoFilter } from "./condition-filter";
import { connectMongo } from "./connect";
import { type ContactDoc, contactDataOf, contactFields } from "./documents";
import { apiKeyRecord, contactRecord, eventsOfRun, listRecord, oid, oids, segmentRecord } from "./records";
import { pageFromBuckets } from "./static-buckets";
import { dynamicMembers, fillBuckets, FIRST_MARK, MongoEngine, referencedMembers, segmentsOfContacts } from "./step-tx";
import { MongoVerifyTx } from "./verify";
import { MongoWebhooks } from "./webhooks";
import { MongoImports } from "./imports";

function byIds<T extends { id: string }>(ids: readonly string[], records: T[]): (T | null)[] {
  const map = new Map(records.map((record) => [record.id, record]));
  return ids.map((id) => map.get(id) ?? null);
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/** `{ createdAt, _id }` strictly before a keyset position in "newest first" order (lists and contacts). */
function before(key: TimeKey) {
  const at = new Date(key.createdAt);
  const id = oid(key.id);
  return { $or: id ? [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: id } }] : [{ createdAt: { $lt: at } }] };
}

/**
 * A new segment's document: BUILDING (its build takes its members in), or with `snapshot`,
 * READY with that many members (stored beside it by the caller).
 */
function newSegmentDoc(listId: ObjectId, name: string, type: SegmentType, condition: StoredCondition, now: number, snapshot: { memberCount: number } | null): SegmentDoc {
  const at = new Date(now);
  return {
    listId,
    name,
    type,
    status: snapshot ? "READY" : "BUILDING",
    condition,
    conditionSeq: 0,
    memberCount: snapshot?.memberCount ?? 0,
    buildCursor: null,
    clockAt: at,
    nextWakeAt: null,
    buckets: 0,
    freezeAt: null,
    frozenAt: null,
    builtAt: snapshot ? at : null,
    createdAt: at,
    updatedAt: at,
  };
}

export class MongoStore implements Store {
  readonly kind = "mongodb" as const;
  private readonly compiler = new SegmentCompiler();
  private readonly engine: MongoEngine;
  private readonly c: Collections;
  private readonly client: MongoClient;
  private readonly webhooks: MongoWebhooks;
  private readonly imports: MongoImports;
  private limits: MongoSharedLimits | null = null;

  private constructor(private readonly connection: Connection) {
    this.client = connection.getClient();
    this.c = collectionsOf(connection.db!);
    this.webhooks = new MongoWebhooks(this.client, this.c);
    this.imports = new MongoImports(this.client, this.c);
    const db = connection.db!;
    this.engine = new MongoEngine(this.client, this.c, this.compiler, (position: FeedPosition): ChangeStreamLike =>
      // A short await keeps tryNext from holding the engine when nothing happens (it is polled every 50 ms).
      db.watch<ContactDoc, ChangeEventDoc>(FEED_PIPELINE, { maxAwaitTimeMS: 25, ...position }),
    );
  }

  static async open(uri: string, options: { retentionMs: number }): Promise<MongoStore> {
    const { connection } = await connectMongo(uri, Math.max(1, Math.round(options.retentionMs / 1000)));
    const store = new MongoStore(connection);
    await store.c.state.updateOne(
      { _id: ENGINE_STATE_ID },
      { $setOnInsert: { resumeToken: null, startAtOperationTime: null, clock: null, applied: FIRST_MARK, processed: 0, pending: 0 } },
      { upsert: true },
    );
    return store;
  }

  /** Runs writes in a transaction (retried by the driver on transient errors); returns their result and mark. */
  private async transaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<Written<T>> {
    const session = this.client.startSession();
    try {
      const value = await session.withTransaction(() => fn(session));
      return { value, mark: session.operationTime ? timestampMark(session.operationTime) : FIRST_MARK };
    } finally {
      await session.endSession();
    }
  }

  /** Takes `count` consecutive numbers from a counter; returns the first. */
  private async take(counter: string, count: number, session: ClientSession): Promise<number> {
    const doc = await this.c.counters.findOneAndUpdate({ _id: counter }, { $inc: { seq: count } }, { upsert: true, returnDocument: "after", session });
    return doc!.seq - count + 1;
  }

  /** Writes tombstone runs that end the streams of deleted segments and lists. */
  private async tombstones(entries: { kind: "SEGMENT_DELETED" | "LIST_DELETED"; listId: ObjectId; segmentId: ObjectId | null }[], now: number, session: ClientSession) {
    if (entries.length === 0) return;
    const first = await this.take("events", entries.length, session);
    await this.c.events.insertMany(
      entries.map((entry, i) => ({ _id: first + i, ...entry, reason: null, contacts: [], count: 1, memberCount: 0, occurredAt: new Date(now) })),
      { session },
    );
  }

  /** Removes the members of deleted segments (after the deletion committed: orphans are invisible). */
  private async dropMembers(segmentIds: ObjectId[]): Promise<void> {
    if (segmentIds.length === 0) return;
    await this.c.memberships.deleteMany({ segmentId: { $in: segmentIds } });
    await this.c.buckets.deleteMany({ segmentId: { $in: segmentIds } });
    await this.c.overrides.deleteMany({ segmentId: { $in: segmentIds } });
    await this.c.joins.deleteMany({ segmentId: { $in: segmentIds } });
  }

  // Lists

  async createList(input: { workspaceId: string; name: string; customFields: CustomFieldDef[]; timeZone?: string }, now: number): Promise<ListRecord> {
    const doc: ListDoc = {
      workspaceId: input.workspaceId,
      name: input.name,
      customFields: input.customFields,
      timeZone: input.timeZone ?? "UTC",
      contactCount: 0,
      createdAt: new Date(now),
      updatedAt: new Date(now),
    };
    const { insertedId } = await this.c.lists.insertOne(doc);
    return listRecord({ ...doc, _id: insertedId });
  }

  async getLists(ids: readonly string[]): Promise<(ListRecord | null)[]> {
    return byIds(ids, (await this.c.lists.find({ _id: { $in: oids(ids) } }).toArray()).map(listRecord));
  }

  async pageLists(workspaceId: string, first: number, after?: TimeKey): Promise<Page<ListRecord>> {
    const filter: Filter<ListDoc> = after ? { $and: [{ workspaceId }, before(after)] } : { workspaceId };
    const docs = await this.c.lists.find(filter).sort({ createdAt: -1, _id: -1 }).limit(first + 1).toArray();
    return { items: docs.slice(0, first).map(listRecord), hasNextPage: docs.length > first };
  }

  async countLists(workspaceId: string): Promise<number> {
    return this.c.lists.countDocuments({ workspaceId });
  }

  async updateList(id: string, patch: { name?: string; customFields?: CustomFieldDef[] }, now: number): Promise<ListRecord | null> {
    const listId = oid(id);
    if (!listId) return null;
    const doc = await this.c.lists.findOneAndUpdate(
      { _id: listId },
      { $set: { ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.customFields ? { customFields: patch.customFields } : {}), updatedAt: new Date(now) } },
      { returnDocument: "after" },
    );
    return doc ? listRecord(doc) : null;
  }

  async deleteList(id: string, now: number): Promise<boolean> {
    const listId = oid(id);
    if (!listId) return false;
    const { value: segmentIds } = await this.transaction(async (session) => {
      const { deletedCount } = await this.c.lists.deleteOne({ _id: listId }, { session });
      if (deletedCount === 0) return null;
      const segments = (await this.c.segments.find({ listId }, { session, projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((s) => s._id);
      await this.c.segments.deleteMany({ listId }, { session });
      await this.tombstones(
        [...segments.map((segmentId) => ({ kind: "SEGMENT_DELETED" as const, listId, segmentId })), { kind: "LIST_DELETED" as const, listId, segmentId: null }],
        now,
        session,
      );
      return segments;
    });
    if (segmentIds === null) return false;
    for (const segmentId of segmentIds) this.compiler.forget(segmentId.toHexString());
    await this.dropMembers(segmentIds);
    await this.webhooks.deleteOfList(listId);
    await this.c.contacts.deleteMany({ listId });
    return true;
  }

  // Contacts

  async insertContacts(list: ListRecord, rows: NewContact[], upsert: boolean, now: number, job?: ImportBatch): Promise<InsertContactsResult> {
    const listId = oid(list.id);
    if (!listId) throw notFound("ContactList", list.id);
    const at = new Date(now);
    /** Contacts the (last attempt at the) transaction inserted or changed. */
    let written = 0;
    const { value: result, mark } = await this.transaction(async (session) => {
      // The list's fields as they are now: a long import's may have grown since it began.
      const current = await this.c.lists.findOne({ _id: listId }, { session, projection: { customFields: 1 } });
      if (!current) throw notFound("ContactList", list.id);
      const catalog = catalogOf(current.customFields);
      const emails = rows.map((row) => normalizeText(row.data.email));
      const existing = new Map<string, WithId<ContactDoc>>();
      for (const doc of await this.c.contacts.find({ listId, "n.email": { $in: [...new Set(emails)] } }, { session }).toArray()) existing.set(doc.n.email, doc);
      const result: InsertContactsResult = { added: 0, updated: 0, ids: [], conflicts: [], mark: null };
      const inserts: ContactDoc[] = [];
      const insertedAt = new Map<string, number>();
      const updates = new Map<string, WithId<ContactDoc>>();
      /** Each updated contact's data as stored before these rows. */
      const stored = new Map<string, ContactData>();
      rows.forEach((row, index) => {
        const email = emails[index]!;
        const current = existing.get(email);
        if (!current && !insertedAt.has(email)) {
          insertedAt.set(email, inserts.length);
          inserts.push({ listId, ...contactFields(row.data, catalog), createdAt: at, updatedAt: at });
          result.added++;
          result.ids.push(null);
          return;
        }
        if (!upsert) {
          result.ids.push(null);
          result.conflicts.push(index);
          return;
        }
        if (current) {
          const before = contactDataOf(current);
          if (!stored.has(email)) stored.set(email, before);
          const data = applyPatch(before, row.patch);
          // A row that changes nothing leaves the contact as it is.
          if (!isDeepStrictEqual(data, before)) {
            const next = { ...current, ...contactFields(data, catalog), updatedAt: at };
            existing.set(email, next);
            updates.set(email, next);
          }
        } else {
          const pending = inserts[insertedAt.get(email)!]!;
          inserts[insertedAt.get(email)!] = { ...pending, ...contactFields(applyPatch(contactDataOf(pending), row.patch), catalog) };
        }
        result.ids.push(null);
        result.updated++;
      });
      // Rows of one email that end where the contact was (a file re-run) leave it as it was.
      for (const [email, next] of updates) if (isDeepStrictEqual(contactDataOf(next), stored.get(email))) updates.delete(email);
      const insertedIds = new Map<number, ObjectId>();
      if (inserts.length > 0) {
        const { insertedIds: made } = await this.c.contacts.insertMany(inserts, { session, ordered: true });
        for (const [i, id] of Object.entries(made)) insertedIds.set(Number(i), id);
      }
      if (updates.size > 0) {
        await this.c.contacts.bulkWrite(
          [...updates.values()].map(({ _id, ...replacement }) => ({ replaceOne: { filter: { _id }, replacement } })),
          { session, ordered: true },
        );
      }
      rows.forEach((_row, index) => {
        if (result.conflicts.includes(index)) return;
        const email = emails[index]!;
        const id = existing.get(email)?._id ?? insertedIds.get(insertedAt.get(email)!);
        result.ids[index] = id ? id.toHexString() : null;
      });
      if (result.added > 0) await this.c.lists.updateOne({ _id: listId }, { $inc: { contactCount: result.added } }, { session });
      if (job && !(await this.imports.update(job.jobId, job.update(result), job.wallNow, undefined, session))) throw conflict(`the import ${job.jobId} is no longer running`);
      written = inserts.length + updates.size;
      return result;
    });
    return { ...result, mark: written > 0 ? mark : null };
  }

  async updateContact(id: string, workspaceId: string, patchFor: (list: ListRecord) => ContactPatch, now: number): Promise<Written<ContactRecord> | null> {
    const contactId = oid(id);
    if (!contactId) return null;
    let email = "";
    try {
      const { value, mark } = await this.transaction(async (session) => {
        const doc = await this.c.contacts.findOne({ _id: contactId }, { session });
        if (!doc) return null;
        const listDoc = await this.c.lists.findOne({ _id: doc.listId, workspaceId }, { session });
        if (!listDoc) return null;
        const list = listRecord(listDoc);
        const next = applyPatch(contactDataOf(doc), patchFor(list));
        email = next.email;
        return this.c.contacts.findOneAndUpdate(
          { _id: contactId },
          { $set: { ...contactFields(next, catalogOf(list.customFields)), updatedAt: new Date(now) } },
          { session, returnDocument: "after" },
        );
      });
      return value ? { value: contactRecord(value), mark } : null;
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict(`another contact of this list already has the email ${email}`, { field: "email" });
      throw error;
    }
  }

  async deleteContact(id: string): Promise<Written<ContactRecord> | null> {
    const contactId = oid(id);
    if (!contactId) return null;
    const { value, mark } = await this.transaction(async (session) => {
      const doc = await this.c.contacts.findOneAndDelete({ _id: contactId }, { session });
      if (!doc) return null;
      await this.c.lists.updateOne({ _id: doc.listId }, { $inc: { contactCount: -1 } }, { session });
      return doc;
    });
    return value ? { value: contactRecord(value), mark } : null;
  }

  async getContacts(ids: readonly string[]): Promise<(ContactRecord | null)[]> {
    return byIds(ids, (await this.c.contacts.find({ _id: { $in: oids(ids) } }).toArray()).map(contactRecord));
  }

  async pageContacts(listId: string, query: ContactQuery): Promise<Page<ContactRecord>> {
    const id = oid(listId);
    if (!id) return { items: [], hasNextPage: false };
    const parts: Filter<ContactDoc>[] = [{ listId: id }];
    if (query.after) parts.push(before(query.after));
    if (query.where) parts.push(compileMongoFilter(query.where, query.at, await referencedMembers(this.c, query.where, null)));
    const docs = await this.c.contacts.find({ $and: parts }).sort({ createdAt: -1, _id: -1 }).limit(query.first + 1).toArray();
    return { items: docs.slice(0, query.first).map(contactRecord), hasNextPage: docs.length > query.first };
  }

  async countContacts(listId: string, where: Condition | undefined, at: EvalTime): Promise<number> {
    const id = oid(listId);
    if (!id) return 0;
    if (!where) return (await this.c.lists.findOne({ _id: id }, { projection: { contactCount: 1 } }))?.contactCount ?? 0;
    return this.c.contacts.countDocuments({ $and: [{ listId: id }, compileMongoFilter(where, at, await referencedMembers(this.c, where, null))] });
  }

  async countEach(listId: string, conditions: readonly Condition[], at: EvalTime): Promise<number[]> {
    const id = oid(listId);
    if (!id || conditions.length === 0) return conditions.map(() => 0);
    // One pass over the list: each condition counts in its own branch of a $facet.
    const facets: Record<string, Document[]> = {};
    for (const [i, condition] of conditions.entries()) {
      facets[`n${i}`] = [{ $match: compileMongoFilter(condition, at, await referencedMembers(this.c, condition, null)) }, { $count: "n" }];
    }
    const [counts] = await this.c.contacts.aggregate<Record<string, { n: number }[]>>([{ $match: { listId: id } }, { $facet: facets }]).toArray();
    return conditions.map((_, i) => counts?.[`n${i}`]?.[0]?.n ?? 0);
  }

  // Segments

  async createSegment(input: { listId: string; name: string; type: SegmentType; condition: StoredCondition }, now: number): Promise<SegmentRecord> {
    const listId = oid(input.listId);
    if (!listId) throw notFound("ContactList", input.listId);
    const doc = newSegmentDoc(listId, input.name, input.type, input.condition, now, null);
    const { insertedId } = await this.c.segments.insertOne(doc);
    return segmentRecord({ ...doc, _id: insertedId });
  }

  async renameSegment(id: string, name: string, now: number): Promise<SegmentRecord | null> {
    const segmentId = oid(id);
    if (!segmentId) return null;
    const doc = await this.c.segments.findOneAndUpdate({ _id: segmentId }, { $set: { name, updatedAt: new Date(now) } }, { returnDocument: "after" });
    return doc ? segmentRecord(doc) : null;
  }

  async requestConditionChange(id: string, condition: StoredCondition, now: number): Promise<Mark> {
    return this.queueCommand(id, { condition }, now);
  }

  async requestMemberEdit(segmentId: string, edit: MemberEdit, contactIds: readonly string[], now: number): Promise<Mark> {
    return this.queueCommand(segmentId, { kind: "members", edit, contactIds: oids(contactIds) }, now);
  }

  async requestFreeze(id: string, at: number | null, now: number): Promise<Mark> {
    return this.queueCommand(id, { kind: "freeze", at: at === null ? null : new Date(at) }, now);
  }

  /** Writes a change to a segment as a command; it reaches the engine through the change stream, in its place among contact changes. */
  private async queueCommand(id: string, command: CommandBody, now: number): Promise<Mark> {
    const segmentId = oid(id);
    if (!segmentId) throw notFound("Segment", id);
    const { mark } = await this.transaction(async (session) => {
      if (!(await this.c.segments.findOne({ _id: segmentId }, { session, projection: { _id: 1 } }))) throw notFound("Segment", id);
      await this.c.commands.insertOne({ _id: await this.take("commands", 1, session), segmentId, createdAt: new Date(now), ...command } as CommandDoc, { session });
    });
    return mark;
  }

  async duplicateSegment(sourceId: string, name: string, type: SegmentType, now: number): Promise<SegmentRecord | null> {
    const id = oid(sourceId);
    if (!id) return null;
    const { value } = await this.transaction(async (session) => {
      const source = await this.c.segments.findOne({ _id: id }, { session });
      if (!source) return null;
      const doc = newSegmentDoc(source.listId, name, type, source.condition, now, type === "STATIC" ? { memberCount: source.memberCount } : null);
      const { insertedId } = await this.c.segments.insertOne(doc, { session });
      if (type === "STATIC") {
        // A snapshot of the source's members, in ascending order, in buckets.
        const members =
          source.type === "STATIC"
            ? (await this.c.buckets.find({ segmentId: id }, { session }).sort({ bucket: 1 }).toArray()).flatMap((bucket) => bucket.contactIds)
            : await dynamicMembers(this.c, id, session);
        const buckets = await fillBuckets(this.c, insertedId, members, 0, session);
        return segmentRecord({ ...doc, buckets, _id: insertedId });
      }
      // Its build takes the overrides in.
      const overrides = await this.c.overrides.find({ segmentId: id }, { session, projection: { _id: 0 } }).toArray();
      if (overrides.length > 0) await this.c.overrides.insertMany(overrides.map((o) => ({ ...o, segmentId: insertedId })), { session });
      return segmentRecord({ ...doc, _id: insertedId });
    });
    return value;
  }

  async joinedAt(segmentId: string, contactIds: readonly string[]): Promise<Map<string, number>> {
    const id = oid(segmentId);
    if (!id) return new Map();
    const docs = await this.c.joins.find({ segmentId: id, contactId: { $in: oids(contactIds) } }, { projection: { contactId: 1, joinedAt: 1 } }).toArray();
    return new Map(docs.map((doc) => [doc.contactId.toHexString(), doc.joinedAt.getTime()]));
  }

  async pageOverrides(segmentId: string, override: MembershipOverride, first: number, afterContactId?: string): Promise<Page<string>> {
    const id = oid(segmentId);
    if (!id) return { items: [], hasNextPage: false };
    const after = afterContactId === undefined ? undefined : oid(afterContactId);
    const docs = await this.c.overrides
      .find({ segmentId: id, included: override === "INCLUDED", ...(after ? { contactId: { $lt: after } } : {}) }, { projection: { contactId: 1 } })
      .sort({ contactId: -1 })
      .limit(first + 1)
      .toArray();
    return { items: docs.slice(0, first).map((doc) => doc.contactId.toHexString()), hasNextPage: docs.length > first };
  }

  async overrideOf(segmentId: string, contactId: string): Promise<MembershipOverride | null> {
    const [segment, contact] = [oid(segmentId), oid(contactId)];
    const doc = segment && contact ? await this.c.overrides.findOne({ segmentId: segment, contactId: contact }) : null;
    return doc ? (doc.included ? "INCLUDED" : "EXCLUDED") : null;
  }

  async countOverrides(segmentId: string, override: MembershipOverride): Promise<number> {
    const id = oid(segmentId);
    return id ? this.c.overrides.countDocuments({ segmentId: id, included: override === "INCLUDED" }) : 0;
  }

  async deleteSegment(id: string, now: number): Promise<boolean> {
    const segmentId = oid(id);
    if (!segmentId) return false;
    const { value: deleted } = await this.transaction(async (session) => {
      const doc = await this.c.segments.findOneAndDelete({ _id: segmentId }, { session });
      if (!doc) return false;
      await this.tombstones([{ kind: "SEGMENT_DELETED", listId: doc.listId, segmentId }], now, session);
      return true;
    });
    if (!deleted) return false;
    this.compiler.forget(id);
    await this.dropMembers([segmentId]);
    return true;
  }

  async getSegments(ids: readonly string[]): Promise<(SegmentRecord | null)[]> {
    return byIds(ids, (await this.c.segments.find({ _id: { $in: oids(ids) } }).toArray()).map(segmentRecord));
  }

  async segmentsOfLists(listIds: readonly string[]): Promise<SegmentRecord[][]> {
    const byList = new Map<string, SegmentRecord[]>();
    for (const doc of await this.c.segments.find({ listId: { $in: oids(listIds) } }).sort({ _id: 1 }).toArray()) {
      const record = segmentRecord(doc);
      const group = byList.get(record.listId);
      if (group) group.push(record);
      else byList.set(record.listId, [record]);
    }
    return listIds.map((id) => byList.get(id) ?? []);
  }

  async segmentIdsOfContacts(contactIds: readonly string[]): Promise<string[][]> {
    const byContact = await segmentsOfContacts(this.c, oids(contactIds));
    return contactIds.map((id) => [...(byContact.get(id) ?? [])].sort());
  }

  async pageMembers(segmentId: string, first: number, afterContactId?: string): Promise<Page<string>> {
    const id = oid(segmentId);
    const segment = id ? await this.c.segments.findOne({ _id: id }, { projection: { type: 1 } }) : null;
    if (!id || !segment) return { items: [], hasNextPage: false };
    const after = afterContactId === undefined ? undefined : oid(afterContactId);
    if (segment.type === "STATIC") {
      const buckets = await this.c.buckets.find({ segmentId: id }).sort({ bucket: -1 }).toArray();
      const page = pageFromBuckets(
        buckets.map((bucket) => ({ ids: bucket.contactIds })),
        first,
        after ? (contact) => contact.toHexString() < after.toHexString() : undefined,
      );
      return { items: page.ids.map((contact) => contact.toHexString()), hasNextPage: page.hasNextPage };
    }
    const docs = await this.c.memberships
      .find({ segmentId: id, ...(after ? { contactId: { $lt: after } } : {}) })
      .sort({ contactId: -1 })
      .limit(first + 1)
      .toArray();
    return { items: docs.slice(0, first).map((doc) => doc.contactId.toHexString()), hasNextPage: docs.length > first };
  }

  // Engine

  async acquireLease(name: string, holder: string, wallNow: number, ttlMs: number, replacing?: string): Promise<boolean> {
    try {
      const doc = await this.c.leases.findOneAndUpdate(
        { _id: name, $or: [{ holder }, { expiresAt: { $lte: new Date(wallNow) } }, ...(replacing ? [{ holder: replacing }] : [])] },
        { $set: { holder, expiresAt: new Date(wallNow + ttlMs) } },
        { upsert: true, returnDocument: "after" },
      );
      return doc?.holder === holder;
    } catch (error) {
      // Another holder's live lease exists: the upsert collided with it.
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async leaseHolder(name: string, wallNow: number): Promise<string | null> {
    const lease = await this.c.leases.findOne({ _id: name, expiresAt: { $gt: new Date(wallNow) } }, { projection: { holder: 1 } });
    return lease?.holder ?? null;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.c.leases.deleteOne({ _id: name, holder });
    // The engine's change stream is the engine lease holder's alone; other leases leave it open.
    if (name === ENGINE_LEASE) await this.engine.close();
  }

  engineStep(input: EngineStepInput): Promise<EngineStepResult> {
    return this.engine.step(input);
  }

  async engineStatus(): Promise<EngineStatus> {
    const state = await this.c.state.findOne({ _id: ENGINE_STATE_ID });
    const applied = state?.applied ?? FIRST_MARK;
    return {
      applied,
      // What is written but not yet in the stream cannot be counted: the latest is what the engine has read.
      latest: applied,
      appliedChanges: state?.processed ?? 0,
      pendingChanges: state?.pending ?? 0,
      building: await this.c.segments.countDocuments({ status: "BUILDING" }),
      clock: state?.clock?.getTime() ?? 0,
      latestEvent: await this.latestEventPosition(),
    };
  }

  private async latestEventPosition(): Promise<number> {
    const last = await this.c.events.find({}, { projection: { _id: 1, count: 1 } }).sort({ _id: -1 }).limit(1).next();
    return Math.max(last ? last._id * ROW_SPAN + last.count - 1 : 0, await this.prunedThrough());
  }

  // Events

  async eventsAfter(position: number, filter: EventFilter, limit: number): Promise<MembershipEvent[]> {
    const scope: Filter<EventDoc> =
      filter.segmentId !== undefined ? { segmentId: oid(filter.segmentId) } : filter.listId !== undefined ? { listId: oid(filter.listId) ?? undefined } : {};
    const events: MembershipEvent[] = [];
    let seq = Math.floor(position / ROW_SPAN);
    for (;;) {
      const docs = await this.c.events.find({ ...scope, _id: { $gte: seq } }).sort({ _id: 1 }).limit(50).toArray();
      for (const doc of docs) {
        for (const event of eventsOfRun(doc)) {
          if (event.seq > position) events.push(event);
          if (events.length === limit) return events;
        }
      }
      if (docs.length < 50) return events;
      seq = docs[docs.length - 1]!._id + 1;
    }
  }

  async eventsBefore(position: number | null, filter: HistoryFilter, limit: number): Promise<MembershipEvent[]> {
    const scopeId = oid(filter.segmentId ?? filter.listId ?? "");
    const contact = filter.contactId === undefined ? null : oid(filter.contactId);
    if (!scopeId || (filter.contactId !== undefined && !contact)) return [];
    const scope: Filter<EventDoc> = {
      ...(filter.segmentId !== undefined ? { segmentId: scopeId } : { listId: scopeId }),
      kind: { $in: ["ENTERED", "LEFT"] },
      ...(contact ? { contacts: contact } : {}),
    };
    const events: MembershipEvent[] = [];
    let seq = position === null ? Number.MAX_SAFE_INTEGER : Math.floor(position / ROW_SPAN);
    for (;;) {
      const docs = await this.c.events.find({ ...scope, _id: { $lte: seq } }).sort({ _id: -1 }).limit(50).toArray();
      for (const doc of docs) if (takeNewestFirst(eventsOfRun(doc), position, contact ? contact.toHexString() : null, events, limit)) return events;
      if (docs.length < 50) return events;
      seq = docs[docs.length - 1]!._id - 1;
    }
  }

  async memberRuns(segmentId: string, since: number, until: number): Promise<MemberRuns> {
    const id = oid(segmentId);
    if (!id) return { runs: [], countBefore: null, retainedSince: null };
    const transitions = { segmentId: id, kind: { $in: ["ENTERED", "LEFT"] as MembershipChange[] } };
    const projection = { kind: 1, count: 1, memberCount: 1, occurredAt: 1 };
    const docs = await this.c.events.find({ ...transitions, occurredAt: { $gte: new Date(since), $lt: new Date(until) } }, { projection }).sort({ _id: 1 }).toArray();
    const before = await this.c.events.find({ ...transitions, occurredAt: { $lt: new Date(since) } }, { projection }).sort({ _id: -1 }).limit(1).next();
    const after = (doc: Pick<EventDoc, "kind" | "count" | "memberCount">) => memberCountAt(doc.kind, doc.memberCount, doc.count - 1);
    const pruned = (await this.prunedThrough()) > 0;
    const oldest = pruned ? await this.c.events.find({}, { projection: { occurredAt: 1 } }).sort({ _id: 1 }).limit(1).next() : null;
    return {
      runs: docs.map((doc) => ({ kind: doc.kind as MembershipChange, count: doc.count, memberCountAfter: after(doc), occurredAt: doc.occurredAt.getTime() })),
      countBefore: before ? after(before) : null,
      retainedSince: oldest ? oldest.occurredAt.getTime() : null,
    };
  }

  /**
   * Retention is a TTL index, which removes whole runs: a cursor inside or before the oldest run
   * that is gone counts as expired (run numbers are consecutive, so the gap is known).
   */
  async prunedThrough(): Promise<number> {
    const oldest = await this.c.events.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).next();
    const counter = await this.c.counters.findOne({ _id: "events" });
    const lastRemoved = oldest ? oldest._id - 1 : (counter?.seq ?? 0);
    return lastRemoved > 0 ? lastRemoved * ROW_SPAN + ROW_SPAN - 1 : 0;
  }

  async prune(): Promise<PruneSlice> {
    // Events expire through the TTL index; the engine removes applied commands as it applies them.
    return { events: 0, changes: 0, more: false };
  }

  async verify(): Promise<VerifyReport> {
    return runAsync(verifyStore(new MongoVerifyTx(this.c, (position, filter, limit) => this.eventsAfter(position, filter, limit)), this.compiler));
  }

  // API keys

  async createApiKey(input: { workspaceId: string; name: string | null; prefix: string; hash: string }, now: number): Promise<ApiKeyRecord> {
    const doc = { ...input, createdAt: new Date(now), revokedAt: null };
    const { insertedId } = await this.c.apiKeys.insertOne(doc);
    return apiKeyRecord({ ...doc, _id: insertedId });
  }

  async revokeApiKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | null> {
    const id = oid(idOrPrefix);
    const filter = id ? { $or: [{ _id: id }, { prefix: idOrPrefix }] } : { prefix: idOrPrefix };
    await this.c.apiKeys.updateMany({ ...filter, revokedAt: null }, { $set: { revokedAt: new Date(now) } });
    const doc = await this.c.apiKeys.findOne(filter);
    return doc ? apiKeyRecord(doc) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.c.apiKeys.find().sort({ _id: 1 }).toArray()).map(apiKeyRecord);
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | null> {
    const doc = await this.c.apiKeys.findOne({ hash });
    return doc ? apiKeyRecord(doc) : null;
  }

  async activeApiKeyIds(ids: readonly string[]): Promise<string[]> {
    return (await this.c.apiKeys.find({ _id: { $in: oids(ids) }, revokedAt: null }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id.toHexString());
  }

  async countApiKeys(): Promise<number> {
    return this.c.apiKeys.countDocuments();
  }

  // Webhooks

  createWebhook(input: { listId: string; segmentIds: string[] | null; url: string; secret: string; position: number }, now: number): Promise<WebhookRecord> {
    return this.webhooks.create(input, now);
  }

  getWebhooks(ids: readonly string[]): Promise<(WebhookRecord | null)[]> {
    return this.webhooks.get(ids);
  }

  webhooksOfList(listId: string): Promise<WebhookRecord[]> {
    return this.webhooks.ofList(listId);
  }

  activeWebhookIds(): Promise<string[]> {
    return this.webhooks.activeIds();
  }

  setWebhookEnabled(id: string, enabled: boolean, now: number): Promise<WebhookRecord | null> {
    return this.webhooks.setEnabled(id, enabled, now);
  }

  saveWebhookProgress(id: string, expectedBatch: string | null, progress: WebhookProgress, delivery: WebhookDeliveryRecord | null, now: number): Promise<WebhookRecord | null> {
    return this.webhooks.saveProgress(id, expectedBatch, progress, delivery, now);
  }

  logWebhookDelivery(id: string, delivery: WebhookDeliveryRecord): Promise<void> {
    return this.webhooks.logDelivery(id, delivery);
  }

  webhookDeliveries(id: string, first: number): Promise<WebhookDeliveryRecord[]> {
    return this.webhooks.deliveries(id, first);
  }

  deleteWebhook(id: string): Promise<boolean> {
    return this.webhooks.delete(id);
  }

  countEventsAfter(position: number, filter: WebhookEventFilter): Promise<number> {
    return this.webhooks.countEventsAfter(position, filter);
  }

  // Imports

  createImportJob(
    input: { workspaceId: string; listId: string; upsert: boolean; columns: string[]; bytesTotal: number | null; owner: string },
    startedAt: number,
    wallNow: number,
  ): Promise<ImportJobRecord> {
    return this.imports.create(input, startedAt, wallNow);
  }

  updateImportJob(id: string, update: ImportJobUpdate, wallNow: number, staleBefore?: number): Promise<ImportJobRecord | null> {
    return this.imports.update(id, update, wallNow, staleBefore);
  }

  getImportJobs(ids: readonly string[]): Promise<(ImportJobRecord | null)[]> {
    return this.imports.get(ids);
  }

  importErrors(jobId: string, afterRow: number, first: number): Promise<ImportRowError[]> {
    return this.imports.errors(jobId, afterRow, first);
  }

  pruneImports(cut: ImportCut, budgetMs: number): Promise<ImportPruneSlice> {
    return this.imports.prune(cut, budgetMs);
  }

  async changeToken(): Promise<string> {
    const [event, state, building, lease] = await Promise.all([
      this.c.events.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next(),
      this.c.state.findOne({ _id: ENGINE_STATE_ID }, { projection: { applied: 1 } }),
      this.c.segments.countDocuments({ status: "BUILDING" }),
      // A lease handed over is noticed by a standby at its next poll.
      this.c.leases.findOne({ _id: ENGINE_LEASE }, { projection: { holder: 1 } }),
    ]);
    // The leader's change stream is read ahead here, so new changes change the token.
    const pending = await this.engine.readAhead();
    return `${event?._id ?? 0}|${state?.applied ?? ""}|${building}|${pending}|${lease?.holder ?? ""}`;
  }

  /** A commit by another instance cannot be known without a round trip: nothing is cached. */
  commitGeneration(): null {
    return null;
  }

  sharedLimits(): MongoSharedLimits {
    return (this.limits ??= new MongoSharedLimits(this.connection.db!));
  }

  /** A change stream on the event log and the leases: new events, and a lease given up or taken. */
  watchCommits(onCommit: () => void): () => void {
    let stopped = false;
    let stream: ChangeStream | null = null;
    const open = () => {
      if (stopped) return;
      stream = this.connection.db!.watch([{ $match: { "ns.coll": { $in: ["events", "leases"] } } }], { batchSize: 1_000 });
      stream.on("change", () => onCommit());
      // The engine's poll is the safety net while the stream is re-opened.
      stream.on("error", () => {
        void stream?.close().catch(() => undefined);
        setTimeout(open, 1_000).unref();
      });
    };
    open();
    return () => {
      stopped = true;
      void stream?.close().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.engine.close();
    await this.connection.close();
  }
}
