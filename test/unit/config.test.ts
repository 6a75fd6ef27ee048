import { availableParallelism } from "node:os";
import { ConfigError, loadConfig } from "../../src/config";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe("WORKERS", () => {
  it("is one process unless set; a number, or auto for one per core", () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: "3" }).workers).toBe(3);
    expect(loadConfig({ WORKERS: "auto" }).workers).toBe(availableParallelism());
    expect(loadConfig({ WORKERS: "AUTO" }).workers).toBe(availableParallelism());
  });

  it("refuses what is not a count of processes, naming the variable", () => {
    for (const bad of ["0", "-1", "two", "1.5", "257"]) {
      expect(problems({ WORKERS: bad })).toEqual([expect.stringMatching(/^WORKERS: expected a whole number from 1 to 256, got/)]);
    }
  });

  it("refuses several processes on an in-memory database, which they cannot share", () => {
    expect(problems({ WORKERS: "2", SQLITE_PATH: ":memory:" })).toEqual([expect.stringMatching(/^WORKERS: several processes cannot share an in-memory SQLite database/)]);
    expect(problems({ WORKERS: "1", SQLITE_PATH: ":memory:" })).toEqual([]);
  });
});

describe("SEGMENTS_WORKER (set by the cluster primary)", () => {
  it("says what a worker was started for: serving unless told engine", () => {
    expect(loadConfig({}).workerRole).toBe("serve");
    expect(loadConfig({ SEGMENTS_WORKER: "engine" }).workerRole).toBe("engine");
    expect(problems({ SEGMENTS_WORKER: "both" })).toEqual([expect.stringMatching(/^SEGMENTS_WORKER: set by the cluster primary to serve or engine/)]);
  });

  it("SEGMENTS_CHECKPOINTS=engine-worker leaves the WAL's checkpoints to the engine worker", () => {
    expect(loadConfig({}).walCheckpoints).toBe(true);
    expect(loadConfig({ SEGMENTS_CHECKPOINTS: "engine-worker" }).walCheckpoints).toBe(false);
    expect(problems({ SEGMENTS_CHECKPOINTS: "none" })).toEqual([expect.stringMatching(/^SEGMENTS_CHECKPOINTS: set by the cluster primary to engine-worker/)]);
  });
});
