/**
 * Who holds a lease, and whether that holder still exists. A holder names its host and process,
 * so a process of the same host can tell at once that the holder is gone (killed, crashed) and
 * take its lease without waiting out the TTL. A holder on another host, or one this process
 * cannot judge, is waited for until its lease expires, as before.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Where this process's pids mean something: the host name, the kernel's boot id and the PID
 * namespace (Linux). A machine rebooted under the same name is another host; so is another
 * container on the same kernel, even under the same host name (`network_mode: host`, a fixed
 * `hostname:`), where a pid names some other process or none. A container restarted after a
 * crash has a new PID namespace, so it waits out its predecessor's lease.
 */
function hostIdentity(): string {
  let kernel = "";
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().slice(0, 8);
    const pids = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "";
    kernel = `~${boot}~${pids}`;
  } catch {
    // Not Linux: the host name alone.
  }
  return `${hostname()}${kernel}`.replace(/\//g, "_");
}

export const HOST = hostIdentity();

/** The holders this process has made: two apps in one process share its pid, not their ids. */
const ours = new Set<string>();

/** A new holder id for this process: `<host>/<pid>/<random>`. */
export function newHolder(): string {
  const holder = `${HOST}/${process.pid}/${randomUUID()}`;
  ours.add(holder);
  return holder;
}

const HAS_PROC = existsSync("/proc/self/stat");

/** The process state letter from /proc (Linux); undefined when there is no such process; null when /proc cannot tell. */
function processState(pid: number): string | undefined | null {
  if (!HAS_PROC) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "<pid> (<comm>) <state> …"; comm may hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return null;
  }
}

/**
 * Whether `holder` is certainly gone: a process of this host that no longer runs (or is a
 * zombie), or an earlier process of this host that had this process's pid. False whenever that cannot be known: another host, an id of another form.
 */
export function holderIsGone(holder: string, self: string): boolean {
  if (holder === self) return false;
  const parts = holder.split("/");
  if (parts.length !== 3 || parts[0] !== HOST) return false;
  const pid = Number(parts[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  // This process's pid: one of its own holders is alive; any other is an earlier process of
  // this PID namespace that had the same pid.
  if (pid === process.pid) return !ours.has(holder);
  const state = processState(pid);
  if (state === undefined) return true;
  if (state === "Z" || state === "X") return true;
  if (state !== null) return false;
  // No /proc: ask the kernel whether the pid exists (EPERM: it does, another user's).
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
