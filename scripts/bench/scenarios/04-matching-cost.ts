/**
 * 4. Matching cost: the compiled predicates (src/conditions compilePredicate) against sift and
 * mingo, the in-memory MongoDB query matchers, on the same conditions and the same contacts.
 * Each condition is translated once to the MongoDB filter the MongoDB store uses
 * (src/stores/mongo/condition-filter.ts: ages and WITHIN_LAST become date bounds at the
 * evaluation instant), which sift and mingo run over the contact documents that store writes;
 * all three must agree on every (condition, contact) pair before anything is timed.
 * Evaluations/s = pairs evaluated / time.
 */
import { Query } from "mingo";
import sift from "sift";
import { type ContactFacts, compilePredicate, type EvalTime, evalTime, parseCondition } from "../../../src/conditions";
import { cleanContact, factsOf } from "../../../src/domain/contacts";
import { compileMongoFilter } from "../../../src/stores/mongo/condition-filter";
import { contactFields } from "../../../src/stores/mongo/documents";
import { CATALOG, generateContacts, segmentConditions, utcMidnight } from "../data";
import { measuredInProcess } from "../support/profile";
import { fmt, median } from "../support/stats";
import type { Scenario } from "../support/types";

type Matcher = (doc: ContactFacts, at: EvalTime) => boolean;
type Loop = (matchers: Matcher[], docs: ContactFacts[], at: EvalTime) => number;

/**
 * A matcher's own copy of the evaluation loop over every (condition, contact) pair, so no call
 * site's type feedback is shared between matchers; the loop calls the matchers themselves (no
 * wrapper of the bench's in between).
 */
function loopOf(call: "m(d)" | "m(d, at)"): Loop {
  return new Function("matchers", "docs", "at", `let n = 0; for (const m of matchers) for (const d of docs) if (${call}) n++; return n;`) as Loop;
}

/** Evaluations per second of `loop` over every (condition, contact) pair, for at least `ms`. */
function rate(loop: Loop, matchers: Matcher[], docs: ContactFacts[], at: EvalTime, ms: number): number {
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
    const data = generateContacts(5005, 0, contacts, { today: utcMidnight(now) }).map((input) => cleanContact(input, CATALOG));
    const docs = data.map((contact) => factsOf(contact, CATALOG, now, now));
    const mongoDocs = data.map((contact) => ({ ...contactFields(contact, CATALOG), createdAt: new Date(now), updatedAt: new Date(now) })) as unknown as ContactFacts[];
    const asts = specs.map((spec) => parseCondition(spec.condition, CATALOG).ast);
    // Each matcher is called as it is: the predicate with (facts, at), sift's tester and mingo's
    // bound Query.test with the document alone.
    const ours: Matcher[] = asts.map((ast) => compilePredicate(ast));
    const siftTesters = asts.map((ast) => sift(compileMongoFilter(ast, at)) as (doc: ContactFacts) => boolean);
    const mingoMatchers: Matcher[] = asts.map((ast) => {
      const query = new Query<Record<string, unknown>>(compileMongoFilter(ast, at));
      return query.test.bind(query) as unknown as Matcher;
    });

    // The three must agree on every pair, or the comparison would be of different work.
    let disagreements = 0;
    const counts = asts.map(() => 0);
    asts.forEach((_, s) => {
      docs.forEach((doc, i) => {
        const a = ours[s]!(doc, at);
        const mongoDoc = mongoDocs[i]!;
        if (a !== siftTesters[s]!(mongoDoc) || a !== (mingoMatchers[s] as unknown as (doc: ContactFacts) => boolean)(mongoDoc)) disagreements++;
        if (a) counts[s]!++;
      });
    });
    if (disagreements > 0) throw new Error(`the matchers disagree on ${disagreements} (condition, contact) pairs`);

    // Short rounds, the matchers taking turns, and the ratio taken within each round: the
    // machine's speed moves over seconds, and a ratio of rates measured a second apart moves
    // with it. The figures are the medians over the rounds.
    const roundCount = ctx.quick ? 3 : 9;
    const ms = ctx.quick ? 200 : 333;
    const runs = [
      { name: "compiled predicates", loop: loopOf("m(d, at)"), matchers: ours, docs },
      { name: "sift", loop: loopOf("m(d)"), matchers: siftTesters as unknown as Matcher[], docs: mongoDocs },
      { name: "mingo", loop: loopOf("m(d)"), matchers: mingoMatchers, docs: mongoDocs },
    ];
    for (const run of runs) run.loop(run.matchers, run.docs, at); // warm-up pass
    const rounds: number[][] = [];
    for (let round = 0; round < roundCount; round++) {
      // When profiling, the first round of each matcher is a profile of its own.
      const rates: number[] = [];
      for (const run of runs) {
        const measure = () => rate(run.loop, run.matchers, run.docs, at, ms);
        rates.push(round === 0 ? await measuredInProcess(ctx, run.name, async () => measure()) : measure());
      }
      rounds.push(rates);
    }
    const result = { ours: median(rounds.map((r) => r[0]!)), sift: median(rounds.map((r) => r[1]!)), mingo: median(rounds.map((r) => r[2]!)) };
    const vsSift = median(rounds.map(([ours, sift]) => ours! / sift!));
    const vsMingo = median(rounds.map(([ours, , mingo]) => ours! / mingo!));
    const mean = counts.reduce((s, c) => s + c, 0) / counts.length / contacts;
    return {
      figures: [
        { label: "compiled predicates", value: Math.round(result.ours), unit: "evals/s" },
        { label: "× sift's evaluations/s", value: vsSift, unit: "×", target: { op: ">=", value: 10 } },
        { label: "× mingo's evaluations/s", value: vsMingo, unit: "×", target: { op: ">=", value: 10 } },
      ],
      notes: [
        `${specs.length} realistic conditions × ${fmt(contacts)} contacts (mean selectivity ${(mean * 100).toFixed(1)}%); the three matchers agree on all ${fmt(specs.length * contacts)} pairs`,
        `evaluations/s: compiled ${fmt(result.ours)}, sift ${fmt(result.sift)}, mingo ${fmt(result.mingo)} (medians of ${roundCount} rounds of ≥ ${ms} ms each, after a warm-up pass; sift and mingo queries compiled once, like the predicates); the ratios are the medians of each round's ratio`,
      ],
    };
  },
};
