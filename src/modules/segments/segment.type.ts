import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { toGlobalId } from "../../common/ids";
import { Node, PageInfo, pageInfo } from "../../graphql/node";
import { DateTimeScalar, JSONObjectScalar } from "../../graphql/scalars";
import type { ChangeReason, MembershipChange as Change, MembershipEvent, SegmentRecord } from "../../stores/port";
import type { NodeVerdict } from "./segment.service";
import { Contact, ContactRowError } from "../contacts/contact.type";

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
  MANUAL = "MANUAL",
}

registerEnumType(MembershipChangeReason, {
  name: "MembershipChangeReason",
  valuesConfig: {
    MANUAL: { description: "A contact was added to or removed from the segment by hand (addSegmentMembers, removeSegmentMembers, clearSegmentOverrides)." },
  },
});

export enum MembershipOverride {
  INCLUDED = "INCLUDED",
  EXCLUDED = "EXCLUDED",
}

registerEnumType(MembershipOverride, {
  name: "MembershipOverride",
  valuesConfig: {
    INCLUDED: { description: "Added by hand: a member whatever the condition says." },
    EXCLUDED: { description: "Removed by hand: never a member whatever the condition says." },
  },
});

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

  @Field(() => DateTimeScalar, { nullable: true, description: "When a scheduled freeze will turn this DYNAMIC segment STATIC; null when none is scheduled (and after the freeze has happened)." })
  freezeAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the segment became STATIC by freezing; null otherwise." })
  frozenAt!: Date | null;

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
    freezeAt: record.freezeAt === null ? null : new Date(record.freezeAt),
    frozenAt: record.frozenAt === null ? null : new Date(record.frozenAt),
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

  /** The nodes' counts, made when `breakdown` is asked for (null otherwise). */
  nodeCounts!: NodeVerdict[] | null;
}

@ObjectType("SegmentMembersResult")
export class SegmentMembersResult {
  @Field(() => Segment)
  segment!: Segment;

  @Field(() => Int, { description: "How many contacts' membership changed (entered or left)." })
  changed!: number;

  @Field(() => [ContactRowError], { description: "Ids that are not contacts of the segment's list: index into contactIds, code NOT_FOUND. The others are applied." })
  errors!: ContactRowError[];
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

@ObjectType("SegmentMembershipEventEdge")
export class SegmentMembershipEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => SegmentMembershipEvent)
  node!: SegmentMembershipEvent;
}

@ObjectType("SegmentMembershipEventConnection")
export class SegmentMembershipEventConnection {
  @Field(() => [SegmentMembershipEventEdge])
  edges!: SegmentMembershipEventEdge[];

  @Field(() => [SegmentMembershipEvent])
  nodes!: SegmentMembershipEvent[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

export enum SeriesBucket {
  MINUTE = "MINUTE",
  HOUR = "HOUR",
  DAY = "DAY",
}

registerEnumType(SeriesBucket, { name: "SeriesBucket" });

@ObjectType("MemberCountPoint")
export class MemberCountPoint {
  @Field(() => DateTimeScalar, { description: "Start of the bucket." })
  at!: Date;

  @Field(() => Int, { description: "Members at the end of the bucket." })
  memberCount!: number;

  @Field(() => Int)
  entered!: number;

  @Field(() => Int)
  left!: number;
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

export function eventConnection(page: { items: MembershipEvent[]; cursors: string[]; hasNextPage: boolean }): SegmentMembershipEventConnection {
  const nodes = page.items.map((event, i) => membershipEventView(event, page.cursors[i]!));
  return { edges: nodes.map((node) => ({ cursor: node.cursor, node })), nodes, pageInfo: pageInfo(page.cursors, page.hasNextPage) };
}
