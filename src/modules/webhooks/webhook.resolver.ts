import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../../graphql/context";
import { ContactList, contactListView } from "../lists/list.type";
import { Segment, segmentView } from "../segments/segment.type";
import { CreateWebhookInput } from "./webhook.input";
import { CreatedWebhook, Webhook, WebhookDelivery, webhookDeliveryView, webhookView } from "./webhook.type";

@Resolver(() => Webhook)
export class WebhookResolver {
  @Query(() => [Webhook], { description: "The list's webhooks, oldest first." })
  async webhooks(@Arg("listId", () => ID) listId: string, @Ctx() ctx: Context): Promise<Webhook[]> {
    return (await ctx.services.webhooks.ofList(ctx, listId)).map(webhookView);
  }

  @FieldResolver(() => ContactList)
  async list(@Root() webhook: Webhook, @Ctx() ctx: Context): Promise<ContactList> {
    return contactListView((await ctx.loaders.list(webhook.record.listId))!);
  }

  @FieldResolver(() => [Segment], { nullable: true, description: "Null: every segment of the list. Segments deleted since are left out." })
  async segments(@Root() webhook: Webhook, @Ctx() ctx: Context): Promise<Segment[] | null> {
    const ids = webhook.record.segmentIds;
    if (ids === null) return null;
    const segments = await Promise.all(ids.map((id) => ctx.loaders.segment(id)));
    return segments.filter((segment) => segment !== null).map(segmentView);
  }

  @FieldResolver(() => Int, { description: "Events waiting for this webhook." })
  pendingEvents(@Root() webhook: Webhook, @Ctx() ctx: Context): Promise<number> {
    return ctx.services.webhooks.pendingEvents(webhook.record);
  }

  @FieldResolver(() => [WebhookDelivery], { description: "The delivery log, newest first (the last 100 are kept)." })
  async deliveries(
    @Root() webhook: Webhook,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Ctx() ctx: Context,
  ): Promise<WebhookDelivery[]> {
    return (await ctx.services.webhooks.deliveries(webhook.record, first)).map(webhookDeliveryView);
  }

  @Mutation(() => CreatedWebhook, { description: "Membership changes from now on are delivered to the URL; the signing secret is shown only in this answer." })
  async createWebhook(@Arg("input", () => CreateWebhookInput) input: CreateWebhookInput, @Ctx() ctx: Context): Promise<CreatedWebhook> {
    const { webhook, secret } = await ctx.services.webhooks.create(ctx, input);
    return { webhook: webhookView(webhook), secret };
  }

  @Mutation(() => ID, { description: "Deletes the webhook and its delivery log; returns the deleted id." })
  deleteWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.webhooks.delete(ctx, id);
  }

  @Mutation(() => Webhook, { description: "Stops deliveries; enableWebhook resumes from the last acknowledged event." })
  async disableWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Webhook> {
    return webhookView(await ctx.services.webhooks.setEnabled(ctx, id, false));
  }

  @Mutation(() => Webhook, { description: "Resumes deliveries from the last acknowledged event, with a new batch." })
  async enableWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Webhook> {
    return webhookView(await ctx.services.webhooks.setEnabled(ctx, id, true));
  }

  @Mutation(() => WebhookDelivery, { description: "Sends a signed test request and reports its outcome." })
  async pingWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<WebhookDelivery> {
    return webhookDeliveryView(await ctx.services.webhooks.ping(ctx, id));
  }
}
