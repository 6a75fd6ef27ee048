/**
 * Segment memberships on SQLite, as bitmaps: one `member_blocks` row per segment and block of
 * 4,096 contact ids, whose 512-byte BLOB holds bit `id % 4096` for contact `id`. A block with no
 * member has no row.
 *
 * Why not a row per (segment, contact): a membership flip then rewrites a leaf in two B-trees
 * (the pair and its by-contact index), so a batch of 1,000 updates with ~2,900 flips dirtied
 * ~1,900 pages to commit and checkpoint; as bits, the same batch rewrites the segments' blocks,
 * a few hundred pages, and a list of 100,000 contacts with 100 segments holds its memberships
 * in ~1.3 MB instead of two indexes of ~820,000 entries.
 */
import type { StatementCache } from "./database";

export const BLOCK_IDS = 4_096;
const BLOCK_BYTES = BLOCK_IDS / 8;

export function blockOf(contactId: number): number {
  return Math.floor(contactId / BLOCK_IDS);
}

export function emptyBlock(): Buffer {
  return Buffer.alloc(BLOCK_BYTES);
}

export function hasBit(bits: Uint8Array, contactId: number): boolean {
  const i = contactId % BLOCK_IDS;
  return (bits[i >> 3]! & (1 << (i & 7))) !== 0;
}

/** Sets or clears a contact's bit; returns whether it changed. */
export function setBit(bits: Uint8Array, contactId: number, member: boolean): boolean {
  const i = contactId % BLOCK_IDS;
  const mask = 1 << (i & 7);
  const before = bits[i >> 3]!;
  const after = member ? before | mask : before & ~mask;
  bits[i >> 3] = after;
  return after !== before;
}

export function isEmpty(bits: Uint8Array): boolean {
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) return false;
  return true;
}

/** The contact ids set in a block, ascending. */
export function idsOf(block: number, bits: Uint8Array, into: number[] = []): number[] {
  const base = block * BLOCK_IDS;
  for (let byte = 0; byte < bits.length; byte++) {
    let value = bits[byte]!;
    while (value !== 0) {
      const low = value & -value;
      into.push(base + byte * 8 + (31 - Math.clz32(low)));
      value ^= low;
    }
  }
  return into;
}

/** The contact ids set in a block and below `below`, descending, until `into` holds `limit`. */
function idsDescending(block: number, bits: Uint8Array, below: number, limit: number, into: number[]): void {
  const base = block * BLOCK_IDS;
  for (let byte = bits.length - 1; byte >= 0 && into.length < limit; byte--) {
    let value = bits[byte]!;
    while (value !== 0 && into.length < limit) {
      const high = 31 - Math.clz32(value);
      const id = base + byte * 8 + high;
      if (id < below) into.push(id);
      value ^= 1 << high;
    }
  }
}

/** Membership reads and writes over `member_blocks`, with the store's prepared statements. */
export class MemberBlocks {
  constructor(private readonly q: StatementCache) {}

  read(segmentId: number, block: number): Buffer | undefined {
    return this.q.pluck("SELECT bits FROM member_blocks WHERE segment_id = ? AND block = ?").get(segmentId, block) as Buffer | undefined;
  }

  /** Stores a block, or deletes its row when no bit is set. */
  write(segmentId: number, block: number, bits: Uint8Array): void {
    if (isEmpty(bits)) this.q.get("DELETE FROM member_blocks WHERE segment_id = ? AND block = ?").run(segmentId, block);
    else this.q.get("INSERT OR REPLACE INTO member_blocks (segment_id, block, bits) VALUES (?, ?, ?)").run(segmentId, block, bits);
  }

  /** Every member of a segment, ascending. */
  members(segmentId: number): number[] {
    const ids: number[] = [];
    const rows = this.q.get("SELECT block, bits FROM member_blocks WHERE segment_id = ? ORDER BY block").raw().iterate(segmentId);
    for (const [block, bits] of rows as Iterable<[number, Buffer]>) idsOf(block, bits, ids);
    return ids;
  }

  /** Up to `limit` members above `after`, ascending. */
  ascending(segmentId: number, after: number, limit: number): number[] {
    const ids: number[] = [];
    const rows = this.q.get("SELECT block, bits FROM member_blocks WHERE segment_id = ? AND block >= ? ORDER BY block").raw().iterate(segmentId, blockOf(after));
    for (const [block, bits] of rows as Iterable<[number, Buffer]>) {
      const start = ids.length;
      idsOf(block, bits, ids);
      if (block === blockOf(after)) {
        const kept = ids.slice(start).filter((id) => id > after);
        ids.length = start;
        ids.push(...kept);
      }
      if (ids.length >= limit) {
        ids.length = limit;
        break;
      }
    }
    return ids;
  }

  /** Up to `limit` members below `below` (all when undefined), descending. */
  page(segmentId: number, limit: number, below = Number.MAX_SAFE_INTEGER): number[] {
    const ids: number[] = [];
    const rows = this.q
      .get("SELECT block, bits FROM member_blocks WHERE segment_id = ? AND block <= ? ORDER BY block DESC")
      .raw()
      .iterate(segmentId, blockOf(below));
    for (const [block, bits] of rows as Iterable<[number, Buffer]>) {
      idsDescending(block, bits, below, limit, ids);
      if (ids.length >= limit) break;
    }
    return ids;
  }

