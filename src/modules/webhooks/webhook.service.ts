import { randomBytes } from "node:crypto";
import { pageSize } from "../../common/cursor";
import { badInput, notFound } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import type { Caller } from "../../caller";
import type { ServiceDeps } from "../../services";
import { WEBHOOK_LOG_SIZE, type WebhookDeliveryRecord, type WebhookRecord } from "../../stores/port";
import { UrlRefused } from "../../webhooks/url-policy";
import { requireList } from "../lists/list.service";
import { latestEventPosition } from "../segments/membership-event.service";

/** Segments one webhook may name at most. */
const MAX_WEBHOOK_SEGMENTS = 100;

/** A new signing secret: 32 random bytes. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export class WebhookService {
  constructor(private readonly deps: ServiceDeps) {}

  /** A list's webhooks; an unknown list (or another workspace's) is NOT_FOUND. */
  async ofList(ctx: Caller, listId: string): Promise<WebhookRecord[]> {
    const list = await requireList(ctx, listId);
    return this.deps.store.webhooksOfList(list.id);
  }

  /** The webhook with this store id, if its list is in the caller's workspace. */
  async find(ctx: Caller, storeId: string): Promise<WebhookRecord | null> {
    const [hook] = await this.deps.store.getWebhooks([storeId]);
    return hook && (await ctx.loaders.list(hook.listId)) ? hook : null;
  }

  private async require(ctx: Caller, id: string): Promise<WebhookRecord> {
    const storeId = fromGlobalId(id, "Webhook");
    const hook = storeId === null ? null : await this.find(ctx, storeId);
    if (!hook) throw notFound("Webhook", id);
    return hook;
  }

  async create(ctx: Caller, input: { listId: string; segmentIds?: string[] | null; url: string }): Promise<{ webhook: WebhookRecord; secret: string }> {
    const list = await requireList(ctx, input.listId);
    let segmentIds: string[] | null = null;
    if (input.segmentIds != null) {
      if (input.segmentIds.length === 0) throw badInput("segmentIds: give at least one segment, or leave segmentIds out for every segment of the list", { field: "segmentIds" });
      if (input.segmentIds.length > MAX_WEBHOOK_SEGMENTS) throw badInput(`segmentIds: at most ${MAX_WEBHOOK_SEGMENTS} segments`, { field: "segmentIds" });
      segmentIds = [];
      for (const [index, id] of input.segmentIds.entries()) {
        const storeId = fromGlobalId(id, "Segment");
        const segment = storeId === null ? null : await ctx.loaders.segment(storeId);
        if (!segment) throw notFound("Segment", id);
        if (segment.listId !== list.id) throw badInput(`segmentIds[${index}]: the segment belongs to another list`, { field: `segmentIds[${index}]` });
        if (!segmentIds.includes(segment.id)) segmentIds.push(segment.id);
      }
    }
    let url: URL;
    try {
      url = await this.deps.dispatcher.policy.check(input.url);
    } catch (error) {
      if (error instanceof UrlRefused) throw badInput(`url: ${error.message}`, { field: "url" });
      throw error;
    }
    const secret = newSecret();
    const position = await latestEventPosition(this.deps);
    const webhook = await this.deps.store.createWebhook({ listId: list.id, segmentIds, url: url.href, secret, position }, this.deps.clock.now());
    this.deps.dispatcher.changed();
    return { webhook, secret };
  }

  async setEnabled(ctx: Caller, id: string, enabled: boolean): Promise<WebhookRecord> {
    const hook = await this.require(ctx, id);
    const updated = await this.deps.store.setWebhookEnabled(hook.id, enabled, this.deps.clock.now());
    if (!updated) throw notFound("Webhook", id);
    this.deps.dispatcher.changed();
    return updated;
  }

  async delete(ctx: Caller, id: string): Promise<string> {
    const hook = await this.require(ctx, id);
    if (!(await this.deps.store.deleteWebhook(hook.id))) throw notFound("Webhook", id);
    this.deps.dispatcher.changed();
    return id;
  }

  async ping(ctx: Caller, id: string): Promise<WebhookDeliveryRecord> {
    return this.deps.dispatcher.ping(await this.require(ctx, id));
  }

  /** Events waiting for the webhook: its list's (or segments') ENTERED / LEFT after its position. */
  pendingEvents(hook: WebhookRecord): Promise<number> {
    return this.deps.store.countEventsAfter(hook.position, { listId: hook.listId, segmentIds: hook.segmentIds });
  }

  deliveries(hook: WebhookRecord, first: number | null | undefined): Promise<WebhookDeliveryRecord[]> {
    return this.deps.store.webhookDeliveries(hook.id, pageSize(first, WEBHOOK_LOG_SIZE, 20));
  }
}
