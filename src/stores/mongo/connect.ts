/**
 * Opening the MongoDB store: the connection, the check that the deployment supports change
 * streams and transactions (a replica set or a sharded cluster), and the indexes.
 */
import mongoose, { type Connection } from "mongoose";
import { defineModels, type Models } from "./models";

import { MongoDeploymentError, redactUri } from "./errors";

export { MongoDeploymentError, redactUri };

/** Refuses a standalone server: change streams (and transactions) need a replica set. */
export async function assertChangeStreams(connection: Connection, uri: string): Promise<void> {
  const hello = (await connection.db!.admin().command({ hello: 1 })) as { setName?: string; msg?: string };
  if (hello.setName === undefined && hello.msg !== "isdbgrid") {
    throw new MongoDeploymentError(
      `MongoDB at ${redactUri(uri)} is a standalone server; segments needs change streams and transactions, which need a replica set. ` +
        "Start mongod with --replSet rs0 and run rs.initiate() once in mongosh (a one-node replica set is enough), " +
        "then connect with ?replicaSet=rs0.",
    );
  }
}

/** Creates every index, idempotently; a changed retention updates the TTL index in place. */
export async function ensureIndexes(connection: Connection, models: Models, retentionSeconds: number): Promise<void> {
  for (const model of Object.values(models)) {
    try {
      await model.createIndexes();
    } catch (error) {
      // IndexOptionsConflict: the TTL index exists with another expireAfterSeconds.
      if ((error as { code?: number }).code !== 85 || model !== models.Event) throw error;
      await connection.db!.command({ collMod: "events", index: { name: "events_retention", expireAfterSeconds: retentionSeconds } });
    }
  }
}

export async function connectMongo(uri: string, retentionSeconds: number): Promise<{ connection: Connection; models: Models }> {
  const connection = await mongoose.createConnection(uri, { autoIndex: false, autoCreate: true }).asPromise();
  try {
    await assertChangeStreams(connection, uri);
    const models = defineModels(connection, retentionSeconds);
    await ensureIndexes(connection, models, retentionSeconds);
    return { connection, models };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
