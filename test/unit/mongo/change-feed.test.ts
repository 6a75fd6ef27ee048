/**
 * The change feed's checkpoint logic, driven through a scripted fake stream: positions passed
 * through, batches handed out and dropped only once committed, the post-batch token offered while
 * idle, the bounded buffer, and what a lost position (error 286, non-resumable failures) does.
 */
import fc from "fast-check";
import { MongoServerError, ObjectId, Timestamp } from "mongodb";
import type { ChangeEventDoc, FeedChange } from "../../../src/stores/mongo/change-events";
import { ChangeFeed, type ChangeStreamLike, type FeedBatch, type FeedPosition, positionLost } from "../../../src/stores/mongo/change-feed";

type Token = { _data: string };
/** Scripted results: a change, null ("nothing now"), or an error tryNext throws. */
type Scripted = ChangeEventDoc | null | Error;

/**
 * Resume tokens in stream order (`ordinal` recovers it): events get the next major position; a
 * post-batch token sits just after the last event read and before the next event.
 */
class TokenClock {
  private seq = 0;
  private minor = 0;
  next(): Token {
    return TokenClock.token(++this.seq, 0);
  }
  postBatch(after: unknown): Token {
    return TokenClock.token(after ? Math.floor(TokenClock.ordinal(after) / 0x10000) : 0, ++this.minor);
  }
  private static token(major: number, minor: number): Token {
    return { _data: `82${major.toString(16).toUpperCase().padStart(8, "0")}${minor.toString(16).toUpperCase().padStart(4, "0")}2B0229296E04` };
  }
  static ordinal(token: unknown): number {
    return parseInt((token as Token)._data.slice(2, 14), 16);
  }
}

class FakeStream implements ChangeStreamLike {
  resumeToken: unknown;
  reads = 0;
  closes = 0;
  private readonly script: Scripted[];
  constructor(
    readonly position: FeedPosition,
    script: readonly Scripted[],
    private readonly clock: TokenClock,
  ) {
    this.script = [...script];
    this.resumeToken = "resumeAfter" in position ? position.resumeAfter : null;
  }

  get closed(): boolean {
    return this.closes > 0;
  }

  get remaining(): number {
    return this.script.length;
  }

  async tryNext(): Promise<ChangeEventDoc | null> {
    if (this.closed) throw new Error("tryNext on a closed stream");
    this.reads++;
    const next = this.script.length > 0 ? this.script.shift()! : null;
    if (next instanceof Error) throw next;
    if (next === null) {
      // Idle: the server's post-batch resume token moves on.
      this.resumeToken = this.clock.postBatch(this.resumeToken);
      return null;
    }
    this.resumeToken = next._id;
    return next;
  }

  async close(): Promise<void> {
    this.closes++;
  }
}

/** A feed whose opens are recorded; each open consumes the next script. */
function harness(scripts: Scripted[][], maxBuffer?: number, clock = new TokenClock()) {
  const opened: FakeStream[] = [];
  const open = jest.fn((position: FeedPosition) => {
    const stream = new FakeStream(position, scripts[opened.length] ?? [], clock);
    opened.push(stream);
    return stream;
  });
  const feed = new ChangeFeed(open, maxBuffer);
  return { feed, open, opened, clock };
}

function change(clock: TokenClock, operationType = "insert"): ChangeEventDoc {
  const _id = new ObjectId();
  return { _id: clock.next(), operationType, ns: { db: "segments", coll: "contacts" }, clusterTime: new Timestamp({ t: 1_717_000_000, i: 1 }), documentKey: { _id } };
}

/** A script of n changes, tokens from a clock shared with the harness. */
function changes(clock: TokenClock, n: number): ChangeEventDoc[] {
  return Array.from({ length: n }, () => change(clock));
}

const tokensOf = (entries: readonly FeedChange[]) => entries.map((entry) => (entry.token as Token)._data);
const dataOf = (events: readonly ChangeEventDoc[]) => events.map((event) => (event._id as Token)._data);

const historyLost = () =>
  new MongoServerError({
    errmsg: "Executor error during getMore :: caused by :: Resume of change stream was not possible, as the resume point may no longer be in the oplog.",
    code: 286,
    codeName: "ChangeStreamHistoryLost",
  });
