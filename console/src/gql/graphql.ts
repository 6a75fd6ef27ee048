/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/**
 * A condition tree. Exactly one of these forms per node:
 *   { and: [...] }  { or: [...] }  { not: {...} }  { field, operator, value }  { inSegment: ID }
 * inSegment is true for the members of another segment of the same list, now; a change of its
 * members flows on to the segments that use it in the same engine step. References never make a
 * cycle, and a segment in use cannot be deleted.
 * Groups are never empty; a tree has at most 200 nodes and 10 levels.
 * Fields: email firstName lastName phone country city gender birthDate age tags
 * createdAt updatedAt, and attributes.<key> for a custom field of the list.
 * An operator must fit the field's type (text operators on text, order operators on numbers and
 * dates, HAS_* on tags), else BAD_USER_INPUT. Text comparisons ignore case and are literal (no
 * pattern syntax). A negative operator (NOT_EQUALS NOT_IN NOT_CONTAINS HAS_NONE) is exactly the
 * negation of its positive one, so it matches a contact without a value; order and date operators
 * never match a contact without a value.
 * Values by operator:
 *   EQUALS NOT_EQUALS GREATER_THAN GREATER_THAN_OR_EQUAL LESS_THAN LESS_THAN_OR_EQUAL: a scalar
 *   CONTAINS NOT_CONTAINS STARTS_WITH ENDS_WITH: a non-empty string
 *   IN NOT_IN: an array of scalars
 *   BETWEEN: [low, high], both inclusive
 *   IS_SET IS_NOT_SET: no value
 *   BEFORE AFTER: a date or timestamp string
 *   WITHIN_LAST MORE_THAN_AGO: { amount: Int, unit: "MINUTES" | "HOURS" | "DAYS" | "WEEKS" | "MONTHS" | "YEARS" }
 *   HAS_ANY HAS_ALL HAS_NONE: an array of strings (for tags)
 * Time: evaluated in the list's time zone (ContactList.timeZone, UTC unless set at creation).
 * age is whole years since birthDate (a birthday starts at local midnight).
 * WITHIN_LAST d matches now - d < value <= now; MORE_THAN_AGO d matches value <= now - d;
 * MINUTES to WEEKS are exact durations, MONTHS and YEARS count on the zone's wall clock.
 * On a DATE field a timestamp value counts as its date in the zone; on a DATETIME field a date
 * counts as its first instant in the zone.
 */
export type ConditionInput = {
  and?: Array<ConditionInput> | null | undefined;
  field?: string | null | undefined;
  /** True for the contacts that are members of that segment (of the same list) now; negate it with `not`. */
  inSegment?: string | number | null | undefined;
  not?: ConditionInput | null | undefined;
  operator?: ConditionOperator | null | undefined;
  or?: Array<ConditionInput> | null | undefined;
  value?: unknown;
};

export type ConditionNodeKind =
  | 'AND'
  | 'LEAF'
  | 'NOT'
  | 'OR'
  | 'SEGMENT';

export type ConditionOperator =
  | 'AFTER'
  | 'BEFORE'
  | 'BETWEEN'
  | 'CONTAINS'
  | 'ENDS_WITH'
  | 'EQUALS'
  | 'GREATER_THAN'
  | 'GREATER_THAN_OR_EQUAL'
  | 'HAS_ALL'
  | 'HAS_ANY'
  | 'HAS_NONE'
  | 'IN'
  | 'IS_NOT_SET'
  | 'IS_SET'
  | 'LESS_THAN'
  | 'LESS_THAN_OR_EQUAL'
  | 'MORE_THAN_AGO'
  | 'NOT_CONTAINS'
  | 'NOT_EQUALS'
  | 'NOT_IN'
  | 'STARTS_WITH'
  | 'WITHIN_LAST';

export type CreateContactListInput = {
  customFields?: Array<CustomFieldInput> | null | undefined;
  name: string;
  /** The IANA time zone (e.g. "Europe/Oslo") that calendar conditions of the list's segments are evaluated in: ages, relative dates and dates compared with timestamps. Defaults to "UTC". Fixed at creation: it cannot be changed later. */
  timeZone?: string | null | undefined;
};

/** Creating a segment publishes no events: the initial members are not changes. */
export type CreateSegmentInput = {
  condition: ConditionInput;
  listId: string | number;
  name: string;
  type: SegmentType;
};

