/**
 * A lean GraphQL-over-HTTP client on node:http with keep-alive, so the client adds as little
 * as possible to the latencies measured (global fetch costs noticeably more per call).
 */
import http from "node:http";

export interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

export class GraphQLRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLError[],
  ) {
    super(`GraphQL request failed (${status}): ${JSON.stringify(errors).slice(0, 500)}`);
  }
}

export class Gql {
  readonly agent: http.Agent;
  private readonly target: URL;

  constructor(
    readonly url: string,
    maxSockets = 64,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.target = new URL(url);
  }

  /** Posts a prepared JSON body; resolves with the status and the raw response text. */
  post(body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  }

  /** Runs an operation; throws when the response carries errors. */
  async request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T> {
    return this.requestBody<T>(JSON.stringify({ query, variables }));
  }

  async requestBody<T = Record<string, any>>(body: string): Promise<T> {
    const { status, text } = await this.post(body);
    let parsed: { data?: T; errors?: GraphQLError[] };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GraphQLRequestError(status, [{ message: `not JSON: ${text.slice(0, 200)}` }]);
    }
    if (parsed.errors?.length || !parsed.data) throw new GraphQLRequestError(status, parsed.errors ?? []);
    return parsed.data;
  }

  close(): void {
    this.agent.destroy();
  }
}
