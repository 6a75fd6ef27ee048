/**
 * The console's HTTP client: typed documents POSTed to /graphql with the session's API key.
 * A refused key (401) signs the session out.
 */
import type { TypedDocumentString } from "../gql/graphql";

export interface ApiErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; conditionPath?: string; [key: string]: unknown };
}

/** A request that failed: GraphQL errors, a refusal over HTTP, or no answer at all. */
export class ApiError extends Error {
  constructor(
    readonly errors: ApiErrorShape[],
    readonly status = 200,
  ) {
    super(errors.map((error) => error.message).join("; ") || `the service answered ${status}`);
    this.name = "ApiError";
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

const KEY_STORAGE = "segments.apiKey";
export const httpUrl = new URL("/graphql", location.href).href;
export const wsUrl = httpUrl.replace(/^http/, "ws");

/** The API key of this browser tab (sessionStorage: gone when the tab closes), or null in open mode. */
export const session = {
  get key(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set key(key: string | null) {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  },
  /** Called when the service refuses the key (or asks for one): the console shows its sign-in. */
  onRefused: (_message: string) => {},
  authorization(): string | null {
    const key = this.key;
    return key ? `Bearer ${key}` : null;
  },
};

export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  const authorization = session.authorization();
  let response: Response;
  try {
    response = await fetch(httpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError([{ message: "the service cannot be reached", extensions: { code: "NETWORK" } }], 0);
  }
  if (!response.ok) throw errorOf(response.status, await response.text());
  const body = (await response.json()) as { data?: TResult | null; errors?: ApiErrorShape[] };
  if (body.errors?.length || !body.data) throw new ApiError(body.errors ?? [], response.status);
  return body.data;
}

/** The error an answer that is not OK carries (JSON errors, as every endpoint of the service sends); a 401 signs the session out. */
function errorOf(status: number, text: string): ApiError {
  let errors: ApiErrorShape[] | undefined;
  try {
    errors = (JSON.parse(text) as { errors?: ApiErrorShape[] }).errors;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  const error = new ApiError(errors?.length ? errors : [{ message: `the service answered ${status}` }], status);
  if (status === 401) session.onRefused(error.message);
  return error;
}

/** Downloads a file the service serves (a CSV export) with the session's key, under the name the service gives it. */
export async function download(path: string): Promise<void> {
  const authorization = session.authorization();
  const response = await fetch(path, { headers: authorization ? { authorization } : {} });
  if (!response.ok) throw errorOf(response.status, await response.text());
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? "export.csv";
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface Upload {
  /** Resolves with the service's answer once it has read the header (a 202 with the job's id), before the rows are in. */
  accepted: Promise<{ importId: string }>;
  /** Resolves when the service has answered to the end (every row committed). */
  finished: Promise<void>;
  abort(): void;
}

/** Sends a file as the body of a POST (an import), reporting the bytes sent; XMLHttpRequest is what reports upload progress. */
export function upload(path: string, file: File, onProgress: (sent: number, total: number) => void): Upload {
  const request = new XMLHttpRequest();
  let accept!: (value: { importId: string }) => void;
  let refuse!: (error: ApiError) => void;
  const accepted = new Promise<{ importId: string }>((resolve, reject) => ((accept = resolve), (refuse = reject)));
  const finished = new Promise<void>((resolve) => request.addEventListener("loadend", () => resolve()));
  // The answer's first bytes are the job's id; the rest of the answer waits for the last row.
  const readAnswer = () => {
    if (request.readyState < XMLHttpRequest.LOADING || request.status !== 202) return;
    try {
      accept(JSON.parse(request.responseText) as { importId: string });
    } catch {
      // Not all of it yet.
    }
  };
  request.open("POST", path);
  request.setRequestHeader("content-type", "text/csv");
  const authorization = session.authorization();
  if (authorization) request.setRequestHeader("authorization", authorization);
  request.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
  request.addEventListener("readystatechange", readAnswer);
  request.addEventListener("load", () => (request.status === 202 ? readAnswer() : refuse(errorOf(request.status, request.responseText))));
  request.addEventListener("error", () => refuse(new ApiError([{ message: "the upload was cut off", extensions: { code: "NETWORK" } }], 0)));
  request.send(file);
  return { accepted, finished, abort: () => request.abort() };
}