export type CustomFieldInput = {
  /** A letter, then letters, digits or underscores (at most 64). */
  key: string;
  label?: string | null | undefined;
  type: FieldType;
};

export type FieldType =
  | 'BOOLEAN'
  /** A calendar date (YYYY-MM-DD). */
  | 'DATE'
  /** A timestamp (ISO-8601 with time and zone). */
  | 'DATETIME'
  | 'NUMBER'
  | 'TEXT';

export type ImportStatus =
  /** Every row was read; rows that failed are in errors. */
  | 'DONE'
  /** The file could not be read to the end (for example it is not CSV, or it has no email column); rows before the failure are kept. */
  | 'FAILED'
  | 'RUNNING';

export type MembershipChange =
  | 'ENTERED'
  | 'LEFT';

export type MembershipChangeReason =
  | 'CONTACT_ADDED'
  | 'CONTACT_DELETED'
  | 'CONTACT_UPDATED'
  /** A contact was added to or removed from the segment by hand (addSegmentMembers, removeSegmentMembers, clearSegmentOverrides). */
  | 'MANUAL'
  | 'SEGMENT_UPDATED'
  | 'TIME_PASSED';

export type MembershipOverride =
  /** Removed by hand: never a member whatever the condition says. */
  | 'EXCLUDED'
  /** Added by hand: a member whatever the condition says. */
  | 'INCLUDED';

export type SegmentStatus =
  /** The initial membership is still being computed. */
  | 'BUILDING'
  | 'READY';

export type SegmentType =
  /** Membership follows the condition: contacts enter and leave as the list changes and as time passes. */
  | 'DYNAMIC'
  /** Membership is fixed when the segment is created; later changes to the list do not alter it (deleted contacts leave). */
  | 'STATIC';

export type UpdateSegmentInput = {
  /** Only for DYNAMIC segments; membership is re-evaluated and the differences are published. */
  condition?: ConditionInput | null | undefined;
  name?: string | null | undefined;
};

export type FeedEventFieldsFragment = { cursor: string, change: MembershipChange, reason: MembershipChangeReason, memberCount: number, occurredAt: string, segmentId: string, contactId: string, contact: { id: string, email: string, firstName: string | null, lastName: string | null } | null, segment: { id: string, name: string } | null };

export type SegmentRowFieldsFragment = { id: string, name: string, type: SegmentType, status: SegmentStatus, memberCount: number, freezeAt: string | null, memberCountSeries: Array<{ at: string, memberCount: number }> };

export type ListFieldsFragment = { id: string, name: string, timeZone: string, customFields: Array<{ key: string, label: string | null, type: FieldType }>, segments: Array<{ id: string, name: string, type: SegmentType }> };

export type ConsoleSessionProbeQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleSessionProbeQuery = { contactLists: { totalCount: number } };

export type ConsoleListsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleListsQuery = { contactLists: { totalCount: number, nodes: Array<{ id: string, name: string, timeZone: string, contactCount: number, createdAt: string, segments: Array<{ id: string }> }> } };

export type ConsoleCreateListMutationVariables = Exact<{
  input: CreateContactListInput;
}>;


export type ConsoleCreateListMutation = { createContactList: { id: string } };

export type ConsoleListQueryVariables = Exact<{
  id: string | number;
  since: string;
}>;


export type ConsoleListQuery = { contactList: { contactCount: number, eventCursor: string, id: string, name: string, timeZone: string, segments: Array<{ id: string, name: string, type: SegmentType, status: SegmentStatus, memberCount: number, freezeAt: string | null, memberCountSeries: Array<{ at: string, memberCount: number }> }>, customFields: Array<{ key: string, label: string | null, type: FieldType }> } | null };

export type ConsoleListEventsSubscriptionVariables = Exact<{
  listId: string | number;
  after?: string | null | undefined;
}>;


export type ConsoleListEventsSubscription = { segmentMembershipChanged: { cursor: string, change: MembershipChange, reason: MembershipChangeReason, memberCount: number, occurredAt: string, segmentId: string, contactId: string, contact: { id: string, email: string, firstName: string | null, lastName: string | null } | null, segment: { id: string, name: string } | null } };

export type ConsoleSegmentEventsSubscriptionVariables = Exact<{
  segmentId: string | number;
  after?: string | null | undefined;
}>;


