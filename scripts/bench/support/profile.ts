/**
 * CPU profiles. A profiling re-run starts server children with `--cpu-prof` and profiles
 * in-process code with the same V8 sampling profiler (node:inspector), scoped to the measured
 * section. Each measured section is a window (monotonic µs, the clock V8 stamps samples with),
 * so a server's profile is read only where the scenario measured, not over its start-up.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join, relative } from "node:path";
import { ROOT } from "./server";
import type { BenchContext } from "./types";

export interface Window {
  label: string;
  start: number;
  end: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))));
}

export class Profiling {
  readonly windows: Window[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Marks a measured section (servers started with --cpu-prof are read within it). */
  async window<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const start = monotonicUs();
    try {
      return await fn();
    } finally {
      this.windows.push({ label, start, end: monotonicUs() });
      // Kept beside the profiles, so they can be read again later (Profiling.load).
      writeFileSync(join(this.dir, "windows.json"), JSON.stringify(this.windows));
    }
  }

  /** A profile folder written earlier, with its windows, to report on again. */
  static load(dir: string): Profiling {
    const profiling = new Profiling(dir);
    if (existsSync(join(dir, "windows.json"))) profiling.windows.push(...(JSON.parse(readFileSync(join(dir, "windows.json"), "utf8")) as Window[]));
    return profiling;
  }

  /**
   * Profiles this process while fn runs, into <dir>/bench-<label>.cpuprofile. The report reads it
   * within the windows fn marks itself (see window()), or as a whole when it marks none.
   */
  async inProcess<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const session = new Session();
    session.connect();
    await post(session, "Profiler.enable");
    await post(session, "Profiler.setSamplingInterval", { interval: 1000 });
    await post(session, "Profiler.start");
    try {
      return await fn();
    } finally {
      const { profile } = await post<{ profile: CpuProfile }>(session, "Profiler.stop");
      writeFileSync(join(this.dir, `bench-${label.replace(/[^\w.-]+/g, "_")}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
  }

  /** The top self-time functions of every profile written, within the measured windows (grouped by label). */
  report(top = 15): string {
    const lines: string[] = [];
    const files = readdirSync(this.dir, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".cpuprofile"))
      .sort();
    if (files.length === 0) return "  (no profile was written)";
    for (const file of files) {
      const profile = JSON.parse(readFileSync(join(this.dir, file), "utf8")) as CpuProfile;
      const overlapping = this.windows.filter((w) => w.end > profile.startTime && w.start < profile.endTime);
      const groups = new Map<string, Window[]>();
      for (const w of overlapping) groups.set(w.label, [...(groups.get(w.label) ?? []), w]);
      if (groups.size === 0) groups.set("whole profile", [{ label: "whole profile", start: profile.startTime, end: profile.endTime }]);
      for (const [label, windows] of groups) {
        const seconds = windows.reduce((sum, w) => sum + (w.end - w.start), 0) / 1e6;
        lines.push(`  ${relative(ROOT, join(this.dir, file))} — "${label}" (${windows.length > 1 ? `${windows.length} windows, ` : ""}${seconds.toFixed(2)} s)`);
        lines.push(...topFunctions(profile, windows, top).map((line) => `    ${line}`));
      }
    }
    return lines.join("\n");
  }
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Source-map "mappings" as, per generated line, segments [generated column, source line]. */
function decodeMappings(mappings: string): [number, number][][] {
  const lines: [number, number][][] = [];
  let sourceLine = 0;
  for (const line of mappings.split(";")) {
    const segments: [number, number][] = [];
    let column = 0;
    for (const segment of line.split(",")) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0]!;
      if (fields.length >= 4) {
        sourceLine += fields[2]!;
        segments.push([column, sourceLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

/**
 * Profiles locate TypeScript functions in the JavaScript that @swc-node/register produced. This
 * compiles the file again the same way (same tsconfig, same cache) and reads its source map, so
 * the report names TypeScript lines.
 */
class SourceLines {
  private readonly maps = new Map<string, [number, number][][] | null>();

  tsLine(file: string, line: number, column: number): number | null {
    let map = this.maps.get(file);
    if (map === undefined) {
      map = null;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { compile } = require("@swc-node/register/register") as { compile: (code: string, file: string, options: object) => string };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { readDefaultTsConfig } = require("@swc-node/register/read-default-tsconfig") as { readDefaultTsConfig: () => Record<string, unknown> };
        const options = { ...readDefaultTsConfig(), module: 1 /* CommonJS, as register() sets it */ };
        const code = compile(readFileSync(file, "utf8"), file, options);
        const inline = /sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
        if (inline) map = decodeMappings(JSON.parse(Buffer.from(inline[1]!, "base64").toString("utf8")).mappings as string);
      } catch {
        map = null;
      }
      this.maps.set(file, map);
    }
    if (!map) return null;
    for (let l = Math.min(line, map.length - 1); l >= 0; l--) {
      const segments = map[l]!;
      if (segments.length === 0) continue;
      let best = segments[0]!;
      if (l === line) for (const segment of segments) if (segment[0] <= column) best = segment;
      return best[1] + 1;
    }
    return null;
  }
}

const sourceLines = new SourceLines();

function location(frame: ProfileNode["callFrame"]): string {
  let url = frame.url;
  if (url.startsWith("file://")) url = url.slice("file://".length);
  let line = frame.lineNumber + 1;
  if (url.startsWith(ROOT) && url.endsWith(".ts") && !url.includes("node_modules")) {
    line = sourceLines.tsLine(url, frame.lineNumber, frame.columnNumber) ?? line;
  }
  if (url.startsWith(ROOT)) url = relative(ROOT, url);
  url = url.replace(/^.*node_modules\//, "node_modules/");
  return url ? `${url}:${line}` : "(native)";
}

/** Where a frame's code lives: a package, a src/ folder, node internals, or native. */
function area(frame: ProfileNode["callFrame"]): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native: V8 builtins, better-sqlite3, …)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node: internals";
  const local = relative(ROOT, url.replace(/^file:\/\//, ""));
  return local.split("/").slice(0, 2).join("/");
}

export function topFunctions(profile: CpuProfile, windows: readonly { start: number; end: number }[], top: number): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  const times: number[] = [];
  for (const delta of profile.timeDeltas) times.push((t += delta));
  for (let i = 0; i < profile.samples.length; i++) {
    const at = times[i]!;
    if (!windows.some((w) => at >= w.start && at <= w.end)) continue;
    // A sample stands for the time until the next one.
    const duration = i + 1 < times.length ? times[i + 1]! - at : 0;
    const frame = byId.get(profile.samples[i]!)!.callFrame;
    if (frame.functionName === "(idle)") {
      idle += duration;
      continue;
    }
    busy += duration;
    const key = `${frame.functionName || "(anonymous)"}  ${location(frame)}`;
    self.set(key, (self.get(key) ?? 0) + duration);
    const where = area(frame);
    areas.set(where, (areas.get(where) ?? 0) + duration);
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const lines = [`busy ${ms(busy).trim()} ms, idle ${ms(idle).trim()} ms; top self time (ms, % of busy):`];
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${ms(us)} ${pct(us)}  ${key}`);
  lines.push("by area:");
  for (const [key, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`${ms(us)} ${pct(us)}  ${key}`);
  return lines;
}

/** Runs fn as a measured section: a window for server profiles when profiling, else just fn. */
export function measured<T>(ctx: BenchContext, label: string, fn: () => Promise<T>): Promise<T> {
  return ctx.profiling ? ctx.profiling.window(label, fn) : fn();
}

/** Runs fn as a measured section of in-process code: profiled in this process when profiling. */
export function measuredInProcess<T>(ctx: BenchContext, label: string, fn: () => Promise<T>): Promise<T> {
  return ctx.profiling ? ctx.profiling.inProcess(label, () => ctx.profiling!.window(label, fn)) : fn();
}
