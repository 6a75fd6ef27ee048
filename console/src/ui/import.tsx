/**
 * Importing a CSV file into a list (POST /lists/{id}/imports): the upload's progress, then the
 * job's (`importProgress`), its counts, its first refused rows and all of them as a CSV.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, download, upload } from "../api/client";
import { toApiError } from "../api/hooks";
import { follow } from "../api/live";
import { ImportProgressSubscription } from "../api/operations";
import { formatCount, plural } from "../format";
import type { ConsoleImportProgressSubscription } from "../gql/graphql";
import { Card, ErrorNotice } from "./widgets";

type Job = ConsoleImportProgressSubscription["importProgress"];

export function ImportPanel({ listId, onClose, onImported }: { listId: string; onClose(): void; onImported(): void }) {
  const [file, setFile] = useState<File>();
  const [upsert, setUpsert] = useState(false);
  const [ignoreUnknown, setIgnoreUnknown] = useState(false);
  const [sent, setSent] = useState<{ sent: number; total: number }>();
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const stop = useRef<(() => void) | undefined>(undefined);
  useEffect(() => () => stop.current?.(), []);
  const running = sent !== undefined && !error && job?.status !== "DONE" && job?.status !== "FAILED";

  const start = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setError(undefined);
    setJob(undefined);
    setSent({ sent: 0, total: file.size });
    const query = new URLSearchParams({ ...(upsert ? { upsert: "true" } : {}), ...(ignoreUnknown ? { ignoreUnknownColumns: "true" } : {}) });
    const sending = upload(`/lists/${encodeURIComponent(listId)}/imports${query.size ? `?${query}` : ""}`, file, (bytes, total) => setSent({ sent: bytes, total }));
    try {
      const { importId } = await sending.accepted;
      stop.current = follow(ImportProgressSubscription, () => ({ id: importId }), {
        next: ({ importProgress }) => {
          setJob(importProgress);
          if (importProgress.status !== "RUNNING") onImported();
        },
        status: () => {},
      });
    } catch (failure) {
      setError(toApiError(failure));
    }
  };

  const bytes = job ? { done: job.bytesRead, total: job.bytesTotal ?? sent?.total ?? 0 } : { done: sent?.sent ?? 0, total: sent?.total ?? 0 };
  return (
    <Card title="Import contacts from CSV" class="form-card" actions={<button type="button" class="button ghost" onClick={onClose}>Close</button>}>
      <form onSubmit={start}>
        <p class="hint">
          A header row names the columns: <code>email</code> (required), <code>firstName</code>, <code>lastName</code>, <code>phone</code>, <code>country</code>, <code>city</code>,{" "}
          <code>gender</code>, <code>birthDate</code>, <code>tags</code> (separated by <code>;</code>) and the list's custom fields by key.
        </p>
        <div class="form-row">
          <label class="field grow">
            <span>CSV file</span>
            <input type="file" accept=".csv,text/csv" disabled={running} onChange={(event) => setFile(event.currentTarget.files?.[0])} />
          </label>
          <button type="submit" class="button primary align-end" disabled={!file || running}>
            {running ? "Importing…" : "Import"}
          </button>
        </div>
        <div class="checks">
          <label>
            <input type="checkbox" checked={upsert} disabled={running} onChange={(event) => setUpsert(event.currentTarget.checked)} /> Update contacts whose email is already in the list
          </label>
          <label>
            <input type="checkbox" checked={ignoreUnknown} disabled={running} onChange={(event) => setIgnoreUnknown(event.currentTarget.checked)} /> Ignore columns the list does not have
          </label>
        </div>
      </form>
      {sent && (
        <div class="import-progress" data-testid="import-progress" data-status={error ? "FAILED" : (job?.status ?? "UPLOADING")}>
          <progress max={bytes.total || 1} value={bytes.total ? bytes.done : 0} aria-label="Import progress" />
          <p role="status">
            {!job && !error && `Uploading… ${bytes.total ? Math.round((bytes.done / bytes.total) * 100) : 0}%`}
            {job && (
              <>
                <strong>{job.status === "RUNNING" ? "Importing" : job.status === "DONE" ? "Done" : "Failed"}</strong>: {plural(job.rowsRead, "row")} read · {formatCount(job.added)} added ·{" "}
                {formatCount(job.updated)} updated · {formatCount(job.failed)} refused
              </>
            )}
          </p>
          {job?.failure && <ErrorNotice error={job.failure} />}
          {job && job.errors.length > 0 && (
            <>
              <ul class="import-errors">
                {job.errors.map((row) => (
                  <li key={row.index}>
                    Row {row.index}: {row.message}
                  </li>
                ))}
              </ul>
              {job.status !== "RUNNING" && (
                <button type="button" class="button small" onClick={() => download(`/imports/${encodeURIComponent(job.id)}/errors.csv`).catch((failure) => setError(toApiError(failure)))}>
                  Download every refused row
                </button>
              )}
            </>
          )}
        </div>
      )}
      {error && <ErrorNotice error={error} />}
    </Card>
  );
}
