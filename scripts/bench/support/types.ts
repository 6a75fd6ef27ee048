/** What a scenario reports: its figures (one table row each) and notes for the reader. */
import type { Fixtures } from "./fixtures";
import type { Profiling } from "./profile";

export interface Target {
  op: "<=" | ">=" | "==";
  value: number | string;
}

export interface Figure {
  label: string;
  value: number | string;
  unit: string;
  /** Absent for figures reported for information only. */
  target?: Target;
  /** Whether the target is met (computed from value and target when absent). */
  pass?: boolean;
}

export interface ScenarioResult {
  id: number;
  name: string;
  figures: Figure[];
  notes: string[];
  seconds: number;
  error?: string;
}

export interface BenchContext {
  quick: boolean;
  fixtures: Fixtures;
  /** Present when this run is a profiling re-run. */
  profiling: Profiling | null;
  log(message: string): void;
}

export interface Scenario {
  id: number;
  name: string;
  run(ctx: BenchContext): Promise<{ figures: Figure[]; notes: string[] }>;
}

export function verdict(figure: Figure): "PASS" | "MISS" | "" {
  if (!figure.target) return figure.pass === undefined ? "" : figure.pass ? "PASS" : "MISS";
  if (figure.pass !== undefined) return figure.pass ? "PASS" : "MISS";
  const { op, value } = figure.target;
  const v = figure.value;
  if (typeof v !== "number" || typeof value !== "number") return v === value ? "PASS" : "MISS";
  const ok = op === "<=" ? v <= value : op === ">=" ? v >= value : v === value;
  return Number.isFinite(v) && ok ? "PASS" : "MISS";
}