const resumable = () => new MongoServerError({ errmsg: "interrupted at shutdown", code: 91, codeName: "ShutdownInProgress", errorLabels: ["ResumableChangeStreamError"] });
const nonResumable = () => new MongoServerError({ errmsg: "$match stage is not allowed", code: 280, codeName: "ChangeStreamFatalError" });

/** A harness whose single script is built with its own clock. */
function scripted(build: (clock: TokenClock) => Scripted[], maxBuffer?: number) {
  const clock = new TokenClock();
  const script = build(clock);
  // One clock: post-batch tokens come after the scripted changes' tokens.
  return { ...harness([script], maxBuffer, clock), script };
}

describe("positions", () => {
  test("start({ resumeAfter }) opens the stream after that token", () => {
    const { feed, open, opened } = harness([[]]);
    const token = { _data: "8266A1B2C3000000012B022C0100296E5A1004" };
    feed.start({ resumeAfter: token });
    expect(open).toHaveBeenCalledTimes(1);
    expect(open).toHaveBeenCalledWith({ resumeAfter: token });
    expect(opened[0]!.position).toEqual({ resumeAfter: token });
    expect((opened[0]!.position as { resumeAfter: unknown }).resumeAfter).toBe(token);
    expect(feed.isOpen).toBe(true);
    expect(feed.isLost).toBe(false);
    // Before anything was read, the position to keep is the one it started from.
    expect(feed.peek(10)).toEqual({ entries: [], token });
  });

  test("start({ startAtOperationTime }) opens the stream at that cluster time", () => {
    const { feed, open } = harness([[]]);
    const time = new Timestamp({ t: 1_717_000_123, i: 7 });
    feed.start({ startAtOperationTime: time });
    expect(open).toHaveBeenCalledWith({ startAtOperationTime: time });
    expect((open.mock.calls[0]![0] as { startAtOperationTime: unknown }).startAtOperationTime).toBe(time);
    // No token yet: nothing replaces the stored start time.
    expect(feed.peek(10)).toEqual({ entries: [], token: null });
  });

  test("the feed opens nothing until started", async () => {
    const { feed, open } = harness([[]]);
    expect(feed.isOpen).toBe(false);
    await feed.fill();
    expect(open).not.toHaveBeenCalled();
    expect(feed.peek(5)).toEqual({ entries: [], token: null });
  });
});

