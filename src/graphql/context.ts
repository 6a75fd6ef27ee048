import { Caller } from "../caller";
import type { Services } from "../services";

/** Per operation: who is asking (a Caller, for the services), and the request's id for the log. */
export class Context extends Caller {
  constructor(
    readonly services: Services,
    workspaceId: string,
    readonly requestId: string,
  ) {
    super(services.store, workspaceId);
  }
}

export function createContext(services: Services, workspaceId: string, requestId: string): Context {
  return new Context(services, workspaceId, requestId);
}
