/**
 * node -r @swc-node/register scripts/bench/tools/profile-report.ts .bench/profiles/<run>-s<n> [top=15]
 *
 * Prints the report of a profile folder written by `npm run bench -- --profile` again (top
 * self-time functions within the measured windows, TypeScript lines).
 */
import { Profiling } from "../support/profile";

const [dir, top] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node -r @swc-node/register scripts/bench/tools/profile-report.ts <profile folder> [top]");
  process.exit(2);
}
console.log(Profiling.load(dir).report(Number(top ?? 15)));