describe("batches", () => {
  test("peek returns at most `max` entries, in stream order, with the token of the last one", async () => {
    const h = scripted((c) => changes(c, 5));
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await h.feed.fill();
    expect(h.feed.pending).toBe(5);
    const batch = h.feed.peek(3);
    expect(tokensOf(batch.entries)).toEqual(dataOf(h.script.slice(0, 3) as ChangeEventDoc[]));
    expect(batch.token).toBe((h.script[2] as ChangeEventDoc)._id);
    expect(batch.entries.map((e) => e.kind)).toEqual(["contact", "contact", "contact"]);
    // peek does not consume.
    expect(h.feed.pending).toBe(5);
    expect(h.feed.peek(3)).toEqual(batch);
    // Fewer waiting than max: all of them.
    h.feed.ack(batch);
    const rest = h.feed.peek(10);
    expect(tokensOf(rest.entries)).toEqual(dataOf(h.script.slice(3) as ChangeEventDoc[]));
    expect(rest.token).toBe((h.script[4] as ChangeEventDoc)._id);
  });

  test("a batch that was not acked (its transaction failed) comes back first, in the same order", async () => {
    const h = scripted((c) => [...changes(c, 4), null, ...changes(c, 3)]);
    const events = h.script.filter((s): s is ChangeEventDoc => s !== null && !(s instanceof Error));
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await h.feed.fill();
    const failed = h.feed.peek(3);
    // Not acked: the engine's transaction failed. The next step fills again and peeks.
    await h.feed.fill();
    const retried = h.feed.peek(3);
    expect(tokensOf(retried.entries)).toEqual(tokensOf(failed.entries));
    expect(retried.token).toBe(failed.token);
    h.feed.ack(retried);
    await h.feed.fill();
    const next = h.feed.peek(10);
    expect(tokensOf(next.entries)).toEqual(dataOf(events.slice(3)));
    h.feed.ack(next);
    expect(h.feed.pending).toBe(0);
  });

  test("when idle, the token offered is the stream's post-batch token (a quiet collection's checkpoint advances)", async () => {
    const h = scripted((c) => [...changes(c, 2), null, null]);
    const start = { _data: "82000000002B" };
    h.feed.start({ resumeAfter: start });
    await h.feed.fill();
    const batch = h.feed.peek(10);
    expect(batch.entries).toHaveLength(2);
    h.feed.ack(batch);
    // The read stopped at the first "nothing now": its post-batch token is on offer.
    const idle1 = h.feed.peek(10);
    const stream = h.opened[0]!;
    expect(idle1.entries).toEqual([]);
    expect(idle1.token).toBe(stream.resumeToken);
    expect(TokenClock.ordinal(idle1.token)).toBeGreaterThan(TokenClock.ordinal(batch.token));
    // Still quiet: the next read moves it on again.
    await h.feed.fill();
    const idle2 = h.feed.peek(10);
    expect(idle2.entries).toEqual([]);
    expect(idle2.token).toBe(stream.resumeToken);
    expect(TokenClock.ordinal(idle2.token)).toBeGreaterThan(TokenClock.ordinal(idle1.token));
  });

  test("a quiet stream started at a cluster time offers a token as soon as it has one", async () => {
    const h = scripted(() => [null]);
    h.feed.start({ startAtOperationTime: new Timestamp({ t: 1_717_000_000, i: 1 }) });
    expect(h.feed.peek(10).token).toBeNull();
    await h.feed.fill();
    const batch = h.feed.peek(10);
    expect(batch.entries).toEqual([]);
    expect(batch.token).toBe(h.opened[0]!.resumeToken);
    expect(batch.token).not.toBeNull();
  });

  test("an idle read without a token (no post-batch token) keeps the previous one", async () => {
    const h = scripted((c) => changes(c, 1));
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await h.feed.fill();
    const batch = h.feed.peek(10);
    h.feed.ack(batch);
    const before = h.feed.peek(10).token;
    expect(before).not.toBeNull();
    const stream = h.opened[0]!;
    Object.defineProperty(stream, "resumeToken", { get: () => null });
    await h.feed.fill();
    expect(stream.reads).toBe(3);
    expect(h.feed.peek(10)).toEqual({ entries: [], token: before });
  });

  test("peek(0) with changes waiting offers no token (the idle token lies past them)", async () => {
    const h = scripted((c) => [...changes(c, 2), null]);
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await h.feed.fill();
    expect(h.feed.pending).toBe(2);
    // The stream went idle after the two changes: its post-batch token is past both.
    expect(TokenClock.ordinal(h.opened[0]!.resumeToken)).toBeGreaterThan(TokenClock.ordinal((h.script[1] as ChangeEventDoc)._id));
    const empty = h.feed.peek(0);
    expect(empty.entries).toEqual([]);
    // Checkpointing a token past unapplied changes would skip them after a restart.
    expect(empty.token).toBeNull();
  });

  test("the buffer is bounded: fill stops reading at maxBuffer and resumes once a batch is acked", async () => {
    const h = scripted((c) => changes(c, 10), 4);
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    const stream = () => h.opened[0]!;
    await h.feed.fill();
    expect(h.feed.pending).toBe(4);
    expect(stream().reads).toBe(4);
    // Full: another fill does not read.
    await h.feed.fill();
    expect(stream().reads).toBe(4);
    expect(h.feed.pending).toBe(4);
    const first = h.feed.peek(3);
    h.feed.ack(first);
    await h.feed.fill();
    expect(h.feed.pending).toBe(4);
    expect(stream().reads).toBe(7);
    const all: FeedChange[] = [...first.entries];
    for (let i = 0; i < 5 && h.feed.pending > 0; i++) {
      const batch = h.feed.peek(4);
      all.push(...batch.entries);
      h.feed.ack(batch);
      await h.feed.fill();
      expect(h.feed.pending).toBeLessThanOrEqual(4);
    }
    expect(tokensOf(all)).toEqual(dataOf(h.script as ChangeEventDoc[]));
  });

  test("entries are translated as they are read; a batch stops before an invalidate, which then makes the feed lost", async () => {
    const h = scripted((c) => [change(c, "insert"), change(c, "update"), change(c, "delete"), change(c, "createIndexes"), change(c, "invalidate")]);
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await h.feed.fill();
    const batch = h.feed.peek(10);
    expect(batch.entries.map((e) => (e.kind === "contact" ? `contact${e.added ? ", added" : ""}` : e.kind))).toEqual(["contact, added", "contact", "contact", "ignored"]);
    expect(batch.token).toBe((h.script[3] as ChangeEventDoc)._id);
    expect(h.feed.isLost).toBe(false);
    h.feed.ack(batch);
    // Nothing can resume after an invalidate: the engine reconciles and restarts at a captured time.
    expect(h.feed.peek(10)).toEqual({ entries: [], token: null });
    expect(h.feed.isLost).toBe(true);
  });
});

