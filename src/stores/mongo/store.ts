/**
 * The MongoDB store: the same port as the embedded one, on a replica set (or sharded cluster).
 * Contact writes are plain writes — the membership engine (engine-step.ts) follows them through
 * one change stream on the contacts collection, so writes made by other programs count too.
 */
import type { ClientSession, Document, ObjectId } from "mongodb";
import type { Connection } from "mongoose";
import { type Condition, catalogOf, type CustomFieldDef, type EvalTime, normalizeText, type StoredCondition } from "../../conditions";
import { conflict, notFound } from "../../common/errors";
import { applyPatch, type ContactPatch } from "../../domain/contacts";
import { SegmentCompiler } from "../../engine/membership";
import { ROW_SPAN } from "../event-runs";
import type {
  ApiKeyRecord,
  ContactQuery,
  ContactRecord,
  EngineStatus,
  EngineStepInput,
  EngineStepResult,
  EventFilter,
  InsertContactsResult,
  ListRecord,
  MembershipEvent,
  NewContact,
  Page,
  PruneSlice,
  SegmentRecord,
  SegmentType,
  Store,
  TimeKey,
  VerifyReport,
} from "../port";
import { compileMongoFilter } from "./condition-filter";
import { connectMongo } from "./connect";
import { type ContactDoc, contactDataOf, contactFields } from "./documents";
import { MongoEngine } from "./engine-step";
import { collectionsOf, type Models } from "./models";
import {
  type ApiKeyDoc,
  apiKeyRecord,
  contactRecord,
  type EventDoc,
  eventsOfRun,
  type ListDoc,
  listRecord,
  oid,
  oids,
  type SegmentDoc,
  segmentRecord,
} from "./records";
import { pageFromBuckets } from "./static-buckets";
import { verifyMongo } from "./verify";

function byIds<T extends { id: string }>(ids: readonly string[], records: T[]): (T | null)[] {
  const map = new Map(records.map((record) => [record.id, record]));
  return ids.map((id) => map.get(id) ?? null);
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}

/** `{ createdAt, _id }` strictly before a keyset position in "newest first" order. */
function before(key: TimeKey): Document {
  const at = new Date(key.createdAt);
  const id = oid(key.id);
  return { $or: [{ createdAt: { $lt: at } }, ...(id ? [{ createdAt: at, _id: { $lt: id } }] : [])] };
}

export class MongoStore implements Store {
  readonly kind = "mongodb" as const;
  private readonly compiler = new SegmentCompiler();
  private readonly engine: MongoEngine;

  private constructor(
    private readonly connection: Connection,
    readonly models: Models,
  ) {
    this.engine = new MongoEngine(connection, models, this.compiler);
  }

  static async open(uri: string, options: { retentionMs: number }): Promise<MongoStore> {
    const { connection, models } = await connectMongo(uri, Math.max(1, Math.round(options.retentionMs / 1000)));
    await models.EngineState.collection.updateOne({ _id: "engine" as never }, { $setOnInsert: { commandSeq: 0, processed: 0, prunedThrough: 0 } }, { upsert: true });
    return new MongoStore(connection, models);
  }

  private get c() {
    return collectionsOf(this.models);
  }

