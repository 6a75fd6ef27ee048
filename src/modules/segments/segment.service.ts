import { decodeCursor, encodeCursor, pageSize } from "../../common/cursor";
import { badInput, notFound } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import { Limits } from "../../common/limits";
import { cleanName } from "../../common/text";
import { evalTime } from "../../conditions";
import type { Caller } from "../../caller";
import type { ServiceDeps } from "../../services";
import type { ContactRecord, SegmentRecord, SegmentType } from "../../stores/port";
import { parseListCondition, requireList } from "../lists/list.service";

export class SegmentService {
  constructor(private readonly deps: ServiceDeps) {}

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
    ctx.dropLoaders();
    const segment = await ctx.loaders.segment(id);
    if (!segment) throw notFound("Segment", id);
    return segment;
  }

  async create(ctx: Caller, input: { listId: string; name: string; type: SegmentType; condition: unknown }): Promise<SegmentRecord> {
    const list = await requireList(ctx, input.listId);
    const name = cleanName(input.name, "name");
    const { stored } = parseListCondition(list, input.condition);
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
      condition = parseListCondition(list, input.condition).stored;
    }
    const now = this.deps.clock.now();
    if (name !== undefined && !(await this.deps.store.renameSegment(segment.id, name, now))) throw notFound("Segment", id);
    if (condition !== undefined) await this.deps.store.requestConditionChange(segment.id, condition, now);
    return this.settled(ctx, segment.id);
  }

  async delete(ctx: Caller, id: string): Promise<string> {
    const segment = await this.require(ctx, id);
    if (!(await this.deps.store.deleteSegment(segment.id, this.deps.clock.now()))) throw notFound("Segment", id);
    ctx.dropLoaders();
    await this.deps.feed.refresh();
    return id;
  }

  async preview(ctx: Caller, listId: string, conditionInput: unknown, sample: number | null | undefined) {
    const list = await requireList(ctx, listId);
    const size = sample ?? 10;
    if (!Number.isInteger(size) || size < 0 || size > Limits.maxPreviewSample) {
      throw badInput(`sample must be between 0 and ${Limits.maxPreviewSample}`, { argument: "sample" });
    }
    const { ast } = parseListCondition(list, conditionInput);
    const at = evalTime(this.deps.clock.now(), list.timeZone);
    const [count, page] = await Promise.all([
      this.deps.store.countContacts(list.id, ast, at),
      size === 0 ? Promise.resolve({ items: [] as ContactRecord[] }) : this.deps.store.pageContacts(list.id, { first: size, where: ast, at }),
    ]);
    return { count, sample: page.items };
  }

  async members(ctx: Caller, segment: SegmentRecord, first: number | null | undefined, after: string | null | undefined) {
    const size = pageSize(first, Limits.maxPageSize);
    let afterId: string | undefined;
    if (after != null) {
      afterId = decodeCursor(after, "m", 1)[0];
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(afterId!)) throw badInput(`"${after}" is not a valid cursor here`, { argument: "after" });
    }
    const page = await this.deps.store.pageMembers(segment.id, size, afterId);
    const contacts = await ctx.loaders.contacts.loadMany(page.items);
    const items = contacts.filter((c): c is ContactRecord => c !== null && !(c instanceof Error));
    return {
      items,
      hasNextPage: page.hasNextPage,
      cursors: items.map((contact) => encodeCursor("m", [contact.id])),
      count: async () => segment.memberCount,
    };
  }
}
