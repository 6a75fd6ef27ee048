/**
 * npm run bench [-- --quick] [--only 1,3] [--json FILE] [--profile] [--keep]
 * npm run bench -- --soak [minutes]   (the soak of soak.ts instead of the scenarios)
 *
 * Runs the benchmark scenarios (scripts/bench/scenarios/) against the embedded store and prints
 * one row per figure: scenario, figure, target, verdict. --quick runs a reduced version of each;
 * --profile re-runs the chosen scenarios with CPU profiles (servers under --cpu-prof, in-process
 * code under the same V8 profiler) into .bench/profiles/ and prints the top self-time functions.
 * Not part of npm test.
 */
import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Fixtures } from "./support/fixtures";
import { Profiling } from "./support/profile";
import { BENCH_DIR, killChildren, TMP_DIR } from "./support/server";
import { fmt } from "./support/stats";
import { type BenchContext, type Figure, type Scenario, type ScenarioResult, verdict } from "./support/types";
import { ingest } from "./scenarios/01-ingest";
import { segmentBuild } from "./scenarios/02-segment-build";
import { changeToPush } from "./scenarios/03-change-to-push";
import { matchingCost } from "./scenarios/04-matching-cost";
import { incrementalVsRebuild } from "./scenarios/05-incremental-vs-rebuild";
import { fanOut } from "./scenarios/06-fan-out";
import { readsUnderLoad } from "./scenarios/07-reads-under-load";
import { memory } from "./scenarios/08-memory";
import { timeFlips } from "./scenarios/09-time-flips";
import { housekeeping } from "./scenarios/10-housekeeping";
import { segmentPower } from "./scenarios/11-segment-power";
import { scaleOut } from "./scenarios/15-scale-out";
import { webhooks } from "./scenarios/14-webhooks";
import { importHttp } from "./scenarios/12-import-http";
import { exportCsv } from "./scenarios/13-export";
import { runSoak } from "./soak";

const SCENARIOS: Scenario[] = [ingest, segmentBuild, changeToPush, matchingCost, incrementalVsRebuild, fanOut, readsUnderLoad, memory, timeFlips, housekeeping, segmentPower, webhooks, scaleOut, importHttp, exportCsv];

/** The commit measured, and whether src/ had uncommitted changes (read-only git commands). */
function revision(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { encoding: "utf8" }).trim();
    return dirty ? `${commit} + uncommitted changes in src/` : commit;
  } catch {
    return "unknown";
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    revision: revision(),
  };
}

function formatValue(figure: Figure): string {
  const { value, unit } = figure;
  const text = typeof value === "number" ? (Number.isInteger(value) || Math.abs(value) >= 100 ? fmt(value) : fmt(value, Math.abs(value) >= 10 ? 1 : 2)) : value;
  return unit ? `${text} ${unit}` : text;
}

function formatTarget(figure: Figure): string {
  if (!figure.target) return "";
  const { op, value } = figure.target;
  const sign = op === "<=" ? "≤" : op === ">=" ? "≥" : "=";
  const text = typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 2 }) : value;
  return `${sign} ${text}${figure.unit && typeof value === "number" ? ` ${figure.unit}` : ""}`;
}

