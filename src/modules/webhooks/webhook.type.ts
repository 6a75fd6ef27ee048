import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { toGlobalId } from "../../common/ids";
import { Node } from "../../graphql/node";
import { DateTimeScalar } from "../../graphql/scalars";
import type { WebhookDeliveryRecord, WebhookRecord } from "../../stores/port";
import { positionCursor } from "../segments/membership-event.service";

export enum WebhookStatus {
  ACTIVE = "ACTIVE",
  FAILING = "FAILING",
  DISABLED = "DISABLED",
}

registerEnumType(WebhookStatus, {
  name: "WebhookStatus",
  valuesConfig: {
    FAILING: { description: "The last deliveries failed; retries continue with backoff." },
    DISABLED: { description: "Disabled by hand, or after failing for 24 hours; enableWebhook resumes from where delivery stopped." },
  },
});

@ObjectType("Webhook", {
  implements: Node,
  description: "Membership changes of a list (or of some of its segments) POSTed to a URL, signed, in order, at least once (see the README).",
})
export class Webhook extends Node {
  @Field(() => String)
  url!: string;

  @Field(() => WebhookStatus)
  status!: WebhookStatus;

  @Field(() => String, { nullable: true, description: "Cursor of the last event the receiver acknowledged (a 2xx answer)." })
  deliveredCursor!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  /** The stored webhook, for field resolvers. */
  record!: WebhookRecord;
}

export function webhookView(record: WebhookRecord): Webhook {
  return Object.assign(new Webhook(), {
    id: toGlobalId("Webhook", record.id),
    url: record.url,
    status: record.status as WebhookStatus,
    deliveredCursor: record.acknowledgedThrough === null ? null : positionCursor(record.acknowledgedThrough),
    createdAt: new Date(record.createdAt),
    record,
  });
}

@ObjectType("WebhookDelivery", { description: "One request to the receiver (or a note on delivery, such as events lost to retention)." })
export class WebhookDelivery {
  @Field(() => ID, { description: "The same for every attempt at one batch (the Segments-Delivery-Id header)." })
  id!: string;

  @Field(() => Int, { description: "1 for a batch's first request, 2 for its first retry, and so on." })
  attempt!: number;

  @Field(() => Int, { description: "How many events the request carried." })
  eventCount!: number;

  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status; null when no answer came (refused, timed out)." })
  statusCode!: number | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => DateTimeScalar)
  at!: Date;
}

export function webhookDeliveryView(record: WebhookDeliveryRecord): WebhookDelivery {
  return Object.assign(new WebhookDelivery(), {
    id: record.deliveryId,
    attempt: record.attempt,
    eventCount: record.eventCount,
    statusCode: record.statusCode,
    error: record.error,
    durationMs: record.durationMs,
    at: new Date(record.at),
  });
}

@ObjectType("CreatedWebhook")
export class CreatedWebhook {
  @Field(() => Webhook)
  webhook!: Webhook;

  @Field(() => String, { description: "The signing secret, shown only here, once." })
  secret!: string;
}
