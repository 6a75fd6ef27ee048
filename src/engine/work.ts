/**
 * Engine logic written once for a synchronous store (SQLite, inside one better-sqlite3
 * transaction) and an asynchronous one (MongoDB, inside one session transaction): the logic is a
 * generator that yields each store answer it needs and is resumed with the value; each store
 * drives it, with `runSync` or `runAsync`.
 *
 *   const contacts = yield* ask(tx.contacts(ids));
 */

/** A value a store gives now (SQLite) or later (MongoDB). */
export type Answer<T> = T | PromiseLike<T>;

/** Engine logic that yields store answers and returns T. */
export type Work<T> = Generator<Answer<unknown>, T, unknown>;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Waits for one store answer: `const rows = yield* ask(tx.rows())`. */
export function* ask<T>(answer: Answer<T>): Work<T> {
  return (yield answer) as T;
}

/** Runs work whose store answers at once; a promise among them is a programming error. */
export function runSync<T>(work: Work<T>): T {
  let next = work.next();
  while (!next.done) {
    if (isPromiseLike(next.value)) {
      work.return(undefined as T);
      throw new Error("a synchronous store answered with a promise");
    }
    next = work.next(next.value);
  }
  return next.value;
}

/** Runs work whose store answers may be promises; a failed answer is thrown into the work. */
export async function runAsync<T>(work: Work<T>): Promise<T> {
  let next = work.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value;
    } catch (error) {
      next = work.throw(error);
      continue;
    }
    next = work.next(value);
  }
  return next.value;
}
