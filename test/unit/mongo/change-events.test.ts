/**
 * Change-event translation: events shaped as MongoDB documents them
 * (https://www.mongodb.com/docs/manual/reference/change-events/), as a contacts stream opened
 * with `fullDocument: "updateLookup"` delivers them.
 */
import { ObjectId, Timestamp } from "mongodb";
import { type ChangeEventDoc, CONTACT_STREAM_PIPELINE, translateChange } from "../../../src/stores/mongo/change-events";
import type { ContactDoc } from "../../../src/stores/mongo/documents";

const ns = { db: "segments", coll: "contacts" };
let tokenSeq = 0;
/** A resume token as the server sends it (hex-encoded KeyString in `_data`). */
const token = () => ({ _data: `8266A1B2C3000000${(++tokenSeq).toString(16).padStart(4, "0")}2B042C0100296E5A1004` });
const clusterTime = () => new Timestamp({ t: 1_717_000_000, i: tokenSeq + 1 });

function contactDoc(overrides: Partial<ContactDoc> = {}): ContactDoc {
  const at = new Date("2024-06-01T10:00:00.000Z");
  return {
    _id: new ObjectId(),
    listId: new ObjectId(),
    email: "Ada@Example.com",
    firstName: "Ada",
    lastName: "Lovelace",
    phone: null,
    country: "GB",
    city: null,
    gender: null,
    birthDate: "1815-12-10",
    tags: ["VIP"],
    attributes: { plan: "Pro" },
    n: {
      email: "ada@example.com",
      firstName: "ada",
      lastName: "lovelace",
      phone: null,
      country: "gb",
      city: null,
      gender: null,
      tags: ["vip"],
      attributes: { plan: "pro" },
    },
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/** The shapes the server sends (fields the pipeline projects away are kept: translation must not need them). */
const events = {
  insert(doc: ContactDoc): ChangeEventDoc & Record<string, unknown> {
    return { _id: token(), operationType: "insert", clusterTime: clusterTime(), wallTime: new Date(), ns, documentKey: { _id: doc._id, listId: doc.listId }, fullDocument: doc };
  },
  update(id: ObjectId, current: ContactDoc | null | undefined): ChangeEventDoc & Record<string, unknown> {
    const event: ChangeEventDoc & Record<string, unknown> = {
      _id: token(),
      operationType: "update",
      clusterTime: clusterTime(),
      wallTime: new Date(),
      ns,
      documentKey: { _id: id },
      updateDescription: { updatedFields: { firstName: "Augusta", "n.firstName": "augusta" }, removedFields: [], truncatedArrays: [] },
    };
    if (current !== undefined) event.fullDocument = current;
    return event;
  },
  replace(id: ObjectId, current: ContactDoc | null | undefined): ChangeEventDoc & Record<string, unknown> {
    const event: ChangeEventDoc & Record<string, unknown> = { _id: token(), operationType: "replace", clusterTime: clusterTime(), wallTime: new Date(), ns, documentKey: { _id: id } };
    if (current !== undefined) event.fullDocument = current;
    return event;
  },
  delete(id: ObjectId): ChangeEventDoc & Record<string, unknown> {
    return { _id: token(), operationType: "delete", clusterTime: clusterTime(), wallTime: new Date(), ns, documentKey: { _id: id } };
  },
  drop(): ChangeEventDoc & Record<string, unknown> {
    return { _id: token(), operationType: "drop", clusterTime: clusterTime(), wallTime: new Date(), ns };
  },
  rename(): ChangeEventDoc & Record<string, unknown> {
    return { _id: token(), operationType: "rename", clusterTime: clusterTime(), wallTime: new Date(), ns, to: { db: "segments", coll: "contacts_old" } };
  },
  dropDatabase(): ChangeEventDoc & Record<string, unknown> {
    return { _id: token(), operationType: "dropDatabase", clusterTime: clusterTime(), wallTime: new Date(), ns: { db: "segments" } };
  },
  /** invalidate has neither ns nor documentKey. */
  invalidate(): ChangeEventDoc & Record<string, unknown> {
    return { _id: token(), operationType: "invalidate", clusterTime: clusterTime(), wallTime: new Date() };
  },
};

describe("translateChange", () => {
  test("insert: CONTACT_ADDED with the inserted document", () => {
    const doc = contactDoc();
    const event = events.insert(doc);
    expect(translateChange(event)).toEqual({ kind: "contact", contactId: doc._id, reason: "CONTACT_ADDED", document: doc, token: event._id });
  });

  test.each(["update", "replace"] as const)("%s with a looked-up document: CONTACT_UPDATED with the current document", (operationType) => {
    const doc = contactDoc({ firstName: "Augusta" });
    const event = events[operationType](doc._id, doc);
    const entry = translateChange(event);
    expect(entry).toEqual({ kind: "contact", contactId: doc._id, reason: "CONTACT_UPDATED", document: doc, token: event._id });
    // The id comes from documentKey, not from the looked-up document.
    expect(entry.kind === "contact" && entry.contactId).toBe(event.documentKey!._id);
  });

  test.each([
    ["update", null],
    ["update", undefined],
    ["replace", null],
    ["replace", undefined],
  ] as const)("%s whose lookup found nothing (fullDocument %s): CONTACT_DELETED with document null", (operationType, fullDocument) => {
    const id = new ObjectId();
    const event = events[operationType](id, fullDocument);
    expect("fullDocument" in event).toBe(fullDocument === null);
    expect(translateChange(event)).toEqual({ kind: "contact", contactId: id, reason: "CONTACT_DELETED", document: null, token: event._id });
  });

  test("delete: CONTACT_DELETED with document null", () => {
    const id = new ObjectId();
    const event = events.delete(id);
    expect(translateChange(event)).toEqual({ kind: "contact", contactId: id, reason: "CONTACT_DELETED", document: null, token: event._id });
  });

  test("a delete with a shard key in documentKey still names the contact by _id", () => {
    const id = new ObjectId();
    const event = { ...events.delete(id), documentKey: { listId: new ObjectId(), _id: id } };
    expect(translateChange(event)).toMatchObject({ kind: "contact", contactId: id, reason: "CONTACT_DELETED", document: null });
  });

  test.each(["drop", "rename", "dropDatabase", "invalidate"] as const)("%s: invalidated", (operationType) => {
    const event = events[operationType]();
    expect(event.documentKey).toBeUndefined();
    expect(translateChange(event)).toEqual({ kind: "invalidated", token: event._id });
  });

  test.each(["create", "createIndexes", "dropIndexes", "modify", "shardCollection", "reshardCollection", "refineCollectionShardKey", "somethingNew"])(
    "unknown or unused type %s: ignored (with its token)",
    (operationType) => {
      const event: ChangeEventDoc = { _id: token(), operationType, clusterTime: clusterTime() };
      expect(translateChange(event)).toEqual({ kind: "ignored", token: event._id });
    },
  );

  test("every entry carries its event's own resume token (the same object)", () => {
    const doc = contactDoc();
    const stream = [
      events.insert(doc),
      events.update(doc._id, doc),
      events.update(doc._id, null),
      events.replace(doc._id, doc),
      events.replace(doc._id, undefined),
      events.delete(doc._id),
      events.drop(),
      events.rename(),
      events.dropDatabase(),
      events.invalidate(),
      { _id: token(), operationType: "createIndexes" },
    ];
    const tokens = stream.map((event) => translateChange(event).token);
    stream.forEach((event, i) => expect(tokens[i]).toBe(event._id));
    expect(new Set(tokens.map((t) => (t as { _data: string })._data)).size).toBe(stream.length);
  });
});

describe("CONTACT_STREAM_PIPELINE", () => {
  const handled = ["insert", "update", "replace", "delete", "drop", "rename", "dropDatabase", "invalidate"];

  test("its $match admits exactly the operation types translateChange handles", () => {
    const match = CONTACT_STREAM_PIPELINE.find((stage) => "$match" in stage) as { $match: { operationType: { $in: string[] } } };
    const admitted = match.$match.operationType.$in;
    expect([...admitted].sort()).toEqual([...handled].sort());
    expect(new Set(admitted).size).toBe(admitted.length);
    // Every admitted type is translated to something other than "ignored" …
    for (const operationType of admitted) {
      const event: ChangeEventDoc = { _id: token(), operationType, documentKey: { _id: new ObjectId() }, fullDocument: null };
      expect({ operationType, kind: translateChange(event).kind }).not.toEqual({ operationType, kind: "ignored" });
    }
    // … and the types it filters out would only be ignored.
    for (const operationType of ["create", "createIndexes", "dropIndexes", "modify", "shardCollection"]) {
      expect(admitted).not.toContain(operationType);
      expect(translateChange({ _id: token(), operationType }).kind).toBe("ignored");
    }
  });

  test("it keeps every field translateChange reads and does not touch the resume token", () => {
    expect(CONTACT_STREAM_PIPELINE).toEqual([
      { $match: { operationType: { $in: handled } } },
      { $project: { operationType: 1, documentKey: 1, fullDocument: 1, clusterTime: 1 } },
    ]);
    const project = (CONTACT_STREAM_PIPELINE[1] as { $project: Record<string, unknown> }).$project;
    // Projecting _id away (or changing it) makes the server fail the stream: it must stay implicit.
    expect(project).not.toHaveProperty("_id");
    for (const field of ["operationType", "documentKey", "fullDocument"]) expect(project[field]).toBe(1);
  });

  test("a projected event (only the kept fields) translates like the full one", () => {
    const doc = contactDoc();
    const full = events.insert(doc);
    const projected: ChangeEventDoc = { _id: full._id, operationType: full.operationType, documentKey: full.documentKey, fullDocument: full.fullDocument, clusterTime: full.clusterTime };
    expect(translateChange(projected)).toEqual(translateChange(full));
  });
});
