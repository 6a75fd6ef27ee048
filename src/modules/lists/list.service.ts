import { decodeCursor, encodeCursor, pageSize } from "../../common/cursor";
import { badInput, conflict, notFound } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import { Limits } from "../../common/limits";
import { cleanName } from "../../common/text";
import { catalogOf, CUSTOM_FIELD_KEY, type CustomFieldDef, type CustomFieldType, dates, type ParsedCondition, parseCondition, segmentRefValues, storedSegmentRefs } from "../../conditions";
import type { Caller } from "../../caller";
import type { ServiceDeps } from "../../services";
import type { ListRecord, SegmentRecord, TimeKey } from "../../stores/port";

const FIELD_TYPES: readonly CustomFieldType[] = ["TEXT", "NUMBER", "DATE", "DATETIME", "BOOLEAN"];

export interface CustomFieldShape {
  key: string;
  label?: string | null;
  type: string;
}

function cleanCustomField(input: CustomFieldShape, path: string): CustomFieldDef {
  if (typeof input.key !== "string" || !CUSTOM_FIELD_KEY.test(input.key)) {
    throw badInput(`${path}.key: a key is a letter followed by letters, digits or underscores (at most 64)`, { field: `${path}.key` });
  }
  if (!FIELD_TYPES.includes(input.type as CustomFieldType)) throw badInput(`${path}.type: unknown field type`, { field: `${path}.type` });
  const label = input.label == null ? null : cleanName(input.label, `${path}.label`);
  return { key: input.key, label, type: input.type as CustomFieldType };
}

/** IANA names only: letters, digits and _ + - in /-separated parts (offsets such as "+01:00" are not names). */
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** The canonical name of an IANA time zone the runtime knows; anything else is BAD_USER_INPUT. */
function cleanTimeZone(input: string | null | undefined): string {
  if (input == null) return dates.UTC;
  const zone = TIME_ZONE_NAME.test(input) && input.length <= 64 ? dates.canonicalTimeZone(input) : null;
  if (zone === null) {
    const shown = input.length > 64 ? `${input.slice(0, 64)}…` : input;
    throw badInput(`timeZone: ${JSON.stringify(shown)} is not a known IANA time zone (such as "Europe/Oslo" or "UTC")`, { field: "timeZone" });
  }
  return zone;
}

/**
 * Parses a condition for a list: against its custom fields, in its time zone, its inSegment
 * references to segments of the same list. For a segment's own condition (`owner`), a reference
 * that would make a cycle is refused, naming the segments on it.
 */
export async function parseListCondition(ctx: Caller, list: ListRecord, input: unknown, owner?: SegmentRecord): Promise<ParsedCondition> {
  const options = { timeZone: list.timeZone };
  if (segmentRefValues(input).length === 0) return parseCondition(input, catalogOf(list.customFields), options);
  const segments = await ctx.loaders.segmentsByList.load(list.id);
  const byId = new Map(segments.map((segment) => [segment.id, segment]));
  // Which referenced ids are segments elsewhere (another list, or another workspace: unknown).
  const elsewhere = new Set<string>();
  for (const id of storedSegmentRefs(input)) if (!byId.has(id) && (await ctx.loaders.segment(id))) elsewhere.add(id);
  const refsOf = (segment: SegmentRecord) => [...storedSegmentRefs(segment.condition)];
  const name = (segment: SegmentRecord) => JSON.stringify(segment.name);
  /** A chain of references from a segment to the owner, if any. */
  const pathToOwner = (from: SegmentRecord, seen = new Set<string>()): SegmentRecord[] | null => {
    if (from.id === owner!.id) return [from];
    if (seen.has(from.id)) return null;
    seen.add(from.id);
    for (const ref of refsOf(from)) {
      const next = byId.get(ref);
      const rest = next ? pathToOwner(next, seen) : null;
      if (rest) return [from, ...rest];
    }
    return null;
  };
  const segmentRef = (globalId: string, path: string): string => {
    const fail = (message: string): never => {
      throw badInput(`${path}: ${message}`, { conditionPath: path });
    };
    const id = fromGlobalId(globalId, "Segment");
    if (id === null) return fail(`${JSON.stringify(globalId.length > 40 ? `${globalId.slice(0, 40)}…` : globalId)} is not a segment id`);
    const segment = byId.get(id);
    if (!segment) return fail(elsewhere.has(id) ? "the segment belongs to another list; inSegment can only use segments of the same list" : "no such segment (it may have been deleted)");
    if (owner) {
      const cycle = pathToOwner(segment);
      if (cycle) return fail(`this reference would make a cycle: ${[owner, ...cycle].map(name).join(" → ")}`);
    }
    return id;
  };
  return parseCondition(input, catalogOf(list.customFields), { ...options, segmentRef });
}

