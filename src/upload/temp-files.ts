/**
 * A private temporary folder for the stdin spool and the gzip output. It is removed when the
 * upload ends, fails, or the process exits, including on SIGINT and SIGTERM.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Exit codes a shell reports for a process ended by SIGINT and SIGTERM (128 + signal number). */
const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

export class TempFolder {
  readonly path: string;
  private removed = false;
  private readonly onExit = () => this.remove();
  private readonly onSignal = (signal: keyof typeof signalExitCodes) => {
    this.remove();
    process.exit(signalExitCodes[signal]);
  };

  constructor(parent: string = tmpdir()) {
    this.path = mkdtempSync(join(parent, "artifact-upload-"));
    process.on("exit", this.onExit);
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
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
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}
