/** Membership blocks on a real SQLite database, against a plain Set of ids as the model. */
import fc from "fast-check";
import { openDatabase, StatementCache } from "../../../src/stores/sqlite/database";
import { BLOCK_IDS, BlockCache, MemberBlocks } from "../../../src/stores/sqlite/member-blocks";

// Ids cluster around block boundaries, where off-by-one mistakes would show.
const contactId = fc.oneof(
  fc.integer({ min: 1, max: 3 * BLOCK_IDS }),
  fc.integer({ min: -2, max: 2 }).chain((d) => fc.integer({ min: 1, max: 5 }).map((b) => b * BLOCK_IDS + d)),
);
const op = fc.record({ segment: fc.integer({ min: 1, max: 3 }), id: contactId, member: fc.boolean() });

function open() {
  const db = openDatabase(":memory:");
  return { db, blocks: new MemberBlocks(new StatementCache(db)) };
}

test("flips through the engine's cache, written back, read as the model's members in both orders", () => {
  fc.assert(
    fc.property(fc.array(fc.array(op, { maxLength: 40 }), { maxLength: 5 }), fc.integer({ min: 1, max: 7 }), (steps, pageSize) => {
      const { db, blocks } = open();
      try {
        const model = new Map<number, Set<number>>([1, 2, 3].map((s) => [s, new Set<number>()]));
        let cache = new BlockCache(blocks);
        for (const ops of steps) {
          for (const { segment, id, member } of ops) {
            expect(cache.has(String(segment), id)).toBe(model.get(segment)!.has(id));
            cache.set(String(segment), id, member);
            if (member) model.get(segment)!.add(id);
            else model.get(segment)!.delete(id);
          }
          cache.flush();
          // A fresh cache reads what the last one wrote.
          if (ops.length % 2 === 0) cache = new BlockCache(blocks);
        }
        for (const [segment, members] of model) {
          const ascending = [...members].sort((a, b) => a - b);
          expect(blocks.members(segment)).toEqual(ascending);
          // Paging down from the newest id, `pageSize` at a time, visits every member once.
          const paged: number[] = [];
          let page = blocks.page(segment, pageSize);
          while (page.length > 0) {
            paged.push(...page);
            page = blocks.page(segment, pageSize, page[page.length - 1]);
          }
          expect(paged).toEqual([...ascending].reverse());
        }
        // No row is kept for a block without members.
        const stored = db.prepare("SELECT count(*) FROM member_blocks").pluck().get() as number;
        const nonEmpty = new Set([...model].flatMap(([segment, ids]) => [...ids].map((id) => `${segment}:${Math.floor(id / BLOCK_IDS)}`)));
        expect(stored).toBe(nonEmpty.size);
      } finally {
        db.close();
      }
    }),
    { numRuns: 150 },
  );
});

test("replacing a range changes only the ids inside it and counts who entered and left", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(contactId),
      fc.uniqueArray(contactId),
      fc.integer({ min: 0, max: 5 * BLOCK_IDS }),
      fc.integer({ min: 0, max: 2 * BLOCK_IDS }),
      fc.nat(),
      fc.boolean(),
      (initial, wanted, start, span, pick, atMember) => {
        const { db, blocks } = open();
        try {
          // Half the time the range starts at a member, whose bit must be kept.
          const from = atMember && initial.length > 0 ? initial[pick % initial.length]! : start;
          const to = from + span;
          const cache = new BlockCache(blocks);
          for (const id of initial) cache.set("1", id, true);
          cache.flush();
          const inRange = (id: number) => id > from && id <= to;
          const replacement = wanted.filter(inRange).sort((a, b) => a - b);
          const { inserted, removed } = blocks.replaceRange(1, from, to, replacement);
          const expected = new Set([...initial.filter((id) => !inRange(id)), ...replacement]);
          expect(blocks.members(1)).toEqual([...expected].sort((a, b) => a - b));
          expect(inserted).toBe(replacement.filter((id) => !initial.includes(id)).length);
          expect(removed).toBe(initial.filter((id) => inRange(id) && !replacement.includes(id)).length);
        } finally {
          db.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});

test("a contact's segments are those of its own list whose bit is set", () => {
  const { db, blocks } = open();
  try {
    db.prepare("INSERT INTO lists (id, workspace_id, name, created_at, updated_at) VALUES (1, 'w', 'A', 1, 1), (2, 'w', 'B', 1, 1)").run();
    const contact = db.prepare("INSERT INTO contacts (id, list_id, email, email_n, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)");
    for (const [id, list] of [[7, 1], [8, 1], [BLOCK_IDS + 7, 2]]) contact.run(id, list, `c${id}@x.org`, `c${id}@x.org`);
    const segment = db.prepare("INSERT INTO segments (id, list_id, name, type, status, condition, clock_at, created_at, updated_at) VALUES (?, ?, 'S', 'STATIC', 'READY', '{}', 1, 1, 1)");
    for (const [id, list] of [[1, 1], [2, 1], [3, 2]]) segment.run(id, list);
    const cache = new BlockCache(blocks);
    cache.set("2", 7, true);
    cache.set("1", 7, true);
    cache.set("1", 8, true);
    // Bit 7 of segment 3's first block names contact 7, which is not in segment 3's list.
    cache.set("3", 7, true);
    cache.set("3", BLOCK_IDS + 7, true);
    cache.flush();
    expect(blocks.segmentsOf([7, 8, BLOCK_IDS + 7, 9])).toEqual(
      new Map([
        [7, [1, 2]],
        [8, [1]],
        [BLOCK_IDS + 7, [3]],
      ]),
    );
    blocks.deleteSegment(1);
    expect(blocks.segmentsOf([7, 8])).toEqual(new Map([[7, [2]]]));
  } finally {
    db.close();
  }
});
