/**
 * Change-event translation, on events shaped as MongoDB documents them
 * (https://www.mongodb.com/docs/manual/reference/change-events/) for a stream opened on the
 * database: contact writes, inserted condition commands, and the events that end a stream. The
 * pipeline's $match and $project are run with mingo on the same events.
 */
import { Aggregator } from "mingo";
import { ObjectId, Timestamp } from "mongodb";
import type { CommandDoc } from "../../../src/stores/mongo/collections";
import { type ChangeEventDoc, FEED_PIPELINE, previousMark, timestampMark, tokenMark, translateChange } from "../../../src/stores/mongo/change-events";

let tokenSeq = 0;
/** A resume token as the server sends it: hex KeyString in `_data`, the cluster time first (0x82, seconds, increment). */
const token = (t = 1_717_000_000, i = ++tokenSeq) => ({ _data: `82${t.toString(16).toUpperCase().padStart(8, "0")}${i.toString(16).toUpperCase().padStart(8, "0")}2B042C0100296E5A1004` });
const clusterTime = () => new Timestamp({ t: 1_717_000_000, i: tokenSeq });
const contactsNs = { db: "segments", coll: "contacts" };
const commandsNs = { db: "segments", coll: "segment_commands" };

type Event = ChangeEventDoc & Record<string, unknown>;

const events = {
  contact(operationType: "insert" | "update" | "replace" | "delete", id = new ObjectId()): Event {
    const event: Event = { _id: token(), operationType, clusterTime: clusterTime(), wallTime: new Date(), ns: contactsNs, documentKey: { _id: id } };
    if (operationType === "insert" || operationType === "replace") event.fullDocument = { _id: id, listId: new ObjectId(), email: "ada@example.com" };
    if (operationType === "update") event.updateDescription = { updatedFields: { firstName: "Augusta" }, removedFields: [], truncatedArrays: [] };
    return event;
  },
  command(command: CommandDoc): Event {
    return { _id: token(), operationType: "insert", clusterTime: clusterTime(), wallTime: new Date(), ns: commandsNs, documentKey: { _id: command._id }, fullDocument: command };
  },
  other(operationType: string, ns?: { db: string; coll?: string }): Event {
    return { _id: token(), operationType, clusterTime: clusterTime(), wallTime: new Date(), ...(ns ? { ns } : {}) };
  },
};

const aCommand = (): CommandDoc => ({ _id: 7, segmentId: new ObjectId(), condition: { field: "country", operator: "EQUALS", value: "Norway" }, createdAt: new Date() });

/** What the pipeline lets through, and how it shapes each event. */
const throughPipeline = (stream: Event[]) => new Aggregator(FEED_PIPELINE).run(stream) as Event[];

describe("translateChange", () => {
  test.each(["insert", "update", "replace", "delete"] as const)("a contact %s names the contact by documentKey._id, added only for an insert", (operationType) => {
    const id = new ObjectId();
    const event = events.contact(operationType, id);
    expect(translateChange(event)).toEqual({ kind: "contact", contactId: id, added: operationType === "insert", token: event._id });
  });

  test("an inserted command (a condition change) is a segment command carrying it", () => {
    const command = aCommand();
    const event = events.command(command);
    expect(translateChange(event)).toEqual({ kind: "command", command, token: event._id });
  });

  test("hand edits and freezes are segment commands too; malformed ones are ignored", () => {
    const { _id, segmentId, createdAt } = aCommand();
    const base = { _id, segmentId, createdAt };
    const edit = { ...base, kind: "members", edit: "add", contactIds: [new ObjectId()] };
    const freeze = { ...base, kind: "freeze", at: new Date(0) };
    const cancel = { ...base, kind: "freeze", at: null };
    for (const command of [edit, freeze, cancel]) {
      const event = events.command(command as never);
      expect(translateChange(event)).toEqual({ kind: "command", command, token: event._id });
    }
    for (const broken of [{ ...edit, edit: "merge" }, { ...edit, contactIds: ["x"] }, { ...freeze, at: "tomorrow" }, { ...base, kind: "other" }]) {
      const event = events.command(broken as never);
      expect(translateChange(event)).toEqual({ kind: "ignored", token: event._id });
    }
  });

  test("an insert into segment_commands without a command's shape is ignored", () => {
    const event = { ...events.command(aCommand()), fullDocument: { _id: "x" } };
    expect(translateChange(event)).toEqual({ kind: "ignored", token: event._id });
  });

  test.each([
    ["drop", contactsNs],
    ["rename", commandsNs],
    ["dropDatabase", { db: "segments" }],
    ["invalidate", undefined],
  ] as const)("%s ends the stream: invalidated", (operationType, ns) => {
    const event = events.other(operationType, ns);
    expect(translateChange(event)).toEqual({ kind: "invalidated", token: event._id });
  });

  test.each(["create", "createIndexes", "dropIndexes", "modify", "shardCollection", "somethingNew"])("%s: ignored, with its token", (operationType) => {
    const event = events.other(operationType, contactsNs);
    expect(translateChange(event)).toEqual({ kind: "ignored", token: event._id });
  });
});

