/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment FeedEventFields on SegmentMembershipEvent {\n    cursor\n    change\n    reason\n    memberCount\n    occurredAt\n    segmentId\n    contactId\n    contact {\n      id\n      email\n      firstName\n      lastName\n    }\n    segment {\n      id\n      name\n    }\n  }\n": typeof types.FeedEventFieldsFragmentDoc,
    "\n  fragment SegmentRowFields on Segment {\n    id\n    name\n    type\n    status\n    memberCount\n    freezeAt\n    memberCountSeries(since: $since, bucket: HOUR) {\n      at\n      memberCount\n    }\n  }\n": typeof types.SegmentRowFieldsFragmentDoc,
    "\n  fragment ListFields on ContactList {\n    id\n    name\n    timeZone\n    customFields {\n      key\n      label\n      type\n    }\n    segments {\n      id\n      name\n      type\n    }\n  }\n": typeof types.ListFieldsFragmentDoc,
    "\n  query ConsoleSessionProbe {\n    contactLists(first: 1) {\n      totalCount\n    }\n  }\n": typeof types.ConsoleSessionProbeDocument,
    "\n  query ConsoleLists {\n    contactLists(first: 100) {\n      totalCount\n      nodes {\n        id\n        name\n        timeZone\n        contactCount\n        createdAt\n        segments {\n          id\n        }\n      }\n    }\n  }\n": typeof types.ConsoleListsDocument,
    "\n  mutation ConsoleCreateList($input: CreateContactListInput!) {\n    createContactList(input: $input) {\n      id\n    }\n  }\n": typeof types.ConsoleCreateListDocument,
    "\n  query ConsoleList($id: ID!, $since: DateTime!) {\n    contactList(id: $id) {\n      ...ListFields\n      contactCount\n      eventCursor\n      segments {\n        ...SegmentRowFields\n      }\n    }\n  }\n": typeof types.ConsoleListDocument,
    "\n  subscription ConsoleListEvents($listId: ID!, $after: String) {\n    segmentMembershipChanged(listId: $listId, after: $after) {\n      ...FeedEventFields\n    }\n  }\n": typeof types.ConsoleListEventsDocument,
    "\n  subscription ConsoleSegmentEvents($segmentId: ID!, $after: String) {\n    segmentMembershipChanged(segmentId: $segmentId, after: $after) {\n      ...FeedEventFields\n    }\n  }\n": typeof types.ConsoleSegmentEventsDocument,
    "\n  query ConsoleListForBuilder($id: ID!) {\n    contactList(id: $id) {\n      ...ListFields\n    }\n  }\n": typeof types.ConsoleListForBuilderDocument,
    "\n  query ConsolePreview($listId: ID!, $condition: ConditionInput!) {\n    segmentPreview(listId: $listId, condition: $condition, sample: 8) {\n      count\n      sample {\n        id\n        email\n        firstName\n        lastName\n      }\n      breakdown {\n        path\n        count\n      }\n    }\n  }\n": typeof types.ConsolePreviewDocument,
    "\n  mutation ConsoleCreateSegment($input: CreateSegmentInput!) {\n    createSegment(input: $input) {\n      id\n    }\n  }\n": typeof types.ConsoleCreateSegmentDocument,
    "\n  query ConsoleSegment($id: ID!, $since: DateTime!) {\n    segment(id: $id) {\n      ...SegmentRowFields\n      condition\n      frozenAt\n      createdAt\n      eventCursor\n      list {\n        ...ListFields\n      }\n      dependsOn {\n        id\n        name\n      }\n      usedBy {\n        id\n        name\n      }\n      members(first: 12) {\n        totalCount\n        edges {\n          joinedAt\n          node {\n            id\n            email\n            firstName\n            lastName\n          }\n        }\n      }\n      history(first: 25) {\n        edges {\n          node {\n            ...FeedEventFields\n          }\n        }\n      }\n    }\n  }\n": typeof types.ConsoleSegmentDocument,
    "\n  mutation ConsoleUpdateSegment($id: ID!, $input: UpdateSegmentInput!) {\n    updateSegment(id: $id, input: $input) {\n      id\n    }\n  }\n": typeof types.ConsoleUpdateSegmentDocument,
    "\n  mutation ConsoleFreezeSegment($id: ID!, $at: DateTime) {\n    freezeSegment(id: $id, at: $at) {\n      id\n    }\n  }\n": typeof types.ConsoleFreezeSegmentDocument,
    "\n  mutation ConsoleCancelFreeze($id: ID!) {\n    cancelSegmentFreeze(id: $id) {\n      id\n    }\n  }\n": typeof types.ConsoleCancelFreezeDocument,
    "\n  mutation ConsoleDuplicateSegment($id: ID!, $name: String!, $type: SegmentType) {\n    duplicateSegment(id: $id, name: $name, type: $type) {\n      id\n    }\n  }\n": typeof types.ConsoleDuplicateSegmentDocument,
    "\n  mutation ConsoleDeleteSegment($id: ID!) {\n    deleteSegment(id: $id)\n  }\n": typeof types.ConsoleDeleteSegmentDocument,
    "\n  query ConsoleContacts($listId: ID!, $where: ConditionInput, $after: String) {\n    contactList(id: $listId) {\n      id\n      name\n      contacts(first: 25, where: $where, after: $after) {\n        totalCount\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          email\n          firstName\n          lastName\n          country\n          city\n          tags\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.ConsoleContactsDocument,
    "\n  query ConsoleContact($id: ID!) {\n    contact(id: $id) {\n      id\n      email\n      firstName\n      lastName\n      phone\n      country\n      city\n      gender\n      birthDate\n      age\n      tags\n      attributes\n      createdAt\n      updatedAt\n      list {\n        ...ListFields\n      }\n      segments {\n        id\n      }\n      segmentHistory(first: 30) {\n        edges {\n          node {\n            ...FeedEventFields\n          }\n        }\n      }\n    }\n  }\n": typeof types.ConsoleContactDocument,
    "\n  query ConsoleExplain($segmentId: ID!, $contactId: ID!) {\n    explainMembership(segmentId: $segmentId, contactId: $contactId) {\n      member\n      override\n      conditionMatched\n      nodes {\n        path\n        kind\n        field\n        operator\n        value\n        actual\n        matched\n        segment {\n          id\n          name\n        }\n      }\n    }\n  }\n": typeof types.ConsoleExplainDocument,
    "\n  mutation ConsoleAddMembers($segmentId: ID!, $contactIds: [ID!]!) {\n    addSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n": typeof types.ConsoleAddMembersDocument,
    "\n  mutation ConsoleRemoveMembers($segmentId: ID!, $contactIds: [ID!]!) {\n    removeSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n": typeof types.ConsoleRemoveMembersDocument,
    "\n  mutation ConsoleClearOverrides($segmentId: ID!, $contactIds: [ID!]!) {\n    clearSegmentOverrides(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n": typeof types.ConsoleClearOverridesDocument,
    "\n  subscription ConsoleImportProgress($id: ID!) {\n    importProgress(id: $id) {\n      id\n      status\n      rowsRead\n      added\n      updated\n      failed\n      bytesRead\n      bytesTotal\n      failure\n      errors(first: 5) {\n        index\n        code\n        message\n      }\n    }\n  }\n": typeof types.ConsoleImportProgressDocument,
};
const documents: Documents = {
    "\n  fragment FeedEventFields on SegmentMembershipEvent {\n    cursor\n    change\n    reason\n    memberCount\n    occurredAt\n    segmentId\n    contactId\n    contact {\n      id\n      email\n      firstName\n      lastName\n    }\n    segment {\n      id\n      name\n    }\n  }\n": types.FeedEventFieldsFragmentDoc,
    "\n  fragment SegmentRowFields on Segment {\n    id\n    name\n    type\n    status\n    memberCount\n    freezeAt\n    memberCountSeries(since: $since, bucket: HOUR) {\n      at\n      memberCount\n    }\n  }\n": types.SegmentRowFieldsFragmentDoc,
    "\n  fragment ListFields on ContactList {\n    id\n    name\n    timeZone\n    customFields {\n      key\n      label\n      type\n    }\n    segments {\n      id\n      name\n      type\n    }\n  }\n": types.ListFieldsFragmentDoc,
    "\n  query ConsoleSessionProbe {\n    contactLists(first: 1) {\n      totalCount\n    }\n  }\n": types.ConsoleSessionProbeDocument,
    "\n  query ConsoleLists {\n    contactLists(first: 100) {\n      totalCount\n      nodes {\n        id\n        name\n        timeZone\n        contactCount\n        createdAt\n        segments {\n          id\n        }\n      }\n    }\n  }\n": types.ConsoleListsDocument,
    "\n  mutation ConsoleCreateList($input: CreateContactListInput!) {\n    createContactList(input: $input) {\n      id\n    }\n  }\n": types.ConsoleCreateListDocument,
    "\n  query ConsoleList($id: ID!, $since: DateTime!) {\n    contactList(id: $id) {\n      ...ListFields\n      contactCount\n      eventCursor\n      segments {\n        ...SegmentRowFields\n      }\n    }\n  }\n": types.ConsoleListDocument,
    "\n  subscription ConsoleListEvents($listId: ID!, $after: String) {\n    segmentMembershipChanged(listId: $listId, after: $after) {\n      ...FeedEventFields\n    }\n  }\n": types.ConsoleListEventsDocument,
    "\n  subscription ConsoleSegmentEvents($segmentId: ID!, $after: String) {\n    segmentMembershipChanged(segmentId: $segmentId, after: $after) {\n      ...FeedEventFields\n    }\n  }\n": types.ConsoleSegmentEventsDocument,
    "\n  query ConsoleListForBuilder($id: ID!) {\n    contactList(id: $id) {\n      ...ListFields\n    }\n  }\n": types.ConsoleListForBuilderDocument,
    "\n  query ConsolePreview($listId: ID!, $condition: ConditionInput!) {\n    segmentPreview(listId: $listId, condition: $condition, sample: 8) {\n      count\n      sample {\n        id\n        email\n        firstName\n        lastName\n      }\n      breakdown {\n        path\n        count\n      }\n    }\n  }\n": types.ConsolePreviewDocument,
    "\n  mutation ConsoleCreateSegment($input: CreateSegmentInput!) {\n    createSegment(input: $input) {\n      id\n    }\n  }\n": types.ConsoleCreateSegmentDocument,
    "\n  query ConsoleSegment($id: ID!, $since: DateTime!) {\n    segment(id: $id) {\n      ...SegmentRowFields\n      condition\n      frozenAt\n      createdAt\n      eventCursor\n      list {\n        ...ListFields\n      }\n      dependsOn {\n        id\n        name\n      }\n      usedBy {\n        id\n        name\n      }\n      members(first: 12) {\n        totalCount\n        edges {\n          joinedAt\n          node {\n            id\n            email\n            firstName\n            lastName\n          }\n        }\n      }\n      history(first: 25) {\n        edges {\n          node {\n            ...FeedEventFields\n          }\n        }\n      }\n    }\n  }\n": types.ConsoleSegmentDocument,
    "\n  mutation ConsoleUpdateSegment($id: ID!, $input: UpdateSegmentInput!) {\n    updateSegment(id: $id, input: $input) {\n      id\n    }\n  }\n": types.ConsoleUpdateSegmentDocument,
    "\n  mutation ConsoleFreezeSegment($id: ID!, $at: DateTime) {\n    freezeSegment(id: $id, at: $at) {\n      id\n    }\n  }\n": types.ConsoleFreezeSegmentDocument,
    "\n  mutation ConsoleCancelFreeze($id: ID!) {\n    cancelSegmentFreeze(id: $id) {\n      id\n    }\n  }\n": types.ConsoleCancelFreezeDocument,
    "\n  mutation ConsoleDuplicateSegment($id: ID!, $name: String!, $type: SegmentType) {\n    duplicateSegment(id: $id, name: $name, type: $type) {\n      id\n    }\n  }\n": types.ConsoleDuplicateSegmentDocument,
    "\n  mutation ConsoleDeleteSegment($id: ID!) {\n    deleteSegment(id: $id)\n  }\n": types.ConsoleDeleteSegmentDocument,
    "\n  query ConsoleContacts($listId: ID!, $where: ConditionInput, $after: String) {\n    contactList(id: $listId) {\n      id\n      name\n      contacts(first: 25, where: $where, after: $after) {\n        totalCount\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          email\n          firstName\n          lastName\n          country\n          city\n          tags\n          createdAt\n        }\n      }\n    }\n  }\n": types.ConsoleContactsDocument,
    "\n  query ConsoleContact($id: ID!) {\n    contact(id: $id) {\n      id\n      email\n      firstName\n      lastName\n      phone\n      country\n      city\n      gender\n      birthDate\n      age\n      tags\n      attributes\n      createdAt\n      updatedAt\n      list {\n        ...ListFields\n      }\n      segments {\n        id\n      }\n      segmentHistory(first: 30) {\n        edges {\n          node {\n            ...FeedEventFields\n          }\n        }\n      }\n    }\n  }\n": types.ConsoleContactDocument,
    "\n  query ConsoleExplain($segmentId: ID!, $contactId: ID!) {\n    explainMembership(segmentId: $segmentId, contactId: $contactId) {\n      member\n      override\n      conditionMatched\n      nodes {\n        path\n        kind\n        field\n        operator\n        value\n        actual\n        matched\n        segment {\n          id\n          name\n        }\n      }\n    }\n  }\n": types.ConsoleExplainDocument,
    "\n  mutation ConsoleAddMembers($segmentId: ID!, $contactIds: [ID!]!) {\n    addSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n": types.ConsoleAddMembersDocument,
    "\n  mutation ConsoleRemoveMembers($segmentId: ID!, $contactIds: [ID!]!) {\n    removeSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n": types.ConsoleRemoveMembersDocument,
    "\n  mutation ConsoleClearOverrides($segmentId: ID!, $contactIds: [ID!]!) {\n    clearSegmentOverrides(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n": types.ConsoleClearOverridesDocument,
    "\n  subscription ConsoleImportProgress($id: ID!) {\n    importProgress(id: $id) {\n      id\n      status\n      rowsRead\n      added\n      updated\n      failed\n      bytesRead\n      bytesTotal\n      failure\n      errors(first: 5) {\n        index\n        code\n        message\n      }\n    }\n  }\n": types.ConsoleImportProgressDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment FeedEventFields on SegmentMembershipEvent {\n    cursor\n    change\n    reason\n    memberCount\n    occurredAt\n    segmentId\n    contactId\n    contact {\n      id\n      email\n      firstName\n      lastName\n    }\n    segment {\n      id\n      name\n    }\n  }\n"): typeof import('./graphql').FeedEventFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SegmentRowFields on Segment {\n    id\n    name\n    type\n    status\n    memberCount\n    freezeAt\n    memberCountSeries(since: $since, bucket: HOUR) {\n      at\n      memberCount\n    }\n  }\n"): typeof import('./graphql').SegmentRowFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ListFields on ContactList {\n    id\n    name\n    timeZone\n    customFields {\n      key\n      label\n      type\n    }\n    segments {\n      id\n      name\n      type\n    }\n  }\n"): typeof import('./graphql').ListFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleSessionProbe {\n    contactLists(first: 1) {\n      totalCount\n    }\n  }\n"): typeof import('./graphql').ConsoleSessionProbeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleLists {\n    contactLists(first: 100) {\n      totalCount\n      nodes {\n        id\n        name\n        timeZone\n        contactCount\n        createdAt\n        segments {\n          id\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleListsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateList($input: CreateContactListInput!) {\n    createContactList(input: $input) {\n      id\n    }\n  }\n"): typeof import('./graphql').ConsoleCreateListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleList($id: ID!, $since: DateTime!) {\n    contactList(id: $id) {\n      ...ListFields\n      contactCount\n      eventCursor\n      segments {\n        ...SegmentRowFields\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleListEvents($listId: ID!, $after: String) {\n    segmentMembershipChanged(listId: $listId, after: $after) {\n      ...FeedEventFields\n    }\n  }\n"): typeof import('./graphql').ConsoleListEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleSegmentEvents($segmentId: ID!, $after: String) {\n    segmentMembershipChanged(segmentId: $segmentId, after: $after) {\n      ...FeedEventFields\n    }\n  }\n"): typeof import('./graphql').ConsoleSegmentEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleListForBuilder($id: ID!) {\n    contactList(id: $id) {\n      ...ListFields\n    }\n  }\n"): typeof import('./graphql').ConsoleListForBuilderDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsolePreview($listId: ID!, $condition: ConditionInput!) {\n    segmentPreview(listId: $listId, condition: $condition, sample: 8) {\n      count\n      sample {\n        id\n        email\n        firstName\n        lastName\n      }\n      breakdown {\n        path\n        count\n      }\n    }\n  }\n"): typeof import('./graphql').ConsolePreviewDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCreateSegment($input: CreateSegmentInput!) {\n    createSegment(input: $input) {\n      id\n    }\n  }\n"): typeof import('./graphql').ConsoleCreateSegmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleSegment($id: ID!, $since: DateTime!) {\n    segment(id: $id) {\n      ...SegmentRowFields\n      condition\n      frozenAt\n      createdAt\n      eventCursor\n      list {\n        ...ListFields\n      }\n      dependsOn {\n        id\n        name\n      }\n      usedBy {\n        id\n        name\n      }\n      members(first: 12) {\n        totalCount\n        edges {\n          joinedAt\n          node {\n            id\n            email\n            firstName\n            lastName\n          }\n        }\n      }\n      history(first: 25) {\n        edges {\n          node {\n            ...FeedEventFields\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleSegmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleUpdateSegment($id: ID!, $input: UpdateSegmentInput!) {\n    updateSegment(id: $id, input: $input) {\n      id\n    }\n  }\n"): typeof import('./graphql').ConsoleUpdateSegmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleFreezeSegment($id: ID!, $at: DateTime) {\n    freezeSegment(id: $id, at: $at) {\n      id\n    }\n  }\n"): typeof import('./graphql').ConsoleFreezeSegmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleCancelFreeze($id: ID!) {\n    cancelSegmentFreeze(id: $id) {\n      id\n    }\n  }\n"): typeof import('./graphql').ConsoleCancelFreezeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDuplicateSegment($id: ID!, $name: String!, $type: SegmentType) {\n    duplicateSegment(id: $id, name: $name, type: $type) {\n      id\n    }\n  }\n"): typeof import('./graphql').ConsoleDuplicateSegmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDeleteSegment($id: ID!) {\n    deleteSegment(id: $id)\n  }\n"): typeof import('./graphql').ConsoleDeleteSegmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleContacts($listId: ID!, $where: ConditionInput, $after: String) {\n    contactList(id: $listId) {\n      id\n      name\n      contacts(first: 25, where: $where, after: $after) {\n        totalCount\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          email\n          firstName\n          lastName\n          country\n          city\n          tags\n          createdAt\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleContactsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleContact($id: ID!) {\n    contact(id: $id) {\n      id\n      email\n      firstName\n      lastName\n      phone\n      country\n      city\n      gender\n      birthDate\n      age\n      tags\n      attributes\n      createdAt\n      updatedAt\n      list {\n        ...ListFields\n      }\n      segments {\n        id\n      }\n      segmentHistory(first: 30) {\n        edges {\n          node {\n            ...FeedEventFields\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleContactDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleExplain($segmentId: ID!, $contactId: ID!) {\n    explainMembership(segmentId: $segmentId, contactId: $contactId) {\n      member\n      override\n      conditionMatched\n      nodes {\n        path\n        kind\n        field\n        operator\n        value\n        actual\n        matched\n        segment {\n          id\n          name\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleExplainDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleAddMembers($segmentId: ID!, $contactIds: [ID!]!) {\n    addSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n"): typeof import('./graphql').ConsoleAddMembersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRemoveMembers($segmentId: ID!, $contactIds: [ID!]!) {\n    removeSegmentMembers(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n"): typeof import('./graphql').ConsoleRemoveMembersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleClearOverrides($segmentId: ID!, $contactIds: [ID!]!) {\n    clearSegmentOverrides(segmentId: $segmentId, contactIds: $contactIds) {\n      changed\n    }\n  }\n"): typeof import('./graphql').ConsoleClearOverridesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleImportProgress($id: ID!) {\n    importProgress(id: $id) {\n      id\n      status\n      rowsRead\n      added\n      updated\n      failed\n      bytesRead\n      bytesTotal\n      failure\n      errors(first: 5) {\n        index\n        code\n        message\n      }\n    }\n  }\n"): typeof import('./graphql').ConsoleImportProgressDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
