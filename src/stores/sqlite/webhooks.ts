/** Webhooks on SQLite: the `webhooks` and `webhook_deliveries` tables (schema migration 5). */
import type Database from "better-sqlite3";
import { eventsAfterIn, ROW_SPAN } from "../event-runs";
import {
  WEBHOOK_LOG_SIZE,
  type WebhookDeliveryRecord,
  type WebhookEventFilter,
  type WebhookProgress,
  type WebhookRecord,
  type WebhookStatus,
} from "../port";
import { idArray, rowId, type StatementCache } from "./database";

interface WebhookRow {
  id: number;
  list_id: number;
  segment_ids: string | null;
  url: string;
  secret: string;
  status: WebhookStatus;
  position: number;
  acknowledged_through: number | null;
  batch_id: string | null;
  batch_through: number | null;
  batch_attempts: number;
  failing_since: number | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  delivery_id: string;
  attempt: number;
  event_count: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: number;
}

function webhookFromRow(row: WebhookRow): WebhookRecord {
  return {
    id: String(row.id),
    listId: String(row.list_id),
    segmentIds: row.segment_ids === null ? null : (JSON.parse(row.segment_ids) as number[]).map(String),
    url: row.url,
    secret: row.secret,
    status: row.status,
    position: row.position,
    acknowledgedThrough: row.acknowledged_through,
    batch: row.batch_id === null ? null : { id: row.batch_id, through: row.batch_through!, attempts: row.batch_attempts },
    failingSince: row.failing_since,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class SqliteWebhooks {
  constructor(
    private readonly db: Database.Database,
    private readonly q: StatementCache,
  ) {}

  create(input: { listId: string; segmentIds: string[] | null; url: string; secret: string; position: number }, now: number): WebhookRecord {
    const row = this.q
      .get(
        `INSERT INTO webhooks (list_id, segment_ids, url, secret, status, position, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?) RETURNING *`,
      )
      .get(rowId(input.listId), input.segmentIds === null ? null : idArray(input.segmentIds), input.url, input.secret, input.position, now, now) as WebhookRow;
    return webhookFromRow(row);
  }

  get(ids: readonly string[]): (WebhookRecord | null)[] {
    const rows = this.q.get("SELECT * FROM webhooks WHERE id IN (SELECT value FROM json_each(?))").all(idArray(ids)) as WebhookRow[];
    const byId = new Map(rows.map((row) => [String(row.id), webhookFromRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  ofList(listId: string): WebhookRecord[] {
    return (this.q.get("SELECT * FROM webhooks WHERE list_id = ? ORDER BY id").all(rowId(listId)) as WebhookRow[]).map(webhookFromRow);
  }

  activeIds(): string[] {
    return (this.q.pluck("SELECT id FROM webhooks WHERE status != 'DISABLED' ORDER BY id").all() as number[]).map(String);
  }

  setEnabled(id: string, enabled: boolean, now: number): WebhookRecord | null {
    const row = (
      enabled
        ? this.q.get(
            `UPDATE webhooks SET status = 'ACTIVE', batch_id = NULL, batch_through = NULL, batch_attempts = 0, failing_since = NULL,
             next_attempt_at = NULL, updated_at = ? WHERE id = ? AND status = 'DISABLED' RETURNING *`,
          )
        : this.q.get("UPDATE webhooks SET status = 'DISABLED', updated_at = ? WHERE id = ? AND status != 'DISABLED' RETURNING *")
    ).get(now, rowId(id)) as WebhookRow | undefined;
    return row ? webhookFromRow(row) : (this.get([id])[0] ?? null);
  }

  saveProgress(id: string, expectedBatch: string | null, progress: WebhookProgress, delivery: WebhookDeliveryRecord | null, now: number): WebhookRecord | null {
    const webhookId = rowId(id);
    return this.db
      .transaction(() => {
        const row = this.q.get("SELECT * FROM webhooks WHERE id = ?").get(webhookId) as WebhookRow | undefined;
        if (!row) return null;
        if (delivery) this.log(row.id, delivery);
        const position = Math.max(row.position, progress.position);
        const acknowledged = progress.acknowledged ? Math.max(row.acknowledged_through ?? 0, progress.position) : row.acknowledged_through;
        if (row.batch_id !== expectedBatch) {
          this.q.get("UPDATE webhooks SET position = ?, acknowledged_through = ?, updated_at = ? WHERE id = ?").run(position, acknowledged, now, row.id);
        } else {
          const { batch } = progress;
          this.q
            .get(
              `UPDATE webhooks SET position = ?, acknowledged_through = ?, batch_id = ?, batch_through = ?, batch_attempts = ?,
               status = CASE status WHEN 'DISABLED' THEN 'DISABLED' ELSE ? END, failing_since = ?, next_attempt_at = ?, updated_at = ?
               WHERE id = ?`,
            )
            .run(position, acknowledged, batch?.id ?? null, batch?.through ?? null, batch?.attempts ?? 0, progress.status, progress.failingSince, progress.nextAttemptAt, now, row.id);
        }
        return webhookFromRow(this.q.get("SELECT * FROM webhooks WHERE id = ?").get(row.id) as WebhookRow);
      })
      .immediate();
  }

  logDelivery(id: string, delivery: WebhookDeliveryRecord): void {
    const webhookId = rowId(id);
    if (webhookId === null) return;
    this.db
      .transaction(() => {
        // A ping whose webhook was deleted meanwhile leaves no entry behind.
        if (this.q.get("SELECT 1 FROM webhooks WHERE id = ?").get(webhookId)) this.log(webhookId, delivery);
      })
      .immediate();
  }

  /** Appends to the log and drops what falls out of its last WEBHOOK_LOG_SIZE entries. */
  private log(webhookId: number, delivery: WebhookDeliveryRecord): void {
    const inserted = this.q
      .get("INSERT INTO webhook_deliveries (webhook_id, delivery_id, attempt, event_count, status_code, error, duration_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(webhookId, delivery.deliveryId, delivery.attempt, delivery.eventCount, delivery.statusCode, delivery.error, delivery.durationMs, delivery.at);
    this.q
      .get(
        `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND seq <= (
           SELECT seq FROM webhook_deliveries WHERE webhook_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
      )
      .run(webhookId, webhookId, inserted.lastInsertRowid, WEBHOOK_LOG_SIZE);
  }

  deliveries(id: string, first: number): WebhookDeliveryRecord[] {
    const rows = this.q.get("SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq DESC LIMIT ?").all(rowId(id), first) as DeliveryRow[];
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      attempt: row.attempt,
      eventCount: row.event_count,
      statusCode: row.status_code,
      error: row.error,
      durationMs: row.duration_ms,
      at: row.at,
    }));
  }

  delete(id: string): boolean {
    const webhookId = rowId(id);
    return this.db
      .transaction(() => {
        this.q.get("DELETE FROM webhook_deliveries WHERE webhook_id = ?").run(webhookId);
        return this.q.get("DELETE FROM webhooks WHERE id = ?").run(webhookId).changes > 0;
      })
      .immediate();
  }

  /** Removes a deleted list's webhooks; call inside the list deletion's transaction. */
  deleteOfList(listId: number): void {
    this.q.get("DELETE FROM webhook_deliveries WHERE webhook_id IN (SELECT id FROM webhooks WHERE list_id = ?)").run(listId);
    this.q.get("DELETE FROM webhooks WHERE list_id = ?").run(listId);
  }

  countEventsAfter(position: number, filter: WebhookEventFilter): number {
    const run = Math.floor(position / ROW_SPAN);
    const where = `list_id = ?${filter.segmentIds === null ? "" : " AND segment_id IN (SELECT value FROM json_each(?))"} AND kind IN ('ENTERED', 'LEFT')`;
    const scope = filter.segmentIds === null ? [rowId(filter.listId)] : [rowId(filter.listId), idArray(filter.segmentIds)];
    return this.db
      .transaction(() => {
        // The run that holds `position` counts only its events after it.
        const partial = this.q.get(`SELECT seq, count FROM events WHERE ${where} AND seq = ?`).get(...scope, run) as { seq: number; count: number } | undefined;
        const later = this.q.pluck(`SELECT coalesce(sum(count), 0) FROM events WHERE ${where} AND seq > ?`).get(...scope, run) as number;
        return later + (partial ? eventsAfterIn(partial.seq, partial.count, position) : 0);
      })
      .deferred();
  }
}
