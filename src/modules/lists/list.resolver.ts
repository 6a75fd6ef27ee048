import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../../graphql/context";
import { pageInfo } from "../../graphql/node";
import { ContactConnection } from "../contacts/contact.type";
import { contactConnection } from "../contacts/contact.resolver";
import { ConditionInput } from "../segments/segment.input";
import { Segment, segmentView } from "../segments/segment.type";
import { CreateContactListInput, UpdateContactListInput } from "./list.input";
import { findList } from "./list.service";
import { ContactList, ContactListConnection, contactListView } from "./list.type";

@Resolver(() => ContactList)
export class ContactListResolver {
  @Query(() => ContactListConnection)
  async contactLists(
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<ContactListConnection> {
    const page = await ctx.services.lists.page(ctx, first, after);
    const nodes = page.items.map(contactListView);
    return {
      edges: nodes.map((node, i) => ({ cursor: page.cursors[i]!, node })),
      nodes,
      pageInfo: pageInfo(page.cursors, page.hasNextPage),
      count: page.count,
    };
  }

  @Query(() => ContactList, { nullable: true })
  async contactList(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<ContactList | null> {
    const list = await findList(ctx, id);
    return list && contactListView(list);
  }

  @FieldResolver(() => ContactConnection, {
    description: "Contacts of the list, newest first (createdAt, then id, descending); `where` filters with the segment condition language.",
  })
  async contacts(
    @Root() list: ContactList,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("where", () => ConditionInput, { nullable: true }) where: ConditionInput | null,
    @Ctx() ctx: Context,
  ): Promise<ContactConnection> {
    return contactConnection(await ctx.services.contacts.page(ctx, list.record, first, after, where));
  }

  @FieldResolver(() => [Segment])
  async segments(@Root() list: ContactList, @Ctx() ctx: Context): Promise<Segment[]> {
    return (await ctx.loaders.segmentsByList.load(list.record.id)).map(segmentView);
  }

  @FieldResolver(() => String, { description: "The event log's position now. Pass it as `after` to segmentMembershipChanged to receive every membership change made after this read, with none lost in between." })
  eventCursor(@Ctx() ctx: Context): Promise<string> {
    return ctx.services.events.currentCursor();
  }

  @Mutation(() => ContactList)
  async createContactList(@Arg("input", () => CreateContactListInput) input: CreateContactListInput, @Ctx() ctx: Context): Promise<ContactList> {
    return contactListView(await ctx.services.lists.create(ctx, input));
  }

  @Mutation(() => ContactList)
  async updateContactList(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateContactListInput) input: UpdateContactListInput,
    @Ctx() ctx: Context,
  ): Promise<ContactList> {
    return contactListView(await ctx.services.lists.update(ctx, id, input));
  }

  @Mutation(() => ID, { description: "Deletes the list with its contacts and segments; returns the deleted id." })
  deleteContactList(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.lists.delete(ctx, id);
  }
}

@Resolver(() => ContactListConnection)
export class ContactListConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: ContactListConnection): Promise<number> {
    return connection.count();
  }
}
