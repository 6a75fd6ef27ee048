/**
 * Contacts this process has just written, as the engine step of the same process reads them,
 * keyed by the change-feed entry that wrote them: the step takes them instead of reading each
 * row back (a third of its time on an ingest).
 *
 * Exactness: feed sequence numbers are never reused (AUTOINCREMENT), and an entry is added only
 * once its transaction has committed, so the facts held for entry `seq` are the contact exactly
 * as that entry left it. A step uses them only when `seq` is the contact's last entry among those
 * it has read, so they are the contact as of the step's read position; any later write has a
 * later entry and is applied by a later step, as it would be anyway. A contact whose last entry
 * has nothing here (written by another process, or dropped) is read from its row.
 *
 * Entries are kept only while this process's engine leads (another process's engine would never
 * take them), only above what its steps have applied (a step that ran between a commit and its
 * `add` read those contacts from their rows), and at most MAX_ENTRIES of them, the oldest dropped
 * first.
 */
import type { ContactState } from "../../engine/step-tx";

const MAX_ENTRIES = 50_000;

export class WrittenFacts {
  private readonly bySeq = new Map<number, ContactState>();
  private keeping = false;
  /** The feed position this process's engine has applied through. */
  private appliedThrough = 0;

  get size(): number {
    return this.bySeq.size;
  }

  /** Whether this process's engine leads: while it does not, nothing is kept. */
  setLeading(leading: boolean): void {
    if (this.keeping === leading) return;
    this.keeping = leading;
    if (!leading) this.bySeq.clear();
  }

  /** Records contacts a committed transaction wrote, with the feed entry each was written with. */
  add(written: readonly { seq: number; contact: ContactState }[]): void {
    if (!this.keeping) return;
    for (const { seq, contact } of written) if (seq > this.appliedThrough) this.bySeq.set(seq, contact);
    let excess = this.bySeq.size - MAX_ENTRIES;
    if (excess <= 0) return;
    for (const seq of this.bySeq.keys()) {
      this.bySeq.delete(seq);
      if (--excess === 0) break;
    }
  }

  /** Records that a step applied the feed through `seq`: entries up to it will never be taken. */
  applied(seq: number): void {
    if (seq <= this.appliedThrough) return;
    this.appliedThrough = seq;
    // Kept in commit order, which is feed order but for the rare add that came after a later
    // commit's: those wait for the bound.
    for (const kept of this.bySeq.keys()) {
      if (kept > seq) break;
      this.bySeq.delete(kept);
    }
  }

  /** The contact as feed entry `seq` wrote it, if this process wrote it and still holds it; removed. */
  take(seq: number, contactId: string): ContactState | undefined {
    const contact = this.bySeq.get(seq);
    if (contact === undefined) return undefined;
    this.bySeq.delete(seq);
    return contact.id === contactId ? contact : undefined;
  }
}
