/** npm run seed, run twice on a fresh database, then read through the real server. */
import { LcListsDetailDocument, ListSegmentsDocument, PreviewDocument } from "../graphql/generated";
import { startTestServer, stopAll } from "../support/harness";
import { runScript } from "../support/process";
import { newDatabase, storeEnv } from "../support/stores";
import { baseUrl, get } from "../support/upload";
import { parse } from "csv-parse/sync";

afterAll(stopAll);

describe("npm run seed", () => {
  it("makes a demo list of 10,000 realistic contacts and segments of both types, and a second run makes nothing new", async () => {
    const dbPath = newDatabase("seed");
    const first = await runScript("seed.ts", [], storeEnv(dbPath));
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^list "Demo contacts" \(\S+\) in workspace default: created$/m);
    expect(first.stdout).toMatch(/^contacts: 10,000 added \(0 already there\)$/m);
    expect(first.stdout).toMatch(/^segments: 8 created \(0 already there\)$/m);
    expect(first.stdout).toMatch(/^demo data ready$/m);

    const second = await runScript("seed.ts", [], storeEnv(dbPath));
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/: already there$/m);
    expect(second.stdout).toMatch(/^contacts: none added \(10,000 already there\)$/m);
    expect(second.stdout).toMatch(/^segments: none created \(8 already there\)$/m);
    expect(second.stdout).toMatch(/^nothing new: the demo data was already there$/m);
    // Both runs report the same member counts.
    const counts = (out: string) => out.split("\n").filter((line) => /^ {2}(STATIC|DYNAMIC)/.test(line));
    expect(counts(second.stdout)).toEqual(counts(first.stdout));
    expect(counts(first.stdout)).toHaveLength(8);

    const server = await startTestServer({ dbPath });
    const { contactLists } = await server.client.data(LcListsDetailDocument, { first: 10 });
    expect(contactLists.edges.map((edge) => edge.node.name)).toEqual(["Demo contacts"]);
    const list = contactLists.edges[0]!.node;
    expect(list.contactCount).toBe(10_000);

    const { contactList } = await server.client.data(ListSegmentsDocument, { listId: list.id });
    const segments = contactList!.segments;
    expect(new Set(segments.map((segment) => segment.type))).toEqual(new Set(["STATIC", "DYNAMIC"]));
    for (const segment of segments) {
      expect(segment.status).toBe("READY");
      expect(segment.memberCount).toBeGreaterThan(0);
      expect(segment.memberCount).toBeLessThan(10_000);
      if (segment.type === "DYNAMIC") {
        const { segmentPreview } = await server.client.data(PreviewDocument, { listId: list.id, condition: segment.condition, sample: 0 });
        expect(segmentPreview.count).toBe(segment.memberCount);
      }
    }

    // Realistic rows: every contact has a name and a country; most have the rest.
    const base = baseUrl(server);
    const rows = parse((await get(`${base}/lists/${list.id}/contacts.csv`)).text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(10_000);
    expect(new Set(rows.map((row) => row.email)).size).toBe(10_000);
    const share = (test: (row: Record<string, string>) => boolean) => rows.filter(test).length / rows.length;
    expect(share((row) => row.firstName !== "" && row.lastName !== "" && row.country !== "" && row.city !== "")).toBe(1);
    expect(share((row) => /^\d{4}-\d{2}-\d{2}$/.test(row.birthDate!))).toBeGreaterThan(0.85);
    expect(share((row) => row.tags !== "")).toBeGreaterThan(0.5);
    expect(share((row) => row["attributes.plan"] !== "")).toBe(1);
    expect(share((row) => /^\d+$/.test(row["attributes.score"]!))).toBeGreaterThan(0.8);
    expect(new Set(rows.map((row) => row.country)).size).toBeGreaterThanOrEqual(8);
  });
});
