/** Input bounds shared by validation, the store and the API. */
export const Limits = {
  /** Largest page a connection returns. */
  maxPageSize: 500,
  /** Rows one addContacts call accepts. */
  maxContactsPerCall: 10_000,
  maxEmailLength: 254,
  /** Any other text value: contact fields, names, attribute values, condition values. */
  maxTextLength: 1_000,
  maxTags: 100,
  maxTagLength: 100,
  maxCustomFields: 100,
  /** Values in one IN / NOT_IN / HAS_* list. */
  maxListValues: 1_000,
  maxConditionNodes: 200,
  maxConditionDepth: 10,
  maxPreviewSample: 100,
} as const;
