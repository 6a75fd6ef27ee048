import { decodeIntCursor, encodeCursor } from "../../common/cursor";
import { badInput, cursorExpired, notFound } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import { MembershipStream } from "../../engine/subscription";
import type { Caller } from "../../caller";
import type { ServiceDeps } from "../../services";
import type { EventFilter, MembershipEvent } from "../../stores/port";

export function eventCursor(event: MembershipEvent): string {
  return positionCursor(event.seq);
}

/** The public cursor of a position in the event log. */
export function positionCursor(position: number): string {
  return encodeCursor("e", [position]);
}

/** The position of the newest event committed. */
export async function latestEventPosition(deps: Pick<ServiceDeps, "feed" | "store">): Promise<number> {
  return Math.max(deps.feed.latestSeq, (await deps.store.engineStatus()).latestEvent);
}

export class MembershipEventService {
  private active = 0;
  private replays = 0;

  constructor(private readonly deps: ServiceDeps) {}

  /** Subscription streams open in this process. */
  get activeStreams(): number {
    return this.active;
  }

  /** Batches subscribers read from the store because they were behind the in-memory ring. */
  get replaysFromStore(): number {
    return this.replays;
  }


  /** The log's current position: subscribing after it receives every later change. */
  async currentCursor(): Promise<string> {
    return positionCursor(await latestEventPosition(this.deps));
  }

  /** Checks a subscription's arguments and opens its stream: replay after the cursor, then live. */
  async subscribe(
    ctx: Caller,
    args: { segmentId?: string | null; listId?: string | null; after?: string | null },
  ): Promise<AsyncIterableIterator<MembershipEvent>> {
    const { segmentId, listId, after } = args;
    if ((segmentId == null) === (listId == null)) {
      throw badInput("give exactly one of segmentId and listId", { argument: segmentId == null ? "segmentId" : "listId" });
    }
    let filter: EventFilter;
    if (segmentId != null) {
      const storeId = fromGlobalId(segmentId, "Segment");
      const segment = storeId === null ? null : await ctx.loaders.segment(storeId);
      if (!segment) throw notFound("Segment", segmentId);
      filter = { segmentId: segment.id };
    } else {
      const storeId = fromGlobalId(listId!, "ContactList");
      const list = storeId === null ? null : await ctx.loaders.list(storeId);
      if (!list) throw notFound("ContactList", listId!);
      filter = { listId: list.id };
    }
    // The context lives as long as the stream: an idle subscriber holds no loaders.
    ctx.dropLoaders();
    const { feed, store } = this.deps;
    let from = feed.latestSeq;
    if (after != null) {
      from = decodeIntCursor(after, "e", 1)[0]!;
      if (from < (await store.prunedThrough())) {
        throw cursorExpired("this cursor is older than the retained event log; reload the segment and subscribe without `after`");
      }
      const latest = Math.max(feed.latestSeq, (await store.engineStatus()).latestEvent);
      if (from > latest) throw badInput("this cursor is ahead of the event log", { argument: "after" });
    }
    this.active++;
    return new MembershipStream(feed, store, {
      after: from,
      filter,
      onReplayFromStore: () => this.replays++,
      onClose: () => this.active--,
    });
  }
}
