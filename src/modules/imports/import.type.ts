import { Field, Float, Int, ObjectType, registerEnumType } from "type-graphql";
import { toGlobalId } from "../../common/ids";
import { Node } from "../../graphql/node";
import { DateTimeScalar } from "../../graphql/scalars";
import type { ImportJobRecord } from "../../stores/port";

export enum ImportStatus {
  RUNNING = "RUNNING",
  DONE = "DONE",
  FAILED = "FAILED",
}

registerEnumType(ImportStatus, {
  name: "ImportStatus",
  valuesConfig: {
    DONE: { description: "Every row was read; rows that failed are in errors." },
    FAILED: {
      description: "The file could not be read to the end (for example it is not CSV, or it has no email column); rows before the failure are kept.",
    },
  },
});

@ObjectType("ImportJob", { implements: Node, description: "A CSV import into a list (POST /lists/{listId}/imports)." })
export class ImportJob extends Node {
  @Field(() => ImportStatus)
  status!: ImportStatus;

  @Field(() => Int, { description: "Rows read so far (the header excluded)." })
  rowsRead!: number;

  @Field(() => Int)
  added!: number;

  @Field(() => Int, { description: "Rows that matched an existing contact (with upsert), whether or not a value changed." })
  updated!: number;

  @Field(() => Int, { description: "Rows refused so far." })
  failed!: number;

  @Field(() => Float, { description: "Bytes of the upload read so far, and its size when the client sent Content-Length." })
  bytesRead!: number;

  @Field(() => Float, { nullable: true })
  bytesTotal!: number | null;

  @Field(() => String, { nullable: true, description: "Why the job FAILED (for example: no email column, not CSV, a line too long); null otherwise." })
  failure!: string | null;

  @Field(() => DateTimeScalar)
  startedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  finishedAt!: Date | null;

  /** The stored job, for field resolvers. */
  record!: ImportJobRecord;
}

export function importJobView(record: ImportJobRecord): ImportJob {
  return Object.assign(new ImportJob(), {
    id: toGlobalId("ImportJob", record.id),
    status: record.status as ImportStatus,
    rowsRead: record.rowsRead,
    added: record.added,
    updated: record.updated,
    failed: record.failed,
    bytesRead: record.bytesRead,
    bytesTotal: record.bytesTotal,
    failure: record.failure,
    startedAt: new Date(record.startedAt),
    finishedAt: record.finishedAt === null ? null : new Date(record.finishedAt),
    record,
  });
}
