/**
 * `npm run verify` on MongoDB: the reads of the consistency check (engine/verify.ts). Changes
 * the engine has not read from the change stream yet cannot be told apart here, so run it while
 * writes are quiet (or read its differences against the engine's lag).
 */
import type { ContactState, StoredSegment } from "../../engine/step-tx";
import type { VerifiedList, VerifyTx } from "../../engine/verify";
import type { EventFilter, MembershipEvent, MembershipOverride } from "../port";
import { type Collections, ENGINE_STATE_ID } from "./collections";
import { factsOfDoc } from "./documents";
import { oid } from "./records";
import { overridesIn, storedSegments } from "./step-tx";

export class MongoVerifyTx implements VerifyTx {
  constructor(
    private readonly c: Collections,
    /** The store's reader of the event log. */
    private readonly eventsAfter: (position: number, filter: EventFilter, limit: number) => Promise<MembershipEvent[]>,
  ) {}

  async clock(): Promise<number> {
    return (await this.c.state.findOne({ _id: ENGINE_STATE_ID }))?.clock?.getTime() ?? 0;
  }

  async pending() {
    return { contacts: new Set<string>(), segments: new Set((await this.c.commands.find({}, { projection: { segmentId: 1 } }).toArray()).map((command) => command.segmentId.toHexString())) };
  }

  async orphanMemberships(): Promise<number> {
    const segments = (await this.c.segments.find({}, { projection: { _id: 1 } }).toArray()).map((s) => s._id);
    return (await this.c.memberships.countDocuments({ segmentId: { $nin: segments } })) + (await this.c.buckets.countDocuments({ segmentId: { $nin: segments } }));
  }

  async lists(): Promise<VerifiedList[]> {
    return (await this.c.lists.find({}).sort({ _id: 1 }).toArray()).map((list) => ({
      id: list._id.toHexString(),
      customFields: list.customFields,
      timeZone: list.timeZone ?? "UTC",
      contactCount: list.contactCount,
    }));
  }

  async countContacts(listId: string): Promise<number> {
    return this.c.contacts.countDocuments({ listId: oid(listId) ?? undefined });
  }

  async segments(listId: string): Promise<StoredSegment[]> {
    return storedSegments(this.c, await this.c.segments.find({ listId: oid(listId) ?? undefined }).sort({ _id: 1 }).toArray());
  }

  overridesIn(segmentId: string): Promise<Map<string, MembershipOverride>> {
    return overridesIn(this.c, oid(segmentId)!);
  }

  async members(segmentId: string): Promise<Set<string>> {
    const id = oid(segmentId) ?? undefined;
    const members = new Set<string>();
    for (const m of await this.c.memberships.find({ segmentId: id }, { projection: { contactId: 1 } }).toArray()) members.add(m.contactId.toHexString());
    for (const b of await this.c.buckets.find({ segmentId: id }, { projection: { contactIds: 1 } }).toArray()) for (const contactId of b.contactIds) members.add(contactId.toHexString());
    return members;
  }

  async contacts(listId: string, after: string | null, limit: number): Promise<ContactState[]> {
    const from = after === null ? null : oid(after);
    const docs = await this.c.contacts
      .find({ listId: oid(listId) ?? undefined, ...(from ? { _id: { $gt: from } } : {}) })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({ id: doc._id.toHexString(), listId, facts: factsOfDoc(doc) }));
  }

  events(segmentId: string, after: number, limit: number): Promise<MembershipEvent[]> {
    return this.eventsAfter(after, { segmentId }, limit);
  }

}
