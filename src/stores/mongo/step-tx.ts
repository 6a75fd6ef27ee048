/**
 * The engine step's store operations on MongoDB (StepTx), on the typed collections, inside one
 * session transaction per step; the feed is the database's change stream (change-feed.ts),
 * whose batch a step applies and checkpoints with its resume token.
 */
import type { AnyBulkWriteOperation, ClientSession, Document, Filter, MongoClient, ObjectId, WithId } from "mongodb";
import { type Condition, type EvalTime, type FieldRef, segmentRefs, type StoredCondition } from "../../conditions";
import type { ListState, MembershipWrite, PendingEvent, SegmentCompiler } from "../../engine/membership";
import { engineStep, reconcileList } from "../../engine/step";
import type { ContactState, FeedEntry, IdRange, MembershipView, SegmentProgress, StepTx, StoredList, StoredSegment } from "../../engine/step-tx";
import { runAsync } from "../../engine/work";
import { ROW_SPAN } from "../event-runs";
import { ENGINE_LEASE, type EngineStepInput, type EngineStepResult, type Mark, type MembershipOverride, type SegmentType } from "../port";
import { ChangeFeed, type ChangeStreamLike, type FeedBatch, type FeedPosition } from "./change-feed";
import { previousMark, timestampMark, tokenMark } from "./change-events";
import { type Collections, ENGINE_STATE_ID, type EngineStateDoc, type JoinDoc, type OverrideDoc, type SegmentDoc } from "./collections";
import { compileMongoFilter, fieldPath, mongoValue } from "./condition-filter";
import { type ContactDoc, factsOfDoc } from "./documents";
import { oid } from "./records";
import { appendToBuckets, BUCKET_SIZE } from "./static-buckets";

/** The mark before any change. */
export const FIRST_MARK: Mark = "0".repeat(16);

/** A segment document as the engine reads it (`hasOverrides`: whether any contact has an override in it). */
export function storedSegment(doc: WithId<SegmentDoc>, hasOverrides: boolean): StoredSegment {
  return {
    id: doc._id.toHexString(),
    listId: doc.listId.toHexString(),
    type: doc.type,
    status: doc.status,
    condition: doc.condition,
    memberCount: doc.memberCount,
    nextWakeAt: doc.nextWakeAt ? doc.nextWakeAt.getTime() : null,
    hasOverrides,
    conditionVersion: doc.conditionSeq,
    clockAt: doc.clockAt.getTime(),
    buildCursor: doc.buildCursor ? doc.buildCursor.toHexString() : null,
  };
}

/** A store id the engine handed back, as an ObjectId (engine ids always name documents). */
function id(value: string): ObjectId {
  const parsed = oid(value);
  if (!parsed) throw new Error(`not an ObjectId: ${value}`);
  return parsed;
}

const ids = (values: readonly string[]) => values.map(id);

/** A stored value as the condition language sees it (Dates as epoch ms). */
function plain(value: unknown): string | number | null {
  if (value instanceof Date) return value.getTime();
  return typeof value === "string" || typeof value === "number" ? value : null;
}

/** The value at a dotted path of a document. */
function at(document: Document, path: string): unknown {
  let value: unknown = document;
  for (const part of path.split(".")) value = value === null || typeof value !== "object" ? undefined : (value as Document)[part];
  return value;
}

function idRange(range: IdRange): Filter<ContactDoc> {
  const bounds: { $gt?: ObjectId; $lte?: ObjectId } = {};
  if (range.after !== null) bounds.$gt = id(range.after);
  if (range.upTo !== null) bounds.$lte = id(range.upTo);
  return range.after === null && range.upTo === null ? {} : { _id: bounds };
}

/** Every override in a segment, by contact. */
export async function overridesIn(c: Collections, segmentId: ObjectId, session?: ClientSession): Promise<Map<string, MembershipOverride>> {
  const docs = await c.overrides.find({ segmentId }, { session, projection: { contactId: 1, included: 1 } }).toArray();
  return new Map(docs.map((o) => [o.contactId.toHexString(), o.included ? "INCLUDED" : "EXCLUDED"]));
}

/**
 * The segments each contact belongs to (DYNAMIC memberships and STATIC buckets), by contact id:
 * what a step compares with, and what Contact.segments reads.
 */
