/**
 * The change stream (contacts and segment commands) as the engine consumes it: one stream per
 * process, read ahead into a bounded buffer, handed out in batches that are dropped only after
 * the engine committed them (with the resume token) — so a failed step sees the same changes
 * again.
 *
 * Positions: a stream starts after a stored resume token, or at a cluster time captured before
 * a full reconciliation. While nothing happens, the stream's post-batch resume token still
 * moves; it is offered for checkpointing so a quiet collection never loses its place.
 *
 * When the token is too old for the oplog (error 286, ChangeStreamHistoryLost) or the stream
 * fails in a way the driver does not resume, the feed does not retry that token: it reports
 * `lost`, the engine reconciles by full re-evaluation, and the feed restarts at the time
 * captured before that.
 */
import type { Timestamp } from "mongodb";
import { type ChangeEventDoc, type FeedChange, tokenMark, translateChange } from "./change-events";

export interface ChangeStreamLike {
  /** The next change, or null when none is waiting (never blocks for long). */
  tryNext(): Promise<ChangeEventDoc | null>;
  /** The token to resume after what was read (the post-batch token while idle). */
  readonly resumeToken: unknown;
  close(): Promise<void>;
}

export type FeedPosition = { resumeAfter: unknown } | { startAtOperationTime: Timestamp };
export type OpenStream = (position: FeedPosition) => ChangeStreamLike;

export interface FeedBatch {
  entries: FeedChange[];
  /** The position after this batch, to checkpoint with it. */
  token: unknown;
}

const HISTORY_LOST = 286;

/** Whether a stream error means its position is gone (do not retry the token). */
export function positionLost(error: unknown): boolean {
  const e = error as { code?: number; codeName?: string; errorLabels?: string[]; hasErrorLabel?: (label: string) => boolean };
  if (e?.code === HISTORY_LOST || e?.codeName === "ChangeStreamHistoryLost") return true;
  const resumable = e?.hasErrorLabel?.("ResumableChangeStreamError") ?? e?.errorLabels?.includes("ResumableChangeStreamError") ?? false;
  return !resumable;
}

export class ChangeFeed {
  private stream: ChangeStreamLike | null = null;
  private readonly buffer: FeedChange[] = [];
  private idleToken: unknown = null;
  /** Whether the last fill read the stream to its end ("nothing now"). */
  private idle = false;
  private lost = false;

  constructor(
    private readonly open: OpenStream,
    private readonly maxBuffer = 10_000,
  ) {}

  get isOpen(): boolean {
    return this.stream !== null;
  }

  /** True once the stream's position is gone: reconcile, then restart(). */
  get isLost(): boolean {
    return this.lost;
  }

  /** How many changes wait in the buffer. */
  get pending(): number {
    return this.buffer.length;
  }

  start(position: FeedPosition): void {
    this.stream = this.open(position);
    this.buffer.length = 0;
    this.idleToken = "resumeAfter" in position ? position.resumeAfter : null;
    this.lost = false;
  }

  async restart(position: FeedPosition): Promise<void> {
    await this.close();
    this.start(position);
  }

  /** Reads what the stream has ready into the buffer, up to its bound. */
  async fill(): Promise<void> {
    if (!this.stream || this.lost) return;
    this.idle = false;
    try {
      while (this.buffer.length < this.maxBuffer) {
        const change = await this.stream.tryNext();
        if (change === null) {
          this.idleToken = this.stream.resumeToken ?? this.idleToken;
          this.idle = true;
          return;
        }
        this.buffer.push(translateChange(change));
      }
    } catch (error) {
      if (!positionLost(error)) throw error;
      this.lost = true;
      await this.close();
    }
  }

  /** The next batch to apply; its token is the position after it (or the idle token). */
  peek(max: number): FeedBatch {
    // An invalidate ends the stream and cannot be resumed after: apply what came before it,
    // then treat the position as lost (reconcile and start again).
    const end = this.buffer.findIndex((entry) => entry.kind === "invalidated");
    if (end === 0) {
      this.buffer.length = 0;
      this.lost = true;
      void this.close();
      return { entries: [], token: null };
    }
    const entries = this.buffer.slice(0, end < 0 ? max : Math.min(max, end));
    // The idle token lies past everything buffered: offer it only when nothing waits (peek(0) would skip changes).
    const token = entries.length > 0 ? entries[entries.length - 1]!.token : this.buffer.length > 0 ? null : this.idleToken;
    return { entries, token };
  }

  /**
   * Whether a batch ends its last change's cluster time: every change of a transaction has the
   * transaction's time, so a batch that stops inside one leaves changes of that time unapplied.
   * False while the stream has not been read to its end after the batch.
   */
  endsClusterTime(batch: FeedBatch): boolean {
    const last = batch.entries[batch.entries.length - 1];
    if (!last) return true;
    const next = this.buffer[batch.entries.length];
    return next ? tokenMark(next.token) !== tokenMark(last.token) : this.idle;
  }

  /** Drops a batch the engine committed. */
  ack(batch: FeedBatch): void {
    this.buffer.splice(0, batch.entries.length);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    await stream?.close().catch(() => undefined);
  }
}
