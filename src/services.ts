/**
 * The application services: what the API (and scripts) can do, with validation and the
 * workspace rule applied. Resolvers are thin wrappers around these.
 */
import type { Clock } from "./common/clock";
import type { EventFeed } from "./engine/event-feed";
import type { MembershipEngine } from "./engine/engine";
import { ContactService } from "./modules/contacts/contact.service";
import { ListService } from "./modules/lists/list.service";
import { HistoryService } from "./modules/segments/history.service";
import { MembershipEventService } from "./modules/segments/membership-event.service";
import { SegmentService } from "./modules/segments/segment.service";
import { WebhookService } from "./modules/webhooks/webhook.service";
import { ExportService } from "./modules/exports/export.service";
import { ImportService } from "./modules/imports/import.service";
import type { Store } from "./stores/port";
import type { WebhookDispatcher } from "./webhooks/dispatcher";

export interface ServiceSettings {
  /** How long a contact write waits for the engine to apply it before returning. */
  writeSettleMs: number;
  /** How long createSegment / updateSegment wait for the membership before returning BUILDING. */
  segmentSettleMs: number;
  /** How long a RUNNING import job outlives its last heartbeat before it reads FAILED (default 10 s). */
  importStaleAfterMs?: number;
}

export interface ServiceDeps {
  store: Store;
  engine: MembershipEngine;
  feed: EventFeed;
  clock: Clock;
  settings: ServiceSettings;
  /** Sends webhook deliveries (and pings); told when webhooks change. */
  dispatcher: WebhookDispatcher;
}

export function createServices(deps: ServiceDeps) {
  return {
    ...deps,
    lists: new ListService(deps),
    contacts: new ContactService(deps),
    segments: new SegmentService(deps),
    events: new MembershipEventService(deps),
    history: new HistoryService(deps),
    webhooks: new WebhookService(deps),
    imports: new ImportService(deps),
    exports: new ExportService(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