describe("cluster times", () => {
  /** A contact change at cluster time t (a transaction's changes share its time). */
  let n = 0;
  const at = (t: number): ChangeEventDoc => ({
    _id: { _data: `82${t.toString(16).toUpperCase().padStart(8, "0")}000000012B04${(++n).toString(16).padStart(4, "0")}` },
    operationType: "insert",
    ns: { db: "segments", coll: "contacts" },
    documentKey: { _id: new ObjectId() },
  });

  test("a batch that stops inside a transaction does not end its cluster time; one that stops after it does", async () => {
    const { feed } = harness([[at(10), at(10), at(10), at(11), null]]);
    feed.start({ resumeAfter: { _data: "82000000002B" } });
    await feed.fill();
    expect(feed.endsClusterTime(feed.peek(1))).toBe(false);
    expect(feed.endsClusterTime(feed.peek(2))).toBe(false);
    expect(feed.endsClusterTime(feed.peek(3))).toBe(true);
    // Nothing follows the last change, and the stream was read to its end.
    expect(feed.endsClusterTime(feed.peek(4))).toBe(true);
    expect(feed.endsClusterTime(feed.peek(0))).toBe(true);
  });

  test("with nothing read after a batch, it ends its time only if the stream was read to its end", async () => {
    // A buffer of two: the fill stops while changes of time 10 still wait in the stream.
    const { feed } = harness([[at(10), at(10), at(10), null]], 2);
    feed.start({ resumeAfter: { _data: "82000000002B" } });
    await feed.fill();
    const first = feed.peek(5);
    expect(first.entries).toHaveLength(2);
    expect(feed.endsClusterTime(first)).toBe(false);
    feed.ack(first);
    await feed.fill();
    const rest = feed.peek(5);
    expect(rest.entries).toHaveLength(1);
    expect(feed.endsClusterTime(rest)).toBe(true);
  });
});

