/** A list: its segments with live member counts and 24-hour sparklines, and the live feed of its events. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { useFollow, useQuery } from "../api/hooks";
import { ListEventsSubscription, ListQuery } from "../api/operations";
import { dayAgo, formatCount, plural } from "../format";
import type { ConsoleListQuery, FeedEventFieldsFragment } from "../gql/graphql";
import { href } from "../router";
import { Feed, prepend } from "../ui/feed";
import { ImportPanel } from "../ui/import";
import { Card, ErrorNotice, LiveIndicator, Loading, Sparkline, StatusBadge, TypeBadge } from "../ui/widgets";

type SegmentRow = NonNullable<ConsoleListQuery["contactList"]>["segments"][number];

export function ListPage({ id }: { id: string }) {
  const since = useMemo(dayAgo, []);
  const list = useQuery(ListQuery, { id, since });
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [feed, setFeed] = useState<FeedEventFieldsFragment[]>([]);
  const [importing, setImporting] = useState(false);
  const data = list.data?.contactList;
  const known = useMemo(() => new Set(data?.segments.map((segment) => segment.id)), [data]);

  const live = useFollow(ListEventsSubscription, data ? { listId: data.id } : null, data?.eventCursor, (event) => event.segmentMembershipChanged.cursor, ({ segmentMembershipChanged: event }) => {
    setCounts((current) => ({ ...current, [event.segmentId]: event.memberCount }));
    setFeed((current) => prepend(current, [event]));
    // A segment made elsewhere since the page was read: read the list again.
    if (!known.has(event.segmentId)) list.reload();
  });

  // A build publishes no event when it ends: while a segment builds, the list is read again each second.
  const building = data?.segments.some((segment) => segment.status === "BUILDING");
  useEffect(() => {
    if (!building) return;
    const timer = setTimeout(list.reload, 1_000);
    return () => clearTimeout(timer);
  }, [building, data]);

  if (list.error && !data) return <ErrorNotice error={list.error} />;
  if (!list.data) return <Loading what="the list" />;
  if (!data) return <ErrorNotice error="This list does not exist (or belongs to another workspace)." />;

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.lists()}>Lists</a> <span aria-hidden="true">/</span> <span aria-current="page">{data.name}</span>
      </nav>
      <div class="page-header">
        <div>
          <h1>{data.name}</h1>
          <p class="muted">
            {plural(data.contactCount, "contact")} · {data.timeZone}
            {data.customFields.length > 0 && <> · custom fields: {data.customFields.map((field) => field.label || field.key).join(", ")}</>}
          </p>
        </div>
        <div class="page-actions">
          <a class="button" href={href.contacts(data.id)}>
            Contacts
          </a>
          <button type="button" class="button" aria-expanded={importing} onClick={() => setImporting(!importing)}>
            Import CSV
          </button>
          <a class="button primary" href={href.newSegment(data.id)}>
            New segment
          </a>
        </div>
      </div>
      {importing && <ImportPanel listId={data.id} onClose={() => setImporting(false)} onImported={list.reload} />}
      <div class="columns">
        <Card title="Segments" class="grow">
          {data.segments.length === 0 ? (
            <p class="empty">
              No segments yet. <a href={href.newSegment(data.id)}>Build the first one</a>.
            </p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Members
                  </th>
                  <th scope="col">Last 24 hours</th>
                </tr>
              </thead>
              <tbody>
                {data.segments.map((segment) => (
                  <SegmentRowView key={segment.id} segment={segment} count={counts[segment.id] ?? segment.memberCount} />
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Live activity" actions={<LiveIndicator status={live.status} detail={live.detail} />} class="side">
          <Feed events={feed} empty="Entries and exits of this list's segments appear here as they happen." />
        </Card>
      </div>
    </div>
  );
}

function SegmentRowView({ segment, count }: { segment: SegmentRow; count: number }) {
  const points = segment.memberCountSeries.map((point) => point.memberCount);
  if (points.length) points[points.length - 1] = count;
  return (
    <tr data-testid={`segment-${segment.id}`}>
      <td>
        <a class="strong" href={href.segment(segment.id)}>
          {segment.name}
        </a>
        {segment.freezeAt && <div class="muted small">freezes {new Date(segment.freezeAt).toLocaleString()}</div>}
      </td>
      <td>
        <TypeBadge type={segment.type} />
      </td>
      <td>
        <StatusBadge status={segment.status} />
      </td>
      <td class="num count" data-testid={`member-count-${segment.id}`}>
        {formatCount(count)}
      </td>
      <td>
        <Sparkline points={points} label={`${segment.name}: member count over the last 24 hours`} />
      </td>
    </tr>
  );
}
