/** Import jobs on SQLite: the `import_jobs` and `import_errors` tables (schema migration 6). */
import type Database from "better-sqlite3";
import type { ImportCut, ImportJobRecord, ImportJobUpdate, ImportPruneSlice, ImportRowError, ImportStatus } from "../port";
import { idArray, insertMany, rowId, type StatementCache } from "./database";

interface ImportJobRow {
  id: number;
  workspace_id: string;
  list_id: number;
  status: ImportStatus;
  upsert: number;
  columns: string;
  rows_read: number;
  added: number;
  updated: number;
  failed: number;
  bytes_read: number;
  bytes_total: number | null;
  failure: string | null;
  owner: string;
  heartbeat_at: number;
  started_at: number;
  finished_at: number | null;
}

function jobFromRow(row: ImportJobRow): ImportJobRecord {
  return {
    id: String(row.id),
    workspaceId: row.workspace_id,
    listId: String(row.list_id),
    status: row.status,
    upsert: row.upsert === 1,
    columns: JSON.parse(row.columns) as string[],
    rowsRead: row.rows_read,
    added: row.added,
    updated: row.updated,
    failed: row.failed,
    bytesRead: row.bytes_read,
    bytesTotal: row.bytes_total,
    failure: row.failure,
    owner: row.owner,
    heartbeatAt: row.heartbeat_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export class SqliteImports {
  constructor(
    private readonly db: Database.Database,
    private readonly q: StatementCache,
  ) {}

  create(
    input: { workspaceId: string; listId: string; upsert: boolean; columns: string[]; bytesTotal: number | null; owner: string },
    startedAt: number,
    wallNow: number,
  ): ImportJobRecord {
    const row = this.q
      .get(
        `INSERT INTO import_jobs (workspace_id, list_id, status, upsert, columns, bytes_total, owner, heartbeat_at, started_at)
         VALUES (?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(input.workspaceId, rowId(input.listId), input.upsert ? 1 : 0, JSON.stringify(input.columns), input.bytesTotal, input.owner, wallNow, startedAt) as ImportJobRow;
    return jobFromRow(row);
  }

  /** Applies an update to a RUNNING job in one transaction (a savepoint inside the caller's, such as a batch of contacts). */
  update(id: string, update: ImportJobUpdate, wallNow: number, staleBefore?: number): ImportJobRecord | null {
    const jobId = rowId(id);
    if (jobId === null) return null;
    return this.db.transaction(() => {
      const counts = update.counts;
      const row = this.q
        .get(
          `UPDATE import_jobs SET
             rows_read = coalesce(?, rows_read), added = coalesce(?, added), updated = coalesce(?, updated), failed = coalesce(?, failed),
             bytes_read = max(bytes_read, ?), heartbeat_at = ?,
             status = coalesce(?, status), failure = coalesce(?, failure), finished_at = coalesce(?, finished_at)
           WHERE id = ? AND status = 'RUNNING' AND heartbeat_at < ?
           RETURNING *`,
        )
        .get(
          counts?.rowsRead ?? null,
          counts?.added ?? null,
          counts?.updated ?? null,
          counts?.failed ?? null,
          update.bytesRead ?? 0,
          wallNow,
          update.end?.status ?? null,
          update.end?.failure ?? null,
          update.end?.at ?? null,
          jobId,
          staleBefore ?? Number.MAX_SAFE_INTEGER,
        ) as ImportJobRow | undefined;
      if (!row) return null;
      if (update.errors && update.errors.length > 0) {
        insertMany(this.q, "INSERT INTO import_errors (job_id, row, code, message, cells)", 5, update.errors, (error, into, at) => {
          into[at] = jobId;
          into[at + 1] = error.row;
          into[at + 2] = error.code;
          into[at + 3] = error.message;
          into[at + 4] = JSON.stringify(error.cells);
        });
      }
      return jobFromRow(row);
    })();
  }

  get(ids: readonly string[]): (ImportJobRecord | null)[] {
    const rows = this.q.get("SELECT * FROM import_jobs WHERE id IN (SELECT value FROM json_each(?))").all(idArray(ids)) as ImportJobRow[];
    const byId = new Map(rows.map((row) => [String(row.id), jobFromRow(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * Removes the jobs `cut` selects, oldest first, each with its refused rows, `rows` rows a
   * statement (a job can keep a million), until `spent()`; in the caller's transaction.
   */
  prune(cut: ImportCut, rows: number, spent: () => boolean): ImportPruneSlice {
    const slice: ImportPruneSlice = { jobs: 0, errors: 0, more: false };
    const oldest = this.q.pluck(
      "SELECT id FROM import_jobs WHERE finished_at < ? OR (finished_at IS NULL AND heartbeat_at < ?) ORDER BY id LIMIT 1",
    );
    for (;;) {
      const job = oldest.get(cut.endedBefore, cut.silentSince) as number | undefined;
      if (job === undefined) return slice;
      const removed = this.q
        .get("DELETE FROM import_errors WHERE job_id = ? AND row IN (SELECT row FROM import_errors WHERE job_id = ? ORDER BY row LIMIT ?)")
        .run(job, job, rows).changes;
      slice.errors += removed;
      if (removed < rows) {
        this.q.get("DELETE FROM import_jobs WHERE id = ?").run(job);
        slice.jobs++;
      }
      if (spent()) return { ...slice, more: true };
    }
  }

  errors(jobId: string, afterRow: number, first: number): ImportRowError[] {
    const rows = this.q
      .get("SELECT row, code, message, cells FROM import_errors WHERE job_id = ? AND row > ? ORDER BY row LIMIT ?")
      .all(rowId(jobId), afterRow, first) as { row: number; code: string; message: string; cells: string }[];
    return rows.map((row) => ({ row: row.row, code: row.code, message: row.message, cells: JSON.parse(row.cells) as string[] }));
  }
}
