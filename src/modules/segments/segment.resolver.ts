import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { selectsField } from "../../graphql/selection";
import type { Context } from "../../graphql/context";
import { ContactConnection, contactView } from "../contacts/contact.type";
import { contactConnection } from "../contacts/contact.resolver";
import { ContactList, contactListView } from "../lists/list.type";
import { ConditionNodeKind, ConditionNodeVerdict, MembershipExplanation } from "./explain.type";
import { ConditionInput, ConditionOperator, CreateSegmentInput, UpdateSegmentInput } from "./segment.input";
import {
  eventConnection,
  MemberCountPoint,
  MembershipOverride,
  Segment,
  SegmentMembersResult,
  SegmentMembershipEventConnection,
  SegmentPreview,
  SegmentType,
  SeriesBucket,
  segmentView,
} from "./segment.type";
import { badInput } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import { DateTimeScalar } from "../../graphql/scalars";
import type { MembersEdited, NodeVerdict } from "./segment.service";

function membersResult(edited: MembersEdited): SegmentMembersResult {
  return { segment: segmentView(edited.segment), changed: edited.changed, errors: edited.errors };
}

function verdictView(node: NodeVerdict): ConditionNodeVerdict {
  return { ...node, kind: node.kind as ConditionNodeKind, operator: node.operator as ConditionOperator | null };
}

@Resolver(() => ConditionNodeVerdict)
export class ConditionNodeVerdictResolver {
  @FieldResolver(() => Segment, { nullable: true, description: "For a SEGMENT node: the segment referenced." })
  async segment(@Root() node: ConditionNodeVerdict, @Ctx() ctx: Context): Promise<Segment | null> {
    const segment = node.segmentId === null ? null : await ctx.loaders.segment(node.segmentId);
    return segment && segmentView(segment);
  }
}

