/**
 * Aborts a storage request that sends nothing for too long: no answer after connecting, or no
 * further body bytes. It runs only while the pipeline waits on the network, so a slow consumer
 * of the output never counts as a stalled connection.
 */
export class IdleTimer {
  /** True once the timeout aborted the request. */
  fired = false;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly timeoutMs: number) {}

  /** Pass to fetch, so both the wait for headers and the body reads end on a timeout. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts (or starts again) the wait for the next bytes. `timeoutMs` replaces the usual wait for this one time. */
  arm(timeoutMs: number = this.timeoutMs): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error(`no bytes for ${timeoutMs} ms`));
    }, timeoutMs);
  }

  /** Stops the clock while received bytes are processed, and for good once the response ended. */
  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
