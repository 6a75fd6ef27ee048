/** Import jobs on MongoDB: the `import_jobs` and `import_errors` collections. */
import type { ClientSession, Filter, MongoClient, ObjectId, WithId } from "mongodb";
import type { ImportCut, ImportJobRecord, ImportJobUpdate, ImportPruneSlice, ImportRowError } from "../port";
import type { Collections, ImportJobDoc } from "./collections";
import { oid, oids } from "./records";

/** Jobs a retention round removes together. */
const PRUNE_JOBS = 20;

function jobRecord(doc: WithId<ImportJobDoc>): ImportJobRecord {
  return {
    id: doc._id.toHexString(),
    workspaceId: doc.workspaceId,
    listId: doc.listId.toHexString(),
    status: doc.status,
    upsert: doc.upsert,
    columns: doc.columns,
    rowsRead: doc.rowsRead,
    added: doc.added,
    updated: doc.updated,
    failed: doc.failed,
    bytesRead: doc.bytesRead,
    bytesTotal: doc.bytesTotal,
    failure: doc.failure,
    owner: doc.owner,
    heartbeatAt: doc.heartbeatAt.getTime(),
    startedAt: doc.startedAt.getTime(),
    finishedAt: doc.finishedAt?.getTime() ?? null,
  };
}

export class MongoImports {
  constructor(
    private readonly client: MongoClient,
    private readonly c: Collections,
  ) {}

  async create(
    input: { workspaceId: string; listId: string; upsert: boolean; columns: string[]; bytesTotal: number | null; owner: string },
    startedAt: number,
    wallNow: number,
  ): Promise<ImportJobRecord> {
    const doc: ImportJobDoc = {
      workspaceId: input.workspaceId,
      listId: oid(input.listId)!,
      status: "RUNNING",
      upsert: input.upsert,
      columns: input.columns,
      rowsRead: 0,
      added: 0,
      updated: 0,
      failed: 0,
      bytesRead: 0,
      bytesTotal: input.bytesTotal,
      failure: null,
      owner: input.owner,
      heartbeatAt: new Date(wallNow),
      startedAt: new Date(startedAt),
      finishedAt: null,
    };
    const { insertedId } = await this.c.importJobs.insertOne(doc);
    return jobRecord({ ...doc, _id: insertedId });
  }

  /** Applies an update to a RUNNING job: in `session`'s transaction when given (a batch of contacts), in one of its own when it adds errors. */
  async update(id: string, update: ImportJobUpdate, wallNow: number, staleBefore?: number, session?: ClientSession): Promise<ImportJobRecord | null> {
    const _id = oid(id);
    if (!_id) return null;
    if (session || !update.errors?.length) return this.apply(_id, update, wallNow, staleBefore, session);
    const own = this.client.startSession();
    try {
      return await own.withTransaction(() => this.apply(_id, update, wallNow, staleBefore, own));
    } finally {
      await own.endSession();
    }
  }

  private async apply(_id: ObjectId, update: ImportJobUpdate, wallNow: number, staleBefore: number | undefined, session: ClientSession | undefined): Promise<ImportJobRecord | null> {
    const filter: Filter<ImportJobDoc> = { _id, status: "RUNNING", ...(staleBefore === undefined ? {} : { heartbeatAt: { $lt: new Date(staleBefore) } }) };
    const end = update.end;
    const doc = await this.c.importJobs.findOneAndUpdate(
      filter,
      {
        $set: {
          ...update.counts,
          heartbeatAt: new Date(wallNow),
          ...(end ? { status: end.status, failure: end.failure, finishedAt: new Date(end.at) } : {}),
        },
        $max: { bytesRead: update.bytesRead ?? 0 },
      },
      { session, returnDocument: "after" },
    );
    if (!doc) return null;
    const errors = update.errors ?? [];
    if (errors.length > 0) {
      await this.c.importErrors.insertMany(
        errors.map((error) => ({ jobId: _id, row: error.row, code: error.code, message: error.message, cells: error.cells })),
        { session, ordered: true },
      );
    }
    return jobRecord(doc);
  }

  async get(ids: readonly string[]): Promise<(ImportJobRecord | null)[]> {
    const byId = new Map((await this.c.importJobs.find({ _id: { $in: oids(ids) } }).toArray()).map((doc) => [doc._id.toHexString(), jobRecord(doc)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Removes the jobs `cut` selects, a few at a time, each with its refused rows (errors first, so that no error outlives its job). */
  async prune(cut: ImportCut, budgetMs: number): Promise<ImportPruneSlice> {
    const started = performance.now();
    const slice: ImportPruneSlice = { jobs: 0, errors: 0, more: false };
    const selected: Filter<ImportJobDoc> = { $or: [{ finishedAt: { $lt: new Date(cut.endedBefore) } }, { finishedAt: null, heartbeatAt: { $lt: new Date(cut.silentSince) } }] };
    for (;;) {
      const ids = (await this.c.importJobs.find(selected, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(PRUNE_JOBS).toArray()).map((doc) => doc._id);
      if (ids.length === 0) return slice;
      slice.errors += (await this.c.importErrors.deleteMany({ jobId: { $in: ids } })).deletedCount;
      slice.jobs += (await this.c.importJobs.deleteMany({ _id: { $in: ids } })).deletedCount;
      if (performance.now() - started >= budgetMs) return { ...slice, more: ids.length === PRUNE_JOBS };
    }
  }

  async errors(jobId: string, afterRow: number, first: number): Promise<ImportRowError[]> {
    const id = oid(jobId);
    if (!id) return [];
    const docs = await this.c.importErrors.find({ jobId: id, row: { $gt: afterRow } }).sort({ row: 1 }).limit(first).toArray();
    return docs.map((doc) => ({ row: doc.row, code: doc.code, message: doc.message, cells: doc.cells }));
  }
}
