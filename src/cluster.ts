/**
 * WORKERS=N: the primary process of a node:cluster. It opens no store and serves nothing itself;
 * it starts N serving workers (HTTP and WebSocket on the one shared port, store connection, no
 * engine) and one engine worker (the membership engine and the webhook sender, no HTTP), so that
 * the engine's steps never queue behind requests and requests never behind steps. A worker that
 * dies is replaced; a new engine worker takes the lease of the one that died at once (its holder
 * is a process of this host that no longer exists). On SIGTERM / SIGINT the serving workers stop
 * as one service does (main.ts), the engine worker after them (so that their last writes are
 * applied), and then the primary exits. With ENGINE=false no engine worker is started.
 *
 * The primary accepts the connections on the service's port and hands each to the serving worker
 * with the fewest open (node:cluster's own round robin gives each new connection to whichever
 * worker answered first, and a burst of connections opened at once ended 48 to 17 between two
 * workers: kept-alive connections carry a client's requests for as long as it runs, so the one
 * worker served three quarters of them).
 *
 * Workers take their stop from the primary, not from the terminal: Ctrl-C signals the whole
 * process group, and a worker that counted that SIGINT and then the primary's request as two
 * signals would force its exit.
 */
import cluster, { type Worker } from "node:cluster";
import type http from "node:http";
import net, { type AddressInfo } from "node:net";
import { AggregatorRegistry } from "prom-client";
import type { Config } from "./config";
import type { Logger } from "./logger";

/** Messages from the primary to its workers. */
export const STOP = "segments:stop";
export const FORCE_STOP = "segments:force-stop";
/** A worker asks for the cluster's metrics; the primary answers with every worker's, aggregated. */
export const METRICS_REQUEST = "segments:metrics";
export const METRICS_REPLY = "segments:metrics-reply";
/** The primary hands a serving worker a connection (the socket rides along with the message). */
const CONNECTION = "segments:connection";
/** A serving worker to the primary: it takes connections; one it was handed closed; it takes no more. */
const ACCEPTING = "segments:accepting";
const CONNECTION_CLOSED = "segments:connection-closed";
const DRAINING = "segments:draining";

/** What a worker does: serve requests, or run the engine (config.workerRole, from SEGMENTS_WORKER). */
type WorkerRole = Config["workerRole"];
const ROLE_VARIABLE = "SEGMENTS_WORKER";

/** A worker that exits with this code could not start (bad configuration): it is not restarted. */
export const EXIT_CANNOT_START = 2;

/** Restart delay after a worker died: doubles while workers keep dying young. */
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;
/** A worker that served this long before dying is not counted as crashing in a loop. */
const HEALTHY_AFTER_MS = 10_000;

