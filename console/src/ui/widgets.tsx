/** Small pieces the pages share: badges, notices, the sparkline, the live status, the token input. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import type { LiveStatus } from "../api/live";
import type { SegmentStatus, SegmentType } from "../gql/graphql";

export function TypeBadge({ type }: { type: SegmentType }) {
  return <span class={`badge badge-${type.toLowerCase()}`}>{type === "DYNAMIC" ? "Dynamic" : "Static"}</span>;
}

export function StatusBadge({ status }: { status: SegmentStatus }) {
  return <span class={`badge badge-${status.toLowerCase()}`}>{status === "READY" ? "Ready" : "Building…"}</span>;
}

export function ErrorNotice({ error, title }: { error: ApiError | string; title?: string }) {
  const message = typeof error === "string" ? error : error.message;
  return (
    <div class="notice notice-error" role="alert">
      {title && <strong>{title}: </strong>}
      {message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Card({ title, actions, children, class: className = "" }: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${className}`}>
      {(title || actions) && (
        <header class="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

const LIVE_TEXT: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Stream ended",
  failed: "Live updates stopped",
};

/** Where the live connection stands; `data-status` is for tests. */
export function LiveIndicator({ status, detail }: { status: LiveStatus; detail?: string }) {
  return (
    <span class={`live live-${status}`} role="status" data-testid="live-status" data-status={status} title={detail}>
      <span class="live-dot" aria-hidden="true" />
      {LIVE_TEXT[status]}
    </span>
  );
}

/** A line chart of member counts, scaled to its own range; the label says what it shows. */
export function Sparkline({ points, label, width = 120, height = 28 }: { points: number[]; label: string; width?: number; height?: number }) {
  if (points.length === 0) return <span class="muted small">no history yet</span>;
  const series = points.length === 1 ? [points[0]!, points[0]!] : points;
  const min = Math.min(...series);
  const max = Math.max(...series);
  const span = max - min || 1;
  const step = width / (series.length - 1);
  // A flat series is drawn at mid-height.
  const y = (value: number) => (max === min ? height / 2 : height - 2 - ((value - min) / span) * (height - 4));
  const coordinates = series.map((value, index) => `${(index * step).toFixed(1)},${y(value).toFixed(1)}`);
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <polyline points={`0,${height} ${coordinates.join(" ")} ${width},${height}`} class="sparkline-area" />
      <polyline points={coordinates.join(" ")} class="sparkline-line" />
    </svg>
  );
}

/** A list of short values: Enter or a comma adds what was typed, Backspace in an empty box removes the last one. */
export function TokenInput({ values, onChange, label, id, placeholder, invalid }: { values: string[]; onChange(values: string[]): void; label: string; id: string; placeholder?: string; invalid?: boolean }) {
  const [text, setText] = useState("");
  const commit = (raw: string) => {
    const added = raw.split(",").map((part) => part.trim()).filter((part) => part && !values.includes(part));
    if (added.length) onChange([...values, ...added]);
    setText("");
  };
  return (
    <div class={`tokens ${invalid ? "invalid" : ""}`}>
      {values.map((value, index) => (
        <span class="token" key={value}>
          {value}
          <button type="button" class="token-remove" aria-label={`Remove ${value}`} onClick={() => onChange(values.filter((_, at) => at !== index))}>
            ×
          </button>
        </span>
      ))}
      <input
        id={id}
        aria-label={label}
        value={text}
        placeholder={values.length ? "" : placeholder}
        onInput={(event) => {
          const next = event.currentTarget.value;
          if (next.includes(",")) commit(next);
          else setText(next);
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            commit(text);
          } else if (event.key === "Backspace" && text === "" && values.length) {
            onChange(values.slice(0, -1));
          }
        }}
        onBlur={() => text.trim() && commit(text)}
      />
    </div>
  );
}
