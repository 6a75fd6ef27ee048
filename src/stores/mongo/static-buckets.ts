/**
 * A STATIC segment's fixed members are kept in bucket documents of at most BUCKET_SIZE contact
 * ids each, filled in ascending id order as the build scans the list. A bucket of 10,000
 * ObjectIds is about 180 KB of BSON, so a segment of millions of members never approaches the
 * 16 MB document limit; deleting a contact pulls it from its bucket.
 */
export const BUCKET_SIZE = 10_000;
export const MAX_BSON_BYTES = 16 * 1024 * 1024;

/** BSON bytes of an array of n ObjectIds (type byte, index key, 12-byte id) plus the document around it. */
export function bucketBytes(n: number): number {
  let keys = 0;
  for (let digits = 1, from = 0; from < n; digits++, from = 10 ** (digits - 1)) keys += (Math.min(n, 10 ** digits) - from) * (digits + 1);
  const array = 4 + n * (1 + 12) + keys + 1;
  // _id 17 + segmentId 23 (ObjectIds), bucket 16 (double), the array's type and key 12, framing 5: 73 (64 undercounted by 9).
  return array + 73;
}

/** How many buckets hold `count` members. */
export function bucketCount(count: number, size = BUCKET_SIZE): number {
  return Math.ceil(count / size);
}

/**
 * Appends ids (ascending, all greater than what the buckets hold) to buckets whose last one has
 * `lastFill` ids: how many go into that bucket, then the new buckets' contents.
 */
export function appendToBuckets<T>(ids: readonly T[], lastBucket: number, lastFill: number, size = BUCKET_SIZE): { bucket: number; ids: T[] }[] {
  const writes: { bucket: number; ids: T[] }[] = [];
  let start = 0;
  if (lastBucket >= 0 && lastFill < size && ids.length > 0) {
    start = Math.min(ids.length, size - lastFill);
    writes.push({ bucket: lastBucket, ids: ids.slice(0, start) });
  }
  for (let bucket = lastBucket + 1; start < ids.length; bucket++, start += size) writes.push({ bucket, ids: ids.slice(start, start + size) });
  return writes;
}

/**
 * One page of members newest first (descending id) from buckets read in descending bucket
 * order: ids below `after` (when given), at most `first`, and whether more follow.
 */
export function pageFromBuckets<T>(
  buckets: readonly { ids: readonly T[] }[],
  first: number,
  below: ((id: T) => boolean) | undefined,
): { ids: T[]; hasNextPage: boolean } {
  const ids: T[] = [];
  for (const bucket of buckets) {
    for (let i = bucket.ids.length - 1; i >= 0; i--) {
      const id = bucket.ids[i]!;
      if (below && !below(id)) continue;
      if (ids.length === first) return { ids, hasNextPage: true };
      ids.push(id);
    }
  }
  return { ids, hasNextPage: false };
}
