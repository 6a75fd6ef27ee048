/**
 * npm run verify — re-evaluates every segment from scratch and compares with the stored
 * memberships, member counts and event log. Prints each difference; exits 1 if there is any.
 * Safe to run beside a live server: it reads one consistent snapshot.
 */
import "reflect-metadata";
import { runMain } from "./cli";
import { openStore } from "../src/app";
import { loadConfig } from "../src/config";

async function main(): Promise<number> {
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const status = await store.engineStatus();
    const report = await store.verify();
    for (const difference of report.differences) console.log(`DIFFERENCE ${difference}`);
    const pending = status.pendingChanges;
    console.log(
      `checked ${report.segments} segments and ${report.contactsChecked} contacts` +
        (pending > 0 ? `; ${pending} changes not yet applied by the engine (${report.pending} contacts skipped)` : "") +
        (status.building > 0 ? `; ${status.building} segments still building (not compared)` : ""),
    );
    console.log(report.differences.length === 0 ? "consistent" : `${report.differences.length} differences`);
    return report.differences.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

runMain(main);
