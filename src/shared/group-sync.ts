/**
 * One sync shared by every caller that requests it while another runs. `request()` resolves once
 * a sync that started after the call has finished, so whatever the caller wrote before is durable.
 * A burst of callers costs two syncs, not one each.
 */
export class GroupSync {
  private running: Promise<void> | undefined;
  /** The sync that starts when `running` ends, shared by every caller that arrived meanwhile. */
  private queued: Promise<void> | undefined;

  /** `onIdle` runs when no sync is running or queued, for a caller that keeps one GroupSync per file. */
  constructor(
    private readonly sync: () => Promise<void>,
    private readonly onIdle?: () => void,
  ) {}

  request(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<void> {
    const running = this.sync().finally(() => {
      if (this.running !== running) return;
      this.running = undefined;
      if (!this.queued) this.onIdle?.();
    });
    this.running = running;
    return running;
  }
}
