/**
 * The condition builder: nested AND / OR groups, a "not" on every node, the list's fields with the
 * operators their type accepts, value inputs that fit the operator; each node shows how many
 * contacts it alone selects and the service's error about it. `usePreview` asks the service for
 * the count, a sample and the per-node counts (`segmentPreview.breakdown`) a moment after each edit.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { type ApiErrorShape, request } from "../api/client";
import { toApiError } from "../api/hooks";
import { PreviewQuery } from "../api/operations";
import {
  type Compiled,
  DURATION_LABELS,
  DURATION_UNITS,
  type DraftNode,
  type DurationUnit,
  type FieldOption,
  type GroupNode,
  type LeafNode,
  newGroup,
  newLeaf,
  newSegmentRef,
  nodeAt,
  operatorLabel,
  operatorsFor,
  replaceNode,
  type SegmentNode,
  shapeOf,
  type ValueDraft,
  type ValueType,
} from "../conditions/model";
import { formatCount, personName } from "../format";
import type { ConsolePreviewQuery } from "../gql/graphql";
import { href } from "../router";
import { TokenInput } from "./widgets";

export interface NodeNotes {
  /** Contacts each node alone selects, by node id. */
  counts: Map<number, number>;
  /** The service's complaint about a node, by node id. */
  errors: Map<number, string>;
}

/** Errors that name a node of the condition, by node; the others are returned as they are. */
export function errorsByNode(errors: readonly ApiErrorShape[], compiled: Compiled): { byNode: Map<number, string>; other: ApiErrorShape[] } {
  const byNode = new Map<number, string>();
  const other: ApiErrorShape[] = [];
  for (const error of errors) {
    const path = error.extensions?.conditionPath;
    const node = typeof path === "string" ? nodeAt(compiled.paths, path) : undefined;
    if (node === undefined || typeof path !== "string") other.push(error);
    else if (!byNode.has(node)) byNode.set(node, error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message);
  }
  return { byNode, other };
}

export interface PreviewState extends NodeNotes {
  result?: ConsolePreviewQuery["segmentPreview"];
  /** An error that names no node (or none of the tree). */
  problem?: string;
  loading: boolean;
}

const PREVIEW_DELAY_MS = 300;