export async function segmentsOfContacts(c: Collections, contactIds: readonly ObjectId[], session?: ClientSession): Promise<Map<string, Set<string>>> {
  const byContact = new Map<string, Set<string>>();
  const add = (contactId: ObjectId, segmentId: ObjectId) => {
    const key = contactId.toHexString();
    let segments = byContact.get(key);
    if (!segments) byContact.set(key, (segments = new Set()));
    segments.add(segmentId.toHexString());
  };
  for (let i = 0; i < contactIds.length; i += 5_000) {
    const chunk = contactIds.slice(i, i + 5_000);
    for (const m of await c.memberships.find({ contactId: { $in: chunk } }, { session }).toArray()) add(m.contactId, m.segmentId);
    const wanted = new Set(chunk.map((contactId) => contactId.toHexString()));
    for (const b of await c.buckets.find({ contactIds: { $in: chunk } }, { session, projection: { segmentId: 1, contactIds: 1 } }).toArray()) {
      for (const contactId of b.contactIds) if (wanted.has(contactId.toHexString())) add(contactId, b.segmentId);
    }
  }
  return byContact;
}

/** Writes ascending contact ids into a STATIC segment's buckets from bucket `first` on; returns how many buckets the segment then has. */
export async function fillBuckets(c: Collections, segmentId: ObjectId, contactIds: readonly ObjectId[], first: number, session?: ClientSession): Promise<number> {
  const writes = appendToBuckets(contactIds, first - 1, BUCKET_SIZE);
  if (writes.length > 0) await c.buckets.insertMany(writes.map((write) => ({ segmentId, bucket: write.bucket, contactIds: write.ids })), { session });
  const buckets = first + writes.length;
  await c.segments.updateOne({ _id: segmentId }, { $set: { buckets } }, { session });
  return buckets;
}

/** A DYNAMIC segment's members, ascending. */
export async function dynamicMembers(c: Collections, segmentId: ObjectId, session?: ClientSession): Promise<ObjectId[]> {
  return (await c.memberships.find({ segmentId }, { session, projection: { contactId: 1 } }).sort({ contactId: 1 }).toArray()).map((m) => m.contactId);
}

/**
 * The members of the segments a condition references with inSegment, for compileMongoFilter;
 * with a range, only those in it. A query's `$in` holds them, so one referenced segment of more
 * than about 700,000 members exceeds MongoDB's 16 MB command size.
 */
export async function referencedMembers(c: Collections, condition: Condition, range: IdRange | null, session?: ClientSession): Promise<Map<string, ObjectId[]>> {
  const members = new Map<string, ObjectId[]>();
  // Ids compare as their fixed-width hex.
  const inRange = (contactId: ObjectId) => {
    const hex = contactId.toHexString();
    return !range || ((range.after === null || hex > range.after) && (range.upTo === null || hex <= range.upTo));
  };
  const bounds = range && (range.after !== null || range.upTo !== null) ? { contactId: { ...(range.after !== null ? { $gt: id(range.after) } : {}), ...(range.upTo !== null ? { $lte: id(range.upTo) } : {}) } } : {};
  for (const segmentId of segmentRefs(condition)) {
    const segment = id(segmentId);
    const doc = await c.segments.findOne({ _id: segment }, { session, projection: { type: 1 } });
    members.set(
      segmentId,
      doc?.type === "STATIC"
        ? (await c.buckets.find({ segmentId: segment }, { session }).toArray()).flatMap((bucket) => bucket.contactIds.filter(inRange))
        : (await c.memberships.find({ segmentId: segment, ...bounds }, { session, projection: { contactId: 1 } }).toArray()).map((m) => m.contactId),
    );
  }
  return members;
}

/** Segment documents as the engine reads them, with whether each has overrides (one query for all). */
export async function storedSegments(c: Collections, docs: readonly WithId<SegmentDoc>[], session?: ClientSession): Promise<StoredSegment[]> {
  if (docs.length === 0) return [];
  const withOverrides = new Set((await c.overrides.distinct("segmentId", { segmentId: { $in: docs.map((doc) => doc._id) } }, { session })).map((segmentId) => segmentId.toHexString()));
  return docs.map((doc) => storedSegment(doc, withOverrides.has(doc._id.toHexString())));
}

export class MongoStepTx implements StepTx {
  readonly lists = new Map<string, ListState | null>();
  private state: WithId<EngineStateDoc> | null = null;

