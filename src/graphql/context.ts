import type { Services } from "../services";
import { createLoaders, type Loaders } from "./loaders";

/**
 * Per operation: who is asking, and loaders made on first use (a subscription that never
 * resolves a field holds none, nor does a mutation that reads nothing through them).
 *
 * A class, with `loaders` a getter on its prototype: Apollo Server runs every operation on a
 * shallow copy of the context (`Object.assign` onto an object of the same prototype), which
 * would turn a getter defined on the object itself into a fixed value, made at once and left
 * in place by `dropLoaders`. On the prototype it stays a getter on the copy too.
 */
export class Context {
  private made: Loaders | undefined = undefined;

  constructor(
    readonly services: Services,
    readonly workspaceId: string,
    readonly requestId: string,
  ) {}

  get loaders(): Loaders {
    return (this.made ??= createLoaders(this.services.store, this.workspaceId));
  }

  /**
   * Forgets the loaders and what they cached: the next use makes new ones. After a write, so
   * later reads see it; per subscription event, so each reads fresh data.
   */
  dropLoaders(): void {
    this.made = undefined;
  }
}

export function createContext(services: Services, workspaceId: string, requestId: string): Context {
  return new Context(services, workspaceId, requestId);
}
