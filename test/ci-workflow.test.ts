/**
 * The GitHub Actions workflow (.github/workflows/ci.yml) cannot run on this project's own
 * machines: it is held here to the workflow schema (action-validator, the JSON schema GitHub's
 * editor uses) and to what its jobs must do.
 */
import { validateWorkflow } from "@action-validator/core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const source = readFileSync(join(__dirname, "..", ".github", "workflows", "ci.yml"), "utf8");
type Step = { run?: string; uses?: string; name?: string };
const workflow = parse(source) as { jobs: Record<string, { env?: Record<string, string>; steps: Step[] }> };
const runs = (job: string) => workflow.jobs[job]!.steps.map((step) => step.run ?? "").join("\n");

test("the workflow is valid", () => {
  expect(validateWorkflow(source).errors).toEqual([]);
});

test("one job runs .ci/run, as the project's CI does", () => {
  expect(runs("sqlite")).toMatch(/^bash \.ci\/run$/m);
});

test("one job runs the whole suite on a MongoDB 8 single-node replica set, started, initiated and health-checked", () => {
  const job = workflow.jobs.mongodb!;
  expect(job.env?.MONGODB_URI).toMatch(/^mongodb:\/\/127\.0\.0\.1:27017\/\?replicaSet=rs0$/);
  const script = runs("mongodb");
  expect(script).toMatch(/mongo:8\.\d+ --replSet rs0/);
  expect(script).toMatch(/rs\.initiate\(\{ _id: "rs0"/);
  expect(script).toMatch(/--health-cmd/);
  expect(script).toMatch(/State\.Health\.Status/);
  expect(script).toMatch(/^npm ci$/m);
  expect(script).toMatch(/^npm test$/m);
});