export type ConsoleSegmentEventsSubscription = { segmentMembershipChanged: { cursor: string, change: MembershipChange, reason: MembershipChangeReason, memberCount: number, occurredAt: string, segmentId: string, contactId: string, contact: { id: string, email: string, firstName: string | null, lastName: string | null } | null, segment: { id: string, name: string } | null } };

export type ConsoleListForBuilderQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleListForBuilderQuery = { contactList: { id: string, name: string, timeZone: string, customFields: Array<{ key: string, label: string | null, type: FieldType }>, segments: Array<{ id: string, name: string, type: SegmentType }> } | null };

export type ConsolePreviewQueryVariables = Exact<{
  listId: string | number;
  condition: ConditionInput;
}>;


export type ConsolePreviewQuery = { segmentPreview: { count: number, sample: Array<{ id: string, email: string, firstName: string | null, lastName: string | null }>, breakdown: Array<{ path: string, count: number | null }> } };

export type ConsoleCreateSegmentMutationVariables = Exact<{
  input: CreateSegmentInput;
}>;


export type ConsoleCreateSegmentMutation = { createSegment: { id: string } };

export type ConsoleSegmentQueryVariables = Exact<{
  id: string | number;
  since: string;
}>;


export type ConsoleSegmentQuery = { segment: { condition: Record<string, unknown>, frozenAt: string | null, createdAt: string, eventCursor: string, id: string, name: string, type: SegmentType, status: SegmentStatus, memberCount: number, freezeAt: string | null, list: { id: string, name: string, timeZone: string, customFields: Array<{ key: string, label: string | null, type: FieldType }>, segments: Array<{ id: string, name: string, type: SegmentType }> }, dependsOn: Array<{ id: string, name: string }>, usedBy: Array<{ id: string, name: string }>, members: { totalCount: number, edges: Array<{ joinedAt: string | null, node: { id: string, email: string, firstName: string | null, lastName: string | null } }> }, history: { edges: Array<{ node: { cursor: string, change: MembershipChange, reason: MembershipChangeReason, memberCount: number, occurredAt: string, segmentId: string, contactId: string, contact: { id: string, email: string, firstName: string | null, lastName: string | null } | null, segment: { id: string, name: string } | null } }> }, memberCountSeries: Array<{ at: string, memberCount: number }> } | null };

export type ConsoleUpdateSegmentMutationVariables = Exact<{
  id: string | number;
  input: UpdateSegmentInput;
}>;


export type ConsoleUpdateSegmentMutation = { updateSegment: { id: string } };

export type ConsoleFreezeSegmentMutationVariables = Exact<{
  id: string | number;
  at?: string | null | undefined;
}>;


export type ConsoleFreezeSegmentMutation = { freezeSegment: { id: string } };

export type ConsoleCancelFreezeMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleCancelFreezeMutation = { cancelSegmentFreeze: { id: string } };

export type ConsoleDuplicateSegmentMutationVariables = Exact<{
  id: string | number;
  name: string;
  type?: SegmentType | null | undefined;
}>;


export type ConsoleDuplicateSegmentMutation = { duplicateSegment: { id: string } };

export type ConsoleDeleteSegmentMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleDeleteSegmentMutation = { deleteSegment: string };

export type ConsoleContactsQueryVariables = Exact<{
  listId: string | number;
  where?: ConditionInput | null | undefined;
  after?: string | null | undefined;
}>;


export type ConsoleContactsQuery = { contactList: { id: string, name: string, contacts: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, email: string, firstName: string | null, lastName: string | null, country: string | null, city: string | null, tags: Array<string>, createdAt: string }> } } | null };

export type ConsoleContactQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleContactQuery = { contact: { id: string, email: string, firstName: string | null, lastName: string | null, phone: string | null, country: string | null, city: string | null, gender: string | null, birthDate: string | null, age: number | null, tags: Array<string>, attributes: Record<string, unknown>, createdAt: string, updatedAt: string, list: { id: string, name: string, timeZone: string, customFields: Array<{ key: string, label: string | null, type: FieldType }>, segments: Array<{ id: string, name: string, type: SegmentType }> }, segments: Array<{ id: string }>, segmentHistory: { edges: Array<{ node: { cursor: string, change: MembershipChange, reason: MembershipChangeReason, memberCount: number, occurredAt: string, segmentId: string, contactId: string, contact: { id: string, email: string, firstName: string | null, lastName: string | null } | null, segment: { id: string, name: string } | null } }> } } | null };

