/**
 * The membership engine's step on MongoDB: due clock flips, a batch from the contacts change
 * stream, pending condition commands and a chunk of a segment build, committed in one
 * transaction with the stream's resume token. Each decision compares a contact's current state
 * (the stream's looked-up document; null when gone) with its stored memberships, so a change
 * seen twice changes nothing.
 */
import type { ClientSession, Document, ObjectId, Timestamp } from "mongodb";
import type { Connection } from "mongoose";
import { type CustomFieldDef, type EvalTime, evalTime, type TimeTrigger } from "../../conditions";
import {
  flipRanges,
  type LiveSegment,
  nextWake,
  type PendingEvent,
  reconcileContact,
  type SegmentCompiler,
  type SegmentRow,
  type ListState,
  StepLog,
  StepTimes,
} from "../../engine/membership";
import { eventRuns, ROW_SPAN } from "../event-runs";
import { ENGINE_LEASE, type EngineStepInput, type EngineStepResult } from "../port";
import { ChangeFeed, type ChangeStreamLike, type FeedBatch, type FeedPosition } from "./change-feed";
import { CONTACT_STREAM_PIPELINE, type FeedEntry } from "./change-events";
import { compileMongoFilter, fieldPath, mongoValue } from "./condition-filter";
import { type ContactDoc, factsOfDoc } from "./documents";
import { collectionsOf, type Models } from "./models";
import { oid, type SegmentDoc } from "./records";
import { appendToBuckets, BUCKET_SIZE } from "./static-buckets";

export interface EngineState {
  processed: number;
  clock: number;
  commandSeq: number;
  resumeToken: unknown;
  startAtOperationTime: unknown;
}

class StepContext extends StepTimes {
  readonly lists = new Map<string, ListState | null>();
  readonly committed: PendingEvent[] = [];
  previousEvent = 0;
  constructor(
    readonly session: ClientSession,
    clock: number,
    readonly log: StepLog,
  ) {
    super(clock);
  }
}

/** A segment document as the membership core reads it. */
export function liveRow(doc: SegmentDoc): SegmentRow {
  return {
    id: doc._id.toHexString(),
    listId: doc.listId.toHexString(),
    type: doc.type,
    status: doc.status,
    condition: doc.condition,
    memberCount: doc.memberCount,
    nextWakeAt: doc.nextWakeAt ? doc.nextWakeAt.getTime() : null,
  };
}

/** A stored value as the condition language sees it (Dates as epoch ms). */
const plain = (value: unknown) => (value instanceof Date ? value.getTime() : (value as string | number | null));

export class MongoEngine {
  private readonly feed: ChangeFeed;

  constructor(
    private readonly connection: Connection,
    private readonly models: Models,
    private readonly compiler: SegmentCompiler,
  ) {
    this.feed = new ChangeFeed((position) => this.openStream(position));
  }

  private get c() {
    return collectionsOf(this.models);
  }

  /**
   * One change stream per process, on contacts, with the fixed pipeline. A short await keeps
   * `tryNext` from holding the engine when nothing happens (it is polled every 50 ms).
   */
  private openStream(position: FeedPosition): ChangeStreamLike {
    return this.c.contacts.watch(CONTACT_STREAM_PIPELINE, { fullDocument: "updateLookup", maxAwaitTimeMS: 25, ...position } as Document) as unknown as ChangeStreamLike;
  }

  get pendingChanges(): number {
    return this.feed.pending;
  }

  /** Reads what the stream has ready (leader only); returns how many changes wait. */
  async readAhead(): Promise<number> {
    if (this.feed.isOpen) await this.feed.fill();
    return this.feed.pending;
  }

  async state(): Promise<EngineState> {
    const doc = (await this.c.state.findOne({ _id: "engine" as never })) as Document | null;
    return {
      processed: doc?.processed ?? 0,
      clock: doc?.clock instanceof Date ? doc.clock.getTime() : 0,
      commandSeq: doc?.commandSeq ?? 0,
      resumeToken: doc?.resumeToken ?? null,
      startAtOperationTime: doc?.startAtOperationTime ?? null,
    };
  }

