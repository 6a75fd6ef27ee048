/**
 * A segment: its live member count and 24-hour chart, its condition in the builder (editable while
 * DYNAMIC), its members and its event feed; rename, freeze, duplicate, delete.
 */
import { useMemo, useState } from "preact/hooks";
import { ApiError, download, request } from "../api/client";
import { toApiError, useFollow, useQuery } from "../api/hooks";
import {
  CancelFreezeMutation,
  DeleteSegmentMutation,
  DuplicateSegmentMutation,
  FreezeSegmentMutation,
  SegmentEventsSubscription,
  SegmentQuery,
  UpdateSegmentMutation,
} from "../api/operations";
import { compile, type DraftNode, fieldsOf, fromStored } from "../conditions/model";
import { dayAgo, formatCount, formatDateTime, personName } from "../format";
import type { ConsoleSegmentQuery, FeedEventFieldsFragment, SegmentType } from "../gql/graphql";
import { href, navigate } from "../router";
import { ConditionBuilder, errorsByNode, PreviewPanel, usePreview } from "../ui/builder";
import { Feed, prepend } from "../ui/feed";
import { Card, ErrorNotice, LiveIndicator, Loading, Sparkline, StatusBadge, TypeBadge } from "../ui/widgets";

type Segment = NonNullable<ConsoleSegmentQuery["segment"]>;