describe("FEED_PIPELINE", () => {
  test("passes contact writes, inserted commands and the events that end the stream, in order, and nothing else", () => {
    const command = aCommand();
    const stream = [
      events.contact("insert"),
      events.other("insert", { db: "segments", coll: "events" }),
      events.contact("update"),
      events.command(command),
      events.other("delete", commandsNs),
      events.other("update", { db: "segments", coll: "memberships" }),
      events.contact("replace"),
      events.contact("delete"),
      events.other("createIndexes", contactsNs),
      events.other("drop", { db: "segments", coll: "memberships" }),
      events.other("drop", contactsNs),
      events.other("rename", commandsNs),
      events.other("dropDatabase", { db: "segments" }),
      events.other("invalidate"),
    ];
    const passed = throughPipeline(stream);
    expect(passed.map((event) => event._id)).toEqual([0, 2, 3, 6, 7, 10, 11, 12, 13].map((i) => stream[i]!._id));
    expect(passed.map((event) => translateChange(event).kind)).toEqual(["contact", "contact", "command", "contact", "contact", "invalidated", "invalidated", "invalidated", "invalidated"]);
  });

  test("keeps the resume token, drops contact documents and keeps command documents", () => {
    const command = aCommand();
    const [insert, inserted] = throughPipeline([events.contact("insert"), events.command(command)]);
    expect(insert!.fullDocument).toBeUndefined();
    expect(insert).not.toHaveProperty("wallTime");
    expect(insert!._id).toEqual(expect.objectContaining({ _data: expect.any(String) }));
    expect(inserted!.fullDocument).toEqual(command);
    expect(translateChange(inserted!)).toMatchObject({ kind: "command", command });
  });
});

describe("marks", () => {
  test("a resume token's mark is its cluster time, and marks order as cluster times do", () => {
    expect(tokenMark(token(0x612e8513, 1))).toBe("612e851300000001");
    expect(tokenMark(token(0x612e8513, 1))).toBe(timestampMark(new Timestamp({ t: 0x612e8513, i: 1 })));
    const times = [
      [1_630_438_675, 1],
      [1_630_438_675, 2],
      [1_630_438_675, 0x10],
      [1_630_438_676, 0],
      [1_717_000_000, 5],
    ];
    const marks = times.map(([t, i]) => tokenMark(token(t, i))!);
    expect([...marks].sort()).toEqual(marks);
    expect(marks.map((mark, k) => mark === timestampMark(new Timestamp({ t: times[k]![0]!, i: times[k]![1]! })))).toEqual(times.map(() => true));
  });

  test("the mark before a cluster time is the largest below it", () => {
    expect(previousMark("612e851300000002")).toBe("612e851300000001");
    expect(previousMark("612e851300000000")).toBe("612e8512ffffffff");
    for (const mark of ["612e851300000002", "612e851300000000", "0000000100000000"]) expect(previousMark(mark) < mark).toBe(true);
  });

  test("a token of another shape has no mark", () => {
    expect(tokenMark({ _data: "0100" })).toBeNull();
    expect(tokenMark("8261")).toBeNull();
    expect(tokenMark(null)).toBeNull();
  });
});
