import DataLoader from "dataloader";
import type { ContactRecord, ListRecord, SegmentRecord, Store } from "./stores/port";

/**
 * Every batched read a request makes, built fresh per request (and per subscription event).
 * Records of another workspace read as missing, exactly like unknown ids.
 */
export function createLoaders(store: Store, workspaceId: string) {
  const lists = new DataLoader<string, ListRecord | null>(async (ids) =>
    (await store.getLists(ids)).map((list) => (list && list.workspaceId === workspaceId ? list : null)),
  );
  const contacts = new DataLoader<string, ContactRecord | null>((ids) => store.getContacts(ids));
  const segments = new DataLoader<string, SegmentRecord | null>((ids) => store.getSegments(ids));
  const segmentsByList = new DataLoader<string, SegmentRecord[]>(async (listIds) => {
    const groups = await store.segmentsOfLists(listIds);
    for (const group of groups) for (const segment of group) segments.prime(segment.id, segment);
    return groups;
  });
  const segmentIdsByContact = new DataLoader<string, string[]>((ids) => store.segmentIdsOfContacts(ids));

  async function visible<T extends { listId: string }>(record: T | null): Promise<T | null> {
    return record && (await lists.load(record.listId)) ? record : null;
  }

  return {
    lists,
    contacts,
    segments,
    segmentsByList,
    segmentIdsByContact,
    list: (id: string) => lists.load(id),
    contact: async (id: string) => visible(await contacts.load(id)),
    segment: async (id: string) => visible(await segments.load(id)),
    /** The segments a contact belongs to, in one batch for all contacts of a page. */
    async segmentsOfContact(contact: ContactRecord): Promise<SegmentRecord[]> {
      const ids = await segmentIdsByContact.load(contact.id);
      const found = await segments.loadMany(ids);
      return found.filter((segment): segment is SegmentRecord => segment !== null && !(segment instanceof Error));
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
