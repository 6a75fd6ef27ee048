import { pageSize } from "../../common/cursor";
import { badInput, conflict, DomainError, ErrorCode, notFound } from "../../common/errors";
import { fromGlobalId } from "../../common/ids";
import { Limits } from "../../common/limits";
import { catalogOf, type Condition, dates, evalTime, normalizeText } from "../../conditions";
import { type ContactInputShape, cleanContact, cleanContactPatch } from "../../domain/contacts";
import type { Caller } from "../../caller";
import type { ServiceDeps } from "../../services";
import type { ContactRecord, ImportJobUpdate, InsertContactsResult, ListRecord, Mark, NewContact } from "../../stores/port";
import { decodeTimeCursor, parseListCondition, requireList, timeCursor } from "../lists/list.service";

export interface RowError {
  index: number;
  code: string;
  message: string;
}

/** What a batch of rows did: contacts added and updated, and the rows refused. */
export interface WriteOutcome {
  added: number;
  updated: number;
  errors: RowError[];
}

export class ContactService {
  constructor(private readonly deps: ServiceDeps) {}

  async find(ctx: Caller, id: string): Promise<ContactRecord | null> {
    const storeId = fromGlobalId(id, "Contact");
    return storeId === null ? null : ctx.loaders.contact(storeId);
  }

  private async require(ctx: Caller, id: string): Promise<ContactRecord> {
    const contact = await this.find(ctx, id);
    if (!contact) throw notFound("Contact", id);
    return contact;
  }

  /** Parses a `where` condition against the list's custom fields (and its segments, for inSegment). */
  async condition(ctx: Caller, list: ListRecord, where: unknown): Promise<Condition | undefined> {
    return where == null ? undefined : (await parseListCondition(ctx, list, where)).ast;
  }

  async page(ctx: Caller, list: ListRecord, first: number | null | undefined, after: string | null | undefined, where: unknown) {
    const size = pageSize(first, Limits.maxPageSize);
    const condition = await this.condition(ctx, list, where);
    const at = evalTime(this.deps.clock.now(), list.timeZone);
    const page = await this.deps.store.pageContacts(list.id, { first: size, after: decodeTimeCursor("c", after), where: condition, at });
    return {
      ...page,
      cursors: page.items.map((contact) => timeCursor("c", contact)),
      count: () => this.deps.store.countContacts(list.id, condition, at),
    };
  }

  /** Lets the engine apply a write (up to its mark) before the mutation returns, so reads reflect it. */
  private settle(mark: Mark | null): Promise<boolean> {
    return this.deps.engine.settle(mark, this.deps.settings.writeSettleMs);
  }

  async add(ctx: Caller, listId: string, input: ContactInputShape): Promise<ContactRecord> {
    const list = await requireList(ctx, listId);
    const catalog = catalogOf(list.customFields);
    const data = cleanContact(input, catalog);
    // The patch is only read by an upsert; a plain insert must not validate the input as one.
    const row = { data, patch: { fields: {} } };
    const result = await this.deps.store.insertContacts(list, [row], false, this.deps.clock.now());
    if (result.conflicts.length > 0) throw conflict(`a contact with the email ${data.email} already exists in this list`, { field: "email" });
    await this.settle(result.mark);
    ctx.dropLoaders();
    return (await ctx.loaders.contact(result.ids[0]!))!;
  }

  async addMany(ctx: Caller, listId: string, rows: ContactInputShape[], upsert: boolean) {
    const list = await requireList(ctx, listId);
    if (rows.length > Limits.maxContactsPerCall) {
      throw badInput(`addContacts takes at most ${Limits.maxContactsPerCall} contacts per call, got ${rows.length}`, { argument: "contacts" });
    }
    const outcome = await this.write(list, rows, upsert);
    ctx.dropLoaders();
    return outcome;
  }

  /**
   * Validates rows against the list, writes the valid ones in one transaction and lets the engine
   * apply them (as every contact write): addContacts and CSV imports alike. Refused rows are errors
   * by index into `rows`; their messages name a row by `rowNumbers[index]` (by default its index).
   * With `job`, that import's progress, made from the outcome, is written in the same transaction.
   */
  async write(
    list: ListRecord,
    rows: readonly ContactInputShape[],
    upsert: boolean,
    options: { rowNumbers?: readonly number[]; job?: { id: string; progress(outcome: WriteOutcome): ImportJobUpdate } } = {},
  ): Promise<WriteOutcome> {
    const catalog = catalogOf(list.customFields);
    const errors: RowError[] = [];
    const accepted: NewContact[] = [];
    const positions: number[] = [];
    const firstRowOfEmail = new Map<string, number>();
    const rowNumber = (index: number) => options.rowNumbers?.[index] ?? index;
    rows.forEach((row, index) => {
      try {
        const data = cleanContact(row, catalog);
        const key = normalizeText(data.email);
        const earlier = firstRowOfEmail.get(key);
        if (earlier !== undefined && !upsert) {
          errors.push({ index, code: ErrorCode.Conflict, message: `the email ${data.email} repeats row ${rowNumber(earlier)}` });
          return;
        }
        if (earlier === undefined) firstRowOfEmail.set(key, index);
        accepted.push({ data, patch: upsert ? cleanContactPatch(row, catalog) : { fields: {} } });
        positions.push(index);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        errors.push({ index, code: error.code, message: error.message });
      }
    });
    const outcomeOf = (result: InsertContactsResult): WriteOutcome => {
      const all = [...errors];
      for (const conflictIndex of result.conflicts) {
        const index = positions[conflictIndex]!;
        all.push({ index, code: ErrorCode.Conflict, message: `a contact with the email ${accepted[conflictIndex]!.data.email} already exists in this list` });
      }
      all.sort((a, b) => a.index - b.index);
      return { added: result.added, updated: result.updated, errors: all };
    };
    const { job } = options;
    const batch = job && { jobId: job.id, wallNow: Date.now(), update: (result: InsertContactsResult) => job.progress(outcomeOf(result)) };
    const result = await this.deps.store.insertContacts(list, accepted, upsert, this.deps.clock.now(), batch);
    await this.settle(result.mark);
    return outcomeOf(result);
  }

  async update(ctx: Caller, id: string, input: ContactInputShape): Promise<ContactRecord> {
    const storeId = fromGlobalId(id, "Contact");
    if (storeId === null) throw notFound("Contact", id);
    // The contact and its list are read where the write happens, not before it.
    const patchFor = (list: ListRecord) => cleanContactPatch(input, catalogOf(list.customFields));
    const updated = await this.deps.store.updateContact(storeId, ctx.workspaceId, patchFor, this.deps.clock.now());
    if (!updated) throw notFound("Contact", id);
    await this.settle(updated.mark);
    ctx.dropLoaders();
    return updated.value;
  }

  async delete(ctx: Caller, id: string): Promise<string> {
    const contact = await this.require(ctx, id);
    const deleted = await this.deps.store.deleteContact(contact.id, this.deps.clock.now());
    if (!deleted) throw notFound("Contact", id);
    await this.settle(deleted.mark);
    ctx.dropLoaders();
    return id;
  }

  /** Age in whole years as of now in the list's time zone, or null. */
  age(contact: ContactRecord, timeZone: string): number | null {
    if (contact.birthDate === null) return null;
    const now = this.deps.clock.now();
    return dates.ageOn(contact.birthDate, dates.dayPartsIn(now, timeZone));
  }
}
