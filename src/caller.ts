import { createLoaders, type Loaders } from "./loaders";
import type { Store } from "./stores/port";

/**
 * Whom a service call acts for: the workspace it may see, and the loaders that read it, made on
 * first use (a call that reads nothing through them holds none). A GraphQL operation's context
 * is one (graphql/context.ts); scripts make their own.
 *
 * `loaders` is a getter on the prototype: Apollo Server runs every operation on a shallow copy of
 * the context (`Object.assign` onto an object of the same prototype), which would turn a getter
 * defined on the object itself into a fixed value, made at once and left in place by
 * `dropLoaders`. On the prototype it stays a getter on the copy too.
 */
export class Caller {
  private made: Loaders | undefined = undefined;

  constructor(
    private readonly store: Store,
    readonly workspaceId: string,
  ) {}

  get loaders(): Loaders {
    return (this.made ??= createLoaders(this.store, this.workspaceId));
  }

  /**
   * Forgets the loaders and what they cached: the next use makes new ones. After a write, so
   * later reads see it; per subscription event, so each reads fresh data.
   */
  dropLoaders(): void {
    this.made = undefined;
  }
}
