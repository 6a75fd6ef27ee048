/** Webhooks on MongoDB: the `webhooks` and `webhook_deliveries` collections. */
import type { ClientSession, Filter, MongoClient, ObjectId, WithId } from "mongodb";
import { eventsAfterIn, ROW_SPAN } from "../event-runs";
import { WEBHOOK_LOG_SIZE, type WebhookDeliveryRecord, type WebhookEventFilter, type WebhookProgress, type WebhookRecord } from "../port";
import type { Collections, EventDoc, WebhookDoc } from "./collections";
import { oid, oids } from "./records";

const date = (ms: number | null) => (ms === null ? null : new Date(ms));
const time = (at: Date | null | undefined) => at?.getTime() ?? null;

function webhookRecord(doc: WithId<WebhookDoc>): WebhookRecord {
  return {
    id: doc._id.toHexString(),
    listId: doc.listId.toHexString(),
    segmentIds: doc.segmentIds ? doc.segmentIds.map((id) => id.toHexString()) : null,
    url: doc.url,
    secret: doc.secret,
    status: doc.status,
    position: doc.position,
    acknowledgedThrough: doc.acknowledgedThrough ?? null,
    batch: doc.batch ?? null,
    failingSince: time(doc.failingSince),
    nextAttemptAt: time(doc.nextAttemptAt),
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

export class MongoWebhooks {
  constructor(
    private readonly client: MongoClient,
    private readonly c: Collections,
  ) {}

  async create(input: { listId: string; segmentIds: string[] | null; url: string; secret: string; position: number }, now: number): Promise<WebhookRecord> {
    const doc: WebhookDoc = {
      listId: oid(input.listId)!,
      segmentIds: input.segmentIds === null ? null : oids(input.segmentIds),
      url: input.url,
      secret: input.secret,
      status: "ACTIVE",
      position: input.position,
      acknowledgedThrough: null,
      batch: null,
      failingSince: null,
      nextAttemptAt: null,
      createdAt: new Date(now),
      updatedAt: new Date(now),
    };
    const { insertedId } = await this.c.webhooks.insertOne(doc);
    return webhookRecord({ ...doc, _id: insertedId });
  }

  async get(ids: readonly string[]): Promise<(WebhookRecord | null)[]> {
    const byId = new Map((await this.c.webhooks.find({ _id: { $in: oids(ids) } }).toArray()).map((doc) => [doc._id.toHexString(), webhookRecord(doc)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async ofList(listId: string): Promise<WebhookRecord[]> {
    const id = oid(listId);
    return id ? (await this.c.webhooks.find({ listId: id }).sort({ _id: 1 }).toArray()).map(webhookRecord) : [];
  }

  async activeIds(): Promise<string[]> {
    return (await this.c.webhooks.find({ status: { $ne: "DISABLED" } }, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((doc) => doc._id.toHexString());
  }

  async setEnabled(id: string, enabled: boolean, now: number): Promise<WebhookRecord | null> {
    const _id = oid(id);
    if (!_id) return null;
    const at = new Date(now);
    const doc = enabled
      ? await this.c.webhooks.findOneAndUpdate(
          { _id, status: "DISABLED" },
          { $set: { status: "ACTIVE", batch: null, failingSince: null, nextAttemptAt: null, updatedAt: at } },
          { returnDocument: "after" },
        )
      : await this.c.webhooks.findOneAndUpdate({ _id, status: { $ne: "DISABLED" } }, { $set: { status: "DISABLED", updatedAt: at } }, { returnDocument: "after" });
    return doc ? webhookRecord(doc) : ((await this.get([id]))[0] ?? null);
  }

  async saveProgress(id: string, expectedBatch: string | null, progress: WebhookProgress, delivery: WebhookDeliveryRecord | null, now: number): Promise<WebhookRecord | null> {
    const _id = oid(id);
    if (!_id) return null;
    const at = new Date(now);
    const session = this.client.startSession();
    try {
      return await session.withTransaction(async () => {
        const moved = {
          position: { $max: ["$position", progress.position] },
          updatedAt: at,
          ...(progress.acknowledged ? { acknowledgedThrough: { $max: [{ $ifNull: ["$acknowledgedThrough", 0] }, progress.position] } } : {}),
        };
        const sameBatch: Filter<WebhookDoc> = expectedBatch === null ? { _id, batch: null } : { _id, "batch.id": expectedBatch };
        let doc = await this.c.webhooks.findOneAndUpdate(
          sameBatch,
          [
            {
              $set: {
                ...moved,
                batch: { $literal: progress.batch },
                // Only enableWebhook ends DISABLED.
                status: { $cond: [{ $eq: ["$status", "DISABLED"] }, "DISABLED", progress.status] },
                failingSince: date(progress.failingSince),
                nextAttemptAt: date(progress.nextAttemptAt),
              },
            },
          ],
          { session, returnDocument: "after" },
        );
        doc ??= await this.c.webhooks.findOneAndUpdate({ _id }, [{ $set: moved }], { session, returnDocument: "after" });
        if (!doc) return null;
        if (delivery) await this.log(_id, delivery, session);
        return webhookRecord(doc);
      });
    } finally {
      await session.endSession();
    }
  }

  async logDelivery(id: string, delivery: WebhookDeliveryRecord): Promise<void> {
    const _id = oid(id);
    if (!_id) return;
    await this.log(_id, delivery);
    // A ping whose webhook was deleted meanwhile leaves no entry behind (the deletion took the others).
    if (!(await this.c.webhooks.findOne({ _id }, { projection: { _id: 1 } }))) await this.c.webhookDeliveries.deleteMany({ webhookId: _id });
  }

  /** Appends to the log and drops what falls out of its last WEBHOOK_LOG_SIZE entries. */
  private async log(webhookId: ObjectId, delivery: WebhookDeliveryRecord, session?: ClientSession): Promise<void> {
    await this.c.webhookDeliveries.insertOne({ webhookId, ...delivery, at: new Date(delivery.at) }, { session });
    const oldestKept = await this.c.webhookDeliveries
      .find({ webhookId }, { session, projection: { _id: 1 } })
      .sort({ _id: -1 })
      .skip(WEBHOOK_LOG_SIZE - 1)
      .limit(1)
      .next();
    if (oldestKept) await this.c.webhookDeliveries.deleteMany({ webhookId, _id: { $lt: oldestKept._id } }, { session });
  }

  async deliveries(id: string, first: number): Promise<WebhookDeliveryRecord[]> {
    const webhookId = oid(id);
    if (!webhookId) return [];
    const docs = await this.c.webhookDeliveries.find({ webhookId }).sort({ _id: -1 }).limit(first).toArray();
    return docs.map(({ deliveryId, attempt, eventCount, statusCode, error, durationMs, at }) => ({ deliveryId, attempt, eventCount, statusCode, error, durationMs, at: at.getTime() }));
  }

  async delete(id: string): Promise<boolean> {
    const _id = oid(id);
    if (!_id) return false;
    const { deletedCount } = await this.c.webhooks.deleteOne({ _id });
    await this.c.webhookDeliveries.deleteMany({ webhookId: _id });
    return deletedCount > 0;
  }

  /** Removes a deleted list's webhooks. */
  async deleteOfList(listId: ObjectId): Promise<void> {
    const ids = (await this.c.webhooks.find({ listId }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id);
    await this.c.webhooks.deleteMany({ listId });
    await this.c.webhookDeliveries.deleteMany({ webhookId: { $in: ids } });
  }

  async countEventsAfter(position: number, filter: WebhookEventFilter): Promise<number> {
    const listId = oid(filter.listId);
    if (!listId) return 0;
    const run = Math.floor(position / ROW_SPAN);
    const scope: Filter<EventDoc> = { listId, kind: { $in: ["ENTERED", "LEFT"] }, ...(filter.segmentIds ? { segmentId: { $in: oids(filter.segmentIds) } } : {}) };
    // The run that holds `position` counts only its events after it.
    const partial = await this.c.events.findOne({ ...scope, _id: run }, { projection: { _id: 1, count: 1 } });
    const [later] = await this.c.events
      .aggregate<{ events: number }>([{ $match: { ...scope, _id: { $gt: run } } }, { $group: { _id: null, events: { $sum: "$count" } } }])
      .toArray();
    return (later?.events ?? 0) + (partial ? eventsAfterIn(partial._id, partial.count, position) : 0);
  }
}
