import { spawnSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { HOST, holderIsGone, newHolder } from "../../../src/engine/lease-holder";

describe("lease holders", () => {
  const self = newHolder();

  it("names this host and process", () => {
    expect(self.startsWith(`${HOST}/${process.pid}/`)).toBe(true);
    expect(newHolder()).not.toBe(self);
  });

  it("a live process of this host is not gone, nor is this process itself", () => {
    expect(holderIsGone(self, self)).toBe(false);
    expect(holderIsGone(`${HOST}/${process.ppid}/x`, self)).toBe(false);
  });

  it("a process of this host that has exited is gone", () => {
    const exited = spawnSync(process.execPath, ["-e", "0"]).pid!;
    expect(holderIsGone(`${HOST}/${exited}/x`, self)).toBe(true);
  });

  it("an earlier process of this PID namespace with this process's pid is gone; another holder of this process is not", () => {
    expect(holderIsGone(`${HOST}/${process.pid}/an-earlier-run`, self)).toBe(true);
    const sibling = newHolder();
    expect(holderIsGone(sibling, self)).toBe(false);
    expect(holderIsGone(self, sibling)).toBe(false);
  });

  it("another PID namespace under the same host name (another container) is another host", () => {
    const namespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))![1]!;
    expect(HOST.endsWith(`~${namespace}`)).toBe(true);
    const otherNamespace = HOST.replace(/~\d+$/, "~1");
    const exited = spawnSync(process.execPath, ["-e", "0"]).pid!;
    expect(holderIsGone(`${otherNamespace}/${exited}/x`, self)).toBe(false);
    expect(holderIsGone(`${otherNamespace}/${process.pid}/x`, self)).toBe(false);
  });

  it("a holder on another host, or of another form, is never judged gone", () => {
    const exited = spawnSync(process.execPath, ["-e", "0"]).pid!;
    expect(holderIsGone(`another-host/${exited}/x`, self)).toBe(false);
    expect(holderIsGone(`${exited}-0b7e4c1e`, self)).toBe(false);
    expect(holderIsGone(`${HOST}/not-a-pid/x`, self)).toBe(false);
  });
});
