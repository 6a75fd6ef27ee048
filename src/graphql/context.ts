import type { Services } from "../services";
import { createLoaders, type Loaders } from "./loaders";

/** Per operation: who is asking, and fresh loaders. */
export interface Context {
  requestId: string;
  workspaceId: string;
  services: Services;
  loaders: Loaders;
}

export function createContext(services: Services, workspaceId: string, requestId: string): Context {
  return { requestId, workspaceId, services, loaders: createLoaders(services.store, workspaceId) };
}
