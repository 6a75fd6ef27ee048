/**
 * Every operation the console sends. `npm run codegen` turns each into a typed document in
 * ../gql (GraphQL Code Generator's client preset), so the console compiles only against the
 * schema it runs on.
 */
import { graphql } from "../gql";

export const FeedEventFields = graphql(`
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
`);

export const SegmentRowFields = graphql(`
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
`);

export const ListFields = graphql(`
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
`);

/** Answers without a key only while the service runs open; otherwise it tells whether a key is good. */
export const SessionProbe = graphql(`
  query ConsoleSessionProbe {
    contactLists(first: 1) {
      totalCount
    }
  }
`);

export const ListsQuery = graphql(`
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
`);

export const CreateListMutation = graphql(`
  mutation ConsoleCreateList($input: CreateContactListInput!) {
    createContactList(input: $input) {
      id
    }
  }
`);

export const ListQuery = graphql(`
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
`);

export const ListEventsSubscription = graphql(`
  subscription ConsoleListEvents($listId: ID!, $after: String) {
    segmentMembershipChanged(listId: $listId, after: $after) {
      ...FeedEventFields
    }
  }
`);

export const SegmentEventsSubscription = graphql(`
  subscription ConsoleSegmentEvents($segmentId: ID!, $after: String) {
    segmentMembershipChanged(segmentId: $segmentId, after: $after) {
      ...FeedEventFields
    }
  }
`);

export const ListForBuilderQuery = graphql(`
  query ConsoleListForBuilder($id: ID!) {
    contactList(id: $id) {
      ...ListFields
    }
  }
`);

export const PreviewQuery = graphql(`
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
`);

export const CreateSegmentMutation = graphql(`
  mutation ConsoleCreateSegment($input: CreateSegmentInput!) {
    createSegment(input: $input) {
      id
    }
  }
`);

export const SegmentQuery = graphql(`
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
`);

export const UpdateSegmentMutation = graphql(`
  mutation ConsoleUpdateSegment($id: ID!, $input: UpdateSegmentInput!) {
    updateSegment(id: $id, input: $input) {
      id
    }
  }
`);

export const FreezeSegmentMutation = graphql(`
  mutation ConsoleFreezeSegment($id: ID!, $at: DateTime) {
    freezeSegment(id: $id, at: $at) {
      id
    }
  }
`);

export const CancelFreezeMutation = graphql(`
  mutation ConsoleCancelFreeze($id: ID!) {
    cancelSegmentFreeze(id: $id) {
      id
    }
  }
`);

export const DuplicateSegmentMutation = graphql(`
  mutation ConsoleDuplicateSegment($id: ID!, $name: String!, $type: SegmentType) {
    duplicateSegment(id: $id, name: $name, type: $type) {
      id
    }
  }
`);

export const DeleteSegmentMutation = graphql(`
  mutation ConsoleDeleteSegment($id: ID!) {
    deleteSegment(id: $id)
  }
`);

export const ContactsQuery = graphql(`
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
`);

export const ContactQuery = graphql(`
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
`);

export const ExplainQuery = graphql(`
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
`);

export const AddMembersMutation = graphql(`
  mutation ConsoleAddMembers($segmentId: ID!, $contactIds: [ID!]!) {
    addSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {
      changed
    }
  }
`);

export const RemoveMembersMutation = graphql(`
  mutation ConsoleRemoveMembers($segmentId: ID!, $contactIds: [ID!]!) {
    removeSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {
      changed
    }
  }
`);

export const ClearOverridesMutation = graphql(`
  mutation ConsoleClearOverrides($segmentId: ID!, $contactIds: [ID!]!) {
    clearSegmentOverrides(segmentId: $segmentId, contactIds: $contactIds) {
      changed
    }
  }
`);

export const ImportProgressSubscription = graphql(`
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
`);
