import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import { badInput, notFound } from "../../common/errors";
import { toGlobalId } from "../../common/ids";
import type { Context } from "../../graphql/context";
import { ContactRowError } from "../contacts/contact.type";
import { ContactList, contactListView } from "../lists/list.type";
import type { ImportProgress } from "./import.service";
import { ImportJob, importJobView } from "./import.type";

@Resolver(() => ImportJob)
export class ImportJobResolver {
  @Query(() => ImportJob, { nullable: true })
  async importJob(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<ImportJob | null> {
    const job = await ctx.services.imports.find(ctx, id);
    return job && importJobView(job);
  }

  @Subscription(() => ImportJob, {
    description: "The job's progress at least every second while it runs, then its final state, then the stream completes.",
    subscribe: ({ args, context }) => (context as Context).services.imports.watch(context as Context, (args as { id: string }).id),
  })
  importProgress(@Root() progress: ImportProgress, @Arg("id", () => ID) _id: string, @Ctx() ctx: Context): ImportJob {
    // A subscription's context lives as long as the stream: each state reads fresh data.
    ctx.dropLoaders();
    return importJobView(progress.job);
  }

  @FieldResolver(() => ContactList, { description: "The list imported into (NOT_FOUND once the list is deleted)." })
  async list(@Root() job: ImportJob, @Ctx() ctx: Context): Promise<ContactList> {
    const list = await ctx.loaders.list(job.record.listId);
    if (!list) throw notFound("ContactList", toGlobalId("ContactList", job.record.listId));
    return contactListView(list);
  }

  @FieldResolver(() => [ContactRowError], {
    description:
      "The first refused rows (at most 1,000 kept here; all of them at GET /imports/{id}/errors.csv). Each error's index is the 1-based data row (the header excluded; a quoted field that spans lines is still one row).",
  })
  async errors(@Root() job: ImportJob, @Arg("first", () => Int, { nullable: true, defaultValue: 100 }) first: number | null, @Ctx() ctx: Context): Promise<ContactRowError[]> {
    const size = first ?? 100;
    if (size < 0) throw badInput("first must not be negative", { argument: "first" });
    const errors = await ctx.services.imports.errors(job.record, size);
    return errors.map(({ row, code, message }) => ({ index: row, code, message }));
  }
}