  async close(): Promise<void> {
    await this.feed.close();
  }

  /** The cluster's current time, captured before a full reconciliation so nothing after it is missed. */
  private async clusterTime(): Promise<Timestamp> {
    const reply = (await this.connection.db!.command({ ping: 1 })) as { operationTime?: Timestamp; $clusterTime?: { clusterTime: Timestamp } };
    return (reply.operationTime ?? reply.$clusterTime!.clusterTime) as Timestamp;
  }

  /** Opens the stream where the checkpoint says, or captures a time, reconciles, and starts there. */
  private async ensureFeed(input: EngineStepInput): Promise<void> {
    if (this.feed.isOpen && !this.feed.isLost) return;
    const state = await this.state();
    if (!this.feed.isLost && state.resumeToken) return this.feed.start({ resumeAfter: state.resumeToken });
    if (!this.feed.isLost && state.startAtOperationTime) return this.feed.start({ startAtOperationTime: state.startAtOperationTime });
    // No usable position (first start, or the token fell off the oplog): reconcile from scratch.
    const time = await this.clusterTime();
    await this.reconcileAll(input);
    await this.c.state.updateOne({ _id: "engine" as never }, { $set: { resumeToken: null, startAtOperationTime: time } });
    await this.feed.restart({ startAtOperationTime: time });
  }

  async step(input: EngineStepInput): Promise<EngineStepResult> {
    const idle: EngineStepResult = { leader: false, changes: 0, events: [], previousEvent: 0, more: false, nextWakeAt: null };
    if (!(await this.holdsLease(input))) return idle;
    await this.ensureFeed(input);
    await this.feed.fill();
    const batch = this.feed.peek(input.maxChanges);
    const session = await this.connection.startSession();
    let result: EngineStepResult;
    try {
      result = (await session.withTransaction(async () => this.run(session as unknown as ClientSession, input, batch))) as EngineStepResult;
    } finally {
      await session.endSession();
    }
    if (result.leader) this.feed.ack(batch);
    if (this.feed.isLost) result.more = true;
    return result;
  }

  private async holdsLease(input: EngineStepInput, session?: ClientSession): Promise<boolean> {
    const lease = (await this.c.leases.findOne({ _id: ENGINE_LEASE as never }, { session })) as { holder: string; expiresAt: Date } | null;
    return !!lease && lease.holder === input.holder && lease.expiresAt.getTime() > input.wallNow;
  }

  private async run(session: ClientSession, input: EngineStepInput, batch: FeedBatch): Promise<EngineStepResult> {
    if (!(await this.holdsLease(input, session))) return { leader: false, changes: 0, events: [], previousEvent: 0, more: false, nextWakeAt: null };
    const state = await this.state();
    const clock = Math.max(state.clock, input.now);
    const ctx = new StepContext(session, clock, new StepLog(clock));

    const due = (await this.c.segments.find({ type: "DYNAMIC", status: "READY", nextWakeAt: { $lte: new Date(clock) } }, { session }).sort({ _id: 1 }).toArray()) as unknown as SegmentDoc[];
    for (const doc of due) await this.clockStep(ctx, doc);
    await this.flush(ctx);

    await this.contactStep(ctx, batch.entries);

    let commandSeq = state.commandSeq;
    const commands = await this.c.commands.find({ _id: { $gt: commandSeq } as never }, { session }).sort({ _id: 1 }).limit(100).toArray();
    for (const command of commands) {
      await this.conditionStep(ctx, command);
      commandSeq = command._id as unknown as number;
    }

    const drained = batch.entries.length < input.maxChanges && commands.length < 100;
    const building = drained ? await this.buildStep(ctx, Math.min(input.buildChunk, 20_000)) : (await this.c.segments.countDocuments({ status: "BUILDING" }, { session })) > 0;
    await this.flush(ctx);

    await this.c.state.updateOne(
      { _id: "engine" as never },
      {
        $set: { clock: new Date(clock), commandSeq, ...(batch.token ? { resumeToken: batch.token, startAtOperationTime: null } : {}) },
        $inc: { processed: batch.entries.length },
      },
      { session, upsert: true },
    );
    const next = (await this.c.segments.find({ type: "DYNAMIC", status: "READY", nextWakeAt: { $ne: null } }, { session, projection: { nextWakeAt: 1 } }).sort({ nextWakeAt: 1 }).limit(1).next()) as { nextWakeAt: Date } | null;
    return {
      leader: true,
      changes: batch.entries.length + commands.length,
      events: ctx.committed,
      previousEvent: ctx.previousEvent,
      more: !drained || building,
      nextWakeAt: next ? next.nextWakeAt.getTime() : null,
    };
  }

