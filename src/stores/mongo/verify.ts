/**
 * `npm run verify` on MongoDB: every segment re-evaluated from scratch with the reference
 * predicate, compared with stored memberships (rows and static buckets), counts and the event
 * log. Contacts the engine has not caught up with cannot be told apart here, so run it while
 * writes are quiet (or read its differences against the engine's lag).
 */
import type { ObjectId } from "mongodb";
import { type CustomFieldDef, evalTime } from "../../conditions";
import type { LiveSegment, SegmentCompiler } from "../../engine/membership";
import type { VerifyReport } from "../port";
import type { ContactDoc } from "./documents";
import { factsOfDoc } from "./documents";
import { type EngineState, liveRow } from "./engine-step";
import type { Models } from "./models";
import { type EventDoc, eventsOfRun, type SegmentDoc } from "./records";

const MAX_REPORTED_PER_SEGMENT = 20;

export async function verifyMongo(models: Models, compiler: SegmentCompiler, state: EngineState): Promise<VerifyReport> {
  const report: VerifyReport = { segments: 0, contactsChecked: 0, pending: 0, differences: [] };
  for (const list of (await models.List.collection.find({}).toArray()) as unknown as {
    _id: ObjectId;
    customFields: CustomFieldDef[];
    timeZone?: string;
    contactCount: number;
  }[]) {
    const timeZone = list.timeZone ?? "UTC";
    const at = evalTime(state.clock, timeZone);
    const counted = await models.Contact.collection.countDocuments({ listId: list._id });
    if (counted !== list.contactCount) report.differences.push(`list ${list._id}: contactCount is ${list.contactCount}, the list holds ${counted}`);
    const segments = (await models.Segment.collection.find({ listId: list._id }).sort({ _id: 1 }).toArray()) as unknown as SegmentDoc[];
    const entries: { doc: SegmentDoc; segment: LiveSegment; members: Set<string>; seen: Set<string>; reported: number }[] = [];
    for (const doc of segments) {
      report.segments++;
      const members = new Set(
        doc.type === "STATIC"
          ? (await models.MemberBucket.collection.find({ segmentId: doc._id }).toArray()).flatMap((b) => (b.contactIds as ObjectId[]).map(String))
          : (await models.Membership.collection.find({ segmentId: doc._id }).toArray()).map((m) => String(m.contactId)),
      );
      if (members.size !== doc.memberCount) report.differences.push(`segment ${doc._id}: memberCount is ${doc.memberCount}, it has ${members.size} members`);
      if (doc.status !== "READY") continue;
      const segment = compiler.compile(liveRow(doc), list.customFields, timeZone);
      entries.push({ doc, segment, members, seen: new Set<string>(), reported: 0 });
    }
    const note = (entry: (typeof entries)[number], message: string) => {
      if (entry.reported++ < MAX_REPORTED_PER_SEGMENT) report.differences.push(`segment ${entry.doc._id}: ${message}`);
    };
    for await (const contact of models.Contact.collection.find({ listId: list._id }) as AsyncIterable<ContactDoc>) {
      report.contactsChecked++;
      const id = String(contact._id);
      const facts = factsOfDoc(contact);
      for (const entry of entries) {
        entry.seen.add(id);
        if (entry.doc.type !== "DYNAMIC") continue;
        const member = entry.members.has(id);
        const matches = entry.segment.predicate(facts, at);
        if (matches && !member) note(entry, `contact ${id} matches the condition but is not a member`);
        if (!matches && member) note(entry, `contact ${id} is a member but does not match the condition`);
      }
    }
    for (const entry of entries) {
      for (const id of entry.members) if (!entry.seen.has(id)) note(entry, `member ${id} is not a contact of the list`);
      const last = new Map<string, string>();
      for await (const run of models.Event.collection.find({ segmentId: entry.doc._id, kind: { $in: ["ENTERED", "LEFT"] } }).sort({ _id: 1 }) as AsyncIterable<EventDoc>) {
        for (const event of eventsOfRun(run)) {
          if (last.get(event.contactId!) === event.kind) note(entry, `event ${event.seq}: contact ${event.contactId} ${event.kind} twice in a row`);
          last.set(event.contactId!, event.kind);
        }
      }
      for (const [contactId, kind] of last) {
        const member = entry.members.has(contactId);
        if (member && kind === "LEFT") note(entry, `contact ${contactId} is a member but its last event is LEFT`);
        if (!member && kind === "ENTERED") note(entry, `contact ${contactId} is not a member but its last event is ENTERED`);
      }
    }
  }
  return report;
}
