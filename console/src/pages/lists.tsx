/** The lists of the workspace with their contact counts, and a form for a new list. */
import { useMemo, useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import { toApiError, useQuery } from "../api/hooks";
import { CreateListMutation, ListsQuery } from "../api/operations";
import { formatCount, formatDateTime } from "../format";
import type { FieldType } from "../gql/graphql";
import { href, navigate } from "../router";
import { Card, ErrorNotice, Loading } from "../ui/widgets";

export function ListsPage() {
  const lists = useQuery(ListsQuery, {});
  const [creating, setCreating] = useState(false);
  return (
    <div class="page">
      <div class="page-header">
        <div>
          <h1>Contact lists</h1>
          <p class="muted">Each list holds contacts and the segments chosen from them.</p>
        </div>
        {!creating && (
          <button type="button" class="button primary" onClick={() => setCreating(true)}>
            New list
          </button>
        )}
      </div>
      {creating && <NewListForm onCancel={() => setCreating(false)} />}
      {lists.error && <ErrorNotice error={lists.error} />}
      {!lists.data && !lists.error && <Loading what="lists" />}
      {lists.data && (
        <Card>
          {lists.data.contactLists.nodes.length === 0 ? (
            <p class="empty">No lists yet. Create one to start.</p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Time zone</th>
                  <th scope="col" class="num">
                    Contacts
                  </th>
                  <th scope="col" class="num">
                    Segments
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {lists.data.contactLists.nodes.map((list) => (
                  <tr key={list.id} data-testid={`list-${list.id}`}>
                    <td>
                      <a class="strong" href={href.list(list.id)}>
                        {list.name}
                      </a>
                    </td>
                    <td class="muted">{list.timeZone}</td>
                    <td class="num">{formatCount(list.contactCount)}</td>
                    <td class="num">{formatCount(list.segments.length)}</td>
                    <td class="muted">{formatDateTime(list.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      )}
    </div>
  );
}

const FIELD_TYPES: { type: FieldType; label: string }[] = [
  { type: "TEXT", label: "Text" },
  { type: "NUMBER", label: "Number" },
  { type: "BOOLEAN", label: "Yes / no" },
  { type: "DATE", label: "Date" },
  { type: "DATETIME", label: "Date and time" },
];

interface FieldDraft {
  key: string;
  label: string;
  type: FieldType;
}

function NewListForm({ onCancel }: { onCancel(): void }) {
  const zones = useMemo(() => Intl.supportedValuesOf("timeZone"), []);
  const [name, setName] = useState("");
  const [timeZone, setTimeZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  const [fields, setFields] = useState<FieldDraft[]>([]);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const update = (index: number, patch: Partial<FieldDraft>) => setFields(fields.map((field, at) => (at === index ? { ...field, ...patch } : field)));
  return (
    <Card title="New list" class="form-card">
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const { createContactList } = await request(CreateListMutation, {
              input: { name, timeZone, customFields: fields.map((field) => ({ key: field.key.trim(), type: field.type, label: field.label.trim() || null })) },
            });
            navigate(href.list(createContactList.id));
          } catch (failure) {
            setError(toApiError(failure));
            setBusy(false);
          }
        }}
      >
        <div class="form-row">
          <label class="field grow">
            <span>Name</span>
            <input required value={name} onInput={(event) => setName(event.currentTarget.value)} placeholder="Newsletter" />
          </label>
          <label class="field">
            <span>Time zone</span>
            <select value={timeZone} onChange={(event) => setTimeZone(event.currentTarget.value)}>
              {["UTC", ...zones.filter((zone) => zone !== "UTC")].map((zone) => (
                <option key={zone} value={zone}>
                  {zone}
                </option>
              ))}
            </select>
          </label>
        </div>
        <p class="hint">Ages, birthdays and relative dates of the list's segments follow its time zone; it cannot change later.</p>
        <fieldset class="fields">
          <legend>Custom fields</legend>
          {fields.length === 0 && <p class="muted small">None: contacts have the built-in fields (email, name, phone, country, city, gender, birth date, tags).</p>}
          {fields.map((field, index) => (
            <div class="form-row" key={index}>
              <label class="field">
                <span>Key</span>
                <input required pattern="[A-Za-z][A-Za-z0-9_]{0,63}" value={field.key} onInput={(event) => update(index, { key: event.currentTarget.value })} placeholder="plan" />
              </label>
              <label class="field grow">
                <span>Label</span>
                <input value={field.label} onInput={(event) => update(index, { label: event.currentTarget.value })} placeholder="Plan" />
              </label>
              <label class="field">
                <span>Type</span>
                <select value={field.type} onChange={(event) => update(index, { type: event.currentTarget.value as FieldType })}>
                  {FIELD_TYPES.map((option) => (
                    <option key={option.type} value={option.type}>
                      {option.label}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" class="button ghost align-end" aria-label={`Remove field ${field.key || index + 1}`} onClick={() => setFields(fields.filter((_, at) => at !== index))}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="button" onClick={() => setFields([...fields, { key: "", label: "", type: "TEXT" }])}>
            Add a field
          </button>
        </fieldset>
        {error && <ErrorNotice error={error} />}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? "Creating…" : "Create list"}
          </button>
          <button type="button" class="button ghost" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Card>
  );
}