export function SegmentPage({ id }: { id: string }) {
  const since = useMemo(dayAgo, []);
  const query = useQuery(SegmentQuery, { id, since });
  const segment = query.data?.segment;
  const [count, setCount] = useState<number>();
  const [feed, setFeed] = useState<FeedEventFieldsFragment[]>();
  const history = useMemo(() => segment?.history.edges.map((edge) => edge.node) ?? [], [segment]);
  const start = segment ? (history[0]?.cursor ?? segment.eventCursor) : undefined;
  const live = useFollow(SegmentEventsSubscription, segment ? { segmentId: segment.id } : null, start, (event) => event.segmentMembershipChanged.cursor, ({ segmentMembershipChanged: event }) => {
    setCount(event.memberCount);
    setFeed((current) => prepend(current ?? history, [event]));
  });

  if (query.error && !segment) return <ErrorNotice error={query.error} />;
  if (!query.data) return <Loading what="the segment" />;
  if (!segment) return <ErrorNotice error="This segment does not exist (or belongs to another workspace)." />;

  const memberCount = count ?? segment.memberCount;
  const points = segment.memberCountSeries.map((point) => point.memberCount);
  if (points.length) points[points.length - 1] = memberCount;

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.lists()}>Lists</a> <span aria-hidden="true">/</span> <a href={href.list(segment.list.id)}>{segment.list.name}</a> <span aria-hidden="true">/</span>{" "}
        <span aria-current="page">{segment.name}</span>
      </nav>
      <div class="page-header">
        <div>
          <h1>{segment.name}</h1>
          <p class="badges">
            <TypeBadge type={segment.type} /> <StatusBadge status={segment.status} />
            {segment.frozenAt && <span class="muted small">frozen {formatDateTime(segment.frozenAt)}</span>}
            {segment.freezeAt && <span class="muted small">freezes {formatDateTime(segment.freezeAt)}</span>}
          </p>
        </div>
        <div class="stat" data-testid={`segment-${segment.id}`}>
          <div>
            <span class="big count" data-testid={`member-count-${segment.id}`}>
              {formatCount(memberCount)}
            </span>{" "}
            <span class="muted">members</span>
          </div>
          <Sparkline points={points} width={200} height={40} label={`${segment.name}: member count over the last 24 hours`} />
          <span class="muted small">last 24 hours</span>
        </div>
      </div>
      <SegmentActions segment={segment} onChanged={query.reload} />
      <div class="columns">
        <div class="grow stack">
          <ConditionCard segment={segment} onSaved={query.reload} />
          <Card title={`Members (${formatCount(segment.members.totalCount)})`}>
            {segment.members.edges.length === 0 ? (
              <p class="empty">No members.</p>
            ) : (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Contact</th>
                    <th scope="col">Joined</th>
                  </tr>
                </thead>
                <tbody>
                  {segment.members.edges.map((edge) => (
                    <tr key={edge.node.id}>
                      <td>
                        <a href={href.contact(edge.node.id)}>{personName(edge.node)}</a> <span class="muted small">{edge.node.email}</span>
                      </td>
                      <td class="muted">{edge.joinedAt ? formatDateTime(edge.joinedAt) : "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
        </div>
        <Card title="Activity" actions={<LiveIndicator status={live.status} detail={live.detail} />} class="side">
          <Feed events={feed ?? history} empty="Entries and exits appear here as they happen." showSegment={false} />
        </Card>
      </div>
    </div>
  );
}

function ConditionCard({ segment, onSaved }: { segment: Segment; onSaved(): void }) {
  const editable = segment.type === "DYNAMIC";
  const fields = useMemo(() => fieldsOf(segment.list.customFields), [segment.list]);
  const stored = JSON.stringify(segment.condition);
  const [root, setRoot] = useState<DraftNode>(() => fromStored(segment.condition));
  const [dirty, setDirty] = useState(false);
  const compiled = useMemo(() => compile(root, fields), [root, fields]);
  const preview = usePreview(segment.list.id, compiled);
  const [saveErrors, setSaveErrors] = useState<Map<number, string>>();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const others = segment.list.segments.filter((other) => other.id !== segment.id);
  const reset = () => {
    setRoot(fromStored(JSON.parse(stored)));
    setDirty(false);
    setSaveErrors(undefined);
    setProblem(undefined);
  };
  const save = async () => {
    setBusy(true);
    try {
      await request(UpdateSegmentMutation, { id: segment.id, input: { condition: compiled.input } });
      setDirty(false);
      setSaveErrors(undefined);
      setProblem(undefined);
      onSaved();
    } catch (error) {
      const { byNode, other } = errorsByNode(toApiError(error).errors, compiled);
      setSaveErrors(byNode);
      setProblem(other.map((item) => item.message).join("; ") || undefined);
    }
    setBusy(false);
  };
  return (
    <Card
      title="Condition"
      actions={
        dirty && (
          <>
            <button type="button" class="button ghost" onClick={reset}>
              Discard
            </button>
            <button type="button" class="button primary" disabled={busy} onClick={save}>
              {busy ? "Saving…" : "Save condition"}
            </button>
          </>
        )
      }
    >
      {!editable && <p class="hint">A static segment keeps the members it has; duplicate it as a dynamic segment to change the condition.</p>}
      <SegmentLinks label="Uses" segments={segment.dependsOn} />
      <SegmentLinks label="Used by" segments={segment.usedBy} />
      {problem && <ErrorNotice error={problem} />}
      <div class={dirty ? "columns tight" : ""}>
        <div class="grow">
          <ConditionBuilder
            root={root}
            onChange={(next) => {
              setRoot(next);
              setDirty(true);
              setSaveErrors(undefined);
            }}
            fields={fields}
            segments={others}
            notes={{ counts: preview.counts, errors: saveErrors?.size ? saveErrors : preview.errors }}
            compiled={compiled}
            readOnly={!editable}
          />
        </div>
        {dirty && (
          <div class="side">
            <PreviewPanel preview={preview} />
          </div>
        )}
      </div>
    </Card>
  );
}

/** The segments this one references, or that reference it (inSegment). */
function SegmentLinks({ label, segments }: { label: string; segments: { id: string; name: string }[] }) {
  if (segments.length === 0) return null;
  return (
    <p class="hint">
      {label}{" "}
      {segments.map((other, index) => (
        <span key={other.id}>
          {index > 0 && ", "}
          <a href={href.segment(other.id)}>{other.name}</a>
        </span>
      ))}
    </p>
  );
}

function SegmentActions({ segment, onChanged }: { segment: Segment; onChanged(): void }) {
  const [open, setOpen] = useState<"rename" | "freeze" | "duplicate" | null>(null);
  const [error, setError] = useState<ApiError>();
  const run = async (action: () => Promise<unknown>, after?: () => void) => {
    setError(undefined);
    try {
      await action();
      setOpen(null);
      (after ?? onChanged)();
    } catch (failure) {
      setError(toApiError(failure));
    }
  };
  return (
    <div class="actions-bar">
      <div class="toolbar" role="toolbar" aria-label="Segment actions">
        <button type="button" class="button" aria-expanded={open === "rename"} onClick={() => setOpen(open === "rename" ? null : "rename")}>
          Rename
        </button>
        {segment.type === "DYNAMIC" && (
          <button type="button" class="button" aria-expanded={open === "freeze"} onClick={() => setOpen(open === "freeze" ? null : "freeze")}>
            Freeze
          </button>
        )}
        <button type="button" class="button" aria-expanded={open === "duplicate"} onClick={() => setOpen(open === "duplicate" ? null : "duplicate")}>
          Duplicate
        </button>
        <button type="button" class="button" onClick={() => void run(() => download(`/segments/${encodeURIComponent(segment.id)}/members.csv`), () => {})}>
          Download CSV
        </button>
        <button
          type="button"
          class="button danger"
          onClick={() => {
            if (!confirm(`Delete the segment "${segment.name}"? Its members stay in the list.`)) return;
            void run(() => request(DeleteSegmentMutation, { id: segment.id }), () => navigate(href.list(segment.list.id)));
          }}
        >
          Delete
        </button>
      </div>
      {error && <ErrorNotice error={error} />}
      {open === "rename" && <RenameForm segment={segment} run={run} />}
      {open === "freeze" && <FreezeForm segment={segment} run={run} />}
      {open === "duplicate" && <DuplicateForm segment={segment} run={run} />}
    </div>
  );
}

type Run = (action: () => Promise<unknown>, after?: () => void) => Promise<void>;

function RenameForm({ segment, run }: { segment: Segment; run: Run }) {
  const [name, setName] = useState(segment.name);
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        void run(() => request(UpdateSegmentMutation, { id: segment.id, input: { name } }));
      }}
    >
      <label class="field grow">
        <span>New name</span>
        <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
      </label>
      <button type="submit" class="button primary align-end">
        Rename
      </button>
    </form>
  );
}

function FreezeForm({ segment, run }: { segment: Segment; run: Run }) {
  const [at, setAt] = useState("");
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        void run(() => request(FreezeSegmentMutation, { id: segment.id, at: at ? new Date(at).toISOString() : null }));
      }}
    >
      <p class="hint grow">Freezing turns the segment static with the members it has then. Leave the time empty to freeze now.</p>
      <label class="field">
        <span>At (your local time)</span>
        <input type="datetime-local" value={at} onInput={(event) => setAt(event.currentTarget.value)} />
      </label>
      <button type="submit" class="button primary align-end">
        {at ? "Schedule freeze" : "Freeze now"}
      </button>
      {segment.freezeAt && (
        <button type="button" class="button align-end" onClick={() => void run(() => request(CancelFreezeMutation, { id: segment.id }))}>
          Cancel the scheduled freeze
        </button>
      )}
    </form>
  );
}

function DuplicateForm({ segment, run }: { segment: Segment; run: Run }) {
  const [name, setName] = useState(`${segment.name} (copy)`);
  const [type, setType] = useState<SegmentType>(segment.type);
  let created: string | undefined;
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        void run(
          async () => {
            created = (await request(DuplicateSegmentMutation, { id: segment.id, name, type })).duplicateSegment.id;
          },
          () => created && navigate(href.segment(created)),
        );
      }}
    >
      <label class="field grow">
        <span>Name of the copy</span>
        <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Type</span>
        <select value={type} onChange={(event) => setType(event.currentTarget.value as SegmentType)}>
          <option value="DYNAMIC">Dynamic (follows the condition)</option>
          <option value="STATIC">Static (a snapshot of the members now)</option>
        </select>
      </label>
      <button type="submit" class="button primary align-end">
        Duplicate
      </button>
    </form>
  );
}