  /** Runs a function in a transaction (retried by the driver on transient errors). */
  private async transaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = await this.connection.startSession();
    try {
      return (await session.withTransaction(() => fn(session as unknown as ClientSession))) as T;
    } finally {
      await session.endSession();
    }
  }

  /** Takes `count` consecutive numbers from a counter; returns the first. */
  private async take(counter: string, count: number, session?: ClientSession): Promise<number> {
    const doc = await this.c.counters.findOneAndUpdate(
      { _id: counter as never },
      { $inc: { seq: count } },
      { upsert: true, returnDocument: "after", session },
    );
    return (doc as unknown as { seq: number }).seq - count + 1;
  }

  /** Writes tombstone runs that end the streams of deleted segments and lists. */
  private async tombstones(entries: { kind: "SEGMENT_DELETED" | "LIST_DELETED"; listId: ObjectId; segmentId: ObjectId | null }[], now: number, session: ClientSession) {
    if (entries.length === 0) return;
    const first = await this.take("events", entries.length, session);
    await this.c.events.insertMany(
      entries.map((entry, i) => ({ _id: (first + i) as never, ...entry, reason: null, contacts: [], count: 1, memberCount: 0, occurredAt: new Date(now) })),
      { session },
    );
  }

  /** Removes the members of deleted segments (after the deletion committed: orphans are invisible). */
  private async dropMembers(segmentIds: ObjectId[]): Promise<void> {
    if (segmentIds.length === 0) return;
    await this.c.memberships.deleteMany({ segmentId: { $in: segmentIds } });
    await this.c.buckets.deleteMany({ segmentId: { $in: segmentIds } });
  }

  // Lists

  async createList(
    input: { workspaceId: string; name: string; customFields: CustomFieldDef[]; timeZone?: string },
    now: number,
  ): Promise<ListRecord> {
    const doc = {
      workspaceId: input.workspaceId,
      name: input.name,
      customFields: input.customFields,
      timeZone: input.timeZone ?? "UTC",
      contactCount: 0,
      createdAt: new Date(now),
      updatedAt: new Date(now),
    };
    const { insertedId } = await this.c.lists.insertOne(doc);
    return listRecord({ ...doc, _id: insertedId } as ListDoc);
  }

  async getLists(ids: readonly string[]): Promise<(ListRecord | null)[]> {
    const docs = (await this.c.lists.find({ _id: { $in: oids(ids) } }).toArray()) as unknown as ListDoc[];
    return byIds(ids, docs.map(listRecord));
  }

  async pageLists(workspaceId: string, first: number, after?: TimeKey): Promise<Page<ListRecord>> {
    const docs = (await this.c.lists
      .find({ workspaceId, ...(after ? before(after) : {}) })
      .sort({ createdAt: -1, _id: -1 })
      .limit(first + 1)
      .toArray()) as unknown as ListDoc[];
    return { items: docs.slice(0, first).map(listRecord), hasNextPage: docs.length > first };
  }

  async countLists(workspaceId: string): Promise<number> {
    return this.c.lists.countDocuments({ workspaceId });
  }

  async updateList(id: string, patch: { name?: string; customFields?: CustomFieldDef[] }, now: number): Promise<ListRecord | null> {
    const doc = (await this.c.lists.findOneAndUpdate(
      { _id: oid(id) ?? undefined },
      { $set: { ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.customFields ? { customFields: patch.customFields } : {}), updatedAt: new Date(now) } },
      { returnDocument: "after" },
    )) as unknown as ListDoc | null;
    return doc ? listRecord(doc) : null;
  }

  async deleteList(id: string, now: number): Promise<boolean> {
    const listId = oid(id);
    if (!listId) return false;
    const segmentIds = await this.transaction(async (session) => {
      const { deletedCount } = await this.c.lists.deleteOne({ _id: listId }, { session });
      if (deletedCount === 0) return null;
      const segments = (await this.c.segments.find({ listId }, { session, projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((s) => s._id as ObjectId);
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
    await this.c.contacts.deleteMany({ listId });
    return true;
  }

  // Contacts

  async insertContacts(list: ListRecord, rows: NewContact[], upsert: boolean, now: number): Promise<InsertContactsResult> {
    const listId = oid(list.id)!;
    const catalog = catalogOf(list.customFields);
    const at = new Date(now);
    return this.transaction(async (session) => {
      if (!(await this.c.lists.findOne({ _id: listId }, { session, projection: { _id: 1 } }))) throw notFound("ContactList", list.id);
      const emails = rows.map((row) => normalizeText(row.data.email));
      const existing = new Map<string, ContactDoc>();
      for (const doc of (await this.c.contacts.find({ listId, "n.email": { $in: [...new Set(emails)] } }, { session }).toArray()) as unknown as ContactDoc[]) {
        existing.set(doc.n.email, doc);
      }
      const result: InsertContactsResult = { added: 0, updated: 0, ids: [], conflicts: [] };
      const inserts: Document[] = [];
      const updates: Document[] = [];
      const inserted = new Map<string, Document>();
      rows.forEach((row, index) => {
        const email = emails[index]!;
        const current = existing.get(email) ?? (inserted.get(email) as ContactDoc | undefined);
        if (!current) {
          const doc = { listId, ...contactFields(row.data, catalog), createdAt: at, updatedAt: at };
          inserts.push(doc);
          inserted.set(email, doc);
          result.added++;
          result.ids.push(null);
          return;
        }
        if (!upsert) {
          result.ids.push(null);
          result.conflicts.push(index);
          return;
        }
        const next = applyPatch(contactDataOf(current), row.patch);
        Object.assign(current, contactFields(next, catalog), { updatedAt: at });
        if (existing.has(email)) updates.push(current);
        result.ids.push(null);
        result.updated++;
      });
      if (inserts.length > 0) {
        const { insertedIds } = await this.c.contacts.insertMany(inserts, { session, ordered: true });
        inserts.forEach((doc, i) => (doc._id = insertedIds[i]));
      }
      if (updates.length > 0) {
        await this.c.contacts.bulkWrite(
          updates.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc } })),
          { session, ordered: true },
        );
      }
      rows.forEach((_row, index) => {
        if (result.conflicts.includes(index)) return;
        const email = emails[index]!;
        result.ids[index] = String(((existing.get(email) ?? inserted.get(email)) as Document)._id);
      });
      if (result.added > 0) await this.c.lists.updateOne({ _id: listId }, { $inc: { contactCount: result.added } }, { session });
      return result;
    });
  }

  async updateContact(id: string, workspaceId: string, patchFor: (list: ListRecord) => ContactPatch, now: number): Promise<ContactRecord | null> {
    const contactId = oid(id);
    if (!contactId) return null;
    const doc = (await this.c.contacts.findOne({ _id: contactId })) as unknown as ContactDoc | null;
    if (!doc) return null;
    const listDoc = (await this.c.lists.findOne({ _id: doc.listId, workspaceId })) as unknown as ListDoc | null;
    if (!listDoc) return null;
    const list = listRecord(listDoc);
    const next = applyPatch(contactDataOf(doc), patchFor(list));
    try {
      const updated = (await this.c.contacts.findOneAndUpdate(
        { _id: contactId },
        { $set: { ...contactFields(next, catalogOf(list.customFields)), updatedAt: new Date(now) } },
        { returnDocument: "after" },
      )) as unknown as ContactDoc | null;
      return updated ? contactRecord(updated) : null;
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict(`another contact of this list already has the email ${next.email}`, { field: "email" });
      throw error;
    }
  }

  async deleteContact(id: string): Promise<ContactRecord | null> {
    const contactId = oid(id);
    if (!contactId) return null;
    return this.transaction(async (session) => {
      const doc = (await this.c.contacts.findOneAndDelete({ _id: contactId }, { session })) as unknown as ContactDoc | null;
      if (!doc) return null;
      await this.c.lists.updateOne({ _id: doc.listId }, { $inc: { contactCount: -1 } }, { session });
      return contactRecord(doc);
    });
  }

  async getContacts(ids: readonly string[]): Promise<(ContactRecord | null)[]> {
    const docs = (await this.c.contacts.find({ _id: { $in: oids(ids) } }).toArray()) as unknown as ContactDoc[];
    return byIds(ids, docs.map(contactRecord));
  }

  async pageContacts(listId: string, query: ContactQuery): Promise<Page<ContactRecord>> {
    const filter: Document = { listId: oid(listId) ?? undefined, ...(query.after ? before(query.after) : {}) };
    const where = query.where ? compileMongoFilter(query.where, query.at) : null;
    const docs = (await this.c.contacts
      .find(where ? { $and: [filter, where] } : filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.first + 1)
      .toArray()) as unknown as ContactDoc[];
    return { items: docs.slice(0, query.first).map(contactRecord), hasNextPage: docs.length > query.first };
  }

  async countContacts(listId: string, where: Condition | undefined, at: EvalTime): Promise<number> {
    const id = oid(listId);
    if (!id) return 0;
    if (!where) return ((await this.c.lists.findOne({ _id: id }, { projection: { contactCount: 1 } })) as { contactCount?: number } | null)?.contactCount ?? 0;
    return this.c.contacts.countDocuments({ $and: [{ listId: id }, compileMongoFilter(where, at)] });
  }

  // Segments

  async createSegment(input: { listId: string; name: string; type: SegmentType; condition: StoredCondition }, now: number): Promise<SegmentRecord> {
    const at = new Date(now);
    const doc = {
      listId: oid(input.listId)!,
      name: input.name,
      type: input.type,
      status: "BUILDING" as const,
      condition: input.condition,
      conditionSeq: 0,
      memberCount: 0,
      buildCursor: null,
      clockAt: at,
      nextWakeAt: null,
      buckets: 0,
      createdAt: at,
      updatedAt: at,
    };
    const { insertedId } = await this.c.segments.insertOne(doc);
    return segmentRecord({ ...doc, _id: insertedId } as SegmentDoc);
  }

  async renameSegment(id: string, name: string, now: number): Promise<SegmentRecord | null> {
    const doc = (await this.c.segments.findOneAndUpdate({ _id: oid(id) ?? undefined }, { $set: { name, updatedAt: new Date(now) } }, { returnDocument: "after" })) as unknown as SegmentDoc | null;
    return doc ? segmentRecord(doc) : null;
  }

  async requestConditionChange(id: string, condition: StoredCondition, now: number): Promise<number> {
    const segmentId = oid(id);
    if (!segmentId || !(await this.c.segments.findOne({ _id: segmentId }, { projection: { _id: 1 } }))) throw notFound("Segment", id);
    const seq = await this.take("commands", 1);
    await this.c.commands.insertOne({ _id: seq as never, segmentId, condition, createdAt: new Date(now) });
    return seq;
  }

  async deleteSegment(id: string, now: number): Promise<boolean> {
    const segmentId = oid(id);
    if (!segmentId) return false;
    const deleted = await this.transaction(async (session) => {
      const doc = (await this.c.segments.findOneAndDelete({ _id: segmentId }, { session })) as unknown as SegmentDoc | null;
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
    const docs = (await this.c.segments.find({ _id: { $in: oids(ids) } }).toArray()) as unknown as SegmentDoc[];
    return byIds(ids, docs.map(segmentRecord));
  }

  async segmentsOfLists(listIds: readonly string[]): Promise<SegmentRecord[][]> {
    const docs = (await this.c.segments.find({ listId: { $in: oids(listIds) } }).sort({ _id: 1 }).toArray()) as unknown as SegmentDoc[];
    const byList = new Map<string, SegmentRecord[]>();
    for (const doc of docs) {
      const record = segmentRecord(doc);
      byList.set(record.listId, [...(byList.get(record.listId) ?? []), record]);
    }
    return listIds.map((id) => byList.get(id) ?? []);
  }

  async segmentIdsOfContacts(contactIds: readonly string[]): Promise<string[][]> {
    const ids = oids(contactIds);
    const byContact = new Map<string, Set<string>>();
    const add = (contact: string, segment: string) => byContact.set(contact, (byContact.get(contact) ?? new Set()).add(segment));
    for (const m of await this.c.memberships.find({ contactId: { $in: ids } }).toArray()) add(String(m.contactId), String(m.segmentId));
    const wanted = new Set(ids.map(String));
    for (const bucket of await this.c.buckets.find({ contactIds: { $in: ids } }, { projection: { segmentId: 1, contactIds: 1 } }).toArray()) {
      for (const contact of bucket.contactIds as ObjectId[]) if (wanted.has(String(contact))) add(String(contact), String(bucket.segmentId));
    }
    return contactIds.map((id) => [...(byContact.get(id) ?? [])].sort());
  }

  async pageMembers(segmentId: string, first: number, afterContactId?: string): Promise<Page<string>> {
    const id = oid(segmentId);
    const segment = id ? ((await this.c.segments.findOne({ _id: id }, { projection: { type: 1 } })) as { type: SegmentType } | null) : null;
    if (!segment) return { items: [], hasNextPage: false };
    const after = afterContactId === undefined ? undefined : oid(afterContactId);
    if (segment.type === "STATIC") {
      const buckets = (await this.c.buckets.find({ segmentId: id }).sort({ bucket: -1 }).toArray()) as unknown as { contactIds: ObjectId[] }[];
      const page = pageFromBuckets(
        buckets.map((bucket) => ({ ids: bucket.contactIds })),
        first,
        after ? (contact) => contact.toHexString() < after.toHexString() : undefined,
      );
      return { items: page.ids.map(String), hasNextPage: page.hasNextPage };
    }
    const docs = await this.c.memberships
      .find({ segmentId: id, ...(after ? { contactId: { $lt: after } } : {}) })
      .sort({ contactId: -1 })
      .limit(first + 1)
      .toArray();
    return { items: docs.slice(0, first).map((doc) => String(doc.contactId)), hasNextPage: docs.length > first };
  }

  // Engine

  async acquireLease(name: string, holder: string, wallNow: number, ttlMs: number): Promise<boolean> {
    try {
      const doc = await this.c.leases.findOneAndUpdate(
        { _id: name as never, $or: [{ holder }, { expiresAt: { $lte: new Date(wallNow) } }] },
        { $set: { holder, expiresAt: new Date(wallNow + ttlMs) } },
        { upsert: true, returnDocument: "after" },
      );
      return (doc as { holder?: string } | null)?.holder === holder;
    } catch (error) {
      // Another holder's live lease exists: the upsert collided with it.
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.c.leases.deleteOne({ _id: name as never, holder });
    await this.engine.close();
  }

  engineStep(input: EngineStepInput): Promise<EngineStepResult> {
    return this.engine.step(input);
  }

  async engineStatus(): Promise<EngineStatus> {
    const state = await this.engine.state();
    return {
      checkpoint: state.processed,
      latestChange: state.processed + this.engine.pendingChanges,
      building: await this.c.segments.countDocuments({ status: "BUILDING" }),
      clock: state.clock,
      latestEvent: await this.latestEventPosition(),
    };
  }

  private async latestEventPosition(): Promise<number> {
    const last = (await this.c.events.find({}, { projection: { _id: 1, count: 1 } }).sort({ _id: -1 }).limit(1).next()) as EventDoc | null;
    return Math.max(last ? last._id * ROW_SPAN + last.count - 1 : 0, await this.prunedThrough());
  }

  // Events

  async eventsAfter(position: number, filter: EventFilter, limit: number): Promise<MembershipEvent[]> {
    const scope: Document =
      filter.segmentId !== undefined ? { segmentId: oid(filter.segmentId) } : filter.listId !== undefined ? { listId: oid(filter.listId) } : {};
    const events: MembershipEvent[] = [];
    let seq = Math.floor(position / ROW_SPAN);
    for (;;) {
      const docs = (await this.c.events.find({ ...scope, _id: { $gte: seq } as never }).sort({ _id: 1 }).limit(50).toArray()) as unknown as EventDoc[];
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

  /**
   * Retention is a TTL index, which removes whole runs: a cursor inside or before the oldest run
   * that is gone counts as expired (run numbers are consecutive, so the gap is known).
   */
  async prunedThrough(): Promise<number> {
    const oldest = (await this.c.events.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).next()) as { _id: number } | null;
    const counter = (await this.c.counters.findOne({ _id: "events" as never })) as { seq?: number } | null;
    const lastRemoved = oldest ? oldest._id - 1 : (counter?.seq ?? 0);
    return lastRemoved > 0 ? lastRemoved * ROW_SPAN + ROW_SPAN - 1 : 0;
  }

  async prune(): Promise<PruneSlice> {
    // Events expire through the TTL index; applied condition commands are removed here.
    const state = await this.engine.state();
    const { deletedCount } = await this.c.commands.deleteMany({ _id: { $lte: state.commandSeq } as never });
    return { events: 0, changes: deletedCount, more: false };
  }

  async verify(): Promise<VerifyReport> {
    return verifyMongo(this.models, this.compiler, await this.engine.state());
  }

  // API keys

  async createApiKey(input: { workspaceId: string; name: string | null; prefix: string; hash: string }, now: number): Promise<ApiKeyRecord> {
    const doc = { ...input, createdAt: new Date(now), revokedAt: null };
    const { insertedId } = await this.c.apiKeys.insertOne(doc);
    return apiKeyRecord({ ...doc, _id: insertedId } as ApiKeyDoc);
  }

  async revokeApiKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | null> {
    const id = oid(idOrPrefix);
    const filter = id ? { $or: [{ _id: id }, { prefix: idOrPrefix }] } : { prefix: idOrPrefix };
    await this.c.apiKeys.updateMany({ ...filter, revokedAt: null }, { $set: { revokedAt: new Date(now) } });
    const doc = (await this.c.apiKeys.findOne(filter)) as unknown as ApiKeyDoc | null;
    return doc ? apiKeyRecord(doc) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return ((await this.c.apiKeys.find().sort({ _id: 1 }).toArray()) as unknown as ApiKeyDoc[]).map(apiKeyRecord);
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | null> {
    const doc = (await this.c.apiKeys.findOne({ hash })) as unknown as ApiKeyDoc | null;
    return doc ? apiKeyRecord(doc) : null;
  }

  async activeApiKeyIds(ids: readonly string[]): Promise<string[]> {
    return (await this.c.apiKeys.find({ _id: { $in: oids(ids) }, revokedAt: null }, { projection: { _id: 1 } }).toArray()).map((doc) => String(doc._id));
  }

  async countApiKeys(): Promise<number> {
    return this.c.apiKeys.countDocuments();
  }

  async changeToken(): Promise<string> {
    const [event, commands, building] = await Promise.all([
      this.c.events.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next(),
      this.c.counters.findOne({ _id: "commands" as never }),
      this.c.segments.countDocuments({ status: "BUILDING" }),
    ]);
    // The leader's change stream is read ahead here, so new contact changes change the token.
    const pending = await this.engine.readAhead();
    return `${event?._id ?? 0}|${(commands as { seq?: number } | null)?.seq ?? 0}|${building}|${pending}`;
  }

  async close(): Promise<void> {
    await this.engine.close();
    await this.connection.close();
  }
}
