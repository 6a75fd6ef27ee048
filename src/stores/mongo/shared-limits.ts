/**
 * Limits shared by every instance on one MongoDB deployment: rate-limiter-flexible's MongoDB
 * limiter for operations per key, and one document per (key, process) for open WebSocket
 * connections. A connection is counted only after the count across processes is read; two
 * instances admitting the key's last free connection at the same instant may both succeed,
 * so the limit can be passed by the number of instances racing, never more.
 */
import type { Db } from "mongodb";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterMongo } from "rate-limiter-flexible";
import type { SharedLimits } from "../port";

interface ConnectionDoc {
  _id: string;
  key: string;
  holder: string;
  open: number;
  seenAt: Date;
}

export class MongoSharedLimits implements SharedLimits {
  private readonly connections;

  constructor(private readonly db: Db) {
    this.connections = db.collection<ConnectionDoc>("ws_connections");
  }

  rateLimiter({ points, durationSec, keyPrefix }: { points: number; durationSec: number; keyPrefix: string }): RateLimiterAbstract {
    return new RateLimiterMongo({
      storeClient: this.db.client,
      dbName: this.db.databaseName,
      tableName: "rate_limits",
      points,
      duration: durationSec,
      keyPrefix,
      insuranceLimiter: new RateLimiterMemory({ points, duration: durationSec, keyPrefix }),
    });
  }

  async openConnection(key: string, holder: string, max: number, wallNow: number, staleBefore: number): Promise<boolean> {
    const [counted] = await this.connections
      .aggregate<{ open: number }>([
        { $match: { key, $or: [{ holder }, { seenAt: { $gte: new Date(staleBefore) } }] } },
        { $group: { _id: null, open: { $sum: "$open" } } },
      ])
      .toArray();
    if ((counted?.open ?? 0) >= max) return false;
    await this.connections.updateOne(
      { _id: `${key}|${holder}` },
      { $inc: { open: 1 }, $set: { key, holder, seenAt: new Date(wallNow) } },
      { upsert: true },
    );
    return true;
  }

  async closeConnection(key: string, holder: string): Promise<void> {
    await this.connections.updateOne({ _id: `${key}|${holder}` }, { $inc: { open: -1 } });
    await this.connections.deleteOne({ _id: `${key}|${holder}`, open: { $lte: 0 } });
  }

  async heartbeat(holder: string, wallNow: number): Promise<string[]> {
    await this.connections.updateMany({ holder }, { $set: { seenAt: new Date(wallNow) } });
    return (await this.connections.distinct("holder", { holder: { $ne: holder } })) as string[];
  }

  async dropHolder(holder: string): Promise<void> {
    await this.connections.deleteMany({ holder });
  }

  async close(): Promise<void> {}
}
