/**
 * The bench's own view of a preloaded list: every contact's data and every segment's reference
 * predicate, so a scenario knows which transitions an update must cause (and can check that
 * none is lost) without asking the service.
 */
import { type ContactFacts, type EvalTime, type Predicate } from "../../../src/conditions";
import { applyPatch, type ContactData, type ContactInputShape, cleanContact, cleanContactPatch, factsOf } from "../../../src/domain/contacts";
import { CATALOG, COUNTRIES, DAY_MS, generateContacts, predicateOf, TAG_POOL } from "../data";
import type { ListFixture } from "./fixtures";

export interface Transition {
  /** Store id of the segment. */
  segmentId: string;
  kind: "ENTERED" | "LEFT";
}

export interface Update {
  index: number;
  /** Store id of the contact. */
  contactId: string;
  input: ContactInputShape;
  transitions: Transition[];
}

const PLANS = ["free", "basic", "pro", "enterprise"];
const COUNTRY_NAMES = COUNTRIES.flatMap(([c]) => (c ? [c] : []));

function dateText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class ListModel {
  readonly data: ContactData[];
  private readonly facts: ContactFacts[];
  readonly predicates: Predicate[];
  readonly segmentIds: string[];

  constructor(readonly fixture: ListFixture) {
    this.data = generateContacts(fixture.seed, 0, fixture.count, fixture.options).map((input) => cleanContact(input, CATALOG));
    this.facts = this.data.map((data) => factsOf(data, CATALOG, 0, 0));
    this.predicates = fixture.segments.map((segment) => predicateOf(segment.spec.condition));
    this.segmentIds = fixture.segments.map((segment) => segment.id);
  }

  /** A realistic CRM update of one contact (plan, score, a tag, opt-in, a purchase, a move). */
  randomPatch(index: number, r: () => number, today: number): ContactInputShape {
    const current = this.data[index]!;
    const k = r();
    if (k < 0.2) return { attributes: { plan: PLANS.filter((p) => p !== current.attributes.plan)[Math.floor(r() * 3)]! } };
    if (k < 0.45) return { attributes: { score: Math.round(100 * r() ** 1.5) } };
    if (k < 0.7) {
      const tag = TAG_POOL[Math.floor(r() * TAG_POOL.length)]![0];
      const has = current.tags.some((t) => t.toLowerCase() === tag);
      return { tags: has ? current.tags.filter((t) => t.toLowerCase() !== tag) : [...current.tags, tag] };
    }
    if (k < 0.85) return { attributes: { newsletter: current.attributes.newsletter !== true } };
    if (k < 0.95) return { attributes: { lastPurchase: dateText(today - Math.floor(r() * 3) * DAY_MS) } };
    const country = COUNTRY_NAMES.filter((c) => c.name !== current.country)[Math.floor(r() * (COUNTRY_NAMES.length - 1))]!;
    return { country: country.name, city: country.cities[Math.floor(r() * country.cities.length)]! };
  }

  /** The transitions an update of contact `index` would cause now. */
  transitions(index: number, input: ContactInputShape, at: EvalTime): Transition[] {
    const before = this.facts[index]!;
    const after = factsOf(applyPatch(this.data[index]!, cleanContactPatch(input, CATALOG)), CATALOG, 0, 0);
    const result: Transition[] = [];
    this.predicates.forEach((predicate, s) => {
      const was = predicate(before, at);
      const is = predicate(after, at);
      if (was !== is) result.push({ segmentId: this.segmentIds[s]!, kind: is ? "ENTERED" : "LEFT" });
    });
    return result;
  }

  /**
   * An update of contact `index` whose number of transitions `accept`s (e.g. at least one, or
   * exactly one), trying up to `tries` random patches; null when none fits.
   */
  propose(index: number, r: () => number, at: EvalTime, accept: (n: number) => boolean, tries = 30): Update | null {
    for (let i = 0; i < tries; i++) {
      const input = this.randomPatch(index, r, at.now);
      const transitions = this.transitions(index, input, at);
      if (accept(transitions.length)) return { index, contactId: this.fixture.contactIds[index]!, input, transitions };
    }
    return null;
  }

  /** Records that an update was applied. */
  apply(update: Update): void {
    const next = applyPatch(this.data[update.index]!, cleanContactPatch(update.input, CATALOG));
    this.data[update.index] = next;
    this.facts[update.index] = factsOf(next, CATALOG, 0, 0);
  }
}