describe("lost positions", () => {
  test.each([
    ["error 286 (ChangeStreamHistoryLost)", historyLost],
    ["code 286 alone", () => Object.assign(new Error("history lost"), { code: 286 })],
    ["codeName ChangeStreamHistoryLost alone", () => Object.assign(new Error("history lost"), { codeName: "ChangeStreamHistoryLost" })],
    ["a non-resumable server error (no ResumableChangeStreamError label)", nonResumable],
    ["a plain error", () => new Error("cursor killed")],
  ])("%s: the feed is lost, the stream closed, and never reopened by itself", async (_name, error) => {
    const h = scripted((c) => [...changes(c, 2), error(), ...changes(c, 2)]);
    const deadToken = { _data: "8200000000DEAD2B" };
    h.feed.start({ resumeAfter: deadToken });
    await expect(h.feed.fill()).resolves.toBeUndefined();
    expect(h.feed.isLost).toBe(true);
    expect(h.feed.isOpen).toBe(false);
    expect(h.opened[0]!.closes).toBe(1);
    // What was read before the failure is still handed out (the engine commits it, then reconciles).
    expect(tokensOf(h.feed.peek(10).entries)).toEqual(dataOf(h.script.slice(0, 2) as ChangeEventDoc[]));
    // Further fills neither read nor reopen: no retry with the dead token.
    await h.feed.fill();
    await h.feed.fill();
    expect(h.open).toHaveBeenCalledTimes(1);
    expect(h.opened[0]!.reads).toBe(3);
    expect(h.feed.isLost).toBe(true);
  });

  test("error 286 on the very first read (the stored token fell off the oplog)", async () => {
    const h = scripted(() => [historyLost()]);
    const deadToken = { _data: "8200000000DEAD2B" };
    h.feed.start({ resumeAfter: deadToken });
    await h.feed.fill();
    expect(h.feed.isLost).toBe(true);
    expect(h.feed.isOpen).toBe(false);
    expect(h.feed.peek(10).entries).toEqual([]);
    expect(h.open.mock.calls).toEqual([[{ resumeAfter: deadToken }]]);
  });

  test("a resumable error (ResumableChangeStreamError label) is thrown to the caller, not treated as lost", async () => {
    const h = scripted((c) => [...changes(c, 2), resumable(), ...changes(c, 2)]);
    const events = h.script.filter((s): s is ChangeEventDoc => s !== null && !(s instanceof Error));
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await expect(h.feed.fill()).rejects.toMatchObject({ code: 91, codeName: "ShutdownInProgress" });
    expect(h.feed.isLost).toBe(false);
    expect(h.feed.isOpen).toBe(true);
    expect(h.opened[0]!.closes).toBe(0);
    // Nothing read is lost: the next fill continues on the same stream.
    await h.feed.fill();
    expect(tokensOf(h.feed.peek(10).entries)).toEqual(dataOf(events));
    expect(h.open).toHaveBeenCalledTimes(1);
  });

  test("an errorLabels array (without hasErrorLabel) is honoured too", () => {
    expect(positionLost({ code: 91, errorLabels: ["ResumableChangeStreamError"] })).toBe(false);
    expect(positionLost({ code: 91, errorLabels: ["TransientTransactionError"] })).toBe(true);
    expect(positionLost({ code: 286, errorLabels: ["ResumableChangeStreamError"] })).toBe(true);
    expect(positionLost(resumable())).toBe(false);
    expect(positionLost(historyLost())).toBe(true);
    expect(positionLost(nonResumable())).toBe(true);
    expect(positionLost(undefined)).toBe(true);
  });

  test("restart(position) reopens at the given cluster time, drops what the old stream buffered and clears the lost state", async () => {
    const clock = new TokenClock();
    const first = [...changes(clock, 2), historyLost()];
    const second = changes(clock, 3);
    const h = harness([first, second], undefined, clock);
    h.feed.start({ resumeAfter: { _data: "8200000000DEAD2B" } });
    await h.feed.fill();
    expect(h.feed.isLost).toBe(true);
    expect(h.feed.pending).toBe(2);
    // The engine captures the cluster time, reconciles, and restarts there.
    const time = new Timestamp({ t: 1_717_000_999, i: 3 });
    await h.feed.restart({ startAtOperationTime: time });
    expect(h.open).toHaveBeenCalledTimes(2);
    expect(h.open).toHaveBeenLastCalledWith({ startAtOperationTime: time });
    expect(h.opened[1]!.position).toEqual({ startAtOperationTime: time });
    expect(h.feed.isLost).toBe(false);
    expect(h.feed.isOpen).toBe(true);
    expect(h.feed.pending).toBe(0);
    expect(h.feed.peek(10)).toEqual({ entries: [], token: null });
    await h.feed.fill();
    const batch = h.feed.peek(10);
    expect(tokensOf(batch.entries)).toEqual(dataOf(second));
    expect(batch.token).toBe(second[2]!._id);
  });

  test("restart of an open stream closes the old one first", async () => {
    const clock = new TokenClock();
    const h = harness([changes(clock, 2), []]);
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    await h.feed.fill();
    await h.feed.restart({ startAtOperationTime: new Timestamp({ t: 1, i: 1 }) });
    expect(h.opened[0]!.closes).toBe(1);
    expect(h.opened[1]!.closes).toBe(0);
    await h.feed.close();
    expect(h.opened[1]!.closes).toBe(1);
    expect(h.feed.isOpen).toBe(false);
  });

  test("a failing close does not stop the feed from being marked lost", async () => {
    const h = scripted(() => [historyLost()]);
    h.feed.start({ resumeAfter: { _data: "82000000002B" } });
    h.opened[0]!.close = async () => {
      throw new Error("close failed");
    };
    await expect(h.feed.fill()).resolves.toBeUndefined();
    expect(h.feed.isLost).toBe(true);
    expect(h.feed.isOpen).toBe(false);
  });
});