/** Time-ordered keyset cursors ("newest first"), shared by lists and contacts. */
export function timeCursor(kind: string, key: TimeKey): string {
  return encodeCursor(kind, [key.createdAt, key.id]);
}

export function decodeTimeCursor(kind: string, cursor: string | null | undefined): TimeKey | undefined {
  if (cursor == null) return undefined;
  const [createdAt, id] = decodeCursor(cursor, kind, 2);
  if (!/^-?\d{1,16}$/.test(createdAt!) || !/^[A-Za-z0-9_-]{1,64}$/.test(id!)) {
    throw badInput(`"${cursor}" is not a valid cursor here`, { argument: "after" });
  }
  return { createdAt: Number(createdAt), id: id! };
}

/** The list behind a global id, if it exists in the caller's workspace. */
export async function findList(ctx: Caller, id: string): Promise<ListRecord | null> {
  const storeId = fromGlobalId(id, "ContactList");
  return storeId === null ? null : ctx.loaders.list(storeId);
}

/** The same, for mutations: an unknown id is NOT_FOUND. */
export async function requireList(ctx: Caller, id: string): Promise<ListRecord> {
  const list = await findList(ctx, id);
  if (!list) throw notFound("ContactList", id);
  return list;
}

export class ListService {
  constructor(private readonly deps: ServiceDeps) {}

  async create(ctx: Caller, input: { name: string; customFields?: CustomFieldShape[] | null; timeZone?: string | null }): Promise<ListRecord> {
    const name = cleanName(input.name, "name");
    const timeZone = cleanTimeZone(input.timeZone);
    const fields = (input.customFields ?? []).map((field, index) => cleanCustomField(field, `customFields[${index}]`));
    if (fields.length > Limits.maxCustomFields) throw badInput(`customFields: at most ${Limits.maxCustomFields}`, { field: "customFields" });
    const keys = new Set<string>();
    for (const field of fields) {
      if (keys.has(field.key)) throw badInput(`customFields: the key ${field.key} is declared twice`, { field: "customFields" });
      keys.add(field.key);
    }
    return this.deps.store.createList({ workspaceId: ctx.workspaceId, name, customFields: fields, timeZone }, this.deps.clock.now());
  }

  async page(ctx: Caller, first: number | null | undefined, after: string | null | undefined) {
    const size = pageSize(first, Limits.maxPageSize);
    const page = await this.deps.store.pageLists(ctx.workspaceId, size, decodeTimeCursor("l", after));
    return {
      ...page,
      cursors: page.items.map((list) => timeCursor("l", list)),
      count: () => this.deps.store.countLists(ctx.workspaceId),
    };
  }

  async update(ctx: Caller, id: string, input: { name?: string | null; addCustomFields?: CustomFieldShape[] | null }): Promise<ListRecord> {
    const list = await requireList(ctx, id);
    const name = input.name == null ? undefined : cleanName(input.name, "name");
    let customFields: CustomFieldDef[] | undefined;
    if (input.addCustomFields && input.addCustomFields.length > 0) {
      customFields = [...list.customFields];
      input.addCustomFields.forEach((raw, index) => {
        const field = cleanCustomField(raw, `addCustomFields[${index}]`);
        const existing = customFields!.findIndex((f) => f.key === field.key);
        if (existing < 0) {
          customFields!.push(field);
        } else if (customFields![existing]!.type !== field.type) {
          throw conflict(`the custom field ${field.key} is ${customFields![existing]!.type}; its type cannot change`, {
            field: `addCustomFields[${index}].type`,
          });
        } else if (field.label !== null) {
          customFields![existing] = { ...customFields![existing]!, label: field.label };
        }
      });
      if (customFields.length > Limits.maxCustomFields) throw badInput(`a list has at most ${Limits.maxCustomFields} custom fields`);
    }
    const updated = await this.deps.store.updateList(list.id, { name, customFields }, this.deps.clock.now());
    if (!updated) throw notFound("ContactList", id);
    ctx.dropLoaders();
    return updated;
  }

  async delete(ctx: Caller, id: string): Promise<string> {
    const list = await requireList(ctx, id);
    if (!(await this.deps.store.deleteList(list.id, this.deps.clock.now()))) throw notFound("ContactList", id);
    ctx.dropLoaders();
    await this.deps.feed.refresh();
    return id;
  }
}