export function runPrimary(config: Config, logger: Logger, where: Record<string, string>): void {
  const log = logger.child({ component: "cluster" });
  let stopping = false;
  let announced = false;
  let restartDelay = FIRST_RESTART_DELAY_MS;
  let exitCode = 0;
  const startedAt = new Map<number, number>();
  const roles = new Map<number, WorkerRole>();

  // Connections, handed to the serving worker with the fewest open; kept while none takes them.
  // Among workers with as few open, the one handed a connection longest ago: connections opened
  // and closed one at a time (each closed before the next arrives) go to each worker in turn.
  type Taker = { worker: Worker; open: number; handedAt: number };
  const takers = new Map<number, Taker>();
  let handOffs = 0;
  const waiting: net.Socket[] = [];
  const balancer = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => handOff(socket));
  const handOff = (socket: net.Socket): void => {
    let chosen: Taker | undefined;
    for (const [id, taker] of takers) {
      if (!taker.worker.isConnected()) takers.delete(id);
      else if (!chosen || taker.open < chosen.open || (taker.open === chosen.open && taker.handedAt < chosen.handedAt)) chosen = taker;
    }
    if (!chosen) {
      if (stopping) socket.destroy();
      else waiting.push(socket);
      return;
    }
    const { worker } = chosen;
    chosen.open++;
    chosen.handedAt = ++handOffs;
    worker.send({ type: CONNECTION }, socket, (error) => {
      if (!error) return;
      takers.delete(worker.id);
      if (!socket.destroyed) handOff(socket);
    });
  };
  const stopAccepting = (id: number) => {
    takers.delete(id);
    if (stopping && takers.size === 0 && balancer.listening) balancer.close();
  };
  const announce = () => {
    if (announced || stopping || takers.size < config.workers || !balancer.listening) return;
    announced = true;
    const address = balancer.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}/graphql`;
    log.info({ url, workers: config.workers, engineWorker: config.engineEnabled, ...where }, `segments is serving ${url}`);
  };

  const aggregated = new AggregatorRegistry();
  cluster.on("message", (worker: Worker, message: { type?: string; id?: string }) => {
    switch (message?.type) {
      case ACCEPTING:
        if (stopping) return;
        if (!takers.has(worker.id)) takers.set(worker.id, { worker, open: 0, handedAt: 0 });
        for (const socket of waiting.splice(0)) if (!socket.destroyed) handOff(socket);
        announce();
        return;
      case CONNECTION_CLOSED: {
        const taker = takers.get(worker.id);
        if (taker) taker.open = Math.max(0, taker.open - 1);
        return;
      }
      case DRAINING:
        stopAccepting(worker.id);
        return;
    }
    if (message?.type !== METRICS_REQUEST) return;
    aggregated.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: METRICS_REPLY, id: message.id, text }),
      (error: Error) => worker.isConnected() && worker.send({ type: METRICS_REPLY, id: message.id, error: error.message }),
    );
  });

  const fork = (role: WorkerRole): Worker => {
    // Serving workers never take the engine lease, and leave the WAL's checkpoints to the engine worker when there is one.
    const serving = { [ROLE_VARIABLE]: role, ENGINE: "false", ...(config.engineEnabled ? { SEGMENTS_CHECKPOINTS: "engine-worker" } : {}) };
    const worker = cluster.fork(role === "serve" ? serving : { [ROLE_VARIABLE]: role });
    startedAt.set(worker.id, Date.now());
    roles.set(worker.id, role);
    return worker;
  };
  const alive = (role?: WorkerRole) =>
    Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && (role === undefined || roles.get(worker.id) === role));

  cluster.on("exit", (worker: Worker, code: number | null, signal: string | null) => {
    const role = roles.get(worker.id) ?? "serve";
    stopAccepting(worker.id);
    roles.delete(worker.id);
    const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      // The engine stops once nothing is left to write through the serving workers.
      if (alive("serve").length === 0) for (const engine of alive("engine")) if (engine.isConnected()) engine.send(STOP);
      if (alive().length === 0) {
        log.info({ exitCode }, exitCode === 0 ? "stopped cleanly" : "stopped; some workers did not stop cleanly");
        process.exit(exitCode);
      }
      return;
    }
    if (code === EXIT_CANNOT_START && !announced) {
      log.fatal({ pid: worker.process.pid, role }, "a worker could not start; stopping");
      stopAll("startup failure", EXIT_CANNOT_START);
      return;
    }
    restartDelay = lived >= HEALTHY_AFTER_MS ? FIRST_RESTART_DELAY_MS : Math.min(MAX_RESTART_DELAY_MS, restartDelay * 2);
    log.error({ pid: worker.process.pid, role, code, signal, restartInMs: restartDelay }, "a worker died; starting another");
    setTimeout(() => {
      if (!stopping) fork(role);
    }, restartDelay);
  });

  const stopAll = (reason: string, code = 0) => {
    stopping = true;
    exitCode = code;
    for (const socket of waiting.splice(0)) socket.destroy();
    if (takers.size === 0 && balancer.listening) balancer.close();
    log.info({ reason }, "stopping every worker");
    if (alive().length === 0) process.exit(exitCode);
    const serving = alive("serve");
    for (const worker of serving.length > 0 ? serving : alive()) if (worker.isConnected()) worker.send(STOP);
    // Each worker bounds its own stop; this bounds theirs together.
    setTimeout(
      () => {
        log.error("workers still running past the stop budget: killing them");
        for (const worker of alive()) worker.process.kill("SIGKILL");
        process.exit(1);
      },
      2 * (config.shutdownDelayMs + config.shutdownTimeoutMs) + 20_000,
    ).unref();
  };

  const onSignal = (signal: string) => {
    if (!stopping) return stopAll(signal);
    log.warn({ signal }, "a second signal: workers give up their stop");
    for (const worker of alive()) if (worker.isConnected()) worker.send(FORCE_STOP);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  const cannotListen = (error: NodeJS.ErrnoException) => {
    log.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(EXIT_CANNOT_START);
  };
  balancer.once("error", cannotListen);
  balancer.listen(config.port, config.host, () => {
    // Once listening, an error is one connection's (accept failing for want of file descriptors, say), not the service's end.
    balancer.off("error", cannotListen);
    balancer.on("error", (error) => log.error({ err: error }, "accepting a connection failed"));
    if (config.engineEnabled) fork("engine");
    for (let i = 0; i < config.workers; i++) fork("serve");
  });
}

/**
 * A serving worker's side of the primary's hand-off: each connection the primary sends becomes
 * one of `server`'s own, as if it had accepted it. Returns what tells the primary to send no
 * more (the worker's stop).
 */
export function takeConnectionsFromPrimary(server: http.Server): { stopTaking(): void } {
  const onMessage = (message: { type?: string } | undefined, socket: net.Socket | undefined) => {
    if (message?.type !== CONNECTION) return;
    // Gone while on its way: it counts as closed at once.
    if (!socket) return void process.send?.({ type: CONNECTION_CLOSED });
    socket.once("close", () => process.connected && process.send?.({ type: CONNECTION_CLOSED }));
    server.emit("connection", socket);
    socket.resume();
  };
  process.on("message", onMessage);
  process.send?.({ type: ACCEPTING });
  return {
    stopTaking() {
      if (process.connected) process.send?.({ type: DRAINING });
    },
  };
}
