/**
 * A private temporary folder for the stdin spool and the gzip output. It is removed when the
 * upload ends, fails, or the process exits, including on SIGINT, SIGTERM, SIGHUP and SIGQUIT.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onExitSignal } from "../shared/exit-signals.ts";

export class TempFolder {
  readonly path: string;
  private removed = false;
  private readonly onExit = () => this.remove();
  private readonly stopWatchingSignals: () => void;

  constructor(parent: string = tmpdir()) {
    this.path = mkdtempSync(join(parent, "artifact-upload-"));
    process.on("exit", this.onExit);
    this.stopWatchingSignals = onExitSignal(() => this.remove());
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** Deletes the folder and its files; safe to call more than once. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    rmSync(this.path, { recursive: true, force: true });
    process.off("exit", this.onExit);
    this.stopWatchingSignals();
  }
}
