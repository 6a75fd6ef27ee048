import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { toGlobalId } from "../../common/ids";
import { Node } from "../../graphql/node";
import { DateTimeScalar, JSONObjectScalar } from "../../graphql/scalars";
import type { ChangeReason, MembershipChange as Change, MembershipEvent, SegmentRecord } from "../../stores/port";
import { Contact } from "../contacts/contact.type";

export enum SegmentType {
  STATIC = "STATIC",
  DYNAMIC = "DYNAMIC",
}

registerEnumType(SegmentType, {
  name: "SegmentType",
  valuesConfig: {
    STATIC: {
      description: "Membership is fixed when the segment is created; later changes to the list do not alter it (deleted contacts leave).",
    },
    DYNAMIC: { description: "Membership follows the condition: contacts enter and leave as the list changes and as time passes." },
  },
});

export enum SegmentStatus {
  BUILDING = "BUILDING",
  READY = "READY",
}

registerEnumType(SegmentStatus, {
  name: "SegmentStatus",
  valuesConfig: { BUILDING: { description: "The initial membership is still being computed." } },
});

export enum MembershipChange {
  ENTERED = "ENTERED",
  LEFT = "LEFT",
}

registerEnumType(MembershipChange, { name: "MembershipChange" });

export enum MembershipChangeReason {
  CONTACT_ADDED = "CONTACT_ADDED",
  CONTACT_UPDATED = "CONTACT_UPDATED",
  CONTACT_DELETED = "CONTACT_DELETED",
  SEGMENT_UPDATED = "SEGMENT_UPDATED",
  TIME_PASSED = "TIME_PASSED",
}

registerEnumType(MembershipChangeReason, { name: "MembershipChangeReason" });

@ObjectType("Segment", { implements: Node, description: "A sub-group of one list, chosen by a condition." })
export class Segment extends Node {
  @Field(() => String)
  name!: string;

  @Field(() => SegmentType)
  type!: SegmentType;

  @Field(() => SegmentStatus)
  status!: SegmentStatus;

  @Field(() => JSONObjectScalar, { description: "The condition as stored, in the ConditionInput shape." })
  condition!: Record<string, unknown>;

  @Field(() => Int)
  memberCount!: number;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  /** The stored segment, for field resolvers. */
  record!: SegmentRecord;
}

export function segmentView(record: SegmentRecord): Segment {
  const view = Object.assign(new Segment(), {
    id: toGlobalId("Segment", record.id),
    name: record.name,
    type: record.type as SegmentType,
    status: record.status as SegmentStatus,
    memberCount: record.memberCount,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    record,
  });
  // Read from the record only when asked for (stores may parse it lazily).
  Object.defineProperty(view, "condition", { get: () => record.condition, enumerable: true });
  return view;
}

@ObjectType("SegmentPreview")
export class SegmentPreview {
  @Field(() => Int)
  count!: number;

  @Field(() => [Contact])
  sample!: Contact[];
}

@ObjectType("SegmentMembershipEvent", { description: "A contact entered or left a segment." })
export class SegmentMembershipEvent {
  @Field(() => String, { description: "Opaque; events arrive in cursor order. Pass it as `after` to resume without missing events." })
  cursor!: string;

  @Field(() => ID)
  segmentId!: string;

  @Field(() => ID)
  contactId!: string;

  @Field(() => MembershipChange)
  change!: MembershipChange;

  @Field(() => MembershipChangeReason)
  reason!: MembershipChangeReason;

  @Field(() => Int, { description: "The segment's member count right after this change." })
  memberCount!: number;

  @Field(() => DateTimeScalar)
  occurredAt!: Date;

  /** The stored event, for field resolvers. */
  event!: MembershipEvent;
}

export function membershipEventView(event: MembershipEvent, cursor: string): SegmentMembershipEvent {
  return Object.assign(new SegmentMembershipEvent(), {
    cursor,
    segmentId: toGlobalId("Segment", event.segmentId!),
    contactId: toGlobalId("Contact", event.contactId!),
    change: event.kind as Change as MembershipChange,
    reason: event.reason as ChangeReason as MembershipChangeReason,
    memberCount: event.memberCount,
    occurredAt: new Date(event.occurredAt),
    event,
  });
}