export type ConsoleExplainQueryVariables = Exact<{
  segmentId: string | number;
  contactId: string | number;
}>;


export type ConsoleExplainQuery = { explainMembership: { member: boolean, override: MembershipOverride | null, conditionMatched: boolean, nodes: Array<{ path: string, kind: ConditionNodeKind, field: string | null, operator: ConditionOperator | null, value: unknown, actual: unknown, matched: boolean | null, segment: { id: string, name: string } | null }> } | null };

export type ConsoleAddMembersMutationVariables = Exact<{
  segmentId: string | number;
  contactIds: Array<string | number> | string | number;
}>;


export type ConsoleAddMembersMutation = { addSegmentMembers: { changed: number } };

export type ConsoleRemoveMembersMutationVariables = Exact<{
  segmentId: string | number;
  contactIds: Array<string | number> | string | number;
}>;


export type ConsoleRemoveMembersMutation = { removeSegmentMembers: { changed: number } };

export type ConsoleClearOverridesMutationVariables = Exact<{
  segmentId: string | number;
  contactIds: Array<string | number> | string | number;
}>;


export type ConsoleClearOverridesMutation = { clearSegmentOverrides: { changed: number } };

export type ConsoleImportProgressSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type ConsoleImportProgressSubscription = { importProgress: { id: string, status: ImportStatus, rowsRead: number, added: number, updated: number, failed: number, bytesRead: number, bytesTotal: number | null, failure: string | null, errors: Array<{ index: number, code: string, message: string }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const FeedEventFieldsFragmentDoc = new TypedDocumentString(`
    fragment FeedEventFields on SegmentMembershipEvent {
  cursor
  change
  reason
  memberCount
  occurredAt
  segmentId
  contactId
  contact {
    id
    email
    firstName
    lastName
  }
  segment {
    id
    name
  }
}
    `, {"fragmentName":"FeedEventFields"}) as unknown as TypedDocumentString<FeedEventFieldsFragment, unknown>;
export const SegmentRowFieldsFragmentDoc = new TypedDocumentString(`
    fragment SegmentRowFields on Segment {
  id
  name
  type
  status
  memberCount
  freezeAt
  memberCountSeries(since: $since, bucket: HOUR) {
    at
    memberCount
  }
}
    `, {"fragmentName":"SegmentRowFields"}) as unknown as TypedDocumentString<SegmentRowFieldsFragment, unknown>;
export const ListFieldsFragmentDoc = new TypedDocumentString(`
    fragment ListFields on ContactList {
  id
  name
  timeZone
  customFields {
    key
    label
    type
  }
  segments {
    id
    name
    type
  }
}
    `, {"fragmentName":"ListFields"}) as unknown as TypedDocumentString<ListFieldsFragment, unknown>;
export const ConsoleSessionProbeDocument = new TypedDocumentString(`
    query ConsoleSessionProbe {
  contactLists(first: 1) {
    totalCount
  }
}
    `) as unknown as TypedDocumentString<ConsoleSessionProbeQuery, ConsoleSessionProbeQueryVariables>;
export const ConsoleListsDocument = new TypedDocumentString(`
    query ConsoleLists {
  contactLists(first: 100) {
    totalCount
    nodes {
      id
      name
      timeZone
      contactCount
      createdAt
      segments {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleListsQuery, ConsoleListsQueryVariables>;
export const ConsoleCreateListDocument = new TypedDocumentString(`
    mutation ConsoleCreateList($input: CreateContactListInput!) {
  createContactList(input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<ConsoleCreateListMutation, ConsoleCreateListMutationVariables>;
export const ConsoleListDocument = new TypedDocumentString(`
    query ConsoleList($id: ID!, $since: DateTime!) {
  contactList(id: $id) {
    ...ListFields
    contactCount
    eventCursor
    segments {
      ...SegmentRowFields
    }
  }
}
    fragment SegmentRowFields on Segment {
  id
  name
  type
  status
  memberCount
  freezeAt
  memberCountSeries(since: $since, bucket: HOUR) {
    at
    memberCount
  }
}
fragment ListFields on ContactList {
  id
  name
  timeZone
  customFields {
    key
    label
    type
  }
  segments {
    id
    name
    type
  }
}`) as unknown as TypedDocumentString<ConsoleListQuery, ConsoleListQueryVariables>;
export const ConsoleListEventsDocument = new TypedDocumentString(`
    subscription ConsoleListEvents($listId: ID!, $after: String) {
  segmentMembershipChanged(listId: $listId, after: $after) {
    ...FeedEventFields
  }
}
    fragment FeedEventFields on SegmentMembershipEvent {
  cursor
  change
  reason
  memberCount
  occurredAt
  segmentId
  contactId
  contact {
    id
    email
    firstName
    lastName
  }
  segment {
    id
    name
  }
}`) as unknown as TypedDocumentString<ConsoleListEventsSubscription, ConsoleListEventsSubscriptionVariables>;
export const ConsoleSegmentEventsDocument = new TypedDocumentString(`
    subscription ConsoleSegmentEvents($segmentId: ID!, $after: String) {
  segmentMembershipChanged(segmentId: $segmentId, after: $after) {
    ...FeedEventFields
  }
}
    fragment FeedEventFields on SegmentMembershipEvent {
  cursor
  change
  reason
  memberCount
  occurredAt
  segmentId
  contactId
  contact {
    id
    email
    firstName
    lastName
  }
  segment {
    id
    name
  }
}`) as unknown as TypedDocumentString<ConsoleSegmentEventsSubscription, ConsoleSegmentEventsSubscriptionVariables>;
export const ConsoleListForBuilderDocument = new TypedDocumentString(`
    query ConsoleListForBuilder($id: ID!) {
  contactList(id: $id) {
    ...ListFields
  }
}
    fragment ListFields on ContactList {
  id
  name
  timeZone
  customFields {
    key
    label
    type
  }
  segments {
    id
    name
    type
  }
}`) as unknown as TypedDocumentString<ConsoleListForBuilderQuery, ConsoleListForBuilderQueryVariables>;
export const ConsolePreviewDocument = new TypedDocumentString(`
    query ConsolePreview($listId: ID!, $condition: ConditionInput!) {
  segmentPreview(listId: $listId, condition: $condition, sample: 8) {
    count
    sample {
      id
      email
      firstName
      lastName
    }
    breakdown {
      path
      count
    }
  }
}
    `) as unknown as TypedDocumentString<ConsolePreviewQuery, ConsolePreviewQueryVariables>;
export const ConsoleCreateSegmentDocument = new TypedDocumentString(`
    mutation ConsoleCreateSegment($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<ConsoleCreateSegmentMutation, ConsoleCreateSegmentMutationVariables>;
export const ConsoleSegmentDocument = new TypedDocumentString(`
    query ConsoleSegment($id: ID!, $since: DateTime!) {
  segment(id: $id) {
    ...SegmentRowFields
    condition
    frozenAt
    createdAt
    eventCursor
    list {
      ...ListFields
    }
    dependsOn {
      id
      name
    }
    usedBy {
      id
      name
    }
    members(first: 12) {
      totalCount
      edges {
        joinedAt
        node {
          id
          email
          firstName
          lastName
        }
      }
    }
    history(first: 25) {
      edges {
        node {
          ...FeedEventFields
        }
      }
    }
  }
}
    fragment FeedEventFields on SegmentMembershipEvent {
  cursor
  change
  reason
  memberCount
  occurredAt
  segmentId
  contactId
  contact {
    id
    email
    firstName
    lastName
  }
  segment {
    id
    name
  }
}
fragment SegmentRowFields on Segment {
  id
  name
  type
  status
  memberCount
  freezeAt
  memberCountSeries(since: $since, bucket: HOUR) {
    at
    memberCount
  }
}
fragment ListFields on ContactList {
  id
  name
  timeZone
  customFields {
    key
    label
    type
  }
  segments {
    id
    name
    type
  }
}`) as unknown as TypedDocumentString<ConsoleSegmentQuery, ConsoleSegmentQueryVariables>;
export const ConsoleUpdateSegmentDocument = new TypedDocumentString(`
    mutation ConsoleUpdateSegment($id: ID!, $input: UpdateSegmentInput!) {
  updateSegment(id: $id, input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<ConsoleUpdateSegmentMutation, ConsoleUpdateSegmentMutationVariables>;
export const ConsoleFreezeSegmentDocument = new TypedDocumentString(`
    mutation ConsoleFreezeSegment($id: ID!, $at: DateTime) {
  freezeSegment(id: $id, at: $at) {
    id
  }
}
    `) as unknown as TypedDocumentString<ConsoleFreezeSegmentMutation, ConsoleFreezeSegmentMutationVariables>;
export const ConsoleCancelFreezeDocument = new TypedDocumentString(`
    mutation ConsoleCancelFreeze($id: ID!) {
  cancelSegmentFreeze(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<ConsoleCancelFreezeMutation, ConsoleCancelFreezeMutationVariables>;
export const ConsoleDuplicateSegmentDocument = new TypedDocumentString(`
    mutation ConsoleDuplicateSegment($id: ID!, $name: String!, $type: SegmentType) {
  duplicateSegment(id: $id, name: $name, type: $type) {
    id
  }
}
    `) as unknown as TypedDocumentString<ConsoleDuplicateSegmentMutation, ConsoleDuplicateSegmentMutationVariables>;
export const ConsoleDeleteSegmentDocument = new TypedDocumentString(`
    mutation ConsoleDeleteSegment($id: ID!) {
  deleteSegment(id: $id)
}
    `) as unknown as TypedDocumentString<ConsoleDeleteSegmentMutation, ConsoleDeleteSegmentMutationVariables>;
export const ConsoleContactsDocument = new TypedDocumentString(`
    query ConsoleContacts($listId: ID!, $where: ConditionInput, $after: String) {
  contactList(id: $listId) {
    id
    name
    contacts(first: 25, where: $where, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        email
        firstName
        lastName
        country
        city
        tags
        createdAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleContactsQuery, ConsoleContactsQueryVariables>;
export const ConsoleContactDocument = new TypedDocumentString(`
    query ConsoleContact($id: ID!) {
  contact(id: $id) {
    id
    email
    firstName
    lastName
    phone
    country
    city
    gender
    birthDate
    age
    tags
    attributes
    createdAt
    updatedAt
    list {
      ...ListFields
    }
    segments {
      id
    }
    segmentHistory(first: 30) {
      edges {
        node {
          ...FeedEventFields
        }
      }
    }
  }
}
    fragment FeedEventFields on SegmentMembershipEvent {
  cursor
  change
  reason
  memberCount
  occurredAt
  segmentId
  contactId
  contact {
    id
    email
    firstName
    lastName
  }
  segment {
    id
    name
  }
}
fragment ListFields on ContactList {
  id
  name
  timeZone
  customFields {
    key
    label
    type
  }
  segments {
    id
    name
    type
  }
}`) as unknown as TypedDocumentString<ConsoleContactQuery, ConsoleContactQueryVariables>;
export const ConsoleExplainDocument = new TypedDocumentString(`
    query ConsoleExplain($segmentId: ID!, $contactId: ID!) {
  explainMembership(segmentId: $segmentId, contactId: $contactId) {
    member
    override
    conditionMatched
    nodes {
      path
      kind
      field
      operator
      value
      actual
      matched
      segment {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleExplainQuery, ConsoleExplainQueryVariables>;
export const ConsoleAddMembersDocument = new TypedDocumentString(`
    mutation ConsoleAddMembers($segmentId: ID!, $contactIds: [ID!]!) {
  addSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {
    changed
  }
}
    `) as unknown as TypedDocumentString<ConsoleAddMembersMutation, ConsoleAddMembersMutationVariables>;
export const ConsoleRemoveMembersDocument = new TypedDocumentString(`
    mutation ConsoleRemoveMembers($segmentId: ID!, $contactIds: [ID!]!) {
  removeSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {
    changed
  }
}
    `) as unknown as TypedDocumentString<ConsoleRemoveMembersMutation, ConsoleRemoveMembersMutationVariables>;
export const ConsoleClearOverridesDocument = new TypedDocumentString(`
    mutation ConsoleClearOverrides($segmentId: ID!, $contactIds: [ID!]!) {
  clearSegmentOverrides(segmentId: $segmentId, contactIds: $contactIds) {
    changed
  }
}
    `) as unknown as TypedDocumentString<ConsoleClearOverridesMutation, ConsoleClearOverridesMutationVariables>;
export const ConsoleImportProgressDocument = new TypedDocumentString(`
    subscription ConsoleImportProgress($id: ID!) {
  importProgress(id: $id) {
    id
    status
    rowsRead
    added
    updated
    failed
    bytesRead
    bytesTotal
    failure
    errors(first: 5) {
      index
      code
      message
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleImportProgressSubscription, ConsoleImportProgressSubscriptionVariables>;