  private async listState(ctx: StepContext, listId: ObjectId): Promise<ListState | null> {
    const key = listId.toHexString();
    let state = ctx.lists.get(key);
    if (state === undefined) {
      const list = (await this.c.lists.findOne({ _id: listId }, { session: ctx.session, projection: { customFields: 1, timeZone: 1 } })) as {
        customFields: CustomFieldDef[];
        timeZone?: string;
      } | null;
      if (!list) {
        state = null;
      } else {
        const timeZone = list.timeZone ?? "UTC";
        const docs = (await this.c.segments.find({ listId }, { session: ctx.session }).sort({ _id: 1 }).toArray()) as unknown as SegmentDoc[];
        state = { customFields: list.customFields, timeZone, segments: docs.map((doc) => this.compiler.compile(liveRow(doc), list.customFields, timeZone)) };
      }
      ctx.lists.set(key, state);
    }
    return state;
  }

  /** Memberships of contacts (DYNAMIC rows and STATIC buckets): contact → segment ids. */
  private async membershipsOf(ctx: StepContext, contactIds: ObjectId[], segmentId?: ObjectId): Promise<Map<string, Set<string>>> {
    const result = new Map<string, Set<string>>();
    const add = (contact: string, segment: string) => result.set(contact, (result.get(contact) ?? new Set()).add(segment));
    const scope = segmentId ? { segmentId } : {};
    for (let i = 0; i < contactIds.length; i += 5_000) {
      const ids = contactIds.slice(i, i + 5_000);
      for (const m of await this.c.memberships.find({ ...scope, contactId: { $in: ids } }, { session: ctx.session }).toArray()) add(String(m.contactId), String(m.segmentId));
      const wanted = new Set(ids.map(String));
      for (const b of await this.c.buckets.find({ ...scope, contactIds: { $in: ids } }, { session: ctx.session, projection: { segmentId: 1, contactIds: 1 } }).toArray()) {
        for (const contact of b.contactIds as ObjectId[]) if (wanted.has(String(contact))) add(String(contact), String(b.segmentId));
      }
    }
    return result;
  }

