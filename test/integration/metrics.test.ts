/**
 * GET /metrics: Prometheus text with the process's figures (memory, descriptors, event-loop
 * delay) and the service's (engine lead and lag, subscription streams); off with METRICS=false.
 */
import { CreateListDocument, MembershipChangedDocument } from "../graphql/generated";
import { startTestServer, stopAll } from "../support/harness";
import { streamsOpen } from "../support/ws";

afterAll(stopAll);

/** The value of an unlabelled sample in Prometheus text. */
function sample(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (!match) throw new Error(`no sample ${name} in:\n${text.slice(0, 2_000)}`);
  return Number(match[1]);
}

it("serves the process's and the engine's figures in Prometheus text, without a key", async () => {
  const { server, client, ws, app } = await startTestServer();
  const { createContactList: list } = await client.data(CreateListDocument, { input: { name: "Metrics" } });
  ws().subscribe(MembershipChangedDocument, { listId: list.id });
  await streamsOpen(app, 1);
  const response = await fetch(server.url.replace("/graphql", "/metrics"));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  const text = await response.text();
  expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(10_000_000);
  expect(sample(text, "process_open_fds")).toBeGreaterThan(0);
  expect(sample(text, "nodejs_eventloop_lag_max_seconds")).toBeGreaterThanOrEqual(0);
  expect(sample(text, "segments_engine_leader")).toBe(1);
  expect(sample(text, "segments_engine_pending_changes")).toBe(0);
  expect(sample(text, "segments_building_segments")).toBe(0);
  expect(sample(text, "segments_subscription_streams")).toBe(1);
});

it("METRICS=false turns the endpoint off", async () => {
  const { server } = await startTestServer({ env: { METRICS: "false" } });
  const response = await fetch(server.url.replace("/graphql", "/metrics"));
  expect(response.status).toBe(404);
});
