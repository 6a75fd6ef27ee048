/**
 * Draining HTTP requests on stop. Apollo's drain plugin ends every socket that has no request in
 * flight, upgraded WebSocket connections included, which cuts subscribers off without a close
 * frame; here only HTTP requests are waited for, and WebSockets are left to graphql-ws (closed
 * with 1001 once their last events are sent).
 */
import type http from "node:http";

export class RequestDrain {
  private inFlight = 0;
  private closing = false;
  private idle: (() => void)[] = [];

  constructor(private readonly server: http.Server) {
    // Registered before the request handler, so a response made while closing asks its client to close.
    server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
      this.inFlight++;
      if (this.closing) res.setHeader("connection", "close");
      res.once("close", () => {
        this.inFlight--;
        if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    });
  }

  /** Requests started and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Stops accepting connections and waits for the requests in flight. Resolves true when they
   * all finished within `timeoutMs`; false when the time ran out, and their connections were
   * closed. WebSocket connections are not touched.
   */
  async close(timeoutMs: number): Promise<boolean> {
    this.closing = true;
    // Stops listening; Node also closes the keep-alive connections that wait for no response.
    this.server.close();
    let finished = this.inFlight === 0;
    if (!finished) {
      let timer: NodeJS.Timeout | undefined;
      finished = await Promise.race([
        new Promise<boolean>((resolve) => this.idle.push(() => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    if (finished) this.server.closeIdleConnections();
    else this.server.closeAllConnections();
    return finished;
  }
}
