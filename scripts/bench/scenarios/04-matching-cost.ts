/**
 * 4. Matching cost: the compiled predicates (src/conditions compilePredicate) against sift and
 * mingo, the in-memory MongoDB query matchers, on the same conditions and the same contacts.
 * Each condition is translated to a MongoDB query once (ages and WITHIN_LAST become date bounds
 * at the evaluation instant, as a MongoDB-backed system must do); all three must agree on every
 * (condition, contact) pair before anything is timed. Evaluations/s = pairs evaluated / time.
 */
import { Query } from "mingo";
import sift from "sift";
import { type Condition, type ContactFacts, compilePredicate, dates, type EvalTime, evalTime, parseCondition, type Scalar } from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { CATALOG, generateContacts, segmentConditions, utcMidnight } from "../data";
import { measuredInProcess } from "../support/profile";
import { fmt, median } from "../support/stats";
import type { Scenario } from "../support/types";

type Mongo = Record<string, unknown>;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A normalized condition as a MongoDB query over documents shaped like ContactFacts. */
export function toMongo(node: Condition, at: EvalTime): Mongo {
  switch (node.kind) {
    case "and":
      return { $and: node.items.map((item) => toMongo(item, at)) };
    case "or":
      return { $or: node.items.map((item) => toMongo(item, at)) };
    case "not":
      return { $nor: [toMongo(node.item, at)] };
    case "leaf":
      break;
  }
  const { field, test } = node;
  const path = field.source === "attribute" ? `attributes.${field.name}` : field.name;
  if (field.type === "AGE") {
    // age >= n  ⇔  birthDate <= ageThreshold(today, n)
    const atLeast = (n: number) => ({ birthDate: { $lte: dates.ageThreshold(at.today, n) } });
    const below = (n: number) => ({ birthDate: { $gt: dates.ageThreshold(at.today, n) } });
    const v = (s: Scalar) => s as number;
    switch (test.op) {
      case "gte":
        return atLeast(Math.ceil(v(test.value)));
      case "gt":
        return atLeast(Math.floor(v(test.value)) + 1);
      case "lt":
        return { $and: [below(Math.ceil(v(test.value))), { birthDate: { $type: "string" } }] };
      case "lte":
        return { $and: [below(Math.floor(v(test.value)) + 1), { birthDate: { $type: "string" } }] };
      case "between":
        return { $and: [atLeast(Math.ceil(v(test.low))), below(Math.floor(v(test.high)) + 1)] };
      case "in":
        return { $or: test.values.map((n) => ({ $and: [atLeast(v(n)), below(v(n) + 1)] })) };
      case "set":
        return { birthDate: { $type: "string" } };
      default:
        throw new Error(`no MongoDB form for age ${test.op}`);
    }
  }
  switch (test.op) {
    case "in":
      return test.values.length === 1 ? { [path]: test.values[0] } : { [path]: { $in: test.values } };
    case "contains":
      return { [path]: { $regex: escapeRegex(test.value) } };
    case "startsWith":
      return { [path]: { $regex: `^${escapeRegex(test.value)}` } };
    case "endsWith":
      return { [path]: { $regex: `${escapeRegex(test.value)}$` } };
    case "gt":
      return { [path]: { $gt: test.value } };
    case "gte":
      return { [path]: { $gte: test.value } };
    case "lt":
      return { [path]: { $lt: test.value } };
    case "lte":
      return { [path]: { $lte: test.value } };
    case "between":
      return { [path]: { $gte: test.low, $lte: test.high } };
    case "set":
      return field.type === "TAGS" ? { "tags.0": { $exists: true } } : { [path]: { $ne: null } };
    case "hasAny":
      return { tags: { $in: test.values } };
    case "hasAll":
      return { tags: { $all: test.values } };
    case "withinLast":
    case "moreThanAgo": {
      const past = dates.subtractDuration(at.now, test.duration);
      const [low, high] = field.type === "DATE" ? [dates.dateOf(past), dates.dateOf(at.now)] : [past, at.now];
      return test.op === "withinLast" ? { [path]: { $gt: low, $lte: high } } : { [path]: { $lte: low } };
    }
  }
}

type Matcher = (doc: ContactFacts, at: EvalTime) => boolean;
type Loop = (matchers: Matcher[], docs: ContactFacts[], at: EvalTime) => number;

/**
 * Evaluations per second over every (condition, contact) pair, for at least `ms`. Each matcher
 * gets its own copy of the loop, so no call site's type feedback is shared between matchers, and
 * the loop calls the matchers themselves (no wrapper of the bench's in between).
 */
