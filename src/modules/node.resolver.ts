import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import { parseGlobalId } from "../common/ids";
import type { Context } from "../graphql/context";
import { Node } from "../graphql/node";
import { contactView } from "./contacts/contact.type";
import { contactListView } from "./lists/list.type";
import { segmentView } from "./segments/segment.type";
import { webhookView } from "./webhooks/webhook.type";
import { importJobView } from "./imports/import.type";

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true })
  async node(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    const parsed = parseGlobalId(id);
    if (!parsed) return null;
    switch (parsed.type) {
      case "ContactList": {
        const list = await ctx.loaders.list(parsed.localId);
        return list && contactListView(list);
      }
      case "Contact": {
        const contact = await ctx.loaders.contact(parsed.localId);
        return contact && contactView(contact);
      }
      case "Segment": {
        const segment = await ctx.loaders.segment(parsed.localId);
        return segment && segmentView(segment);
      }
      case "Webhook": {
        const webhook = await ctx.services.webhooks.find(ctx, parsed.localId);
        return webhook && webhookView(webhook);
      }
      case "ImportJob": {
        const job = await ctx.services.imports.find(ctx, id);
        return job && importJobView(job);
      }
    }
  }
}
