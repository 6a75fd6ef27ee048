/**
 * Bucket arithmetic of STATIC segment members: sizes against the 16 MB BSON limit, appending a
 * build's ids to the buckets, and paging newest first over buckets read in descending order.
 */
import fc from "fast-check";
import { BSON, Double, ObjectId } from "mongodb";
import { appendToBuckets, BUCKET_SIZE, bucketBytes, bucketCount, MAX_BSON_BYTES, pageFromBuckets } from "../../../src/stores/mongo/static-buckets";

describe("sizes", () => {
  test("bucketCount", () => {
    expect(bucketCount(0)).toBe(0);
    expect(bucketCount(1)).toBe(1);
    expect(bucketCount(BUCKET_SIZE - 1)).toBe(1);
    expect(bucketCount(BUCKET_SIZE)).toBe(1);
    expect(bucketCount(BUCKET_SIZE + 1)).toBe(2);
    expect(bucketCount(5_000_000)).toBe(500);
    expect(bucketCount(7, 3)).toBe(3);
    expect(bucketCount(9, 3)).toBe(3);
  });

  test("bucketBytes is the BSON size of a real bucket document (bucket as a double; 4 bytes over with an int32 bucket)", () => {
    for (const n of [0, 1, 9, 10, 11, 99, 100, 101, 999, 1_000, 1_001, 3_456, BUCKET_SIZE]) {
      const contactIds = Array.from({ length: n }, () => new ObjectId());
      const asDouble = BSON.calculateObjectSize({ _id: new ObjectId(), segmentId: new ObjectId(), bucket: new Double(499), contactIds });
      const asInt = BSON.calculateObjectSize({ _id: new ObjectId(), segmentId: new ObjectId(), bucket: 499, contactIds });
      expect({ n, bytes: bucketBytes(n) }).toEqual({ n, bytes: asDouble });
      expect(bucketBytes(n) - asInt).toBe(4);
    }
  });

  test("a full bucket is about 180 KB, far below the 16 MB document limit", () => {
    expect(MAX_BSON_BYTES).toBe(16 * 1024 * 1024);
    const full = bucketBytes(BUCKET_SIZE);
    expect(full).toBeGreaterThan(170_000);
    expect(full).toBeLessThan(190_000);
    expect(full * 50).toBeLessThan(MAX_BSON_BYTES);
    expect(bucketBytes(BUCKET_SIZE + 1)).toBeGreaterThan(full);
  });

  test("a segment of 5,000,000 members needs 500 buckets, each under the limit", () => {
    const members = 5_000_000;
    const buckets = bucketCount(members);
    expect(buckets).toBe(500);
    const sizes = Array.from({ length: buckets }, (_, b) => Math.min(BUCKET_SIZE, members - b * BUCKET_SIZE));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(members);
    for (const size of sizes) expect(bucketBytes(size)).toBeLessThan(MAX_BSON_BYTES);
    // Even one document holding them all would not fit: buckets are what makes it possible.
    expect(bucketBytes(members)).toBeGreaterThan(MAX_BSON_BYTES);
  });
});

