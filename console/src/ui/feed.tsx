/** The live event feed: who entered or left which segment, and why; newest first. */
import type { FeedEventFieldsFragment } from "../gql/graphql";
import { formatCount, formatTime, personName, reasonLabel } from "../format";
import { href } from "../router";

export const FEED_LIMIT = 200;

/** The feed with new events put first, repeats (by cursor) dropped, at most FEED_LIMIT kept. */
export function prepend(feed: FeedEventFieldsFragment[], events: FeedEventFieldsFragment[]): FeedEventFieldsFragment[] {
  const known = new Set(feed.map((event) => event.cursor));
  const fresh = events.filter((event) => !known.has(event.cursor)).reverse();
  return fresh.length ? [...fresh, ...feed].slice(0, FEED_LIMIT) : feed;
}

export function Feed({ events, empty, showSegment = true }: { events: FeedEventFieldsFragment[]; empty: string; showSegment?: boolean }) {
  if (events.length === 0) return <p class="muted feed-empty">{empty}</p>;
  return (
    <ol class="feed" data-testid="feed" aria-live="polite" aria-relevant="additions">
      {events.map((event) => (
        <li key={event.cursor} class={`feed-item feed-${event.change.toLowerCase()}`} data-cursor={event.cursor}>
          <span class={`change change-${event.change.toLowerCase()}`} aria-hidden="true">
            {event.change === "ENTERED" ? "+" : "−"}
          </span>
          <div class="feed-text">
            <div>
              {event.contact ? <a href={href.contact(event.contact.id)}>{personName(event.contact)}</a> : <span class="muted">a deleted contact</span>}{" "}
              {event.change === "ENTERED" ? "entered" : "left"}
              {showSegment && (
                <>
                  {" "}
                  {event.segment ? <a href={href.segment(event.segment.id)}>{event.segment.name}</a> : <span class="muted">a deleted segment</span>}
                </>
              )}
            </div>
            <div class="feed-meta">
              <time dateTime={event.occurredAt}>{formatTime(event.occurredAt)}</time> · {reasonLabel(event.reason)} · {formatCount(event.memberCount)} members
            </div>
          </div>
        </li>
      ))}
    </ol>
  );
}
