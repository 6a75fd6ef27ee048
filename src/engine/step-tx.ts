/**
 * What an engine step asks of a store, inside the one transaction the step runs in: the few
 * reads and writes of step.ts. SQLite answers each at once (one better-sqlite3 transaction),
 * MongoDB with promises (one session transaction); see work.ts. Ids are the store's own, as
 * strings; `compareIds` orders them as the store does.
 */
import type { Condition, ContactFacts, CustomFieldDef, EvalTime, FieldRef, StoredCondition } from "../conditions";
import type { Mark, MemberEdit, MembershipOverride, SegmentType } from "../stores/port";
import type { ListState, MembershipWrite, PendingEvent, SegmentCompiler, SegmentRow } from "./membership";
import type { Answer } from "./work";

/** A segment as stored, with what the engine keeps beside its definition. */
export interface StoredSegment extends SegmentRow {
  /** The feed position of the condition change that set the condition (older ones are not applied again). */
  conditionVersion: number;
  /** The instant clock-dependent membership was last brought up to date (a build evaluates at it). */
  clockAt: number;
  /** BUILDING: the last contact evaluated so far (null: none yet). */
  buildCursor: string | null;
}

/** A list as a step reads it. */
export interface StoredList {
  customFields: CustomFieldDef[];
  timeZone: string;
  /** Its segments, in id order. */
  segments: StoredSegment[];
}

/** A contact as a step evaluates it. */
export interface ContactState {
  id: string;
  listId: string;
  facts: ContactFacts;
}

/** One change-feed entry, in feed order. */
export type FeedEntry =
  | {
      kind: "contact";
      contactId: string;
      /** The contact's list; a contact that no longer exists is looked up by it. */
      listId: string | null;
      added: boolean;
      /** The facts the change changed; null when unknown (every segment of the list is evaluated). */
      changed: readonly string[] | null;
    }
  | { kind: "condition"; segmentId: string; condition: StoredCondition; version: number }
  /** A hand edit of a segment's members (the ids were checked to be contacts of its list when it was asked for). */
  | { kind: "members"; segmentId: string; edit: MemberEdit; contactIds: readonly string[] }
  /** A freeze scheduled at an instant (due at once when it is not later than the step's clock), or cancelled (null). */
  | { kind: "freeze"; segmentId: string; at: number | null };

/** Stored memberships of a set of contacts (those a step asked for). */
export interface MembershipView {
  /** One contact's: whether it is a member of a segment. */
  of(contactId: string): { has(segmentId: string): boolean };
}

/** A range of contact ids, (after, upTo]; null ends are open. */
export interface IdRange {
  after: string | null;
  upTo: string | null;
}

export interface SegmentProgress {
  id: string;
  memberCount: number;
  nextWakeAt: number | null;
}

export interface StepTx {
  /** Compiles conditions once per store (see SegmentCompiler). */
  readonly compiler: SegmentCompiler;
  /**
   * Lists as evaluated, kept by the store across steps while they stay valid (SQLite: while no
   * other process changed the catalog or ran a step). The step deletes what it changes.
   */
  readonly lists: Map<string, ListState | null>;
  compareIds(a: string, b: string): number;

  /** Whether `holder` holds the engine lease now, read in the step's transaction. */
  holdsLease(holder: string, wallNow: number): Answer<boolean>;
  /** The engine's clock at its last step. */
  clock(): Answer<number>;
  /** The next feed entries after the checkpoint, in feed order, at most `max`. */
  readFeed(max: number): Answer<FeedEntry[]>;
  /**
   * Moves the checkpoint past the entries read (which the store no longer needs) and saves the
   * clock; returns the mark of everything applied so far.
   */
  saveCheckpoint(clock: number): Answer<Mark>;

