/**
 * Subscriptions executed once per event: subscribers sending the same document in the same
 * workspace share one execution, and the results kept for that turn over with time.
 */
import { type ExecutionResult, GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from "graphql";
import { ResultCache, sharedSubscribe } from "../../src/graphql/shared-subscriptions";

describe("ResultCache", () => {
  function counting() {
    let t = 0;
    let runs = 0;
    const cache = new ResultCache({ windowMs: 1_000, limit: 3, now: () => t });
    // Many sharers: these tests are about time and size, not about every sharer having taken a result.
    const get = (key: string, sharers = 1_000) =>
      cache.get(key, sharers, async () => {
        runs++;
        return { data: { key } };
      });
    return {
      cache,
      get,
      at: (ms: number) => (t = ms),
      runs: () => runs,
    };
  }

  it("runs a key once while it is kept, and gives every caller the same result", () => {
    const c = counting();
    const first = c.get("a");
    expect(c.get("a")).toBe(first);
    c.at(999);
    expect(c.get("a")).toBe(first);
    expect(c.runs()).toBe(1);
  });

  it("keeps a result at least one window and at most two", () => {
    const c = counting();
    const first = c.get("a");
    c.at(1_000); // the window turns: "a" is now in the previous generation
    expect(c.get("a")).toBe(first);
    c.at(1_999);
    expect(c.get("a")).toBe(first);
    expect(c.runs()).toBe(1);
    c.at(2_000); // turns again: "a" is dropped and runs again
    expect(c.get("a")).not.toBe(first);
    expect(c.runs()).toBe(2);
  });

  it("after two idle windows keeps nothing from before", () => {
    const c = counting();
    c.get("a");
    c.get("b");
    c.at(2_500);
    c.get("c");
    expect(c.cache.size).toBe(1);
  });

  it("drops a result once every subscriber that shared its key has taken it", () => {
    const c = counting();
    const first = c.get("a", 3);
    expect(c.get("a", 3)).toBe(first);
    expect(c.cache.size).toBe(1);
    expect(c.get("a", 3)).toBe(first);
    expect(c.cache.size).toBe(0);
    expect(c.runs()).toBe(1);
    expect(c.get("a", 3)).not.toBe(first); // a later subscriber runs it again
    expect(c.runs()).toBe(2);
  });

  it("keeps nothing for a subscriber no other one shares a key with", () => {
    const c = counting();
    c.get("a", 1);
    expect(c.cache.size).toBe(0);
    c.get("a", 1);
    expect(c.runs()).toBe(2);
  });

  it("turns over early when a window is full, holding at most two windows' limit", () => {
    const c = counting();
    for (const key of ["a", "b", "c", "d", "e", "f", "g"]) c.get(key);
    expect(c.cache.size).toBeLessThanOrEqual(6);
    expect(c.runs()).toBe(7);
    c.get("g");
    expect(c.runs()).toBe(7);
    c.get("a"); // dropped with the oldest full window
    expect(c.runs()).toBe(8);
  });
});

describe("sharedSubscribe", () => {
  /** A schema whose subscription yields the given events and counts how often its payload is resolved. */
  function schemaWith(events: { seq: number }[]) {
    let resolved = 0;
    const Payload = new GraphQLObjectType({
      name: "Payload",
      fields: {
        seq: { type: GraphQLInt, resolve: (event: { seq: number }) => (resolved++, event.seq) },
        label: { type: GraphQLString, args: { prefix: { type: GraphQLString } }, resolve: (event: { seq: number }, { prefix }) => `${prefix}${event.seq}` },
      },
    });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
      subscription: new GraphQLObjectType({
        name: "Subscription",
        fields: {
          changed: {
            type: Payload,
            subscribe: async function* () {
              for (const event of events) yield event;
            },
            resolve: (event: { seq: number }) => event,
          },
        },
      }),
    });
    return { schema, resolved: () => resolved };
  }

  async function collect(iterable: AsyncIterable<ExecutionResult> | ExecutionResult): Promise<ExecutionResult[]> {
    const results: ExecutionResult[] = [];
    for await (const result of iterable as AsyncIterable<ExecutionResult>) results.push(result);
    return results;
  }

  it("executes an event once for all subscribers of one document and workspace, apart for another workspace or payload variable", async () => {
    const events = [{ seq: 1 }, { seq: 2 }];
    const { schema, resolved } = schemaWith(events);
    const cache = new ResultCache();
    const subscribe = sharedSubscribe(cache);
    const document = parse(`subscription($p: String) { changed { seq label(prefix: $p) } }`);
    const start = (workspaceId: string, p: string) => subscribe({ schema, document, contextValue: { workspaceId }, variableValues: { p } });
    const streams = await Promise.all([start("w1", "#"), start("w1", "#"), start("w1", "#"), start("w2", "#"), start("w1", "n")]);
    const results = await Promise.all(streams.map(collect));

    expect(results[0]).toEqual([{ data: { changed: { seq: 1, label: "#1" } } }, { data: { changed: { seq: 2, label: "#2" } } }]);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(results[3]).toEqual(results[0]);
    expect(results[4]).toEqual([{ data: { changed: { seq: 1, label: "n1" } } }, { data: { changed: { seq: 2, label: "n2" } } }]);
    // Three executions per event: the three same subscribers together, the other workspace, the other prefix.
    expect(resolved()).toBe(3 * events.length);
    // Each shared result was dropped when the last of its three subscribers took it; the others were never kept.
    expect(cache.size).toBe(0);
  });

  it("counts only live subscribers as sharers: a result is kept while a live one has not taken it", async () => {
    const events = [{ seq: 1 }, { seq: 2 }];
    const { schema, resolved } = schemaWith(events);
    const cache = new ResultCache();
    const subscribe = sharedSubscribe(cache);
    const document = parse(`subscription { changed { seq } }`);
    const start = () => subscribe({ schema, document, contextValue: { workspaceId: "w1" } }) as Promise<AsyncIterableIterator<ExecutionResult>>;

    // One subscriber ends before the others start: it is no longer a sharer.
    const gone = await start();
    await gone.return!();
    const [a, b] = await Promise.all([start(), start()]);
    await a.next();
    expect(cache.size).toBe(1); // seq 1, waiting for b
    await b.next();
    expect(cache.size).toBe(0);
    expect(resolved()).toBe(1);
    await Promise.all([collect(a), collect(b)]);
    expect(resolved()).toBe(events.length);
    expect(cache.size).toBe(0);
  });
});
