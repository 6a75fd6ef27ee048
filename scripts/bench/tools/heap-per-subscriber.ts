/**
 * node -r @swc-node/register scripts/bench/tools/heap-per-subscriber.ts [subscribers=2000]
 *
 * Where an idle subscriber's memory goes (the memory half of scenario 6): the server runs as a
 * child with --heapsnapshot-signal; a heap snapshot (taken after a full GC) is written before and
 * after N graphql-ws subscribers connect, and the live heap they added is listed by object type.
 */
import "reflect-metadata";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { toGlobalId } from "../../../src/common/ids";
import { Fixtures } from "../support/fixtures";
import { startChildServer, TMP_DIR } from "../support/server";
import { sleep } from "../support/stats";
import { LIST_EVENTS, RawSubscriber } from "../support/ws";

interface Summary {
  total: number;
  byType: Map<string, { size: number; count: number }>;
}

function summarize(file: string): Summary {
  const snapshot = JSON.parse(readFileSync(file, "utf8"));
  const fields = snapshot.snapshot.meta.node_fields as string[];
  const types = snapshot.snapshot.meta.node_types[0] as string[];
  const [width, iType, iName, iSize] = [fields.length, fields.indexOf("type"), fields.indexOf("name"), fields.indexOf("self_size")];
  const nodes = snapshot.nodes as number[];
  const strings = snapshot.strings as string[];
  const byType = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]!]!;
    const name = type.includes("string") ? "(string)" : type === "code" ? "(code)" : strings[nodes[i + iName]!]!.slice(0, 60);
    const size = nodes[i + iSize]!;
    total += size;
    const entry = byType.get(`${type}: ${name}`) ?? { size: 0, count: 0 };
    entry.size += size;
    entry.count++;
    byType.set(`${type}: ${name}`, entry);
  }
  return { total, byType };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2_000);
  const log = (message: string) => console.log(message);
  const fixtures = new Fixtures(true, TMP_DIR, log);
  const dir = join(TMP_DIR, "heap-snapshots");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fixture = await fixtures.mid();
  const server = await startChildServer({ quick: true, fixtures, profiling: null, log }, "heap", fixtures.copy(fixture, "heap"), {
    NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`,
  });
  const subscribers: RawSubscriber[] = [];
  try {
    const listId = toGlobalId("ContactList", fixture.listId);
    for (let i = 0; i < 10; i++) await server.gql.request(`query($id: ID!) { contactList(id: $id) { segments { memberCount } } }`, { id: listId });
    const snapshot = async () => {
      const before = readdirSync(dir).length;
      process.kill(server.pid, "SIGUSR2");
      while (readdirSync(dir).length === before) await sleep(200);
      const file = join(dir, readdirSync(dir).sort().at(-1)!);
      for (let last = -1; ; ) {
        await sleep(1_000);
        const size = statSync(file).size;
        if (size === last && size > 0) return file;
        last = size;
      }
    };
    const before = summarize(await snapshot());
    for (let i = 0; i < count; i += 250) {
      const group = Array.from({ length: Math.min(250, count - i) }, () => new RawSubscriber(server.wsUrl, LIST_EVENTS, { listId }));
      subscribers.push(...group);
      await Promise.all(group.map((s) => s.ready));
    }
    await sleep(3_000);
    const after = summarize(await snapshot());
    console.log(`live heap added per idle subscriber: ${((after.total - before.total) / count / 1024).toFixed(1)} KiB (${count} subscribers)`);
    console.log("bytes/subscriber  objects/subscriber  type: constructor");
    const rows = [...after.byType].map(([key, v]) => {
      const old = before.byType.get(key) ?? { size: 0, count: 0 };
      return { key, size: (v.size - old.size) / count, objects: (v.count - old.count) / count };
    });
    for (const row of rows.sort((a, b) => b.size - a.size).slice(0, 25)) {
      console.log(`${row.size.toFixed(0).padStart(16)}  ${row.objects.toFixed(1).padStart(18)}  ${row.key}`);
    }
  } finally {
    await Promise.all(subscribers.map((s) => s.close()));
    await server.stop();
    fixtures.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
