/**
 * Preloaded databases, built through the store port (insertContacts in chunks of 10,000, then
 * app.engine.drain()) once per run and copied for each scenario that writes to them.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../../../src/app";
import { parseCondition } from "../../../src/conditions";
import { cleanContact } from "../../../src/domain/contacts";
import { OPEN_WORKSPACE } from "../../../src/security/api-keys";
import type { ListRecord } from "../../../src/stores/port";
import { CATALOG, type ContactOptions, CUSTOM_FIELDS, generateContacts, type SegmentSpec, segmentConditions, utcMidnight } from "../data";
import { openApp } from "./server";

export interface LoadedSegment {
  /** Store id (the API's global id is toGlobalId("Segment", id)). */
  id: string;
  spec: SegmentSpec;
}

export interface ListFixture {
  name: string;
  path: string;
  /** Store id of the list. */
  listId: string;
  /** Store ids of the contacts, in generation order (contact i is contactAt(seed, i)). */
  contactIds: string[];
  count: number;
  seed: number;
  options: ContactOptions;
  segments: LoadedSegment[];
  buildSeconds: number;
}

export interface LoadSpec {
  name: string;
  count: number;
  seed: number;
  options: ContactOptions;
  segments: SegmentSpec[];
  log?: (message: string) => void;
}

/** Loads a list, its contacts and its segments into an open app, through the store port. */
export async function loadList(app: App, spec: LoadSpec, now: () => number = Date.now): Promise<Omit<ListFixture, "path" | "buildSeconds">> {
  const list: ListRecord = await app.store.createList({ workspaceId: OPEN_WORKSPACE, name: spec.name, customFields: CUSTOM_FIELDS }, now());
  const contactIds: string[] = [];
  const chunk = 10_000;
  let lastLog = performance.now();
  for (let start = 0; start < spec.count; start += chunk) {
    const inputs = generateContacts(spec.seed, start, Math.min(chunk, spec.count - start), spec.options);
    const rows = inputs.map((input) => ({ data: cleanContact(input, CATALOG), patch: { fields: {} } }));
    const result = await app.store.insertContacts(list, rows, false, now());
    if (result.conflicts.length > 0) throw new Error(`${result.conflicts.length} conflicting emails in the generated data`);
    for (const id of result.ids) contactIds.push(id!);
    await app.engine.drain();
    if (spec.log && performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      spec.log(`  ${spec.name}: ${contactIds.length.toLocaleString("en-US")} contacts loaded`);
    }
  }
  const segments: LoadedSegment[] = [];
  for (const segment of spec.segments) {
    const { stored } = parseCondition(segment.condition, CATALOG);
    const record = await app.store.createSegment({ listId: list.id, name: segment.name, type: "DYNAMIC", condition: stored }, now());
    segments.push({ id: record.id, spec: segment });
  }
  if (segments.length > 0) await app.engine.drain();
  const lag = await app.engine.lag();
  if (lag.pendingChanges !== 0 || lag.building !== 0) throw new Error(`fixture ${spec.name}: the engine did not catch up (${JSON.stringify(lag)})`);
  return { name: spec.name, listId: list.id, contactIds, count: spec.count, seed: spec.seed, options: spec.options, segments };
}

/** Builds a database file holding one list (and its segments). */
export async function preloadFile(path: string, spec: LoadSpec): Promise<ListFixture> {
  rmDb(path);
  const started = performance.now();
  const app = await openApp(path);
  try {
    const loaded = await loadList(app, spec);
    return { ...loaded, path, buildSeconds: (performance.now() - started) / 1000 };
  } finally {
    await app.stop();
  }
}

export function rmDb(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal", "-limits", "-limits-wal", "-limits-shm"]) rmSync(path + suffix, { force: true });
}

export function copyDb(from: string, to: string): string {
  rmDb(to);
  for (const suffix of ["", "-wal"]) if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  return to;
}

export class Fixtures {
  private readonly cache = new Map<string, Promise<ListFixture>>();
  private readonly made: string[] = [];

  constructor(
    readonly quick: boolean,
    readonly dir: string,
    private readonly log: (message: string) => void,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private once(key: string, build: () => Promise<ListFixture>): Promise<ListFixture> {
    let fixture = this.cache.get(key);
    if (!fixture) {
      fixture = build().then((built) => {
        this.log(`fixture ${key}: ${built.count.toLocaleString("en-US")} contacts, ${built.segments.length} segments, built in ${built.buildSeconds.toFixed(1)} s`);
        return built;
      });
      this.cache.set(key, fixture);
    }
    return fixture;
  }

  /** The large list: 1,000,000 contacts (quick: 50,000), no segments (scenarios 2 and 8). */
  big(): Promise<ListFixture> {
    const count = this.quick ? 50_000 : 1_000_000;
    return this.once("big", () => {
      this.log(`building fixture big (${count.toLocaleString("en-US")} contacts)…`);
      return preloadFile(this.path("fixture-big.db"), { name: "big", count, seed: 1001, options: { today: utcMidnight(Date.now()) }, segments: [], log: this.log });
    });
  }

  /** The working list: 100,000 contacts (quick: 10,000) and 100 DYNAMIC segments (scenarios 3, 5, 6, 7). */
  mid(): Promise<ListFixture> {
    const count = this.quick ? 10_000 : 100_000;
    return this.once("mid", () => {
      this.log(`building fixture mid (${count.toLocaleString("en-US")} contacts, 100 segments)…`);
      return preloadFile(this.path("fixture-mid.db"), { name: "mid", count, seed: 2002, options: { today: utcMidnight(Date.now()) }, segments: segmentConditions(100, 7), log: this.log });
    });
  }

  /** A scratch copy of a fixture's database for one scenario. */
  copy(fixture: ListFixture, name: string): string {
    return copyDb(fixture.path, this.path(`${name}.db`));
  }

  /** A fresh database path in the scratch folder (whatever a previous run left there is removed). */
  path(file: string): string {
    const path = join(this.dir, file);
    rmDb(path);
    this.made.push(path);
    return path;
  }

  cleanup(): void {
    for (const path of this.made) rmDb(path);
  }
}
