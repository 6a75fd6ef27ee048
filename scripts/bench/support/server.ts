/**
 * The service under test: as a child process (`node -r @swc-node/register src/main.ts`, the
 * real entry, NODE_ENV=production) for traffic and memory scenarios, or as an in-process App
 * (config → store → engine, no HTTP) for scenarios about the engine.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type App, type AppOptions, createApp } from "../../../src/app";
import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logger";
import { Gql } from "./http";
import type { BenchContext } from "./types";

export const ROOT = join(__dirname, "..", "..", "..");
export const BENCH_DIR = join(ROOT, ".bench");
export const TMP_DIR = join(BENCH_DIR, "tmp");

/**
 * Limits lifted so the bench measures the service, not its protections. RATE_LIMIT_PER_SECOND
 * is at the maximum config.ts accepts (10,000,000).
 */
export const BENCH_ENV: Record<string, string> = {
  NODE_ENV: "production",
  RATE_LIMIT_PER_SECOND: "10000000",
  MAX_QUERY_COST: "100000000",
  MAX_CONNECTIONS_PER_KEY: "1000000",
};

export interface ChildServer {
  pid: number;
  url: string;
  wsUrl: string;
  gql: Gql;
  startupMs: number;
  /** Resident set size now, in KiB (VmRSS). */
  rssKiB(): number;
  /** Peak resident set size, in KiB (VmHWM). */
  peakKiB(): number;
  /** CPU time run so far, in ms: by the event-loop thread, and by all the process's threads. */
  cpuMs(): { eventLoop: number; process: number };
  logTail(): string[];
  /** SIGTERM, then waits for the exit; says whether the service logged "stopped cleanly" and exited 0. */
  stop(): Promise<{ stoppedCleanly: boolean }>;
}

const children = new Set<ChildProcess>();

/** Kills every child server still running (on an abnormal exit of the runner). */
export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

export function procStatusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]);
}

/**
 * CPU time of a process, in ms: its main (event-loop) thread's from the scheduler's
 * nanosecond count, the whole process's (every thread, live or exited) from its tick counts.
 */
export function procCpuMs(pid: number): { eventLoop: number; process: number } {
  const eventLoop = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { eventLoop, process: (ticks * 1000) / CLOCK_TICKS_PER_SECOND };
}

/** USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time in ms of a process and of every process below it (a cluster's workers), in all and by pid. */
export function treeCpuMs(root: number): { ms: number; processes: number; byPid: Map<number, number> } {
  const parentOf = new Map<number, number>();
  const ticksOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parentOf.set(Number(entry), Number(fields[1]));
      ticksOf.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // Gone meanwhile.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let at: number | undefined = pid; at !== undefined && at > 0; at = parentOf.get(at)) if (at === root) return true;
    return false;
  };
  const byPid = new Map<number, number>();
  for (const [pid, ticks] of ticksOf) if (inTree(pid)) byPid.set(pid, (ticks * 1000) / CLOCK_TICKS_PER_SECOND);
  return { ms: [...byPid.values()].reduce((sum, ms) => sum + ms, 0), processes: byPid.size, byPid };
}

/** What a service process is, from its environment: a cluster's "engine" or "serve" worker, or the one process ("primary" of a cluster, or a service alone). */
export function serviceRole(pid: number): string {
  try {
    const role = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((entry) => entry.startsWith("SEGMENTS_WORKER="));
    return role ? `${role.slice("SEGMENTS_WORKER=".length)} worker` : "service";
  } catch {
    return "gone";
  }
}

/** The machine's CPU time since boot, in ms summed over its cores: busy (all but idle and I/O wait), and in all. */
function machineCpuMs(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS_PER_SECOND, total: (total * 1000) / CLOCK_TICKS_PER_SECOND };
}

/**
 * Starts watching where the machine's cores go; the function returned stops: how busy the cores
 * were meanwhile (% of all of them) and the CPU time of this process (the bench's clients), ms.
 */
export function cpuShares(): () => { busyPercent: number; ownCpuMs: number } {
  const machineBefore = machineCpuMs();
  const ownBefore = process.cpuUsage();
  return () => {
    const machineAfter = machineCpuMs();
    const own = process.cpuUsage(ownBefore);
    return { busyPercent: (100 * (machineAfter.busy - machineBefore.busy)) / (machineAfter.total - machineBefore.total), ownCpuMs: (own.user + own.system) / 1000 };
  };
}

export async function startChildServer(ctx: BenchContext, name: string, dbPath: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const args = ["-r", "@swc-node/register", "src/main.ts"];
  // A folder per server, its files named by V8 (with their pid): a cluster's workers inherit the
  // flags, and each writes its own profile there.
  if (ctx.profiling) args.unshift("--cpu-prof", `--cpu-prof-dir=${join(ctx.profiling.dir, `server-${name}`)}`);
  // The log (one line per operation at info, the default level) goes to a file, not a pipe: a pipe
  // the bench is too busy to drain would block the server's synchronous log writes.
  const logPath = join(TMP_DIR, `${name}.log`);
  mkdirSync(TMP_DIR, { recursive: true });
  const logFd = openSync(logPath, "w");
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...BENCH_ENV, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", SQLITE_PATH: dbPath, ...env },
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  children.add(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      exitCode = code;
      resolve(code);
    }),
  );
  const logTail = () => {
    const text = readFileSync(logPath, "utf8");
    return text.slice(Math.max(0, text.length - 20_000)).split("\n").slice(-40);
  };
  let url: string | undefined;
  while (url === undefined) {
    const match = /segments is serving (http:\/\/\S+)"/.exec(readFileSync(logPath, "utf8").slice(0, 100_000));
    if (match) url = match[1]!;
    else if (exitCode !== undefined) throw new Error(`server ${name} exited (${exitCode}) before serving:\n${logTail().join("\n")}`);
    else await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const startupMs = performance.now() - started;
  ctx.log(`   server ${name} (pid ${child.pid}) serving after ${(startupMs / 1000).toFixed(1)} s`);
  const gql = new Gql(url);
  const pid = child.pid!;
  return {
    pid,
    url,
    wsUrl: url.replace("http://", "ws://"),
    gql,
    startupMs,
    rssKiB: () => procStatusKiB(pid, "VmRSS"),
    peakKiB: () => procStatusKiB(pid, "VmHWM"),
    cpuMs: () => procCpuMs(pid),
    logTail,
    async stop() {
      gql.close();
      if (exitCode !== undefined) return { stoppedCleanly: false };
      // SIGTERM: the service stops cleanly (and --cpu-prof writes its profile on that exit).
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      await exited;
      clearTimeout(timer);
      // A server that logged errors keeps its log, and the run says so: a failure the service
      // survives (a worker that died, an internal error) must not pass unseen.
      const lines = readFileSync(logPath, "utf8").split("\n");
      const errors = lines.filter((line) => /^\{"level":(50|60),/.test(line));
      if (errors.length > 0) ctx.log(`   server ${name} logged ${errors.length} error(s), log kept at ${logPath}; the first: ${errors[0]!.slice(0, 400)}`);
      else rmSync(logPath, { force: true });
      return { stoppedCleanly: exitCode === 0 && lines.some((line) => line.includes('"msg":"stopped cleanly"')) };
    },
  };
}

/** The service's composition root in this process, without HTTP: store, engine, services. */
export async function openApp(dbPath: string, options: AppOptions = {}): Promise<App> {
  const config = loadConfig({ ...BENCH_ENV, SQLITE_PATH: dbPath, LOG_LEVEL: "silent" });
  return createApp(config, createLogger("silent"), options);
}
