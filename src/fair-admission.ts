/**
 * Keeps new connections from starving while the server is saturated.
 *
 * libuv accepts at most one connection per turn of the event loop (since 1.45, in Node 20.3 on:
 * libuv#3696 stopped accepting in a loop), and a turn runs every request that arrived in it.
 * Saturated by a few hundred keep-alive clients, a turn lasts hundreds of milliseconds, so a
 * burst of new connections is accepted a few per second: their first requests wait in the
 * kernel's accept queue for seconds, up to client timeouts, while the connections already
 * accepted are served many times over.
 *
 * So a turn that accepted a connection, and the turn after it, start one request each, the
 * oldest waiting: each turn stays short, and the next pending connection is accepted in the next.
 * Otherwise requests start as they arrive, as without this, so requests that arrive together
 * still share a write batch and an engine step.
 */
import type http from "node:http";

/** Turns held to one request after a connection was accepted: its own and the next. */
const THROTTLED_TURNS = 2;

export function serveFairly(server: http.Server, handler: http.RequestListener): void {
  const waiting: (() => void)[] = [];
  let throttledTurns = 0;
  let scheduled = false;

  // Runs in the check phase, after the turn's I/O: starts the oldest waiting request, or all of them.
  const endOfTurn = () => {
    scheduled = false;
    if (throttledTurns > 0) {
      throttledTurns -= 1;
      waiting.shift()?.();
    } else {
      for (const start of waiting.splice(0)) start();
    }
    if (waiting.length > 0 || throttledTurns > 0) schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(endOfTurn);
  };

  server.on("connection", () => {
    throttledTurns = THROTTLED_TURNS;
    schedule();
  });
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (throttledTurns === 0 && waiting.length === 0) return void handler(req, res);
    waiting.push(() => handler(req, res));
    schedule();
  });
}
