/**
 * Clean-up on the signals that end a client command: Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT), `kill`
 * (SIGTERM) and a closed terminal or SSH session (SIGHUP). Once a handler is installed, the default
 * action no longer ends the process, so the handler exits itself with 128 + the signal number, the
 * code a shell reports for a process the signal killed.
 */
import { readFileSync } from "node:fs";
import { constants } from "node:os";

export const exitSignals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

export type ExitSignal = (typeof exitSignals)[number];

/** Returns the exit code a shell shows for a process ended by `signal`, e.g. 130 for SIGINT. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * Returns the exit signals this process was started with set to be ignored, as `nohup` does with
 * SIGHUP and a non-interactive shell does with SIGINT for `cmd &`. They are read from Linux's
 * /proc/self/status. Elsewhere the set is empty.
 */
export function ignoredExitSignals(status: string | undefined = readOwnStatus()): Set<ExitSignal> {
  const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status ?? "")?.[1];
  if (mask === undefined) return new Set();

  const bits = BigInt(`0x${mask}`);
  return new Set(exitSignals.filter((signal) => (bits >> BigInt(constants.signals[signal] - 1)) & 1n));
}

function readOwnStatus(): string | undefined {
  try {
    return readFileSync("/proc/self/status", "utf8");
  } catch {
    return undefined;
  }
}

/** Read once, before this module installs any handler, which would change the dispositions. */
let ignoredAtStart: Set<ExitSignal> | undefined;

/**
 * Runs `cleanUp` and exits with the signal's code when one of the exit signals arrives. A signal
 * the process was started with ignored stays ignored, because the caller asked for that.
 * Returns a function that removes the handlers again.
 */
export function onExitSignal(cleanUp: () => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    try {
      cleanUp();
    } finally {
      process.exit(signalExitCode(signal));
    }
  };
  ignoredAtStart ??= ignoredExitSignals();
  const watched = exitSignals.filter((signal) => !ignoredAtStart!.has(signal));

  for (const signal of watched) process.on(signal, handler);
  return () => {
    for (const signal of watched) process.off(signal, handler);
  };
}
