import { decodeCursor, encodeCursor, pageSize } from "../../common/cursor";
import { badInput, conflict, ErrorCode, notFound } from "../../common/errors";
import { fromGlobalId, toGlobalId } from "../../common/ids";
import { Limits } from "../../common/limits";
import { cleanName } from "../../common/text";
import { catalogOf, type ConditionNode, conditionNodes, dates, evalTime, explainCondition, storedSegmentRefs } from "../../conditions";
import { factsOf } from "../../domain/contacts";
import type { Caller } from "../../caller";
import type { ServiceDeps } from "../../services";
import type { ContactRecord, ListRecord, MemberEdit, MembershipOverride, Page, SegmentRecord, SegmentType } from "../../stores/port";
import type { RowError } from "../contacts/contact.service";
import { parseListCondition, requireList } from "../lists/list.service";

/** One node of a condition, as explainMembership and segmentPreview.breakdown show it. */
export interface NodeVerdict extends Omit<ConditionNode, "ast"> {
  actual: unknown;
  matched: boolean | null;
  count: number | null;
}

export interface Explanation {
  member: boolean;
  override: MembershipOverride | null;
  conditionMatched: boolean;
  nodes: NodeVerdict[];
}

function verdictOf({ ast: _ast, ...node }: ConditionNode): Omit<NodeVerdict, "matched" | "count"> {
  return { ...node, actual: null };
}

/** A contact's own value of a condition field, as given (age computed at `now` in the list's zone; timestamps ISO-8601). */
function actualValue(contact: ContactRecord, field: string, timeZone: string, now: number): unknown {
  if (field.startsWith("attributes.")) return contact.attributes[field.slice("attributes.".length)] ?? null;
  switch (field) {
    case "age":
      return contact.birthDate === null ? null : dates.ageOn(contact.birthDate, dates.dayPartsIn(now, timeZone));
    case "createdAt":
    case "updatedAt":
      return new Date(contact[field]).toISOString();
    default: {
      const { email, firstName, lastName, phone, country, city, gender, birthDate, tags } = contact;
      const own: Record<string, unknown> = { email, firstName, lastName, phone, country, city, gender, birthDate, tags };
      return own[field] ?? null;
    }
  }
}

export interface MembersEdited {
  segment: SegmentRecord;
  changed: number;
  errors: RowError[];
}

export class SegmentService {
  /** Segments' conditions node by node (explainMembership), kept while the condition stays the same. */
  private readonly nodes = new Map<string, { key: string; nodes: ConditionNode[] }>();

  constructor(private readonly deps: ServiceDeps) {}

  private nodesOf(segment: SegmentRecord, list: ListRecord): ConditionNode[] {
    const key = `${list.timeZone} ${JSON.stringify(list.customFields)} ${JSON.stringify(segment.condition)}`;
    const cached = this.nodes.get(segment.id);
    if (cached?.key === key) return cached.nodes;
    if (this.nodes.size >= 1_000) this.nodes.clear();
    const nodes = conditionNodes(segment.condition, catalogOf(list.customFields), list.timeZone);
    this.nodes.set(segment.id, { key, nodes });
    return nodes;
  }

  async find(ctx: Caller, id: string): Promise<SegmentRecord | null> {
    const storeId = fromGlobalId(id, "Segment");
    return storeId === null ? null : ctx.loaders.segment(storeId);
  }

  async require(ctx: Caller, id: string): Promise<SegmentRecord> {
    const segment = await this.find(ctx, id);
    if (!segment) throw notFound("Segment", id);
    return segment;
  }

  /** Waits (briefly) for the engine, then reads the segment as it now is. */
  private async settled(ctx: Caller, id: string): Promise<SegmentRecord> {
    await this.deps.engine.drain(this.deps.settings.segmentSettleMs);
    return this.reread(ctx, id);
  }

  async create(ctx: Caller, input: { listId: string; name: string; type: SegmentType; condition: unknown }): Promise<SegmentRecord> {
    const list = await requireList(ctx, input.listId);
    const name = cleanName(input.name, "name");
    const { stored } = await parseListCondition(ctx, list, input.condition);
    const segment = await this.deps.store.createSegment({ listId: list.id, name, type: input.type, condition: stored }, this.deps.clock.now());
    return this.settled(ctx, segment.id);
  }