  private async contactStep(ctx: StepContext, entries: readonly FeedEntry[]): Promise<void> {
    const latest = new Map<string, { id: ObjectId; added: boolean; document: ContactDoc | null }>();
    for (const entry of entries) {
      if (entry.kind !== "contact") continue;
      const key = entry.contactId.toHexString();
      const seen = latest.get(key);
      latest.set(key, { id: entry.contactId, added: (seen?.added ?? false) || entry.reason === "CONTACT_ADDED", document: entry.document });
    }
    if (latest.size === 0) return;
    const memberships = await this.membershipsOf(ctx, [...latest.values()].map((c) => c.id));
    // A deleted contact's list is found through the segments it belonged to.
    const segmentLists = new Map<string, ObjectId>();
    const orphanSegments = [...new Set([...memberships.values()].flatMap((set) => [...set]))];
    if (orphanSegments.length > 0) {
      for (const s of await this.c.segments.find({ _id: { $in: orphanSegments.map((id) => oid(id)!) } }, { session: ctx.session, projection: { listId: 1 } }).toArray()) {
        segmentLists.set(String(s._id), s.listId as ObjectId);
      }
    }
    const none = new Set<string>();
    for (const [key, { added, document }] of latest) {
      const before = memberships.get(key) ?? none;
      const listId = document?.listId ?? [...before].map((s) => segmentLists.get(s)).find(Boolean);
      if (!listId) continue;
      const list = await this.listState(ctx, listId);
      if (!list) continue;
      const reason = !document ? "CONTACT_DELETED" : added ? "CONTACT_ADDED" : "CONTACT_UPDATED";
      reconcileContact(key, document ? factsOfDoc(document) : null, before, list.segments, ctx.at(list), reason, ctx.log);
    }
  }

  private smallestAbove(ctx: StepContext, listId: ObjectId) {
    return async (trigger: TimeTrigger, threshold: string | number): Promise<string | number | null> => {
      const path = fieldPath(trigger.field);
      const bound = typeof threshold === "number" ? new Date(threshold) : threshold;
      const doc = await this.c.contacts.find({ listId, [path]: { $gt: bound } }, { session: ctx.session, projection: { [path]: 1 } }).sort({ [path]: 1 }).limit(1).next();
      if (!doc) return null;
      return plain(path.split(".").reduce<unknown>((value, part) => (value as Record<string, unknown>)?.[part], doc));
    };
  }

  private async nextWake(ctx: StepContext, segment: LiveSegment, listId: ObjectId, at: EvalTime): Promise<number | null> {
    const minima = new Map<TimeTrigger, string | number | null>();
    const lookup = this.smallestAbove(ctx, listId);
    for (const trigger of segment.triggers) minima.set(trigger, await lookup(trigger, trigger.threshold(at)));
    return nextWake(segment, at, (trigger) => minima.get(trigger) ?? null);
  }

  private async clockStep(ctx: StepContext, doc: SegmentDoc): Promise<void> {
    const list = await this.listState(ctx, doc.listId);
    const segment = list?.segments.find((s) => s.id === doc._id.toHexString());
    if (!list || !segment) return;
    const at = ctx.at(list);
    const candidates = new Map<string, ContactDoc>();
    for (const range of flipRanges(segment, evalTime(doc.clockAt.getTime(), list.timeZone), at)) {
      const path = fieldPath(range.trigger.field);
      const bound = (value: string | number) => mongoValue(range.trigger.field, value);
      for (const contact of (await this.c.contacts.find({ listId: doc.listId, [path]: { $gt: bound(range.above), $lte: bound(range.upTo) } }, { session: ctx.session }).toArray()) as unknown as ContactDoc[]) {
        candidates.set(contact._id.toHexString(), contact);
      }
    }
    const memberships = await this.membershipsOf(ctx, [...candidates.values()].map((c) => c._id), doc._id);
    for (const [id, contact] of candidates) {
      const member = memberships.get(id)?.has(segment.id) ?? false;
      const matches = segment.predicate(factsOfDoc(contact), at);
      if (matches && !member) ctx.log.enter(segment, id, "TIME_PASSED");
      else if (!matches && member) ctx.log.leave(segment, id, "TIME_PASSED");
    }
    segment.nextWakeAt = await this.nextWake(ctx, segment, doc.listId, at);
    ctx.log.touched.add(segment);
    await this.c.segments.updateOne({ _id: doc._id }, { $set: { clockAt: new Date(ctx.clock) } }, { session: ctx.session });
  }