describe("appendToBuckets", () => {
  test("fills the last bucket, then opens new ones", () => {
    const ids = Array.from({ length: 8 }, (_, i) => i + 1);
    expect(appendToBuckets(ids, 2, 1, 3)).toEqual([
      { bucket: 2, ids: [1, 2] },
      { bucket: 3, ids: [3, 4, 5] },
      { bucket: 4, ids: [6, 7, 8] },
    ]);
  });

  test("no buckets yet (lastBucket -1) starts at bucket 0", () => {
    expect(appendToBuckets([1, 2, 3, 4], -1, BUCKET_SIZE, 3)).toEqual([
      { bucket: 0, ids: [1, 2, 3] },
      { bucket: 1, ids: [4] },
    ]);
    // What the build passes when no bucket exists: lastFill = size.
    expect(appendToBuckets([1], -1, 3, 3)).toEqual([{ bucket: 0, ids: [1] }]);
  });

  test("a full last bucket is left alone", () => {
    expect(appendToBuckets([7, 8], 4, 3, 3)).toEqual([{ bucket: 5, ids: [7, 8] }]);
  });

  test("fewer ids than the last bucket's room go into it alone", () => {
    expect(appendToBuckets([7], 4, 1, 3)).toEqual([{ bucket: 4, ids: [7] }]);
  });

  test("nothing to append writes nothing", () => {
    expect(appendToBuckets([], 4, 1, 3)).toEqual([]);
    expect(appendToBuckets([], -1, 3, 3)).toEqual([]);
  });

  test("the default size is BUCKET_SIZE", () => {
    const ids = Array.from({ length: BUCKET_SIZE + 5 }, (_, i) => i);
    const writes = appendToBuckets(ids, 0, BUCKET_SIZE - 2);
    expect(writes.map((w) => [w.bucket, w.ids.length])).toEqual([
      [0, 2],
      [1, BUCKET_SIZE],
      [2, 3],
    ]);
  });

  test("property: nothing lost or duplicated, order kept, no bucket overfilled, buckets consecutive", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 8 }),
        (size, chunks) => {
          // Successive build chunks appended to an initially empty segment, as the build does it.
          const buckets: number[][] = [];
          let next = 0;
          const all: number[] = [];
          for (const length of chunks) {
            const ids = Array.from({ length }, () => next++);
            all.push(...ids);
            const lastBucket = buckets.length - 1;
            const lastFill = lastBucket >= 0 ? buckets[lastBucket]!.length : size;
            const writes = appendToBuckets(ids, lastBucket, lastFill, size);
            expect(writes.flatMap((w) => w.ids)).toEqual(ids);
            // Only the first write may go to the existing last bucket; then one new bucket after another.
            const expectedBuckets = writes.map((_, i) => (lastBucket >= 0 && lastFill < size ? lastBucket + i : lastBucket + 1 + i));
            expect(writes.map((w) => w.bucket)).toEqual(expectedBuckets);
            const problems: string[] = [];
            for (const write of writes) {
              if (write.ids.length === 0) problems.push(`empty write to bucket ${write.bucket}`);
              (buckets[write.bucket] ??= []).push(...write.ids);
              if (buckets[write.bucket]!.length > size) problems.push(`bucket ${write.bucket} overfilled`);
            }
            expect(problems).toEqual([]);
          }
          expect(buckets.flat()).toEqual(all);
          // Every bucket but the last is full: no more buckets than needed.
          expect(buckets.length).toBe(bucketCount(all.length, size));
          expect(buckets.slice(0, -1).filter((bucket) => bucket.length !== size)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("works with ObjectIds (the build's ascending ids)", () => {
    const ids = Array.from({ length: 5 }, () => new ObjectId()).sort((a, b) => a.toHexString().localeCompare(b.toHexString()));
    const writes = appendToBuckets(ids, 0, 2, 3);
    expect(writes).toEqual([
      { bucket: 0, ids: [ids[0]] },
      { bucket: 1, ids: ids.slice(1, 4) },
      { bucket: 2, ids: [ids[4]] },
    ]);
    expect(writes[0]!.ids[0]).toBe(ids[0]);
  });
});

describe("pageFromBuckets", () => {
  /** Buckets as stored (ascending ids, each bucket after the previous), read newest first. */
  function stored(ids: number[], size: number) {
    const buckets: { bucket: number; ids: number[] }[] = [];
    for (const write of appendToBuckets(ids, -1, size, size)) buckets.push(write);
    return buckets.sort((a, b) => b.bucket - a.bucket);
  }
  const below = (cursor: number | undefined) => (cursor === undefined ? undefined : (id: number) => id < cursor);

  test("ids newest first, at most `first`, hasNextPage when more follow", () => {
    const buckets = stored([1, 2, 3, 4, 5, 6, 7], 3);
    expect(pageFromBuckets(buckets, 4, undefined)).toEqual({ ids: [7, 6, 5, 4], hasNextPage: true });
    expect(pageFromBuckets(buckets, 7, undefined)).toEqual({ ids: [7, 6, 5, 4, 3, 2, 1], hasNextPage: false });
    expect(pageFromBuckets(buckets, 100, undefined)).toEqual({ ids: [7, 6, 5, 4, 3, 2, 1], hasNextPage: false });
  });

  test("the `below` cursor skips ids at or above it", () => {
    const buckets = stored([1, 2, 3, 4, 5, 6, 7], 3);
    expect(pageFromBuckets(buckets, 2, below(5))).toEqual({ ids: [4, 3], hasNextPage: true });
    expect(pageFromBuckets(buckets, 3, below(4))).toEqual({ ids: [3, 2, 1], hasNextPage: false });
    expect(pageFromBuckets(buckets, 3, below(1))).toEqual({ ids: [], hasNextPage: false });
    // A cursor that is no longer a member (pulled since) still pages from its position.
    expect(pageFromBuckets([{ ids: [6, 7] }, { ids: [3, 5] }, { ids: [1, 2] }], 2, below(4))).toEqual({ ids: [3, 2], hasNextPage: true });
  });

  test("hasNextPage is exact: false when the page ends exactly at the last member", () => {
    const buckets = stored([1, 2, 3, 4, 5, 6], 3);
    expect(pageFromBuckets(buckets, 6, undefined)).toEqual({ ids: [6, 5, 4, 3, 2, 1], hasNextPage: false });
    expect(pageFromBuckets(buckets, 3, undefined)).toEqual({ ids: [6, 5, 4], hasNextPage: true });
    expect(pageFromBuckets(buckets, 3, below(4))).toEqual({ ids: [3, 2, 1], hasNextPage: false });
  });

  test("empty buckets (all members pulled) and no buckets at all", () => {
    expect(pageFromBuckets([], 5, undefined)).toEqual({ ids: [], hasNextPage: false });
    expect(pageFromBuckets([{ ids: [9] }, { ids: [] }, { ids: [2, 4] }], 2, undefined)).toEqual({ ids: [9, 4], hasNextPage: true });
    expect(pageFromBuckets([{ ids: [] }, { ids: [] }], 5, undefined)).toEqual({ ids: [], hasNextPage: false });
  });

  test("ObjectIds compared as the store does (hex order)", () => {
    const ids = Array.from({ length: 7 }, (_, i) => ObjectId.createFromTime(1_700_000_000 + i));
    const buckets = [{ ids: ids.slice(6) }, { ids: ids.slice(3, 6) }, { ids: ids.slice(0, 3) }];
    const after = ids[4]!;
    const page = pageFromBuckets(buckets, 2, (contact) => contact.toHexString() < after.toHexString());
    expect(page).toEqual({ ids: [ids[3], ids[2]], hasNextPage: true });
  });

  test("property: descending, `first` and `below` respected, hasNextPage exact, paging yields every id once", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        (raw, size, first, pulls) => {
          const ids = [...raw].sort((a, b) => a - b);
          const buckets = stored(ids, size);
          // Some members pulled since (a deleted contact leaves its bucket).
          const pulled = new Set(pulls.filter((p) => p % 3 === 0).map((p) => ids[p % Math.max(ids.length, 1)]).filter((id) => id !== undefined));
          const current = buckets.map((b) => ({ ids: b.ids.filter((id) => !pulled.has(id)) }));
          const members = ids.filter((id) => !pulled.has(id));
          const descending = [...members].reverse();

          const seen: number[] = [];
          let cursor: number | undefined;
          for (let pages = 0; pages <= members.length + 1; pages++) {
            const page = pageFromBuckets(current, first, below(cursor));
            const remaining = descending.filter((id) => cursor === undefined || id < cursor);
            expect(page.ids).toEqual(remaining.slice(0, first));
            expect(page.hasNextPage).toBe(remaining.length > first);
            seen.push(...page.ids);
            if (!page.hasNextPage) break;
            cursor = page.ids[page.ids.length - 1];
          }
          expect(seen).toEqual(descending);
          expect(new Set(seen).size).toBe(seen.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
