import "reflect-metadata";
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchemaSync } from "type-graphql";
import { ContactConnectionResolver, ContactResolver } from "./modules/contacts/contact.resolver";
import { ContactListConnectionResolver, ContactListResolver } from "./modules/lists/list.resolver";
import { MembershipEventResolver } from "./modules/segments/membership-event.resolver";
import { ConditionNodeVerdictResolver, SegmentPreviewResolver, SegmentResolver } from "./modules/segments/segment.resolver";
import { NodeResolver } from "./modules/node.resolver";
import { EngineStatusResolver } from "./modules/engine/engine-status.resolver";
import { WebhookResolver } from "./modules/webhooks/webhook.resolver";
import { ImportJobResolver } from "./modules/imports/import.resolver";

let schema: GraphQLSchema | undefined;

/**
 * type-graphql insists on a PubSub once a schema has subscriptions. Ours read the event log
 * (engine/subscription.ts) through their own `subscribe`, so this one is never used.
 */
const unusedPubSub = {
  publish(): void {
    throw new Error("events are published through the event log, not a PubSub");
  },
  subscribe(): AsyncIterable<unknown> {
    throw new Error("subscriptions read the event log, not a PubSub");
  },
};

/** The executable schema, built once from the decorated classes; shared by server, scripts and tests. */
export function buildAppSchema(): GraphQLSchema {
  schema ??= buildSchemaSync({
    resolvers: [
      NodeResolver,
      ContactListResolver,
      ContactListConnectionResolver,
      ContactResolver,
      ContactConnectionResolver,
      SegmentResolver,
      SegmentPreviewResolver,
      ConditionNodeVerdictResolver,
      MembershipEventResolver,
      EngineStatusResolver,
      WebhookResolver,
      ImportJobResolver,
    ],
    validate: false,
    pubSub: unusedPubSub,
  });
  return schema;
}

export const SCHEMA_BANNER = `# THIS FILE IS GENERATED from the code (src/schema.ts) by \`npm run schema\`. Do not edit it by hand.
# A test fails when it differs from what the code produces.
`;

/** The SDL committed as schema/schema.graphql: sorted, with a banner. */
export function printAppSchema(): string {
  return `${SCHEMA_BANNER}\n${printSchema(lexicographicSortSchema(buildAppSchema()))}\n`;
}
