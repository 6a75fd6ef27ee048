/** A new segment: the condition builder with its live preview, and a name and type to save it with. */
import { useMemo, useState } from "preact/hooks";
import { request } from "../api/client";
import { toApiError, useQuery } from "../api/hooks";
import { CreateSegmentMutation, ListForBuilderQuery } from "../api/operations";
import { compile, type DraftNode, fieldsOf, newGroup } from "../conditions/model";
import type { SegmentType } from "../gql/graphql";
import { href, navigate } from "../router";
import { ConditionBuilder, errorsByNode, PreviewPanel, usePreview } from "../ui/builder";
import { Card, ErrorNotice, Loading } from "../ui/widgets";

export function NewSegmentPage({ listId }: { listId: string }) {
  const list = useQuery(ListForBuilderQuery, { id: listId });
  const data = list.data?.contactList;
  const fields = useMemo(() => fieldsOf(data?.customFields ?? []), [data]);
  const [root, setRoot] = useState<DraftNode>(() => newGroup("and"));
  const compiled = useMemo(() => compile(root, fields), [root, fields]);
  const preview = usePreview(listId, compiled, Boolean(data));
  const [name, setName] = useState("");
  const [type, setType] = useState<SegmentType>("DYNAMIC");
  const [saveErrors, setSaveErrors] = useState<{ byNode: Map<number, string>; other?: string }>();
  const [busy, setBusy] = useState(false);

  if (list.error) return <ErrorNotice error={list.error} />;
  if (!list.data) return <Loading what="the list" />;
  if (!data) return <ErrorNotice error="This list does not exist (or belongs to another workspace)." />;

  const errors = saveErrors?.byNode.size ? saveErrors.byNode : preview.errors;
  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const { createSegment } = await request(CreateSegmentMutation, { input: { listId, name, type, condition: compiled.input } });
      navigate(href.segment(createSegment.id));
    } catch (error) {
      const { byNode, other } = errorsByNode(toApiError(error).errors, compiled);
      setSaveErrors({ byNode, other: other.map((item) => item.message).join("; ") || undefined });
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.lists()}>Lists</a> <span aria-hidden="true">/</span> <a href={href.list(data.id)}>{data.name}</a> <span aria-hidden="true">/</span>{" "}
        <span aria-current="page">New segment</span>
      </nav>
      <h1>New segment</h1>
      <div class="columns">
        <Card title="Condition" class="grow">
          <ConditionBuilder
            root={root}
            onChange={(next) => {
              setSaveErrors(undefined);
              setRoot(next);
            }}
            fields={fields}
            segments={data.segments}
            notes={{ counts: preview.counts, errors }}
            compiled={compiled}
          />
        </Card>
        <div class="side stack">
          <Card title="Preview">
            <PreviewPanel preview={preview} />
          </Card>
          <Card title="Save">
            <form onSubmit={save} class="stack">
              <label class="field">
                <span>Name</span>
                <input required value={name} onInput={(event) => setName(event.currentTarget.value)} placeholder="Young Norwegians" />
              </label>
              <fieldset class="choice">
                <legend>Type</legend>
                <label>
                  <input type="radio" name="type" value="DYNAMIC" checked={type === "DYNAMIC"} onChange={() => setType("DYNAMIC")} />
                  <span>
                    <strong>Dynamic</strong> <span class="muted small">contacts enter and leave as they change and as time passes</span>
                  </span>
                </label>
                <label>
                  <input type="radio" name="type" value="STATIC" checked={type === "STATIC"} onChange={() => setType("STATIC")} />
                  <span>
                    <strong>Static</strong> <span class="muted small">the contacts that match now, fixed</span>
                  </span>
                </label>
              </fieldset>
              {saveErrors?.other && <ErrorNotice error={saveErrors.other} />}
              {saveErrors && saveErrors.byNode.size > 0 && <ErrorNotice error="The condition has problems: see the builder." />}
              <button type="submit" class="button primary" disabled={busy || name.trim() === ""}>
                {busy ? "Saving…" : "Save segment"}
              </button>
            </form>
          </Card>
        </div>
      </div>
    </div>
  );
}