describe("nothing lost or doubled across fill / peek / ack cycles (property)", () => {
  type Item = { t: "change" } | { t: "idle" } | { t: "resumable" };
  const itemArb: fc.Arbitrary<Item> = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Item>({ t: "change" }) },
    { weight: 2, arbitrary: fc.constant<Item>({ t: "idle" }) },
    { weight: 1, arbitrary: fc.constant<Item>({ t: "resumable" }) },
  );
  const stepArb = fc.record({ max: fc.integer({ min: 0, max: 6 }), commits: fc.boolean() });

  test("acked batches concatenate to the stream's changes, in order, each once; checkpoints never move back", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(itemArb, { maxLength: 40 }),
        fc.array(stepArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        async (items, steps, maxBuffer, fromTime) => {
          const clock = new TokenClock();
          const start = clock.next();
          const script: Scripted[] = items.map((item) => (item.t === "change" ? change(clock) : item.t === "idle" ? null : resumable()));
          const expected = dataOf(script.filter((s): s is ChangeEventDoc => s !== null && !(s instanceof Error)));
          const h = harness([script], maxBuffer, clock);
          h.feed.start(fromTime ? { startAtOperationTime: new Timestamp({ t: 1, i: 1 }) } : { resumeAfter: start });

          const acked: FeedChange[] = [];
          let checkpoint: unknown = fromTime ? null : start;
          let unacked: FeedBatch | null = null;
          const stream = h.opened[0]!;
          // The scripted steps, then committing steps until the stream is drained.
          for (let i = 0; i < steps.length + script.length * 2 + 10; i++) {
            const step = steps[i] ?? { max: 3, commits: true };
            try {
              await h.feed.fill();
            } catch (error) {
              expect(positionLost(error)).toBe(false);
              continue;
            }
            expect(h.feed.pending).toBeLessThanOrEqual(maxBuffer);
            const batch = h.feed.peek(step.max);
            expect(batch.entries.length).toBeLessThanOrEqual(step.max);
            if (batch.entries.length > 0) expect(batch.token).toBe(batch.entries[batch.entries.length - 1]!.token);
            if (unacked) {
              // A failed batch comes back first, same order (as far as this peek reaches).
              const n = Math.min(unacked.entries.length, batch.entries.length);
              expect(tokensOf(batch.entries.slice(0, n))).toEqual(tokensOf(unacked.entries.slice(0, n)));
            }
            if (!step.commits) {
              unacked = batch;
              continue;
            }
            unacked = null;
            acked.push(...batch.entries);
            if (batch.token) {
              if (checkpoint) expect(TokenClock.ordinal(batch.token)).toBeGreaterThanOrEqual(TokenClock.ordinal(checkpoint));
              checkpoint = batch.token;
              // A restart after this checkpoint skips nothing that was not applied.
              const through = TokenClock.ordinal(checkpoint);
              const ackedNow = new Set(tokensOf(acked));
              for (const data of expected) if (TokenClock.ordinal({ _data: data }) <= through) expect(ackedNow.has(data)).toBe(true);
            }
            h.feed.ack(batch);
            if (i >= steps.length && stream.remaining === 0 && h.feed.pending === 0) break;
          }
          expect(stream.remaining).toBe(0);
          expect(h.feed.pending).toBe(0);
          expect(h.feed.isLost).toBe(false);
          expect(h.open).toHaveBeenCalledTimes(1);
          expect(tokensOf(acked)).toEqual(expected);
          // The final checkpoint is at (or past) the last change.
          if (expected.length > 0) expect(TokenClock.ordinal(checkpoint)).toBeGreaterThanOrEqual(TokenClock.ordinal((script.filter((s) => s && !(s instanceof Error)).at(-1) as ChangeEventDoc)._id));
        },
      ),
      { numRuns: 300 },
    );
  });
});