  constructor(
    private readonly c: Collections,
    private readonly session: ClientSession,
    readonly compiler: SegmentCompiler,
    /** The feed changes this step applies (empty for a reconciliation). */
    private readonly batch: FeedBatch,
    /** The mark everything is applied through once the batch is (null: the batch moves it not). */
    private readonly applies: Mark | null,
    /** Changes read from the stream and waiting after this batch. */
    private readonly pendingAfter: number,
  ) {}

  compareIds(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  private get s() {
    return { session: this.session };
  }

  async holdsLease(holder: string, wallNow: number): Promise<boolean> {
    const lease = await this.c.leases.findOne({ _id: ENGINE_LEASE }, this.s);
    return lease !== null && lease.holder === holder && lease.expiresAt.getTime() > wallNow;
  }

  private async engineState(): Promise<WithId<EngineStateDoc> | null> {
    return (this.state ??= await this.c.state.findOne({ _id: ENGINE_STATE_ID }, this.s));
  }

  async clock(): Promise<number> {
    return (await this.engineState())?.clock?.getTime() ?? 0;
  }

  async readFeed(): Promise<FeedEntry[]> {
    const contactIds = this.batch.entries.flatMap((change) => (change.kind === "contact" ? [change.contactId] : []));
    // A contact that is gone has no list to read: it is found through the segments it was in.
    const listOfGone = new Map<string, string>();
    if (contactIds.length > 0) {
      const existing = new Set((await this.c.contacts.find({ _id: { $in: contactIds } }, { ...this.s, projection: { _id: 1 } }).toArray()).map((doc) => doc._id.toHexString()));
      const gone = contactIds.filter((contactId) => !existing.has(contactId.toHexString()));
      if (gone.length > 0) {
        const segmentOf = new Map<string, ObjectId>();
        for (const m of await this.c.memberships.find({ contactId: { $in: gone } }, this.s).toArray()) segmentOf.set(m.contactId.toHexString(), m.segmentId);
        for (const b of await this.c.buckets.find({ contactIds: { $in: gone } }, { ...this.s, projection: { segmentId: 1, contactIds: 1 } }).toArray()) {
          for (const contactId of b.contactIds) segmentOf.set(contactId.toHexString(), b.segmentId);
        }
        const segmentIds = [...new Set([...segmentOf.values()].map((segmentId) => segmentId.toHexString()))];
        const listOf = new Map<string, string>();
        for (const s of await this.c.segments.find({ _id: { $in: ids(segmentIds) } }, { ...this.s, projection: { listId: 1 } }).toArray()) listOf.set(s._id.toHexString(), s.listId.toHexString());
        for (const [contactId, segmentId] of segmentOf) {
          const listId = listOf.get(segmentId.toHexString());
          if (listId) listOfGone.set(contactId, listId);
        }
      }
    }
    const entries: FeedEntry[] = [];
    for (const change of this.batch.entries) {
      if (change.kind === "contact") {
        const contactId = change.contactId.toHexString();
        entries.push({ kind: "contact", contactId, listId: listOfGone.get(contactId) ?? null, added: change.added, changed: null });
      } else if (change.kind === "command") {
        const { command } = change;
        const segmentId = command.segmentId.toHexString();
        if (command.kind === "members") entries.push({ kind: "members", segmentId, edit: command.edit, contactIds: command.contactIds.map((contactId) => contactId.toHexString()) });
        else if (command.kind === "freeze") entries.push({ kind: "freeze", segmentId, at: command.at === null ? null : command.at.getTime() });
        else entries.push({ kind: "condition", segmentId, condition: command.condition, version: command._id });
      }
    }
    return entries;
  }

  async saveCheckpoint(clock: number): Promise<Mark> {
    const state = await this.engineState();
    const { token, entries } = this.batch;
    const applied = this.applies ?? state?.applied ?? FIRST_MARK;
    await this.c.state.updateOne(
      { _id: ENGINE_STATE_ID },
      {
        $set: { clock: new Date(clock), applied, pending: this.pendingAfter, ...(token !== null ? { resumeToken: token, startAtOperationTime: null } : {}) },
        $inc: { processed: entries.length },
      },
      { ...this.s, upsert: true },
    );
    // Applied commands are needed by no one.
    const commands = entries.flatMap((change) => (change.kind === "command" ? [change.command._id] : []));
    if (commands.length > 0) await this.c.commands.deleteMany({ _id: { $in: commands } }, this.s);
    return applied;
  }

  async readList(listId: string): Promise<StoredList | null> {
    const list = await this.c.lists.findOne({ _id: id(listId) }, { ...this.s, projection: { customFields: 1, timeZone: 1 } });
    if (!list) return null;
    const segments = await this.c.segments.find({ listId: id(listId) }, this.s).sort({ _id: 1 }).toArray();
    return { customFields: list.customFields, timeZone: list.timeZone ?? "UTC", segments: await storedSegments(this.c, segments, this.session) };
  }

  async segment(segmentId: string): Promise<StoredSegment | null> {
    const doc = await this.c.segments.findOne({ _id: id(segmentId) }, this.s);
    return doc ? (await storedSegments(this.c, [doc], this.session))[0]! : null;
  }

  async dueSegments(clock: number): Promise<StoredSegment[]> {
    return storedSegments(this.c, await this.c.segments.find({ type: "DYNAMIC", status: "READY", nextWakeAt: { $lte: new Date(clock) } }, this.s).sort({ _id: 1 }).toArray(), this.session);
  }

  async oldestBuilding(): Promise<StoredSegment | null> {
    const doc = await this.c.segments.find({ status: "BUILDING" }, this.s).sort({ _id: 1 }).limit(1).next();
    return doc ? (await storedSegments(this.c, [doc], this.session))[0]! : null;
  }

  async hasBuilding(): Promise<boolean> {
    return (await this.c.segments.countDocuments({ status: "BUILDING" }, { ...this.s, limit: 1 })) > 0;
  }

  async dueFreezes(clock: number): Promise<StoredSegment[]> {
    return storedSegments(this.c, await this.c.segments.find({ type: "DYNAMIC", status: "READY", freezeAt: { $lte: new Date(clock) } }, this.s).sort({ _id: 1 }).toArray(), this.session);
  }

  async setFreezeAt(segmentId: string, at: number | null): Promise<void> {
    await this.c.segments.updateOne({ _id: id(segmentId) }, { $set: { freezeAt: at === null ? null : new Date(at) } }, this.s);
  }

  async freeze(segmentId: string, clock: number): Promise<void> {
    const segment = id(segmentId);
    // A STATIC segment keeps its members in buckets, in ascending order.
    await fillBuckets(this.c, segment, await dynamicMembers(this.c, segment, this.session), 0, this.session);
    await this.c.memberships.deleteMany({ segmentId: segment }, this.s);
    await this.c.overrides.deleteMany({ segmentId: segment }, this.s);
    const at = new Date(clock);
    await this.c.segments.updateOne({ _id: segment }, { $set: { type: "STATIC", frozenAt: at, freezeAt: null, nextWakeAt: null, updatedAt: at } }, this.s);
  }

  async nextWakeAt(): Promise<number | null> {
    const earliest = async (field: "nextWakeAt" | "freezeAt") => {
      const doc = await this.c.segments
        .find({ type: "DYNAMIC", status: "READY", [field]: { $ne: null } }, { ...this.s, projection: { [field]: 1 } })
        .sort({ [field]: 1 })
        .limit(1)
        .next();
      return doc?.[field]?.getTime() ?? null;
    };
    const times = [await earliest("nextWakeAt"), await earliest("freezeAt")].filter((time): time is number => time !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }

  async contacts(contactIds: readonly string[]): Promise<Map<string, ContactState>> {
    const contacts = new Map<string, ContactState>();
    for (let i = 0; i < contactIds.length; i += 5_000) {
      for (const doc of await this.c.contacts.find({ _id: { $in: ids(contactIds.slice(i, i + 5_000)) } }, this.s).toArray()) {
        contacts.set(doc._id.toHexString(), { id: doc._id.toHexString(), listId: doc.listId.toHexString(), facts: factsOfDoc(doc) });
      }
    }
    return contacts;
  }

  async existing(contactIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < contactIds.length; i += 5_000) {
      const docs = await this.c.contacts.find({ _id: { $in: ids(contactIds.slice(i, i + 5_000)) } }, { ...this.s, projection: { _id: 1 } }).toArray();
      for (const doc of docs) found.add(doc._id.toHexString());
    }
    return found;
  }

  async memberships(contactIds: readonly string[]): Promise<MembershipView> {
    const byContact = await segmentsOfContacts(this.c, ids(contactIds), this.session);
    const none = new Set<string>();
    return { of: (contactId) => byContact.get(contactId) ?? none };
  }

  async contactsInRange(listId: string, field: FieldRef, above: string | number, upTo: string | number): Promise<ContactState[]> {
    const path = fieldPath(field);
    const docs = await this.c.contacts.find({ listId: id(listId), [path]: { $gt: mongoValue(field, above), $lte: mongoValue(field, upTo) } }, this.s).toArray();
    return docs.map((doc) => ({ id: doc._id.toHexString(), listId, facts: factsOfDoc(doc) }));
  }

  async smallestAbove(listId: string, field: FieldRef, threshold: string | number): Promise<string | number | null> {
    const path = fieldPath(field);
    const doc = await this.c.contacts
      .find({ listId: id(listId), [path]: { $gt: mongoValue(field, threshold) } }, { ...this.s, projection: { [path]: 1 } })
      .sort({ [path]: 1 })
      .limit(1)
      .next();
    return doc ? plain(at(doc, path)) : null;
  }

  async matching(listId: string, condition: Condition, when: EvalTime, range: IdRange, limit: number): Promise<string[]> {
    const members = await referencedMembers(this.c, condition, range, this.session);
    const cursor = this.c.contacts
      .find({ $and: [{ listId: id(listId) }, idRange(range), compileMongoFilter(condition, when, members)] }, { ...this.s, projection: { _id: 1 } })
      .sort({ _id: 1 });
    if (Number.isFinite(limit)) cursor.limit(limit);
    return (await cursor.toArray()).map((doc) => doc._id.toHexString());
  }

  async members(segmentId: string, after: string | null, limit: number): Promise<string[]> {
    const segment = await this.c.segments.findOne({ _id: id(segmentId) }, { ...this.s, projection: { type: 1 } });
    if (segment?.type === "STATIC") {
      // Buckets hold ascending ids, and later buckets higher ones (static-buckets.ts).
      const found: string[] = [];
      for await (const bucket of this.c.buckets.find({ segmentId: id(segmentId) }, this.s).sort({ bucket: 1 })) {
        for (const contactId of bucket.contactIds) {
          const hex = contactId.toHexString();
          if (after === null || hex > after) found.push(hex);
          if (found.length >= limit) return found;
        }
      }
      return found;
    }
    const docs = await this.c.memberships
      .find({ segmentId: id(segmentId), ...(after === null ? {} : { contactId: { $gt: id(after) } }) }, { ...this.s, projection: { contactId: 1 } })
      .sort({ contactId: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => doc.contactId.toHexString());
  }

  async chunkEnd(listId: string, after: string | null, count: number): Promise<string | null> {
    const doc = await this.c.contacts
      .find({ listId: id(listId), ...(after === null ? {} : { _id: { $gt: id(after) } }) }, { ...this.s, projection: { _id: 1 } })
      .sort({ _id: 1 })
      .skip(count - 1)
      .limit(1)
      .next();
    return doc ? doc._id.toHexString() : null;
  }

  async replaceMembers(segment: { id: string; type: SegmentType }, range: IdRange, matching: readonly string[]): Promise<{ inserted: number; removed: number }> {
    const segmentId = id(segment.id);
    if (segment.type === "STATIC") {
      // A STATIC segment is built once, in ascending chunks: its members are appended.
      const tail = await this.c.buckets.find({ segmentId }, { ...this.s, projection: { bucket: 1, contactIds: 1 } }).sort({ bucket: -1 }).limit(1).next();
      let buckets = 0;
      for (const write of appendToBuckets(ids(matching), tail?.bucket ?? -1, tail?.contactIds.length ?? BUCKET_SIZE)) {
        await this.c.buckets.updateOne({ segmentId, bucket: write.bucket }, { $push: { contactIds: { $each: write.ids } } }, { ...this.s, upsert: true });
        buckets = write.bucket + 1;
      }
      if (buckets > 0) await this.c.segments.updateOne({ _id: segmentId }, { $max: { buckets } }, this.s);
      return { inserted: matching.length, removed: 0 };
    }
    const bounds = idRange(range)._id;
    const current = new Set(
      (await this.c.memberships.find({ segmentId, ...(bounds ? { contactId: bounds } : {}) }, { ...this.s, projection: { contactId: 1 } }).toArray()).map((m) => m.contactId.toHexString()),
    );
    const wanted = new Set(matching);
    const removed = [...current].filter((contactId) => !wanted.has(contactId));
    const added = matching.filter((contactId) => !current.has(contactId));
    if (removed.length > 0) await this.c.memberships.deleteMany({ segmentId, contactId: { $in: ids(removed) } }, this.s);
    if (added.length > 0) await this.c.memberships.insertMany(added.map((contactId) => ({ segmentId, contactId: id(contactId) })), this.s);
    return { inserted: added.length, removed: removed.length };
  }

  async saveBuild(segmentId: string, cursor: string, memberCount: number): Promise<void> {
    await this.c.segments.updateOne({ _id: id(segmentId) }, { $set: { buildCursor: id(cursor), memberCount } }, this.s);
  }

  async finishBuild(segmentId: string, memberCount: number, nextWakeAt: number | null, clock: number): Promise<void> {
    await this.c.segments.updateOne(
      { _id: id(segmentId) },
      { $set: { status: "READY", buildCursor: null, memberCount, nextWakeAt: nextWakeAt === null ? null : new Date(nextWakeAt), builtAt: new Date(clock) } },
      this.s,
    );
    await this.c.joins.deleteMany({ segmentId: id(segmentId) }, this.s);
  }

  async restartBuild(segmentId: string, condition: StoredCondition, version: number, clock: number): Promise<void> {
    const at = new Date(clock);
    await this.c.segments.updateOne({ _id: id(segmentId) }, { $set: { condition, conditionSeq: version, buildCursor: null, clockAt: at, updatedAt: at } }, this.s);
  }

  async setCondition(segmentId: string, condition: StoredCondition, version: number, clock: number): Promise<void> {
    const at = new Date(clock);
    await this.c.segments.updateOne({ _id: id(segmentId) }, { $set: { condition, conditionSeq: version, clockAt: at, updatedAt: at } }, this.s);
  }

  async setClockAt(segmentId: string, clock: number): Promise<void> {
    await this.c.segments.updateOne({ _id: id(segmentId) }, { $set: { clockAt: new Date(clock) } }, this.s);
  }

  async overridesOf(contactIds: readonly string[]): Promise<Map<string, Map<string, MembershipOverride>>> {
    const byContact = new Map<string, Map<string, MembershipOverride>>();
    for (let i = 0; i < contactIds.length; i += 5_000) {
      for (const o of await this.c.overrides.find({ contactId: { $in: ids(contactIds.slice(i, i + 5_000)) } }, this.s).toArray()) {
        const key = o.contactId.toHexString();
        let ofContact = byContact.get(key);
        if (!ofContact) byContact.set(key, (ofContact = new Map()));
        ofContact.set(o.segmentId.toHexString(), o.included ? "INCLUDED" : "EXCLUDED");
      }
    }
    return byContact;
  }

  overridesIn(segmentId: string): Promise<Map<string, MembershipOverride>> {
    return overridesIn(this.c, id(segmentId), this.session);
  }

  async setOverrides(segmentId: string, overrides: ReadonlyMap<string, MembershipOverride | null>): Promise<void> {
    const segment = id(segmentId);
    const writes: AnyBulkWriteOperation<OverrideDoc>[] = [...overrides].map(([contactId, override]) =>
      override === null
        ? { deleteOne: { filter: { segmentId: segment, contactId: id(contactId) } } }
        : { updateOne: { filter: { segmentId: segment, contactId: id(contactId) }, update: { $set: { included: override === "INCLUDED" } }, upsert: true } },
    );
    if (writes.length > 0) await this.c.overrides.bulkWrite(writes, { ...this.s, ordered: false });
  }

  async forgetContacts(contactIds: readonly string[], segmentIds: readonly string[]): Promise<void> {
    const filter = { segmentId: { $in: ids(segmentIds) }, contactId: { $in: ids(contactIds) } };
    await this.c.overrides.deleteMany(filter, this.s);
    await this.c.joins.deleteMany(filter, this.s);
  }

  async writeMemberships(writes: readonly MembershipWrite[], clock: number): Promise<void> {
    const rows: AnyBulkWriteOperation<{ segmentId: ObjectId; contactId: ObjectId }>[] = [];
    // STATIC members join only by hand; they are merged into the buckets per segment.
    const joining = new Map<string, ObjectId[]>();
    for (const write of writes) {
      const segmentId = id(write.segmentId);
      const contactId = id(write.contactId);
      if (write.type === "STATIC") {
        if (!write.member) await this.c.buckets.updateOne({ segmentId, contactIds: contactId }, { $pull: { contactIds: contactId } }, this.s);
        else if (joining.has(write.segmentId)) joining.get(write.segmentId)!.push(contactId);
        else joining.set(write.segmentId, [contactId]);
        continue;
      }
      rows.push(write.member ? { insertOne: { document: { segmentId, contactId } } } : { deleteOne: { filter: { segmentId, contactId } } });
    }
    if (rows.length > 0) await this.c.memberships.bulkWrite(rows, { ...this.s, ordered: false });
    for (const [segmentId, contactIds] of joining) await this.joinBuckets(id(segmentId), contactIds);
    // When each member joined is kept with the membership (members a build took in have none).
    const joinedAt = new Date(clock);
    const joins: AnyBulkWriteOperation<JoinDoc>[] = writes.flatMap((write) =>
      write.member ? [{ updateOne: { filter: { segmentId: id(write.segmentId), contactId: id(write.contactId) }, update: { $set: { joinedAt } }, upsert: true } }] : [],
    );
    if (joins.length > 0) await this.c.joins.bulkWrite(joins, { ...this.s, ordered: false });
  }

  /**
   * Merges contacts into a STATIC segment's buckets, keeping every bucket in ascending id order
   * (pages read them newest first): the buckets from the first one the new ids fall into are
   * written again.
   */
  private async joinBuckets(segmentId: ObjectId, contactIds: readonly ObjectId[]): Promise<void> {
    const compare = (a: ObjectId, b: ObjectId) => Buffer.compare(a.id, b.id);
    const joining = [...contactIds].sort(compare);
    const buckets = await this.c.buckets.find({ segmentId }, { ...this.s, projection: { bucket: 1, contactIds: 1 } }).sort({ bucket: 1 }).toArray();
    // The first bucket whose last id is above the smallest new id (the new ids may all go after the last one).
    let from = buckets.findIndex((b) => b.contactIds.length > 0 && compare(b.contactIds[b.contactIds.length - 1]!, joining[0]!) > 0);
    if (from < 0) from = Math.max(0, buckets.length - 1);
    const kept = buckets.slice(from).flatMap((b) => b.contactIds);
    const merged: ObjectId[] = [];
    for (let i = 0, j = 0; i < kept.length || j < joining.length; ) {
      if (j >= joining.length || (i < kept.length && compare(kept[i]!, joining[j]!) < 0)) merged.push(kept[i++]!);
      else if (i < kept.length && compare(kept[i]!, joining[j]!) === 0) j++;
      else merged.push(joining[j++]!);
    }
    const first = buckets[from]?.bucket ?? 0;
    await this.c.buckets.deleteMany({ segmentId, bucket: { $gte: first } }, this.s);
    await fillBuckets(this.c, segmentId, merged, first, this.session);
  }

  async lastEventPosition(): Promise<number> {
    const counter = await this.c.counters.findOne({ _id: "events" }, this.s);
    if (!counter || counter.seq === 0) return 0;
    const last = await this.c.events.findOne({ _id: counter.seq }, { ...this.s, projection: { count: 1 } });
    // Removed by retention: unknown, and the feed reads the log again.
    return last ? counter.seq * ROW_SPAN + last.count - 1 : -1;
  }

  async appendEventRuns(runs: readonly PendingEvent[][]): Promise<number[]> {
    const counter = await this.c.counters.findOneAndUpdate({ _id: "events" }, { $inc: { seq: runs.length } }, { ...this.s, upsert: true, returnDocument: "after" });
    const first = counter!.seq - runs.length + 1;
    await this.c.events.insertMany(
      runs.map((run, r) => {
        const head = run[0]!;
        return {
          _id: first + r,
          kind: head.kind,
          listId: id(head.listId),
          segmentId: id(head.segmentId),
          reason: head.reason,
          contacts: ids(run.map((event) => event.contactId)),
          count: run.length,
          memberCount: head.memberCount,
          occurredAt: new Date(head.occurredAt),
        };
      }),
      this.s,
    );
    return runs.map((_, r) => first + r);
  }

  async updateSegments(progress: readonly SegmentProgress[]): Promise<void> {
    await this.c.segments.bulkWrite(
      progress.map((s) => ({
        updateOne: { filter: { _id: id(s.id) }, update: { $set: { memberCount: s.memberCount, nextWakeAt: s.nextWakeAt === null ? null : new Date(s.nextWakeAt) } } },
      })),
      this.s,
    );
  }
}

/** Runs engine steps on MongoDB: the change feed, each step in one session transaction, and the reconciliation a lost feed needs. */
export class MongoEngine {
  private readonly feed: ChangeFeed;

  constructor(
    private readonly client: MongoClient,
    private readonly c: Collections,
    private readonly compiler: SegmentCompiler,
    private readonly watch: (position: FeedPosition) => ChangeStreamLike,
  ) {
    this.feed = new ChangeFeed((position) => this.watch(position));
  }

  get pendingChanges(): number {
    return this.feed.pending;
  }

  /** Reads what the stream has ready (leader only); returns how many changes wait. */
  async readAhead(): Promise<number> {
    if (this.feed.isOpen) await this.feed.fill();
    return this.feed.pending;
  }

  async close(): Promise<void> {
    await this.feed.close();
  }

  private async inTransaction<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = this.client.startSession();
    try {
      return await session.withTransaction(() => work(session));
    } finally {
      await session.endSession();
    }
  }

  /** The cluster's current time, captured before a full reconciliation so nothing after it is missed. */
  private async clusterTime() {
    const session = this.client.startSession();
    try {
      await this.c.state.findOne({ _id: ENGINE_STATE_ID }, { session });
      const time = session.operationTime;
      if (!time) throw new Error("the deployment reported no cluster time (a replica set or sharded cluster is needed)");
      return time;
    } finally {
      await session.endSession();
    }
  }

  /** Opens the stream where the checkpoint says, or captures a time, reconciles, and starts there. */
  private async ensureFeed(input: EngineStepInput): Promise<void> {
    if (this.feed.isOpen && !this.feed.isLost) return;
    const state = await this.c.state.findOne({ _id: ENGINE_STATE_ID });
    if (!this.feed.isLost && state?.resumeToken) return this.feed.start({ resumeAfter: state.resumeToken });
    if (!this.feed.isLost && state?.startAtOperationTime) return this.feed.start({ startAtOperationTime: state.startAtOperationTime });
    // No usable position (first start, or the token fell off the oplog): reconcile from scratch.
    const time = await this.clusterTime();
    await this.reconcileAll(input);
    await this.c.state.updateOne(
      { _id: ENGINE_STATE_ID },
      { $set: { resumeToken: null, startAtOperationTime: time, applied: timestampMark(time) } },
      { upsert: true },
    );
    await this.feed.restart({ startAtOperationTime: time });
  }

  async step(input: EngineStepInput): Promise<EngineStepResult> {
    const lease = await this.c.leases.findOne({ _id: ENGINE_LEASE });
    if (!lease || lease.holder !== input.holder || lease.expiresAt.getTime() <= input.wallNow) {
      return { leader: false, changes: 0, events: [], previousEvent: 0, more: false, nextWakeAt: null, applied: null };
    }
    await this.ensureFeed(input);
    await this.feed.fill();
    const batch = this.feed.peek(input.maxChanges);
    const pendingAfter = this.feed.pending - batch.entries.length;
    // Applied through the last change's cluster time, or only up to it while changes of that
    // time (the rest of its transaction) have not been applied.
    const last = batch.entries[batch.entries.length - 1];
    const lastMark = last ? tokenMark(last.token) : null;
    const applies = lastMark === null ? null : this.feed.endsClusterTime(batch) ? lastMark : previousMark(lastMark);
    // A transaction retried by the driver starts over with a fresh StepTx.
    const result = await this.inTransaction((session) => runAsync(engineStep(new MongoStepTx(this.c, session, this.compiler, batch, applies, pendingAfter), input)));
    if (result.leader) this.feed.ack(batch);
    if (this.feed.isLost) result.more = true;
    return result;
  }

  /**
   * Full re-evaluation with diff, list by list, for when the stream has no usable position:
   * publishes the true transitions (its events are read by the event feed from the log).
   */
  private async reconcileAll(input: EngineStepInput): Promise<PendingEvent[]> {
    const events: PendingEvent[] = [];
    for (const { _id: listId } of await this.c.lists.find({}, { projection: { _id: 1 } }).toArray()) {
      const empty: FeedBatch = { entries: [], token: null };
      events.push(...(await this.inTransaction((session) => runAsync(reconcileList(new MongoStepTx(this.c, session, this.compiler, empty, null, 0), listId.toHexString(), input.now)))));
    }
    return events;
  }
}
