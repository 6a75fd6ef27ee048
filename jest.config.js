/**
 * Two projects: everything runs on the embedded SQLite store; the store behaviour suites run a
 * second time on MongoDB when MONGODB_URI points at a replica set.
 * @type {import('jest').Config}
 */
const base = {
  testEnvironment: "node",
  rootDir: __dirname,
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: {
          parser: { syntax: "typescript", decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: "es2022",
        },
        module: { type: "commonjs" },
        sourceMaps: "inline",
      },
    ],
  },
  setupFiles: ["reflect-metadata"],
};

/**
 * The suites that exercise the store: through the API (lists, contacts, segments, the engine,
 * events), and through whole processes on one database (crash safety, two processes, a clean
 * stop, verify, replay, fuzzing), each on databases of its own (test/support/stores.ts).
 */
const STORE_SUITES = [
  "vendor-story",
  "lists",
  "contacts",
  "pagination",
  "segments",
  "subscriptions",
  "event-log",
  "time",
  "time-zones",
  "batching",
  "crash-safety",
  "two-processes",
  "clean-stop",
  "verify",
  "replay",
  "security/fuzz",
  "manual-membership",
  "explanations",
  "freezing",
  "history",
  "references",
  "workers",
  "webhooks",
  "webhook-faults",
  "webhook-restart",
  "imports",
  "import-faults",
  "exports",
  "seed",
];

const projects = [{ ...base, displayName: "sqlite", testMatch: ["<rootDir>/test/**/*.test.ts"] }];
if (process.env.MONGODB_URI) {
  projects.push({
    ...base,
    displayName: "mongodb",
    testMatch: STORE_SUITES.map((name) => `<rootDir>/test/integration/${name}.test.ts`),
    setupFiles: [...base.setupFiles, "<rootDir>/test/support/use-mongodb.ts"],
  });
} else if (!process.env.JEST_WORKER_ID && !global.__segmentsSkipNoted) {
  global.__segmentsSkipNoted = true;
  console.log(
    "MongoDB store suite skipped: MONGODB_URI is not set. With a replica set running, " +
      "MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' npm test runs it as well (see README).",
  );
}

module.exports = {
  projects,
  testTimeout: 60_000,
  // Each file gets its own server and database; two workers fit a 2-core machine.
  maxWorkers: 2,
};