  /** Applies a new condition and its exact membership difference together. */
  private async conditionStep(ctx: StepContext, command: Document): Promise<void> {
    await this.flush(ctx);
    const doc = (await this.c.segments.findOne({ _id: command.segmentId }, { session: ctx.session })) as unknown as SegmentDoc | null;
    const list = doc ? await this.listState(ctx, doc.listId) : null;
    if (!doc || !list || doc.type !== "DYNAMIC" || (command._id as number) <= doc.conditionSeq) return;
    ctx.lists.delete(doc.listId.toHexString());
    const at = new Date(ctx.clock);
    const evalAt = ctx.at(list);
    if (doc.status === "BUILDING") {
      await this.c.segments.updateOne(
        { _id: doc._id },
        { $set: { condition: command.condition, conditionSeq: command._id, buildCursor: null, clockAt: at, updatedAt: at } },
        { session: ctx.session },
      );
      return;
    }
    const segment = this.compiler.compile({ ...liveRow(doc), condition: command.condition }, list.customFields, list.timeZone);
    const members = new Set((await this.c.memberships.find({ segmentId: doc._id }, { session: ctx.session, projection: { contactId: 1 } }).toArray()).map((m) => String(m.contactId)));
    const matching = new Set(
      (await this.c.contacts.find({ $and: [{ listId: doc.listId }, compileMongoFilter(segment.ast, evalAt)] }, { session: ctx.session, projection: { _id: 1 } }).toArray()).map((c) => String(c._id)),
    );
    // Members whose contact is gone leave through that contact's delete event.
    const existing = new Set(
      (await this.c.contacts.find({ _id: { $in: [...members].filter((id) => !matching.has(id)).map((id) => oid(id)!) } }, { session: ctx.session, projection: { _id: 1 } }).toArray()).map((c) => String(c._id)),
    );
    for (const id of [...members].sort()) if (!matching.has(id) && existing.has(id)) ctx.log.leave(segment, id, "SEGMENT_UPDATED");
    for (const id of [...matching].sort()) if (!members.has(id)) ctx.log.enter(segment, id, "SEGMENT_UPDATED");
    segment.nextWakeAt = segment.triggers.length > 0 ? await this.nextWake(ctx, segment, doc.listId, evalAt) : null;
    ctx.log.touched.add(segment);
    await this.c.segments.updateOne(
      { _id: doc._id },
      { $set: { condition: command.condition, conditionSeq: command._id, clockAt: at, updatedAt: at } },
      { session: ctx.session },
    );
    await this.flush(ctx);
  }

