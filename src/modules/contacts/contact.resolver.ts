import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../../graphql/context";
import { pageInfo } from "../../graphql/node";
import type { ContactRecord, Page } from "../../stores/port";
import { ContactList, contactListView } from "../lists/list.type";
import { eventConnection, Segment, SegmentMembershipEventConnection, segmentView } from "../segments/segment.type";
import { ContactInput, ContactPatchInput } from "./contact.input";
import { AddContactsResult, Contact, ContactConnection, contactView } from "./contact.type";

export function contactConnection(page: Page<ContactRecord> & { cursors: string[]; count: () => Promise<number>; joinedAt?: number[] }): ContactConnection {
  const nodes = page.items.map(contactView);
  return {
    edges: nodes.map((node, i) => ({ cursor: page.cursors[i]!, node, joinedAt: page.joinedAt ? new Date(page.joinedAt[i]!) : null })),
    nodes,
    pageInfo: pageInfo(page.cursors, page.hasNextPage),
    count: page.count,
  };
}

@Resolver(() => Contact)
export class ContactResolver {
  @Query(() => Contact, { nullable: true })
  async contact(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Contact | null> {
    const contact = await ctx.services.contacts.find(ctx, id);
    return contact && contactView(contact);
  }

  @FieldResolver(() => SegmentMembershipEventConnection, { description: "This contact's membership events across the segments of its list, newest first." })
  async segmentHistory(
    @Root() contact: Contact,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<SegmentMembershipEventConnection> {
    return eventConnection(await ctx.services.history.page({ listId: contact.record.listId, contactId: contact.record.id }, first, after));
  }

  @FieldResolver(() => ContactList)
  async list(@Root() contact: Contact, @Ctx() ctx: Context): Promise<ContactList> {
    return contactListView((await ctx.loaders.list(contact.record.listId))!);
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description: "Whole years since birthDate, as of now in the list's time zone (a birthday starts at local midnight); null without a birthDate.",
  })
  async age(@Root() contact: Contact, @Ctx() ctx: Context): Promise<number | null> {
    if (contact.record.birthDate === null) return null;
    const list = await ctx.loaders.list(contact.record.listId);
    return ctx.services.contacts.age(contact.record, list?.timeZone ?? "UTC");
  }

  @FieldResolver(() => [Segment], { description: "The segments of its list that the contact belongs to now." })
  async segments(@Root() contact: Contact, @Ctx() ctx: Context): Promise<Segment[]> {
    return (await ctx.loaders.segmentsOfContact(contact.record)).map(segmentView);
  }

  @Mutation(() => Contact)
  async addContact(
    @Arg("listId", () => ID) listId: string,
    @Arg("input", () => ContactInput) input: ContactInput,
    @Ctx() ctx: Context,
  ): Promise<Contact> {
    return contactView(await ctx.services.contacts.add(ctx, listId, input));
  }

  @Mutation(() => AddContactsResult, {
    description: `Adds many contacts in one call (at most 10,000); rows that fail are reported, the others are kept. With upsert,
a row whose email exists updates that contact like updateContact (fields given change, others
stay) instead of being reported; without it, such a row, or a repeat of an email earlier in the
same call, is reported with CONFLICT.`,
  })
  addContacts(
    @Arg("listId", () => ID) listId: string,
    @Arg("contacts", () => [ContactInput]) contacts: ContactInput[],
    @Arg("upsert", () => Boolean, { nullable: true, defaultValue: false }) upsert: boolean,
    @Ctx() ctx: Context,
  ): Promise<AddContactsResult> {
    return ctx.services.contacts.addMany(ctx, listId, contacts, upsert ?? false);
  }

  @Mutation(() => Contact)
  async updateContact(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => ContactPatchInput) input: ContactPatchInput,
    @Ctx() ctx: Context,
  ): Promise<Contact> {
    return contactView(await ctx.services.contacts.update(ctx, id, input));
  }

  @Mutation(() => ID)
  deleteContact(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.contacts.delete(ctx, id);
  }
}

@Resolver(() => ContactConnection)
export class ContactConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: ContactConnection): Promise<number> {
    return connection.count();
  }
}