  async update(ctx: Caller, id: string, input: { name?: string | null; condition?: unknown }): Promise<SegmentRecord> {
    const segment = await this.require(ctx, id);
    const name = input.name == null ? undefined : cleanName(input.name, "name");
    let condition: Record<string, unknown> | undefined;
    if (input.condition != null) {
      if (segment.type === "STATIC") {
        throw badInput("condition: a STATIC segment's condition is fixed at creation; create a new segment instead", { field: "condition" });
      }
      const list = (await ctx.loaders.list(segment.listId))!;
      condition = (await parseListCondition(ctx, list, input.condition, segment)).stored;
    }
    const now = this.deps.clock.now();
    if (name !== undefined && !(await this.deps.store.renameSegment(segment.id, name, now))) throw notFound("Segment", id);
    if (condition !== undefined) await this.deps.store.requestConditionChange(segment.id, condition, now);
    return this.settled(ctx, segment.id);
  }

  /**
   * Turns a DYNAMIC segment STATIC with its current members (no events): at once when `at` is
   * null or not in the future (a freeze already scheduled then happens now), else at that instant.
   */
  async freeze(ctx: Caller, id: string, at: Date | null): Promise<SegmentRecord> {
    const segment = await this.require(ctx, id);
    if (segment.type === "STATIC") {
      throw badInput(segment.frozenAt !== null ? "the segment is already frozen" : "a STATIC segment's members are already fixed: only a DYNAMIC segment can be frozen", { argument: "id" });
    }
    const now = this.deps.clock.now();
    const when = at === null ? now : at.getTime();
    if (Number.isNaN(when)) throw badInput("at is not a valid date-time", { argument: "at" });
    if (when < now && segment.freezeAt !== null) {
      throw badInput(`at is in the past while a freeze is scheduled for ${new Date(segment.freezeAt).toISOString()}: pass at: null to freeze now, or cancelSegmentFreeze`, {
        argument: "at",
      });
    }
    if (when <= now && segment.status === "BUILDING") throw conflict("the segment is still computing its members; freeze it once it is READY, or schedule the freeze", { argument: "id" });
    const mark = await this.deps.store.requestFreeze(segment.id, Math.max(when, now), now);
    await this.deps.engine.settle(mark, this.deps.settings.writeSettleMs);
    return this.reread(ctx, segment.id);
  }

  /** Cancels a scheduled freeze. */
  async cancelFreeze(ctx: Caller, id: string): Promise<SegmentRecord> {
    const segment = await this.require(ctx, id);
    if (segment.freezeAt === null) {
      throw badInput(segment.type === "STATIC" ? "the segment is STATIC: there is no freeze to cancel" : "no freeze is scheduled for this segment", { argument: "id" });
    }
    const mark = await this.deps.store.requestFreeze(segment.id, null, this.deps.clock.now());
    await this.deps.engine.settle(mark, this.deps.settings.writeSettleMs);
    return this.reread(ctx, segment.id);
  }

  /**
   * A new segment with another's condition (and, DYNAMIC, its overrides). STATIC: a snapshot of
   * the source's members once every change written so far is applied.
   */
  async duplicate(ctx: Caller, id: string, nameInput: string, type: SegmentType | null | undefined): Promise<SegmentRecord> {
    const source = await this.require(ctx, id);
    const name = cleanName(nameInput, "name");
    const as = type ?? source.type;
    if (as === "STATIC") {
      if (source.status === "BUILDING") throw conflict("the segment is still computing its members; copy it once it is READY", { argument: "id" });
      await this.deps.engine.drain(this.deps.settings.writeSettleMs);
    }
    const copy = await this.deps.store.duplicateSegment(source.id, name, as, this.deps.clock.now());
    if (!copy) throw notFound("Segment", id);
    return this.settled(ctx, copy.id);
  }

  /** The segment as stored now (the engine's changes included). */
  private async reread(ctx: Caller, id: string): Promise<SegmentRecord> {
    ctx.dropLoaders();
    const segment = await ctx.loaders.segment(id);
    if (!segment) throw notFound("Segment", id);
    return segment;
  }

  /** The segments this one's condition references with inSegment. */
  async dependsOn(ctx: Caller, segment: SegmentRecord): Promise<SegmentRecord[]> {
    const found = await Promise.all([...storedSegmentRefs(segment.condition)].map((ref) => ctx.loaders.segment(ref)));
    return found.filter((s): s is SegmentRecord => s !== null);
  }

