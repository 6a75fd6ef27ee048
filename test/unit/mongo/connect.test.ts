/**
 * The deployment check at startup, with fake connections answering `hello` as a standalone
 * server, a replica set member and a mongos reply.
 */
import { Timestamp } from "mongodb";
import type { Connection } from "mongoose";
import { assertChangeStreams, MongoDeploymentError, redactUri } from "../../../src/stores/mongo/connect";

/** A connection whose admin `hello` answers `reply`; records the commands sent. */
function fakeConnection(reply: Record<string, unknown>) {
  const commands: unknown[] = [];
  const connection = {
    db: {
      admin: () => ({
        command: async (command: unknown) => {
          commands.push(command);
          return reply;
        },
      }),
    },
  };
  return { connection: connection as unknown as Connection, commands };
}

const base = {
  isWritablePrimary: true,
  topologyVersion: { processId: "665f00000000000000000000", counter: 0 },
  maxBsonObjectSize: 16_777_216,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date("2024-06-01T10:00:00.000Z"),
  logicalSessionTimeoutMinutes: 30,
  connectionId: 12,
  minWireVersion: 0,
  maxWireVersion: 21,
  readOnly: false,
  ok: 1,
};
const standalone = { ...base };
const replicaSetMember = {
  ...base,
  hosts: ["localhost:27017"],
  setName: "rs0",
  setVersion: 1,
  secondary: false,
  primary: "localhost:27017",
  me: "localhost:27017",
  electionId: "7fffffff0000000000000001",
  lastWrite: { opTime: { ts: new Timestamp({ t: 1_717_000_000, i: 1 }), t: 1 } },
  $clusterTime: { clusterTime: new Timestamp({ t: 1_717_000_000, i: 1 }) },
  operationTime: new Timestamp({ t: 1_717_000_000, i: 1 }),
};
const mongos = { ...base, msg: "isdbgrid", $clusterTime: { clusterTime: new Timestamp({ t: 1_717_000_000, i: 1 }) } };

const URI = "mongodb://segments-app:s3cr3t-P%40ss@db.internal:27017/segments?authSource=admin";

describe("assertChangeStreams", () => {
  test("accepts a replica set member (setName)", async () => {
    const { connection, commands } = fakeConnection(replicaSetMember);
    await expect(assertChangeStreams(connection, URI)).resolves.toBeUndefined();
    expect(commands).toEqual([{ hello: 1 }]);
  });

  test("accepts a mongos (msg isdbgrid)", async () => {
    const { connection } = fakeConnection(mongos);
    await expect(assertChangeStreams(connection, URI)).resolves.toBeUndefined();
  });

  test("refuses a standalone server with a MongoDeploymentError that says how to start a one-node replica set", async () => {
    const { connection, commands } = fakeConnection(standalone);
    const error = await assertChangeStreams(connection, URI).then(
      () => null,
      (e: unknown) => e,
    );
    expect(commands).toEqual([{ hello: 1 }]);
    expect(error).toBeInstanceOf(MongoDeploymentError);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain("standalone");
    expect(message).toContain("replica set");
    expect(message).toContain("--replSet rs0");
    expect(message).toContain("rs.initiate()");
    expect(message).toContain("replicaSet=rs0");
    // It names the server, without the credentials.
    expect(message).toContain("db.internal:27017");
    expect(message).not.toContain("s3cr3t");
    expect(message).not.toContain("P%40ss");
    expect(message).not.toContain("segments-app");
  });

  test("a reply with a different msg is not a mongos", async () => {
    const { connection } = fakeConnection({ ...base, msg: "something else" });
    await expect(assertChangeStreams(connection, URI)).rejects.toBeInstanceOf(MongoDeploymentError);
  });

  test("a failing hello is passed through, not reported as a standalone", async () => {
    const failure = Object.assign(new Error("Authentication failed."), { code: 18 });
    const connection = { db: { admin: () => ({ command: async () => Promise.reject(failure) }) } } as unknown as Connection;
    await expect(assertChangeStreams(connection, URI)).rejects.toBe(failure);
  });
});

describe("redactUri", () => {
  test.each([
    [URI, "mongodb://***@db.internal:27017/segments?authSource=admin"],
    ["mongodb://user:password@localhost:27017/?replicaSet=rs0", "mongodb://***@localhost:27017/?replicaSet=rs0"],
    ["mongodb+srv://user:password@cluster0.example.mongodb.net/segments?retryWrites=true", "mongodb+srv://***@cluster0.example.mongodb.net/segments?retryWrites=true"],
    ["mongodb://user:password@h1:27017,h2:27017,h3:27017/db?replicaSet=rs0", "mongodb://***@h1:27017,h2:27017,h3:27017/db?replicaSet=rs0"],
    ["mongodb://onlyuser@localhost/", "mongodb://***@localhost/"],
  ])("%s", (uri, redacted) => {
    expect(redactUri(uri)).toBe(redacted);
  });

  test.each([
    "mongodb://localhost:27017/?replicaSet=rs0",
    "mongodb://localhost:27017/segments?appName=a@b",
    "mongodb+srv://cluster0.example.mongodb.net/",
  ])("leaves a URI without credentials as it is: %s", (uri) => {
    expect(redactUri(uri)).toBe(uri);
  });
});