function rate(matchers: Matcher[], docs: ContactFacts[], at: EvalTime, ms: number, call: "m(d)" | "m(d, at)"): number {
  const loop = new Function("matchers", "docs", "at", `let n = 0; for (const m of matchers) for (const d of docs) if (${call}) n++; return n;`) as Loop;
  loop(matchers, docs, at); // warm-up
  let passes = 0;
  const started = performance.now();
  do {
    loop(matchers, docs, at);
    passes++;
  } while (performance.now() - started < ms);
  return (passes * matchers.length * docs.length) / ((performance.now() - started) / 1000);
}

export const matchingCost: Scenario = {
  id: 4,
  name: "Matching cost vs sift and mingo",
  async run(ctx) {
    const contacts = ctx.quick ? 5_000 : 10_000;
    const specs = segmentConditions(20, 11);
    const now = Date.now();
    const at = evalTime(now);
    const docs = generateContacts(5005, 0, contacts, { today: utcMidnight(now) }).map((input) => factsOf(cleanContact(input, CATALOG), CATALOG, now, now));
    const asts = specs.map((spec) => parseCondition(spec.condition, CATALOG).ast);
    // Each matcher is called as it is: the predicate with (facts, at), sift's tester and mingo's
    // bound Query.test with the document alone.
    const ours: Matcher[] = asts.map((ast) => compilePredicate(ast));
    const siftTesters = asts.map((ast) => sift(toMongo(ast, at)) as (doc: ContactFacts) => boolean);
    const mingoMatchers: Matcher[] = asts.map((ast) => {
      const query = new Query<Record<string, unknown>>(toMongo(ast, at));
      return query.test.bind(query) as unknown as Matcher;
    });

    // The three must agree on every pair, or the comparison would be of different work.
    let disagreements = 0;
    const counts = asts.map(() => 0);
    asts.forEach((_, s) => {
      for (const doc of docs) {
        const a = ours[s]!(doc, at);
        if (a !== siftTesters[s]!(doc) || a !== (mingoMatchers[s] as unknown as (doc: ContactFacts) => boolean)(doc)) disagreements++;
        if (a) counts[s]!++;
      }
    });
    if (disagreements > 0) throw new Error(`the matchers disagree on ${disagreements} (condition, contact) pairs`);

    // Three rounds, the matchers taking turns, so a burst of load on the machine hits all of them.
    const ms = ctx.quick ? 200 : 1_000;
    const rounds = { ours: [] as number[], sift: [] as number[], mingo: [] as number[] };
    for (let round = 0; round < 3; round++) {
      // When profiling, the first round of each matcher is a profile of its own.
      const timed = (name: string, run: () => number) => (round === 0 ? measuredInProcess(ctx, name, async () => run()) : Promise.resolve(run()));
      rounds.ours.push(await timed("compiled predicates", () => rate(ours, docs, at, ms, "m(d, at)")));
      rounds.sift.push(await timed("sift", () => rate(siftTesters as unknown as Matcher[], docs, at, ms, "m(d)")));
      rounds.mingo.push(await timed("mingo", () => rate(mingoMatchers, docs, at, ms, "m(d)")));
    }
    const result = { ours: median(rounds.ours), sift: median(rounds.sift), mingo: median(rounds.mingo) };
    const vsSift = result.ours / result.sift;
    const vsMingo = result.ours / result.mingo;
    const mean = counts.reduce((s, c) => s + c, 0) / counts.length / contacts;
    return {
      figures: [
        { label: "compiled predicates", value: Math.round(result.ours), unit: "evals/s" },
        { label: "× sift's evaluations/s", value: vsSift, unit: "×", target: { op: ">=", value: 10 } },
        { label: "× mingo's evaluations/s", value: vsMingo, unit: "×", target: { op: ">=", value: 10 } },
      ],
      notes: [
        `${specs.length} realistic conditions × ${fmt(contacts)} contacts (mean selectivity ${(mean * 100).toFixed(1)}%); the three matchers agree on all ${fmt(specs.length * contacts)} pairs`,
        `evaluations/s: compiled ${fmt(result.ours)}, sift ${fmt(result.sift)}, mingo ${fmt(result.mingo)} (median of 3 rounds of ≥ ${ms} ms each, after a warm-up pass; sift and mingo queries compiled once, like the predicates)`,
      ],
    };
  },
};