  /** The segments of its list whose conditions reference this one. */
  async usedBy(ctx: Caller, segment: SegmentRecord): Promise<SegmentRecord[]> {
    return (await ctx.loaders.segmentsByList.load(segment.listId)).filter((other) => other.id !== segment.id && storedSegmentRefs(other.condition).has(segment.id));
  }

  async delete(ctx: Caller, id: string): Promise<string> {
    const segment = await this.require(ctx, id);
    const users = await this.usedBy(ctx, segment);
    if (users.length > 0) {
      const names = users.map((user) => JSON.stringify(user.name)).join(", ");
      throw conflict(`the segment is used by the condition${users.length > 1 ? "s" : ""} of ${names}: change or delete ${users.length > 1 ? "them" : "it"} first`, {
        usedBy: users.map((user) => toGlobalId("Segment", user.id)),
      });
    }
    if (!(await this.deps.store.deleteSegment(segment.id, this.deps.clock.now()))) throw notFound("Segment", id);
    ctx.dropLoaders();
    await this.deps.feed.refresh();
    return id;
  }

  /**
   * The count and a sample of what a condition selects now; with `breakdown`, also each node's
   * own count (all counted in one pass over the list, the root's being the count).
   */
  async preview(ctx: Caller, listId: string, conditionInput: unknown, sample: number | null | undefined, withBreakdown = false) {
    const list = await requireList(ctx, listId);
    const size = sample ?? 10;
    if (!Number.isInteger(size) || size < 0 || size > Limits.maxPreviewSample) {
      throw badInput(`sample must be between 0 and ${Limits.maxPreviewSample}`, { argument: "sample" });
    }
    const { ast, stored } = await parseListCondition(ctx, list, conditionInput);
    const at = evalTime(this.deps.clock.now(), list.timeZone);
    const nodes = withBreakdown ? conditionNodes(stored, catalogOf(list.customFields), list.timeZone) : null;
    const [counts, page] = await Promise.all([
      nodes ? this.deps.store.countEach(list.id, nodes.map((node) => node.ast), at) : this.deps.store.countContacts(list.id, ast, at).then((count) => [count]),
      size === 0 ? Promise.resolve({ items: [] as ContactRecord[] }) : this.deps.store.pageContacts(list.id, { first: size, where: ast, at }),
    ]);
    const breakdown: NodeVerdict[] | null = nodes && nodes.map((node, i) => ({ ...verdictOf(node), matched: null, count: counts[i]! }));
    return { count: counts[0]!, sample: page.items, breakdown };
  }

  /**
   * Why a contact is or is not a member of a segment now: the verdict of every node of its
   * condition with the contact's own values, and the override when one decides. Null when
   * either is unknown (or they are of different lists).
   */
  async explain(ctx: Caller, segmentId: string, contactId: string): Promise<Explanation | null> {
    const segment = await this.find(ctx, segmentId);
    const storeId = fromGlobalId(contactId, "Contact");
    const contact = storeId === null ? null : await ctx.loaders.contact(storeId);
    if (!segment || !contact || contact.listId !== segment.listId) return null;
    const list = (await ctx.loaders.list(segment.listId))!;
    const now = this.deps.clock.now();
    const catalog = catalogOf(list.customFields);
    const [segmentIds, override] = await Promise.all([
      ctx.loaders.segmentIdsByContact.load(contact.id),
      segment.type === "DYNAMIC" ? this.deps.store.overrideOf(segment.id, contact.id) : Promise.resolve(null),
    ]);
    // inSegment nodes see the contact's memberships now.
    const facts = { ...factsOf(contact, catalog, contact.createdAt, contact.updatedAt), segments: new Set(segmentIds) };
    const nodes = explainCondition(this.nodesOf(segment, list), facts, evalTime(now, list.timeZone));
    return {
      member: segmentIds.includes(segment.id),
      override,
      conditionMatched: nodes[0]!.matched,
      nodes: nodes.map((node) => ({ ...verdictOf(node), actual: node.field === null ? null : actualValue(contact, node.field, list.timeZone, now), matched: node.matched, count: null })),
    };
  }