@Resolver(() => SegmentPreview)
export class SegmentPreviewResolver {
  @FieldResolver(() => [ConditionNodeVerdict], { description: "Every node of the condition tree in pre-order, with the count of contacts that node alone selects." })
  breakdown(@Root() preview: SegmentPreview): ConditionNodeVerdict[] {
    return (preview.nodeCounts ?? []).map(verdictView);
  }
}

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
    @Info() info: GraphQLResolveInfo,
  ): Promise<SegmentPreview> {
    // The breakdown's counts are made in the same pass as the count, only when asked for.
    const preview = await ctx.services.segments.preview(ctx, listId, condition, sample, selectsField(info, "breakdown"));
    return { count: preview.count, sample: preview.sample.map(contactView), nodeCounts: preview.breakdown };
  }

  @Query(() => MembershipExplanation, { nullable: true, description: "Why a contact is or is not a member of a segment now. Null when either id is unknown." })
  async explainMembership(
    @Arg("segmentId", () => ID) segmentId: string,
    @Arg("contactId", () => ID) contactId: string,
    @Ctx() ctx: Context,
  ): Promise<MembershipExplanation | null> {
    const explanation = await ctx.services.segments.explain(ctx, segmentId, contactId);
    return explanation && { ...explanation, override: explanation.override as MembershipOverride | null, nodes: explanation.nodes.map(verdictView) };
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

  @Mutation(() => Segment, {
    description:
      "Turns a DYNAMIC segment into a STATIC one that keeps its current members (no events). With `at`\nin the future, the freeze is scheduled and happens at that instant, even if the service was down\nthen (it happens at start-up); `at: null` on a scheduled segment freezes now. Freezing a STATIC\nsegment is BAD_USER_INPUT.",
  })
  async freezeSegment(
    @Arg("id", () => ID) id: string,
    @Arg("at", () => DateTimeScalar, { nullable: true }) at: Date | null,
    @Ctx() ctx: Context,
  ): Promise<Segment> {
    return segmentView(await ctx.services.segments.freeze(ctx, id, at ?? null));
  }

  @Mutation(() => Segment, { description: "Cancels a scheduled freeze." })
  async cancelSegmentFreeze(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Segment> {
    return segmentView(await ctx.services.segments.cancelFreeze(ctx, id));
  }

  @Mutation(() => Segment, {
    description:
      "A new segment with the same condition and overrides. type STATIC makes a snapshot of the\nsource's current members; DYNAMIC evaluates the condition (default: the source's type).",
  })
  async duplicateSegment(
    @Arg("id", () => ID) id: string,
    @Arg("name", () => String) name: string,
    @Arg("type", () => SegmentType, { nullable: true }) type: SegmentType | null,
    @Ctx() ctx: Context,
  ): Promise<Segment> {
    return segmentView(await ctx.services.segments.duplicate(ctx, id, name, type));
  }

  @FieldResolver(() => [Segment], { description: "The segments that this one's condition references with inSegment." })
  async dependsOn(@Root() segment: Segment, @Ctx() ctx: Context): Promise<Segment[]> {
    return (await ctx.services.segments.dependsOn(ctx, segment.record)).map(segmentView);
  }

  @FieldResolver(() => [Segment], { description: "The segments whose conditions reference this one." })
  async usedBy(@Root() segment: Segment, @Ctx() ctx: Context): Promise<Segment[]> {
    return (await ctx.services.segments.usedBy(ctx, segment.record)).map(segmentView);
  }

  @FieldResolver(() => SegmentMembershipEventConnection, { description: "Membership events of this segment from the retained log, newest first; `contactId` narrows to one contact." })
  async history(
    @Root() segment: Segment,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("contactId", () => ID, { nullable: true }) contactId: string | null,
    @Ctx() ctx: Context,
  ): Promise<SegmentMembershipEventConnection> {
    let contact: string | undefined;
    if (contactId != null) {
      const storeId = fromGlobalId(contactId, "Contact");
      if (storeId === null) throw badInput(`"${contactId}" is not a contact id`, { argument: "contactId" });
      contact = storeId;
    }
    return eventConnection(await ctx.services.history.page({ segmentId: segment.record.id, contactId: contact }, first, after));
  }

  @FieldResolver(() => [MemberCountPoint], {
    description:
      "Member count over time from the retained log, oldest first; at most 1,000 points (more is BAD_USER_INPUT). Buckets before the segment existed are left out.",
  })
  async memberCountSeries(
    @Root() segment: Segment,
    @Arg("since", () => DateTimeScalar) since: Date,
    @Arg("until", () => DateTimeScalar, { nullable: true }) until: Date | null,
    @Arg("bucket", () => SeriesBucket) bucket: SeriesBucket,
    @Ctx() ctx: Context,
  ): Promise<MemberCountPoint[]> {
    const list = await ctx.loaders.list(segment.record.listId);
    const points = await ctx.services.history.memberCountSeries(segment.record, list?.timeZone ?? "UTC", since, until ?? null, bucket);
    return points.map((point) => ({ ...point, at: new Date(point.at) }));
  }

  @FieldResolver(() => ContactConnection, { description: "Contacts added by hand (DYNAMIC segments)." })
  async includedContacts(
    @Root() segment: Segment,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<ContactConnection> {
    return contactConnection(await ctx.services.segments.overridden(ctx, segment.record, "INCLUDED", first, after));
  }

  @FieldResolver(() => ContactConnection, { description: "Contacts removed by hand (DYNAMIC segments)." })
  async excludedContacts(
    @Root() segment: Segment,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<ContactConnection> {
    return contactConnection(await ctx.services.segments.overridden(ctx, segment.record, "EXCLUDED", first, after));
  }

  @Mutation(() => SegmentMembersResult, {
    description:
      "Adds contacts by hand (at most 10,000 ids a call, repeats counted). STATIC: they join the fixed member set.\nDYNAMIC: each gets an INCLUDED override (replacing an EXCLUDED one) that survives every\nre-evaluation, contact edit and condition edit. Entries are published with reason MANUAL.",
  })
  async addSegmentMembers(
    @Arg("segmentId", () => ID) segmentId: string,
    @Arg("contactIds", () => [ID]) contactIds: string[],
    @Ctx() ctx: Context,
  ): Promise<SegmentMembersResult> {
    return membersResult(await ctx.services.segments.editMembers(ctx, segmentId, contactIds, "add"));
  }

  @Mutation(() => SegmentMembersResult, {
    description:
      "Removes contacts by hand (at most 10,000 ids a call, repeats counted). STATIC: they leave the fixed member set.\nDYNAMIC: each gets an EXCLUDED override (replacing an INCLUDED one). Exits are published with\nreason MANUAL.",
  })
  async removeSegmentMembers(
    @Arg("segmentId", () => ID) segmentId: string,
    @Arg("contactIds", () => [ID]) contactIds: string[],
    @Ctx() ctx: Context,
  ): Promise<SegmentMembersResult> {
    return membersResult(await ctx.services.segments.editMembers(ctx, segmentId, contactIds, "remove"));
  }

  @Mutation(() => SegmentMembersResult, { description: "Drops the overrides of these contacts (DYNAMIC): the condition decides again; changes are published with reason MANUAL." })
  async clearSegmentOverrides(
    @Arg("segmentId", () => ID) segmentId: string,
    @Arg("contactIds", () => [ID]) contactIds: string[],
    @Ctx() ctx: Context,
  ): Promise<SegmentMembersResult> {
    return membersResult(await ctx.services.segments.editMembers(ctx, segmentId, contactIds, "clear"));
  }
}
