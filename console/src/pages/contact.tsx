/**
 * A contact: its fields, the segments it is in, why it is or is not in any segment of its list
 * (`explainMembership`), adding or removing it by hand, and its segment history.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import { toApiError, useQuery } from "../api/hooks";
import { AddMembersMutation, ClearOverridesMutation, ContactQuery, ExplainQuery, RemoveMembersMutation } from "../api/operations";
import { formatDateTime, personName } from "../format";
import type { ConsoleContactQuery, ConsoleExplainQuery } from "../gql/graphql";
import { type FieldOption, fieldsOf, operatorLabel, type Operator } from "../conditions/model";
import { href } from "../router";
import { Feed } from "../ui/feed";
import { Card, ErrorNotice, Loading, TypeBadge } from "../ui/widgets";

type Contact = NonNullable<ConsoleContactQuery["contact"]>;

export function ContactPage({ id }: { id: string }) {
  const query = useQuery(ContactQuery, { id });
  const contact = query.data?.contact;
  const [selected, setSelected] = useState<string>();
  useEffect(() => {
    if (contact && !selected) setSelected(contact.segments[0]?.id ?? contact.list.segments[0]?.id);
  }, [contact]);
  if (query.error && !contact) return <ErrorNotice error={query.error} />;
  if (!query.data) return <Loading what="the contact" />;
  if (!contact) return <ErrorNotice error="This contact does not exist (or belongs to another workspace)." />;
  const memberOf = new Set(contact.segments.map((segment) => segment.id));
  const details: [string, string | null | undefined][] = [
    ["Email", contact.email],
    ["Phone", contact.phone],
    ["Country", contact.country],
    ["City", contact.city],
    ["Gender", contact.gender],
    ["Birth date", contact.birthDate && `${contact.birthDate}${contact.age !== null ? ` (age ${contact.age})` : ""}`],
    ...contact.list.customFields.map((field): [string, string | null] => {
      const value = contact.attributes[field.key];
      return [field.label || field.key, value === undefined || value === null ? null : String(value)];
    }),
    ["Created", formatDateTime(contact.createdAt)],
    ["Updated", formatDateTime(contact.updatedAt)],
  ];
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.lists()}>Lists</a> <span aria-hidden="true">/</span> <a href={href.list(contact.list.id)}>{contact.list.name}</a> <span aria-hidden="true">/</span>{" "}
        <a href={href.contacts(contact.list.id)}>Contacts</a> <span aria-hidden="true">/</span> <span aria-current="page">{contact.email}</span>
      </nav>
      <div class="page-header">
        <div>
          <h1>{personName(contact)}</h1>
          <p class="muted">
            {contact.tags.map((tag) => (
              <span class="tag" key={tag}>
                {tag}
              </span>
            ))}
          </p>
        </div>
      </div>
      <div class="columns">
        <div class="grow stack">
          <Card title="Segments">
            {contact.list.segments.length === 0 ? (
              <p class="empty">The list has no segments.</p>
            ) : (
              <ul class="segment-choices" aria-label="Segments of the list">
                {contact.list.segments.map((segment) => (
                  <li key={segment.id}>
                    <button type="button" class={`choice-button ${selected === segment.id ? "selected" : ""}`} aria-pressed={selected === segment.id} onClick={() => setSelected(segment.id)}>
                      <span class={`dot ${memberOf.has(segment.id) ? "dot-in" : "dot-out"}`} aria-hidden="true" />
                      {segment.name}
                      <span class="visually-hidden">{memberOf.has(segment.id) ? " (member)" : " (not a member)"}</span>
                      <TypeBadge type={segment.type} />
                    </button>
                  </li>
                ))}
              </ul>
            )}
            {selected && <Explanation key={selected} contact={contact} segmentId={selected} onChanged={query.reload} />}
          </Card>
          <Card title="Segment history">
            <Feed events={contact.segmentHistory.edges.map((edge) => edge.node)} empty="No entries or exits in the retained log." />
          </Card>
        </div>
        <Card title="Details" class="side">
          <dl class="details">
            {details.map(([label, value]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>{value || <span class="muted">–</span>}</dd>
              </div>
            ))}
          </dl>
        </Card>
      </div>
    </div>
  );
}

type Verdict = NonNullable<ConsoleExplainQuery["explainMembership"]>["nodes"][number];

function depthOf(path: string): number {
  return path === "" ? 0 : path.split(/\.|\[/).filter((part) => part !== "").length - (path.match(/\[/g)?.length ?? 0);
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "not set";
  if (Array.isArray(value)) return value.map(show).join(", ");
  if (typeof value === "object") {
    const duration = value as { amount?: unknown; unit?: unknown };
    return duration.amount !== undefined ? `${String(duration.amount)} ${String(duration.unit).toLowerCase()}` : JSON.stringify(value);
  }
  return String(value);
}

function describeNode(node: Verdict, fields: FieldOption[]): string {
  switch (node.kind) {
    case "AND":
      return "All of";
    case "OR":
      return "Any of";
    case "NOT":
      return "Not";
    case "SEGMENT":
      return `Member of ${node.segment?.name ?? "a deleted segment"}`;
    case "LEAF":
      const field = fields.find((option) => option.path === node.field)?.label ?? node.field;
      return `${field} ${node.operator ? operatorLabel(node.operator as Operator) : ""}${node.value === null || node.value === undefined ? "" : ` ${show(node.value)}`}`;
  }
}

function Explanation({ contact, segmentId, onChanged }: { contact: Contact; segmentId: string; onChanged(): void }) {
  const explain = useQuery(ExplainQuery, { segmentId, contactId: contact.id });
  const [error, setError] = useState<ApiError>();
  const segment = contact.list.segments.find((item) => item.id === segmentId);
  const result = explain.data?.explainMembership;
  const fields = useMemo(() => fieldsOf(contact.list.customFields), [contact.list]);
  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      explain.reload();
      onChanged();
    } catch (failure) {
      setError(toApiError(failure));
    }
  };
  const ids = { segmentId, contactIds: [contact.id] };
  return (
    <div class="explanation" data-testid="explanation">
      {explain.error && <ErrorNotice error={explain.error} />}
      {!result && !explain.error && <Loading what="the explanation" />}
      {result && segment && (
        <>
          <p class="verdict">
            <strong>{result.member ? "A member" : "Not a member"}</strong>
            {result.override === "INCLUDED" && " — added by hand, whatever the condition says."}
            {result.override === "EXCLUDED" && " — removed by hand, whatever the condition says."}
            {!result.override && (result.conditionMatched ? " — the condition holds." : " — the condition does not hold.")}
            {!result.override && result.member !== result.conditionMatched && segment.type === "STATIC" && " A static segment keeps the members it was made with."}
          </p>
          <ol class="verdicts">
            {result.nodes.map((node) => (
              <li key={node.path} class={node.matched ? "holds" : "fails"} style={{ paddingLeft: `${depthOf(node.path) * 1.25 + 0.5}rem` }}>
                <span class="mark" aria-label={node.matched ? "holds" : "does not hold"}>
                  {node.matched ? "✓" : "✗"}
                </span>
                <span>{describeNode(node, fields)}</span>
                {node.kind === "LEAF" && <span class="muted small"> — theirs: {show(node.actual)}</span>}
              </li>
            ))}
          </ol>
          {error && <ErrorNotice error={error} />}
          <div class="toolbar">
            {!result.member && (
              <button type="button" class="button" onClick={() => act(() => request(AddMembersMutation, ids))}>
                Add to {segment.name} by hand
              </button>
            )}
            {result.member && (
              <button type="button" class="button" onClick={() => act(() => request(RemoveMembersMutation, ids))}>
                Remove from {segment.name} by hand
              </button>
            )}
            {result.override && (
              <button type="button" class="button ghost" onClick={() => act(() => request(ClearOverridesMutation, ids))}>
                Let the condition decide again
              </button>
            )}
          </div>
        </>
      )}
    </div>
  );
}