  /** Evaluates the next chunk of the oldest building segment. Returns whether builds remain. */
  private async buildStep(ctx: StepContext, chunk: number): Promise<boolean> {
    // First the step's contact changes: a building segment's member count moves with them, and
    // the chunk counts its entries and exits from the count as stored.
    await this.flush(ctx);
    const doc = (await this.c.segments.find({ status: "BUILDING" }, { session: ctx.session }).sort({ _id: 1 }).limit(1).next()) as unknown as SegmentDoc | null;
    if (!doc) return false;
    const list = await this.listState(ctx, doc.listId);
    if (!list) return true;
    ctx.lists.delete(doc.listId.toHexString());
    const segment = this.compiler.compile(liveRow(doc), list.customFields, list.timeZone);
    // Every chunk evaluates at the build's start; flips since then are applied when it is READY.
    const buildAt = evalTime(doc.clockAt.getTime(), list.timeZone);
    const range = { listId: doc.listId, ...(doc.buildCursor ? { _id: { $gt: doc.buildCursor } } : {}) };
    const ids = (await this.c.contacts.find(range, { session: ctx.session, projection: { _id: 1 } }).sort({ _id: 1 }).limit(chunk).toArray()).map((c) => c._id as ObjectId);
    const last = ids.length < chunk;
    const upTo = ids[ids.length - 1];
    let memberCount = doc.memberCount;
    let buckets = doc.buckets;
    if (upTo) {
      const inChunk = { ...range, _id: { ...(doc.buildCursor ? { $gt: doc.buildCursor } : {}), $lte: upTo } };
      const matching = (await this.c.contacts.find({ $and: [inChunk, compileMongoFilter(segment.ast, buildAt)] }, { session: ctx.session, projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((c) => c._id as ObjectId);
      if (doc.type === "STATIC") {
        const tail = (await this.c.buckets.find({ segmentId: doc._id }, { session: ctx.session, projection: { bucket: 1, size: { $size: "$contactIds" } } }).sort({ bucket: -1 }).limit(1).next()) as { bucket: number; size: number } | null;
        for (const write of appendToBuckets(matching, tail?.bucket ?? -1, tail?.size ?? BUCKET_SIZE)) {
          await this.c.buckets.updateOne({ segmentId: doc._id, bucket: write.bucket }, { $push: { contactIds: { $each: write.ids } } } as Document, { session: ctx.session, upsert: true });
          buckets = Math.max(buckets, write.bucket + 1);
        }
        memberCount += matching.length;
      } else {
        const current = new Set(
          (await this.c.memberships.find({ segmentId: doc._id, contactId: inChunk._id }, { session: ctx.session, projection: { contactId: 1 } }).toArray()).map((m) => String(m.contactId)),
        );
        const wanted = new Set(matching.map(String));
        const removed = [...current].filter((id) => !wanted.has(id));
        const added = matching.filter((id) => !current.has(String(id)));
        if (removed.length > 0) await this.c.memberships.deleteMany({ segmentId: doc._id, contactId: { $in: removed.map((id) => oid(id)!) } }, { session: ctx.session });
        if (added.length > 0) await this.c.memberships.insertMany(added.map((contactId) => ({ segmentId: doc._id, contactId })), { session: ctx.session });
        memberCount += added.length - removed.length;
      }
    }
    if (!last) {
      await this.c.segments.updateOne({ _id: doc._id }, { $set: { buildCursor: upTo, memberCount, buckets } }, { session: ctx.session });
      return true;
    }
    segment.memberCount = memberCount;
    const wake = doc.type === "DYNAMIC" && segment.triggers.length > 0 ? await this.nextWake(ctx, segment, doc.listId, buildAt) : null;
    await this.c.segments.updateOne(
      { _id: doc._id },
      { $set: { status: "READY", buildCursor: null, memberCount, buckets, nextWakeAt: wake === null ? null : new Date(wake) } },
      { session: ctx.session },
    );
    if (wake !== null && wake <= ctx.clock) {
      // Flips that fell due while the segment was building are applied now, as events.
      await this.clockStep(ctx, { ...doc, status: "READY", memberCount, nextWakeAt: new Date(wake), buildCursor: null });
      await this.flush(ctx);
    }
    return (await this.c.segments.countDocuments({ status: "BUILDING" }, { session: ctx.session })) > 0;
  }

  /**
   * Full re-evaluation with diff, for when the stream has no usable position: publishes the true
   * transitions (members whose contact is gone leave every segment, STATIC ones included).
   */
  private async reconcileAll(input: EngineStepInput): Promise<void> {
    for (const { _id: listId } of await this.c.lists.find({}, { projection: { _id: 1 } }).toArray()) {
      const session = await this.connection.startSession();
      try {
        await session.withTransaction(async () => {
          const ctx = new StepContext(session as unknown as ClientSession, input.now, new StepLog(input.now));
          const list = await this.listState(ctx, listId as ObjectId);
          const contacts = new Set((await this.c.contacts.find({ listId }, { session, projection: { _id: 1 } }).toArray()).map((c) => String(c._id)));
          for (const segment of list?.segments ?? []) {
            if (segment.status !== "READY") continue;
            const segmentId = oid(segment.id)!;
            const stored =
              segment.type === "STATIC"
                ? (await this.c.buckets.find({ segmentId }, { session, projection: { contactIds: 1 } }).toArray()).flatMap((b) => (b.contactIds as ObjectId[]).map(String))
                : (await this.c.memberships.find({ segmentId }, { session, projection: { contactId: 1 } }).toArray()).map((m) => String(m.contactId));
            const matching =
              segment.type === "STATIC"
                ? new Set(stored.filter((id) => contacts.has(id)))
                : new Set(
                    (await this.c.contacts.find({ $and: [{ listId }, compileMongoFilter(segment.ast, ctx.at(list!))] }, { session, projection: { _id: 1 } }).toArray()).map((c) =>
                      String(c._id),
                    ),
                  );
            const members = new Set(stored);
            for (const id of [...members].sort()) if (!matching.has(id)) ctx.log.leave(segment, id, contacts.has(id) ? "CONTACT_UPDATED" : "CONTACT_DELETED");
            for (const id of [...matching].sort()) if (!members.has(id)) ctx.log.enter(segment, id, "CONTACT_UPDATED");
          }
          await this.flush(ctx);
        });
      } finally {
        await session.endSession();
      }
    }
  }

  /** Persists what the log holds (memberships, event runs, segment counts and wake-ups). */
  private async flush(ctx: StepContext): Promise<void> {
    const { log, session } = ctx;
    log.settleWakes();
    const types = new Map<string, string>();
    for (const list of ctx.lists.values()) for (const s of list?.segments ?? []) types.set(s.id, s.type);
    for (const s of log.touched) types.set(s.id, s.type);
    const rows: Document[] = [];
    for (const write of log.writes) {
      const segmentId = oid(write.segmentId)!;
      const contactId = oid(write.contactId)!;
      if (types.get(write.segmentId) === "STATIC") {
        // STATIC members only ever leave (their contact was deleted).
        if (!write.member) await this.c.buckets.updateOne({ segmentId, contactIds: contactId }, { $pull: { contactIds: contactId } } as Document, { session });
        continue;
      }
      rows.push(write.member ? { insertOne: { document: { segmentId, contactId } } } : { deleteOne: { filter: { segmentId, contactId } } });
    }
    if (rows.length > 0) await this.c.memberships.bulkWrite(rows as never, { session, ordered: false });
    const runs = eventRuns(log.events);
    if (runs.length > 0) {
      const counter = (await this.c.counters.findOneAndUpdate({ _id: "events" as never }, { $inc: { seq: runs.length } }, { upsert: true, returnDocument: "after", session })) as unknown as { seq: number };
      const first = counter.seq - runs.length + 1;
      if (ctx.committed.length === 0 && first > 1) {
        const previous = (await this.c.events.findOne({ _id: (first - 1) as never }, { session, projection: { count: 1 } })) as { count: number } | null;
        ctx.previousEvent = previous ? (first - 1) * ROW_SPAN + previous.count - 1 : -1;
      }
      await this.c.events.insertMany(
        runs.map((run, r) => {
          const head = run[0]!;
          run.forEach((event, i) => {
            event.seq = (first + r) * ROW_SPAN + i;
            ctx.committed.push(event);
          });
          return {
            _id: (first + r) as never,
            kind: head.kind,
            listId: oid(head.listId)!,
            segmentId: oid(head.segmentId)!,
            reason: head.reason,
            contacts: run.map((event) => oid(event.contactId)!),
            count: run.length,
            memberCount: head.memberCount,
            occurredAt: new Date(head.occurredAt),
          };
        }),
        { session },
      );
    }
    if (log.touched.size > 0) {
      await this.c.segments.bulkWrite(
        [...log.touched].map((s) => ({
          updateOne: { filter: { _id: oid(s.id)! }, update: { $set: { memberCount: s.memberCount, nextWakeAt: s.nextWakeAt === null ? null : new Date(s.nextWakeAt) } } },
        })) as never,
        { session },
      );
    }
    log.clear();
  }
}