export function usePreview(listId: string, compiled: Compiled, enabled = true): PreviewState {
  const [state, setState] = useState<PreviewState>({ counts: new Map(), errors: new Map(), loading: true });
  const key = JSON.stringify(compiled.input);
  useEffect(() => {
    if (!enabled) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    const timer = setTimeout(async () => {
      try {
        const { segmentPreview } = await request(PreviewQuery, { listId, condition: compiled.input });
        if (!current) return;
        const counts = new Map<number, number>();
        for (const verdict of segmentPreview.breakdown) {
          const node = compiled.paths.get(verdict.path);
          // A negated node's `not` comes first in pre-order: its count is the node's.
          if (node !== undefined && !counts.has(node) && verdict.count !== null && verdict.count !== undefined) counts.set(node, verdict.count);
        }
        setState({ result: segmentPreview, counts, errors: new Map(), loading: false });
      } catch (error) {
        if (!current) return;
        const { byNode, other } = errorsByNode(toApiError(error).errors, compiled);
        setState({ counts: new Map(), errors: byNode, problem: other.map((item) => item.message).join("; ") || undefined, loading: false });
      }
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [listId, key, enabled]);
  return state;
}

interface BuilderContext {
  fields: FieldOption[];
  segments: { id: string; name: string }[];
  notes: NodeNotes;
  pathOf: Map<number, string>;
  readOnly: boolean;
}

export function ConditionBuilder({ root, onChange, fields, segments, notes, compiled, readOnly = false }: {
  root: DraftNode;
  onChange(root: DraftNode): void;
  fields: FieldOption[];
  /** The list's segments a node may reference (the segment being edited left out). */
  segments: { id: string; name: string }[];
  notes: NodeNotes;
  compiled: Compiled;
  readOnly?: boolean;
}) {
  const pathOf = useMemo(() => {
    const inverse = new Map<number, string>();
    for (const [path, node] of compiled.paths) if (!inverse.has(node)) inverse.set(node, path);
    return inverse;
  }, [compiled]);
  const context: BuilderContext = { fields, segments, notes, pathOf, readOnly };
  const change = (node: DraftNode | null, target: number) => onChange(replaceNode(root, target, node));
  return (
    <div class="builder" data-testid="condition-builder">
      <NodeView node={root} context={context} change={change} isRoot />
    </div>
  );
}

type Change = (node: DraftNode | null, target: number) => void;

function NodeView({ node, context, change, isRoot = false }: { node: DraftNode; context: BuilderContext; change: Change; isRoot?: boolean }) {
  const path = context.pathOf.get(node.id) ?? "";
  const error = context.notes.errors.get(node.id);
  const count = context.notes.counts.get(node.id);
  const update = (patch: Partial<DraftNode>) => change({ ...node, ...patch } as DraftNode, node.id);
  const errorId = `node-error-${node.id}`;
  const tools = (
    <div class="node-tools">
      <label class="not-toggle">
        <input type="checkbox" checked={node.negated} disabled={context.readOnly} onChange={(event) => update({ negated: event.currentTarget.checked })} />
        Not
      </label>
      <span class="node-count" data-testid="node-count" title="Contacts this node alone selects">
        {count === undefined ? "–" : formatCount(count)}
      </span>
      {!isRoot && !context.readOnly && (
        <button type="button" class="icon-button" aria-label={node.kind === "group" ? "Remove this group" : "Remove this condition"} onClick={() => change(null, node.id)}>
          ×
        </button>
      )}
    </div>
  );
  const errorLine = error && (
    <p class="node-error" id={errorId} role="alert" data-testid="node-error">
      {error}
    </p>
  );
  const common = { "data-path": path, "aria-invalid": error ? true : undefined, "aria-describedby": error ? errorId : undefined };

  if (node.kind === "group") {
    return (
      <div class={`node group ${node.negated ? "negated" : ""} ${error ? "has-error" : ""}`} role="group" aria-label={node.op === "and" ? "All of these" : "Any of these"} {...common}>
        <div class="node-head">
          <select aria-label="Combine with" value={node.op} disabled={context.readOnly} onChange={(event) => update({ op: event.currentTarget.value as GroupNode["op"] })}>
            <option value="and">All of these (AND)</option>
            <option value="or">Any of these (OR)</option>
          </select>
          {tools}
        </div>
        {errorLine}
        <ul class="node-items">
          {node.items.map((item) => (
            <li key={item.id}>
              <NodeView node={item} context={context} change={change} />
            </li>
          ))}
        </ul>
        {!context.readOnly && (
          <div class="node-add">
            <button type="button" class="button small" onClick={() => update({ items: [...node.items, newLeaf(context.fields[0]?.path)] })}>
              + Condition
            </button>
            <button type="button" class="button small" onClick={() => update({ items: [...node.items, newGroup(node.op === "and" ? "or" : "and")] })}>
              + Group
            </button>
            {context.segments.length > 0 && (
              <button type="button" class="button small" onClick={() => update({ items: [...node.items, newSegmentRef(context.segments[0]!.id)] })}>
                + In segment
              </button>
            )}
          </div>
        )}
      </div>
    );
  }

  if (node.kind === "segment") {
    return (
      <div class={`node leaf ${node.negated ? "negated" : ""} ${error ? "has-error" : ""}`} {...common}>
        <div class="node-head">
          <span class="node-label">Member of</span>
          <SegmentSelect node={node} context={context} update={update} />
          {tools}
        </div>
        {errorLine}
      </div>
    );
  }

  return (
    <div class={`node leaf ${node.negated ? "negated" : ""} ${error ? "has-error" : ""}`} {...common}>
      <div class="node-head">
        <LeafEditor node={node} context={context} update={update} invalid={Boolean(error)} />
        {tools}
      </div>
      {errorLine}
    </div>
  );
}

function SegmentSelect({ node, context, update }: { node: SegmentNode; context: BuilderContext; update(patch: Partial<SegmentNode>): void }) {
  const options = context.segments.some((segment) => segment.id === node.segmentId) ? context.segments : [{ id: node.segmentId, name: "(unknown segment)" }, ...context.segments];
  return (
    <select aria-label="Segment" value={node.segmentId} disabled={context.readOnly} onChange={(event) => update({ segmentId: event.currentTarget.value })}>
      {options.map((segment) => (
        <option key={segment.id} value={segment.id}>
          {segment.name}
        </option>
      ))}
    </select>
  );
}

function LeafEditor({ node, context, update, invalid }: { node: LeafNode; context: BuilderContext; update(patch: Partial<LeafNode>): void; invalid: boolean }) {
  const field = context.fields.find((option) => option.path === node.field);
  const type: ValueType = field?.type ?? "TEXT";
  const operators = operatorsFor(type);
  const setValue = (patch: Partial<ValueDraft>) => update({ value: { ...node.value, ...patch } });
  return (
    <>
      <select
        aria-label="Field"
        value={node.field}
        disabled={context.readOnly}
        onChange={(event) => {
          const next = context.fields.find((option) => option.path === event.currentTarget.value);
          const allowed = operatorsFor(next?.type ?? "TEXT");
          update({ field: event.currentTarget.value, operator: allowed.includes(node.operator) ? node.operator : allowed[0]! });
        }}
      >
        {!field && <option value={node.field}>{node.field}</option>}
        {context.fields.map((option) => (
          <option key={option.path} value={option.path}>
            {option.label}
          </option>
        ))}
      </select>
      <select aria-label="Operator" value={node.operator} disabled={context.readOnly} onChange={(event) => update({ operator: event.currentTarget.value as LeafNode["operator"] })}>
        {operators.map((operator) => (
          <option key={operator} value={operator}>
            {operatorLabel(operator)}
          </option>
        ))}
      </select>
      <ValueEditor node={node} type={type} setValue={setValue} readOnly={context.readOnly} invalid={invalid} />
    </>
  );
}

function ScalarInput({ type, value, onInput, label, readOnly, invalid }: { type: ValueType; value: string; onInput(value: string): void; label: string; readOnly: boolean; invalid: boolean }) {
  const shared = { "aria-label": label, disabled: readOnly, "aria-invalid": invalid || undefined, class: "value-input" };
  if (type === "BOOLEAN") {
    return (
      <select {...shared} value={value} onChange={(event) => onInput(event.currentTarget.value)}>
        <option value="">choose…</option>
        <option value="true">yes</option>
        <option value="false">no</option>
      </select>
    );
  }
  if ((type === "DATE" || type === "DATETIME") && (value === "" || /^\d{4}-\d{2}-\d{2}$/.test(value))) {
    return <input {...shared} type="date" value={value} onInput={(event) => onInput(event.currentTarget.value)} />;
  }
  if (type === "NUMBER" || type === "AGE") {
    return <input {...shared} type="number" step="any" value={value} onInput={(event) => onInput(event.currentTarget.value)} placeholder="0" />;
  }
  return <input {...shared} type="text" value={value} onInput={(event) => onInput(event.currentTarget.value)} placeholder="value" />;
}

function ValueEditor({ node, type, setValue, readOnly, invalid }: { node: LeafNode; type: ValueType; setValue(patch: Partial<ValueDraft>): void; readOnly: boolean; invalid: boolean }) {
  const { value } = node;
  switch (shapeOf(node.operator)) {
    case "none":
      return null;
    case "scalar":
      return <ScalarInput type={type} value={value.text} onInput={(text) => setValue({ text })} label="Value" readOnly={readOnly} invalid={invalid} />;
    case "range":
      return (
        <span class="range">
          <ScalarInput type={type} value={value.low} onInput={(low) => setValue({ low })} label="From" readOnly={readOnly} invalid={invalid} />
          <span class="muted">and</span>
          <ScalarInput type={type} value={value.high} onInput={(high) => setValue({ high })} label="To" readOnly={readOnly} invalid={invalid} />
        </span>
      );
    case "duration":
      return (
        <span class="range">
          <input class="value-input narrow" type="number" min="1" step="1" aria-label="Amount" value={value.amount} disabled={readOnly} aria-invalid={invalid || undefined} onInput={(event) => setValue({ amount: event.currentTarget.value })} />
          <select aria-label="Unit" value={value.unit} disabled={readOnly} onChange={(event) => setValue({ unit: event.currentTarget.value as DurationUnit })}>
            {DURATION_UNITS.map((unit) => (
              <option key={unit} value={unit}>
                {node.operator === "MORE_THAN_AGO" ? `${DURATION_LABELS[unit]} ago` : DURATION_LABELS[unit]}
              </option>
            ))}
          </select>
        </span>
      );
    case "list":
      return (
        <TokenInput
          id={`values-${node.id}`}
          label={type === "TAGS" ? "Tags" : "Values"}
          values={value.items}
          onChange={(items) => setValue({ items })}
          placeholder={type === "TAGS" ? "tag, another tag" : "a value, another"}
          invalid={invalid}
        />
      );
  }
}

/** The preview beside the builder: the count, a sample, and what stops the condition when it does not hold. */
export function PreviewPanel({ preview }: { preview: PreviewState }) {
  const result = preview.result;
  const broken = preview.errors.size > 0 || preview.problem;
  return (
    <div class="preview" aria-busy={preview.loading}>
      <div class="preview-count">
        <span class="big" data-testid="preview-count" data-loading={preview.loading ? "true" : "false"}>
          {broken || !result ? "–" : formatCount(result.count)}
        </span>
        <span class="muted">{preview.loading ? "counting…" : broken ? "fix the condition to count" : "contacts match now"}</span>
      </div>
      {preview.problem && <p class="node-error">{preview.problem}</p>}
      {preview.errors.size > 0 && <p class="muted small">{preview.errors.size === 1 ? "One node has a problem" : `${preview.errors.size} nodes have problems`}: see the builder.</p>}
      {result && !broken && result.sample.length > 0 && (
        <>
          <h3>Sample</h3>
          <ul class="sample">
            {result.sample.map((contact) => (
              <li key={contact.id}>
                <a href={href.contact(contact.id)}>{personName(contact)}</a>
                {personName(contact) !== contact.email && <span class="muted small"> {contact.email}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
