/**
 * HTTP bodies streamed chunk by chunk (node:http, with back-pressure), for the CSV endpoints: a
 * test can write part of a file, wait, read the answer's first bytes before the upload ends, or
 * cut the connection mid-upload like a client that leaves.
 */
import http from "node:http";
import { generateApiKey } from "../../src/security/api-keys";
import type { TestServer } from "./harness";

/** Where a test server serves its HTTP endpoints (beside /graphql). */
export function baseUrl(server: TestServer): string {
  return server.server.url.replace(/\/graphql$/, "");
}

/** A new API key of a workspace, in a test server's store, as the header that sends it. */
export async function keyHeader(server: TestServer, workspaceId: string): Promise<{ authorization: string }> {
  const { key, prefix, hash } = generateApiKey();
  await server.app.store.createApiKey({ workspaceId, name: null, prefix, hash }, Date.now());
  return { authorization: `Bearer ${key}` };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface Upload {
  /** Writes a chunk; resolves once the socket has taken it (a server that stops reading holds it back). */
  write(chunk: string | Buffer): Promise<void>;
  end(chunk?: string | Buffer): void;
  /** Cuts the connection, as a client that leaves mid-upload. */
  abort(): void;
  /** The answer's status and its first bytes, as soon as they arrive (a 202 comes before the upload ends). */
  started: Promise<Answer>;
  /** The whole answer. */
  answer: Promise<Answer>;
}

export function openUpload(url: string, headers: Record<string, string> = {}): Upload {
  const request = http.request(url, { method: "POST", headers: { "content-type": "text/csv", ...headers } });
  let responded = false;
  let onStarted!: (answer: Answer) => void;
  let onAnswer!: (answer: Answer) => void;
  let fail!: (error: Error) => void;
  const started = new Promise<Answer>((resolve) => (onStarted = resolve));
  const answer = new Promise<Answer>((resolve, reject) => {
    onAnswer = resolve;
    fail = reject;
  });
  // A test that cuts the connection may never ask for the answer.
  answer.catch(() => undefined);
  request.on("response", (response) => {
    responded = true;
    let text = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      text += chunk;
      onStarted({ status: response.statusCode!, headers: response.headers, text });
    });
    response.on("end", () => {
      const whole = { status: response.statusCode!, headers: response.headers, text };
      onStarted(whole);
      onAnswer(whole);
    });
    response.on("error", (error) => fail(error));
  });
  // Once the server has answered, a write it no longer reads (EPIPE, reset) is not the test's failure.
  request.on("error", (error) => {
    if (!responded) fail(error);
  });
  return {
    write: (chunk) =>
      new Promise((resolve) => {
        if (request.destroyed) return resolve();
        if (request.write(chunk)) resolve();
        else request.once("drain", resolve).once("close", resolve);
      }),
    end: (chunk) => void request.end(chunk),
    abort: () => void request.destroy(),
    started,
    answer,
  };
}

/** POSTs a whole body and waits for the whole answer. */
export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const upload = openUpload(url, headers);
  upload.end(body);
  return upload.answer;
}

/** GETs a path and waits for the whole answer. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { headers });
  const out: Record<string, string> = {};
  response.headers.forEach((value, key) => (out[key] = value));
  return { status: response.status, headers: out, text: await response.text() };
}

/** The JSON of an answer. */
export function json<T = { importId?: string; errors?: { message: string; extensions: Record<string, unknown> & { code: string } }[] }>(answer: Answer): T {
  return JSON.parse(answer.text) as T;
}
