/**
 * Open WebSocket connections per key, counted across every process on the store. Each process
 * counts its own connections under its holder id and marks them alive every few seconds; the
 * counts of a process not seen for STALE_MS stop counting, and those of a process of this host
 * that no longer exists are dropped at once (lease-holder.ts).
 */
import { holderIsGone, newHolder } from "../engine/lease-holder";
import type { SharedLimits } from "../stores/port";

const HEARTBEAT_MS = 5_000;
const STALE_MS = 15_000;

export class ConnectionLimit {
  private readonly holder = newHolder();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limits: SharedLimits,
    private readonly max: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.heartbeat().catch(onError), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Counts a connection of `key`; false when the key already has its maximum open. */
  open(key: string): Promise<boolean> {
    const now = Date.now();
    return this.limits.openConnection(key, this.holder, this.max, now, now - STALE_MS);
  }

  close(key: string): void {
    this.limits.closeConnection(key, this.holder).catch(this.onError);
  }

  private async heartbeat(): Promise<void> {
    const others = await this.limits.heartbeat(this.holder, Date.now());
    for (const holder of others) if (holderIsGone(holder, this.holder)) await this.limits.dropHolder(holder);
  }

  /** Forgets this process's counts (its connections are closed). */
  async dispose(): Promise<void> {
    clearInterval(this.timer);
    await this.limits.dropHolder(this.holder);
  }
}
