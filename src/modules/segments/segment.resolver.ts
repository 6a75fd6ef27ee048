import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../../graphql/context";
import { ContactConnection, contactView } from "../contacts/contact.type";
import { contactConnection } from "../contacts/contact.resolver";
import { ContactList, contactListView } from "../lists/list.type";
import { ConditionInput, CreateSegmentInput, UpdateSegmentInput } from "./segment.input";
import { Segment, SegmentPreview, segmentView } from "./segment.type";

@Resolver(() => Segment)
export class SegmentResolver {
  @Query(() => Segment, { nullable: true })
  async segment(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Segment | null> {
    const segment = await ctx.services.segments.find(ctx, id);
    return segment && segmentView(segment);
  }

  @Query(() => SegmentPreview, { description: "Count and a sample of the contacts that a condition selects now, without saving a segment." })
  async segmentPreview(
    @Arg("listId", () => ID) listId: string,
    @Arg("condition", () => ConditionInput) condition: ConditionInput,
    @Arg("sample", () => Int, { nullable: true, defaultValue: 10 }) sample: number,
    @Ctx() ctx: Context,
  ): Promise<SegmentPreview> {
    const preview = await ctx.services.segments.preview(ctx, listId, condition, sample);
    return { count: preview.count, sample: preview.sample.map(contactView) };
  }

  @FieldResolver(() => ContactList)
  async list(@Root() segment: Segment, @Ctx() ctx: Context): Promise<ContactList> {
    return contactListView((await ctx.loaders.list(segment.record.listId))!);
  }

  @FieldResolver(() => ContactConnection, { description: "Members, most recently added contacts first." })
  async members(
    @Root() segment: Segment,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<ContactConnection> {
    return contactConnection(await ctx.services.segments.members(ctx, segment.record, first, after));
  }

  @FieldResolver(() => String, { description: "The event log's position now. Pass it as `after` to segmentMembershipChanged to receive every membership change made after this read, with none lost in between." })
  eventCursor(@Ctx() ctx: Context): Promise<string> {
    return ctx.services.events.currentCursor();
  }

  @Mutation(() => Segment)
  async createSegment(@Arg("input", () => CreateSegmentInput) input: CreateSegmentInput, @Ctx() ctx: Context): Promise<Segment> {
    return segmentView(await ctx.services.segments.create(ctx, input));
  }

  @Mutation(() => Segment)
  async updateSegment(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateSegmentInput) input: UpdateSegmentInput,
    @Ctx() ctx: Context,
  ): Promise<Segment> {
    return segmentView(await ctx.services.segments.update(ctx, id, input));
  }

  @Mutation(() => ID)
  deleteSegment(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.segments.delete(ctx, id);
  }
}
