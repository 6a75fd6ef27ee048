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

/**
 * A task that runs one at a time. Asked for while it runs, it runs once more when the run under
 * way ends (however many times it was asked), and the caller waits for that: whatever a caller
 * asks for after something happened is covered by a run that started after it.
 */
export class Coalesced {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    /** Whether to run once more when asked meanwhile (false: the owner stopped). */
    private readonly goOn: () => boolean = () => true,
  ) {}

  get active(): boolean {
    return this.running !== null;
  }

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.task();
        } while (this.again && this.goOn());
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
