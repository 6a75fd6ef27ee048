import { Field, ID, InputType } from "type-graphql";

@InputType("CreateWebhookInput")
export class CreateWebhookInput {
  @Field(() => ID)
  listId!: string;

  @Field(() => [ID], { nullable: true, description: "Only these segments' events; omitted: every segment of the list." })
  segmentIds?: string[] | null;

  @Field(() => String, {
    description: "Where events are POSTed: https:// to a public address (http:// and private addresses only with WEBHOOK_ALLOW_PRIVATE_URLS=true).",
  })
  url!: string;
}