  /**
   * A hand edit of a segment's members: ids that are not contacts of its list are row errors
   * (NOT_FOUND), the others are applied by the engine, in order with every other change, and
   * the answer counts the contacts whose membership it changed.
   */
  async editMembers(ctx: Caller, id: string, contactIds: readonly string[], edit: MemberEdit): Promise<MembersEdited> {
    const segment = await this.require(ctx, id);
    if (contactIds.length > Limits.maxContactsPerCall) {
      throw badInput(`at most ${Limits.maxContactsPerCall} contact ids per call, got ${contactIds.length}`, { argument: "contactIds" });
    }
    if (edit === "clear" && segment.type === "STATIC") {
      throw badInput("a STATIC segment has no overrides to clear: removeSegmentMembers takes contacts out of it", { argument: "segmentId" });
    }
    if (segment.status === "BUILDING") throw conflict("the segment is still computing its members; edit them once it is READY", { argument: "segmentId" });
    const storeIds = contactIds.map((contactId) => fromGlobalId(contactId, "Contact"));
    const contacts = await ctx.loaders.contacts.loadMany(storeIds.filter((storeId): storeId is string => storeId !== null));
    const ofList = new Set(contacts.flatMap((contact) => (contact && !(contact instanceof Error) && contact.listId === segment.listId ? [contact.id] : [])));
    const errors: RowError[] = [];
    const valid: string[] = [];
    storeIds.forEach((storeId, index) => {
      if (storeId !== null && ofList.has(storeId)) valid.push(storeId);
      else errors.push({ index, code: ErrorCode.NotFound, message: `no contact ${contactIds[index]} in this segment's list` });
    });
    let changed = 0;
    if (valid.length > 0) {
      const { store, engine } = this.deps;
      const before = (await store.engineStatus()).latestEvent;
      const mark = await store.requestMemberEdit(segment.id, edit, valid, this.deps.clock.now());
      await engine.settle(mark, this.deps.settings.writeSettleMs);
      // What the edit changed: its MANUAL events (the engine applied it after `before`).
      const asked = new Set(valid);
      const moved = new Set<string>();
      for (const event of await store.eventsAfter(before, { segmentId: segment.id }, 1_000_000)) {
        if (event.reason === "MANUAL" && event.contactId !== null && asked.has(event.contactId)) moved.add(event.contactId);
      }
      changed = moved.size;
    }
    ctx.dropLoaders();
    return { segment: (await ctx.loaders.segment(segment.id)) ?? segment, changed, errors };
  }

  /** A DYNAMIC segment's contacts with an override of one kind, most recently added first. */
  async overridden(ctx: Caller, segment: SegmentRecord, override: MembershipOverride, first: number | null | undefined, after: string | null | undefined) {
    const page = await this.contactPage(ctx, "o", first, after, (size, afterId) => this.deps.store.pageOverrides(segment.id, override, size, afterId));
    return { ...page, count: () => this.deps.store.countOverrides(segment.id, override) };
  }

  async members(ctx: Caller, segment: SegmentRecord, first: number | null | undefined, after: string | null | undefined) {
    const page = await this.contactPage(ctx, "m", first, after, (size, afterId) => this.deps.store.pageMembers(segment.id, size, afterId));
    const joins = await this.deps.store.joinedAt(segment.id, page.items.map((contact) => contact.id));
    // Members the build took in joined when it did.
    const built = segment.builtAt ?? segment.createdAt;
    return { ...page, joinedAt: page.items.map((contact) => joins.get(contact.id) ?? built), count: async () => segment.memberCount };
  }

  /** A page of contacts from a store's page of their ids (newest first), with cursors of `kind` naming the contact. */
  private async contactPage(
    ctx: Caller,
    kind: string,
    first: number | null | undefined,
    after: string | null | undefined,
    read: (size: number, afterId: string | undefined) => Promise<Page<string>>,
  ) {
    const size = pageSize(first, Limits.maxPageSize);
    let afterId: string | undefined;
    if (after != null) {
      afterId = decodeCursor(after, kind, 1)[0]!;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(afterId)) throw badInput(`"${after}" is not a valid cursor here`, { argument: "after" });
    }
    const page = await read(size, afterId);
    const contacts = await ctx.loaders.contacts.loadMany(page.items);
    const items = contacts.filter((c): c is ContactRecord => c !== null && !(c instanceof Error));
    return { items, hasNextPage: page.hasNextPage, cursors: items.map((contact) => encodeCursor(kind, [contact.id])) };
  }
}
