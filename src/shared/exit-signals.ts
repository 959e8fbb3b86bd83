/**
 * Clean-up on the signals that end a client command: Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT), `kill`
 * (SIGTERM) and a closed terminal or SSH session (SIGHUP). Once a handler is installed, the default
 * action no longer ends the process, so the handler exits itself with 128 + the signal number, the
 * code a shell reports for a process the signal killed.
 */
import { constants } from "node:os";

export const exitSignals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

export type ExitSignal = (typeof exitSignals)[number];

/** Returns the exit code a shell shows for a process ended by `signal`, e.g. 130 for SIGINT. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * Runs `cleanUp` and exits with the signal's code when one of the exit signals arrives.
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
  for (const signal of exitSignals) process.on(signal, handler);
  return () => {
    for (const signal of exitSignals) process.off(signal, handler);
  };
}