  readList(listId: string): Answer<StoredList | null>;
  segment(segmentId: string): Answer<StoredSegment | null>;
  /** READY DYNAMIC segments whose next wake-up is due at `clock`, in id order. */
  dueSegments(clock: number): Answer<StoredSegment[]>;
  /** The BUILDING segment created first, if any. */
  oldestBuilding(): Answer<StoredSegment | null>;
  hasBuilding(): Answer<boolean>;
  /** READY DYNAMIC segments whose scheduled freeze is due at `clock`, in id order. */
  dueFreezes(clock: number): Answer<StoredSegment[]>;
  /** Schedules (or with null cancels) a DYNAMIC segment's freeze. */
  setFreezeAt(segmentId: string, at: number | null): Answer<void>;
  /** Turns a DYNAMIC segment STATIC, keeping its members (its overrides go: a STATIC segment's set is edited directly). */
  freeze(segmentId: string, clock: number): Answer<void>;
  /** The earliest next wake-up (a clock flip or a scheduled freeze) of any READY DYNAMIC segment. */
  nextWakeAt(): Answer<number | null>;

  /** The contacts that exist among these ids. */
  contacts(ids: readonly string[]): Answer<Map<string, ContactState>>;
  /** The ids that are contacts (of any list). */
  existing(ids: readonly string[]): Answer<Set<string>>;
  /** Stored memberships of these contacts, in every segment. */
  memberships(contactIds: readonly string[]): Answer<MembershipView>;
  /** The list's contacts whose DATE / DATETIME field is in (above, upTo]. */
  contactsInRange(listId: string, field: FieldRef, above: string | number, upTo: string | number): Answer<ContactState[]>;
  /** The smallest value of a DATE / DATETIME field above `threshold` among the list's contacts. */
  smallestAbove(listId: string, field: FieldRef, threshold: string | number): Answer<string | number | null>;
  /** Ids of the list's contacts matching a condition within a range, ascending, at most `limit`. */
  matching(listId: string, condition: Condition, at: EvalTime, range: IdRange, limit: number): Answer<string[]>;
  /** Members of a segment after an id, ascending, at most `limit`. */
  members(segmentId: string, after: string | null, limit: number): Answer<string[]>;
  /** The id of the list's `count`-th contact after `after`, in id order; null when fewer follow. */
  chunkEnd(listId: string, after: string | null, count: number): Answer<string | null>;

  /** Makes a segment's members within the range exactly `ids` (ascending); counts who entered and left. */
  replaceMembers(segment: { id: string; type: SegmentType }, range: IdRange, ids: readonly string[]): Answer<{ inserted: number; removed: number }>;
  saveBuild(segmentId: string, cursor: string, memberCount: number): Answer<void>;
  /** Makes a built segment READY; its build took its members in at `clock` (so it has no other join times). */
  finishBuild(segmentId: string, memberCount: number, nextWakeAt: number | null, clock: number): Answer<void>;
  /** A condition change to a segment still BUILDING: the build starts over with it. */
  restartBuild(segmentId: string, condition: StoredCondition, version: number, clock: number): Answer<void>;
  setCondition(segmentId: string, condition: StoredCondition, version: number, clock: number): Answer<void>;
  setClockAt(segmentId: string, clock: number): Answer<void>;

  /** The overrides of these contacts, by contact, then segment (only contacts that have any). */
  overridesOf(contactIds: readonly string[]): Answer<Map<string, Map<string, MembershipOverride>>>;
  /** Every override in a segment, by contact. */
  overridesIn(segmentId: string): Answer<Map<string, MembershipOverride>>;
  /** Sets (or with null drops) overrides in a segment. */
  setOverrides(segmentId: string, overrides: ReadonlyMap<string, MembershipOverride | null>): Answer<void>;
  /** Drops what deleted contacts left in these segments (of their list): overrides and join times. */
  forgetContacts(contactIds: readonly string[], segmentIds: readonly string[]): Answer<void>;

  /**
   * Stores entries and exits, and when each entering contact joined (`clock`). A contact's join
   * time is only read while it is a member, and it can only become one again by an entry (which
   * writes it) or in a build (which drops the segment's join times): exits leave theirs.
   */
  writeMemberships(writes: readonly MembershipWrite[], clock: number): Answer<void>;
  /** The position of the newest event, before the step appends any (-1: unknown). */
  lastEventPosition(): Answer<number>;
  /** Appends event runs in order; returns each run's sequence number. */
  appendEventRuns(runs: readonly PendingEvent[][]): Answer<number[]>;
  updateSegments(progress: readonly SegmentProgress[]): Answer<void>;
}
