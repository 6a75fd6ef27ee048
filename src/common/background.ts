/**
 * Background tasks that repeat every few milliseconds (lease renewals, polls, housekeeping): a
 * run never starts while the task's previous run is still going, a failure is reported and the
 * task goes on, and `stop` ends them all. Their timers do not keep the process alive.
 */
export class BackgroundTasks {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly onError: (error: unknown) => void) {}

  every(ms: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      task()
        .catch(this.onError)
        .finally(() => (busy = false));
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
  }
}
