/**
 * The service as a separate process (`node src/main.ts`, as `npm start` runs it), for tests that
 * kill it, restart it, or run two of them on one database.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { GraphQLTestClient } from "./client";

const root = join(__dirname, "..", "..");

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  client: GraphQLTestClient;
  /** Lines the process logged. */
  logs: string[];
  /** The logged lines at level error or fatal (pino's 50 and 60). */
  errorLines(): string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const children = new Set<ChildProcess>();

export function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["-r", "@swc-node/register", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", NODE_ENV: "test", RATE_LIMIT_PER_SECOND: "1000000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        const url = /segments is serving (http:\/\/\S+)"/.exec(line)?.[1];
        if (url) {
          resolve({
            child,
            url,
            wsUrl: url.replace("http://", "ws://"),
            client: new GraphQLTestClient(url),
            logs,
            errorLines: () => logs.filter((line) => line.startsWith('{"level":50') || line.startsWith('{"level":60')),
            exited,
            kill: (signal = "SIGKILL") => {
              child.kill(signal);
              return exited;
            },
          });
        }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`the server exited (${code}) before serving:\n${logs.join("\n")}`)));
  });
}

/** Runs one of the project's scripts (scripts/*.ts) to completion. */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "@swc-node/register", join("scripts", script), ...args],
      { cwd: root, env: { ...process.env, LOG_LEVEL: "warn", ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Kills every child still running (call in afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}