export function table(results: ScenarioResult[]): string {
  const rows: string[][] = [["scenario", "figure", "value", "target", "verdict"]];
  for (const result of results) {
    if (result.error) rows.push([`${result.id}. ${result.name}`, "ERROR", result.error.split("\n")[0]!.slice(0, 120), "", "MISS"]);
    result.figures.forEach((figure, i) => rows.push([i === 0 && !result.error ? `${result.id}. ${result.name}` : "", figure.label, formatValue(figure), formatTarget(figure), verdict(figure)]));
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

async function runScenario(scenario: Scenario, ctx: BenchContext): Promise<ScenarioResult> {
  const started = performance.now();
  ctx.log(`▶ ${scenario.id}. ${scenario.name}${ctx.profiling ? " (profiling)" : ""}`);
  try {
    const { figures, notes } = await scenario.run(ctx);
    const seconds = (performance.now() - started) / 1000;
    for (const figure of figures) ctx.log(`   ${figure.label}: ${formatValue(figure)} ${figure.target ? `(target ${formatTarget(figure)}: ${verdict(figure)})` : ""}`);
    for (const note of notes) ctx.log(`   · ${note}`);
    ctx.log(`   (${seconds.toFixed(1)} s)`);
    return { id: scenario.id, name: scenario.name, figures, notes, seconds };
  } catch (error) {
    const seconds = (performance.now() - started) / 1000;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    ctx.log(`   ERROR: ${message}`);
    return { id: scenario.id, name: scenario.name, figures: [], notes: [], seconds, error: message };
  }
}

async function main(): Promise<number> {
  const soakAt = process.argv.indexOf("--soak");
  if (soakAt >= 0) {
    const given = process.argv[soakAt + 1];
    const minutes = given !== undefined && /^\d+$/.test(given) ? Number(given) : 10;
    const log = (message: string) => console.log(message);
    log(`segments soak — ${minutes} min; machine: ${JSON.stringify(machine())}`);
    return runSoak({ quick: false, fixtures: new Fixtures(false, TMP_DIR, log), profiling: null, log }, minutes);
  }
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      only: { type: "string" },
      profile: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log("usage: npm run bench -- [--quick] [--only 1,3,...] [--json FILE] [--profile] [--keep]\n       npm run bench -- --soak [minutes]");
    return 0;
  }
  const chosen = values.only ? values.only.split(",").map((x) => Number(x.trim())) : SCENARIOS.map((s) => s.id);
  const unknown = chosen.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(", ")}; scenarios are 1–${SCENARIOS.length}`);
    return 2;
  }
  const selected = SCENARIOS.filter((s) => chosen.includes(s.id));
  const quick = values.quick!;
  const host = machine();
  const started = performance.now();
  const log = (message: string) => console.log(message);
  log(`segments benchmark — ${quick ? "QUICK (reduced sizes)" : "full"} run of scenario(s) ${selected.map((s) => s.id).join(", ")}`);
  log(`machine: ${host.cpu}, ${host.cores} cores, ${host.ramGiB} GiB RAM, Node ${host.node}, ${host.platform}, ${host.date}, load average ${host.loadAverage.join(" ")}, code ${host.revision}`);

  const fixtures = new Fixtures(quick, TMP_DIR, log);
  const ctx: BenchContext = { quick, fixtures, profiling: null, log };
  const results: ScenarioResult[] = [];
  const profiles: { id: number; name: string; dir: string; report: string; result: ScenarioResult }[] = [];
  try {
    for (const scenario of selected) results.push(await runScenario(scenario, ctx));
    if (values.profile) {
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      for (const scenario of selected) {
        const profiling = new Profiling(join(BENCH_DIR, "profiles", `${stamp}-s${scenario.id}`));
        const result = await runScenario(scenario, { ...ctx, profiling });
        profiles.push({ id: scenario.id, name: scenario.name, dir: profiling.dir, report: profiling.report(), result });
      }
    }
  } finally {
    if (!values.keep) fixtures.cleanup();
  }
  const totalSeconds = (performance.now() - started) / 1000;

  log("");
  log(`machine: ${host.cpu}, ${host.cores} cores, ${host.ramGiB} GiB RAM, Node ${host.node}, ${host.date}${quick ? " — QUICK run (reduced sizes; targets are the full run's)" : ""}`);
  log(table(results));
  log(`total ${totalSeconds.toFixed(1)} s`);
  for (const profile of profiles) {
    log("");
    log(`profile of ${profile.id}. ${profile.name} (figures of the profiled run are slowed by the profiler: ${profile.result.figures.map((f) => `${f.label} ${formatValue(f)}`).join("; ")})`);
    log(profile.report);
  }

  if (values.json) {
    const file = resolve(values.json);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        {
          mode: quick ? "quick" : "full",
          machine: host,
          totalSeconds,
          scenarios: results.map((r) => ({ ...r, figures: r.figures.map((f) => ({ ...f, verdict: verdict(f) })) })),
          profiles: profiles.map((p) => ({ id: p.id, dir: p.dir, report: p.report })),
        },
        null,
        2,
      ),
    );
    log(`figures written to ${file}`);
  }
  const failed = results.some((r) => r.error);
  return failed ? 1 : 0;
}

process.on("SIGINT", () => {
  killChildren();
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (error) => {
    killChildren();
    console.error(error);
    process.exit(1);
  },
);
