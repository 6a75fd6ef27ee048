/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside the commit that
 * crosses the threshold: on the event loop, it copies every page written since the last one back
 * into the database file and syncs it, stalling requests for tens to hundreds of milliseconds.
 * Here a second connection, on its own thread, runs PASSIVE checkpoints on a timer instead; a
 * PASSIVE checkpoint never blocks readers or the writer, and skips frames still in use.
 *
 * While the worker runs, the main connection's automatic checkpoint is off. If the worker fails,
 * it is turned back on, so the WAL never grows without bound.
 *
 * A checkpoint ends with an fsync of the database file, and on a journalling file system the
 * main thread's own writes to the WAL may wait for it (seen here: 5–12 ms on ext4). Bulk
 * background writes (retention) therefore run `exclusive` of checkpoints: a lock word in shared
 * memory that either side takes without blocking the other; the worker skips a turn, the main
 * thread waits asynchronously.
 */
import type Database from "better-sqlite3";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { WAL_AUTOCHECKPOINT_PAGES } from "./database";

export interface CheckpointerOptions {
  /** How often the worker checkpoints. */
  intervalMs?: number;
  /** The main connection's automatic checkpoint threshold (pages) to restore if the worker fails; openDatabase's by default. */
  fallbackPages?: number;
  onError?: (error: unknown) => void;
}

/** States of the lock word shared with the worker. */
const FREE = 0;
const CHECKPOINTING = 1;
const WRITING = 2;

// Plain JavaScript run with `eval`, so the worker needs no TypeScript loader in any runtime.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 0");
db.pragma("cache_size = -256");
const lock = new Int32Array(workerData.lock);
const timer = setInterval(() => {
  if (Atomics.compareExchange(lock, 0, ${FREE}, ${CHECKPOINTING}) !== ${FREE}) return;
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch (error) { if (error.code !== "SQLITE_BUSY") throw error; }
  finally { Atomics.store(lock, 0, ${FREE}); }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

function withoutNodeOptions(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _, ...rest } = env;
  return rest;
}

export class BackgroundCheckpointer {
  private worker: Worker | null;
  private readonly exited: Promise<void>;
  private readonly lock = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly options: CheckpointerOptions = {},
  ) {
    db.pragma("wal_autocheckpoint = 0");
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve("better-sqlite3"), path, intervalMs: options.intervalMs ?? 100, lock: this.lock.buffer },
      // None of the parent's Node options, from its command line or NODE_OPTIONS: a preloaded
      // module (`-r @swc-node/register`, as `npm start` runs the service) would load into the
      // worker too and outgrow its small heap.
      execArgv: [],
      env: withoutNodeOptions(process.env),
      // It holds one connection and a timer: a small heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => {
      this.worker!.once("error", (error) => this.fail(error));
      this.worker!.once("exit", () => {
        if (this.worker) this.fail(new Error("the WAL checkpoint worker exited"));
        resolve();
      });
    });
  }

  private fail(error: unknown): void {
    if (!this.worker) return;
    this.worker = null;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.options.fallbackPages ?? WAL_AUTOCHECKPOINT_PAGES}`);
    this.options.onError?.(error);
  }

  /**
   * Runs `write` (synchronous) when no checkpoint is under way, and keeps checkpoints from
   * starting until it returns. Waits, without blocking the event loop, for one that runs.
   */
  async exclusive<T>(write: () => T): Promise<T> {
    while (this.worker && Atomics.compareExchange(this.lock, 0, FREE, WRITING) !== FREE) await sleep(1);
    try {
      return write();
    } finally {
      Atomics.store(this.lock, 0, FREE);
    }
  }

  /** Stops the worker and waits until its connection is closed. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    // Held until it exits: an unreferenced worker would let the process end mid-stop.
    worker.ref();
    worker.postMessage("stop");
    await this.exited;
  }
}