  /**
   * The segments of their own list each contact belongs to, ascending by segment id. Contacts
   * are grouped by list and block, so each group reads its list's blocks once.
   */
  segmentsOf(contactIds: readonly number[]): Map<number, number[]> {
    const contacts = this.q
      .get("SELECT id, list_id FROM contacts WHERE id IN (SELECT value FROM json_each(?))")
      .raw()
      .all(JSON.stringify(contactIds)) as [number, number][];
    const groups = new Map<string, { listId: number; block: number; ids: number[] }>();
    for (const [id, listId] of contacts) {
      const key = `${listId}:${blockOf(id)}`;
      const group = groups.get(key);
      if (group) group.ids.push(id);
      else groups.set(key, { listId, block: blockOf(id), ids: [id] });
    }
    const select = this.q
      .get(
        `SELECT b.segment_id, b.bits FROM segments s JOIN member_blocks b ON b.segment_id = s.id AND b.block = ?
         WHERE s.list_id = ? ORDER BY s.id`,
      )
      .raw();
    const byContact = new Map<number, number[]>();
    for (const { listId, block, ids } of groups.values()) {
      const blocks = select.all(block, listId) as [number, Buffer][];
      for (const id of ids) {
        const segments = blocks.filter(([, bits]) => hasBit(bits, id)).map(([segmentId]) => segmentId);
        if (segments.length > 0) byContact.set(id, segments);
      }
    }
    return byContact;
  }

  deleteSegment(segmentId: number): void {
    this.q.get("DELETE FROM member_blocks WHERE segment_id = ?").run(segmentId);
  }

  /**
   * Makes the members of a segment among the contact ids in (from, to] exactly `ids`
   * (ascending, all in that range). Returns how many entered and left.
   */
  replaceRange(segmentId: number, from: number, to: number, ids: readonly number[]): { inserted: number; removed: number } {
    let inserted = 0;
    let removed = 0;
    const last = blockOf(Math.min(to, Number.MAX_SAFE_INTEGER - 1));
    const stored = this.q
      .get("SELECT block, bits FROM member_blocks WHERE segment_id = ? AND block >= ? AND block <= ? ORDER BY block")
      .raw()
      .all(segmentId, blockOf(from + 1), last) as [number, Buffer][];
    const blocks = new Map<number, Buffer>(stored);
    const wanted = new Map<number, Buffer>();
    for (const id of ids) {
      const block = blockOf(id);
      let bits = wanted.get(block);
      if (!bits) wanted.set(block, (bits = emptyBlock()));
      setBit(bits, id, true);
    }
    for (const block of new Set([...blocks.keys(), ...wanted.keys()])) {
      const before = blocks.get(block) ?? emptyBlock();
      const after = Buffer.from(before);
      // Only the bits of ids inside (from, to] are replaced; the rest of the block is kept.
      const start = Math.max(block * BLOCK_IDS, from + 1);
      const end = Math.min((block + 1) * BLOCK_IDS - 1, to);
      const want = wanted.get(block);
      for (let id = start; id <= end; id++) {
        const member = want !== undefined && hasBit(want, id);
        if (setBit(after, id, member)) {
          if (member) inserted++;
          else removed++;
        }
      }
      if (!after.equals(before)) this.write(segmentId, block, after);
    }
    return { inserted, removed };
  }
}

/**
 * The engine's copy of the blocks it has read, changed in place and written back at each flush.
 * Only engine steps and segment or list deletions change memberships, so a copy stays exact
 * while no other process has run a step and the catalog is unchanged (see SqliteEngine).
 */
export class BlockCache {
  /** segment (the engine's id) → block → bits (null: no row). */
  private readonly blocks = new Map<string, Map<number, Buffer | null>>();
  private readonly dirty = new Map<string, Set<number>>();
  private count = 0;

  constructor(private readonly store: MemberBlocks) {}

  /** Blocks held. */
  get size(): number {
    return this.count;
  }

  private bits(segmentId: string, block: number): Buffer | null {
    let ofSegment = this.blocks.get(segmentId);
    if (!ofSegment) this.blocks.set(segmentId, (ofSegment = new Map()));
    let bits = ofSegment.get(block);
    if (bits === undefined) {
      bits = this.store.read(Number(segmentId), block) ?? null;
      ofSegment.set(block, bits);
      this.count++;
    }
    return bits;
  }

  has(segmentId: string, contactId: number): boolean {
    const bits = this.bits(segmentId, blockOf(contactId));
    return bits !== null && hasBit(bits, contactId);
  }

  set(segmentId: string, contactId: number, member: boolean): void {
    const block = blockOf(contactId);
    let bits = this.bits(segmentId, block);
    if (bits === null) {
      if (!member) return;
      this.blocks.get(segmentId)!.set(block, (bits = emptyBlock()));
    }
    if (!setBit(bits, contactId, member)) return;
    let marked = this.dirty.get(segmentId);
    if (!marked) this.dirty.set(segmentId, (marked = new Set()));
    marked.add(block);
  }

  /** Writes the changed blocks. */
  flush(): void {
    for (const [segmentId, marked] of this.dirty) {
      const ofSegment = this.blocks.get(segmentId)!;
      for (const block of marked) this.store.write(Number(segmentId), block, ofSegment.get(block)!);
    }
    this.dirty.clear();
  }

  /** Forgets a segment's blocks, after they were written other than through this cache. */
  evict(segmentId: string): void {
    this.count -= this.blocks.get(segmentId)?.size ?? 0;
    this.blocks.delete(segmentId);
    this.dirty.delete(segmentId);
  }
}
