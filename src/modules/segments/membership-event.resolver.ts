import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from "type-graphql";
import type { Context } from "../../graphql/context";
import type { MembershipEvent } from "../../stores/port";
import { Contact, contactView } from "../contacts/contact.type";
import { eventCursor } from "./membership-event.service";
import { Segment, SegmentMembershipEvent, membershipEventView, segmentView } from "./segment.type";

interface SubscriptionArgs {
  segmentId?: string | null;
  listId?: string | null;
  after?: string | null;
}

@Resolver(() => SegmentMembershipEvent)
export class MembershipEventResolver {
  @Subscription(() => SegmentMembershipEvent, {
    description: `Membership changes of one segment (segmentId) or of every segment of a list (listId): exactly
one of the two. With \`after\`, first replays the retained events after that cursor (at least 7
days are retained by default), then continues live, with no gap and no duplicate. The stream
completes when its segment or list is deleted.`,
    subscribe: ({ args, context }) => (context as Context).services.events.subscribe(context as Context, args as SubscriptionArgs),
  })
  segmentMembershipChanged(
    @Root() event: MembershipEvent,
    @Arg("segmentId", () => ID, { nullable: true }) _segmentId: string | null,
    @Arg("listId", () => ID, { nullable: true }) _listId: string | null,
    @Arg("after", () => String, { nullable: true }) _after: string | null,
    @Ctx() ctx: Context,
  ): SegmentMembershipEvent {
    // A subscription's context lives as long as the stream: each event reads fresh data.
    ctx.dropLoaders();
    return membershipEventView(event, eventCursor(event));
  }

  @FieldResolver(() => Segment, { nullable: true, description: "Null when the segment no longer exists." })
  async segment(@Root() event: SegmentMembershipEvent, @Ctx() ctx: Context): Promise<Segment | null> {
    const segment = await ctx.loaders.segment(event.event.segmentId!);
    return segment && segmentView(segment);
  }

  @FieldResolver(() => Contact, { nullable: true, description: "Null when the contact no longer exists." })
  async contact(@Root() event: SegmentMembershipEvent, @Ctx() ctx: Context): Promise<Contact | null> {
    const contact = await ctx.loaders.contact(event.event.contactId!);
    return contact && contactView(contact);
  }
}
