/** Deterministic contact data for tests (a seeded generator, so every run sees the same rows), and a common list. */
import { CreateListDocument, CreateSegmentDocument, SegmentMemberEmailsDocument } from "../graphql/generated";
import type { GraphQLTestClient } from "./client";

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const COUNTRIES = ["Norway", "Norway", "Norway", "Sweden", "Sweden", "Denmark", "Finland", "Iceland", "Germany", "France"];
const TAGS = ["vip", "newsletter", "trial", "churned", "partner"];

export interface GeneratedContact {
  email: string;
  firstName: string;
  country: string;
  birthDate: string;
  tags: string[];
  attributes: { score: number };
}

export function generateContacts(prefix: string, count: number, seed = 1): GeneratedContact[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const year = 1950 + Math.floor(random() * 60);
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    return {
      email: `${prefix}-${i}@example.com`,
      firstName: `Name${i}`,
      country: COUNTRIES[Math.floor(random() * COUNTRIES.length)]!,
      birthDate: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
      tags: TAGS.filter(() => random() < 0.3),
      attributes: { score: Math.floor(random() * 100) },
    };
  });
}

/** A list, and a DYNAMIC segment of its contacts in Norway, made through the API. */
export async function listWithNorwaySegment(client: GraphQLTestClient, name: string) {
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name } });
  const { createSegment: segment } = await client.data(CreateSegmentDocument, {
    input: { listId: list.id, name: "Norway", type: "DYNAMIC", condition: { field: "country", operator: "EQUALS", value: "Norway" } },
  });
  return { list, segment };
}

/** A segment's members' emails (at most 500), sorted. */
export async function memberEmails(client: GraphQLTestClient, segmentId: string): Promise<string[]> {
  return (await client.data(SegmentMemberEmailsDocument, { id: segmentId })).segment!.members.nodes.map((node) => node.email).sort();
}
