import type { Services } from "../services";
import { createLoaders, type Loaders } from "./loaders";

/** Per operation: who is asking, and fresh loaders. */
export interface Context {
  requestId: string;
  workspaceId: string;
  services: Services;
  readonly loaders: Loaders;
  /**
   * Forgets the loaders and what they cached: the next use makes new ones. After a write, so
   * later reads see it; per subscription event, so each reads fresh data.
   */
  dropLoaders(): void;
}

/** Loaders are made on first use: a subscription that never resolves a field holds none. */
export function createContext(services: Services, workspaceId: string, requestId: string): Context {
  let loaders: Loaders | undefined;
  return {
    requestId,
    workspaceId,
    services,
    get loaders() {
      return (loaders ??= createLoaders(services.store, workspaceId));
    },
    dropLoaders() {
      loaders = undefined;
    },
  };
}
