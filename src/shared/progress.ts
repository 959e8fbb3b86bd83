/**
 * Progress of one transfer on stderr. A terminal gets a live bar with bytes, rate and ETA. A CI log
 * gets at most one line per interval (10 s by default) and a summary at the end. Quiet prints nothing.
 */

export type ProgressMode = "bar" | "lines" | "quiet";

export interface ProgressReporter {
  /** Counts bytes moved; a negative count takes back the bytes of a part that is sent again. */
  advance(bytes: number): void;
  /** Prints the summary line (bytes, seconds, MiB/s), or clears the bar. */
  finish(): void;
  /** Clears the bar without a summary, before the error line is printed. */
  abort(): void;
}

export interface ProgressOptions {
  /** Line prefix naming the transfer, for example `upload public/build.tar.gz`. */
  label: string;
  /** Bytes expected in total, for the percentage and the ETA; undefined when unknown, as for stdin. */
  totalBytes: number | undefined;
  mode: ProgressMode;
  write?: (text: string) => void;
  /** Clock in milliseconds, `performance.now` by default. */
  now?: () => number;
  /** Minimum milliseconds between two lines in `lines` mode. */
  lineIntervalMs?: number;
}

const mebibyte = 1024 * 1024;

/** Bar redraws are throttled so a fast transfer does not spend its time writing to the terminal. */
const barIntervalMs = 100;

/** Picks the mode from `--quiet` and whether stderr is a terminal. */
export function progressModeFor(quiet: boolean | undefined, stderrIsTty: boolean = Boolean(process.stderr.isTTY)): ProgressMode {
  if (quiet) return "quiet";
  return stderrIsTty ? "bar" : "lines";
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const now = options.now ?? (() => performance.now());
  const interval = options.mode === "bar" ? barIntervalMs : (options.lineIntervalMs ?? 10_000);
  const startedAt = now();
  let doneBytes = 0;
  let lastDrawAt = startedAt;
  let barShown = false;

  const draw = (): void => {
    const line = `${options.label}: ${describeProgress(doneBytes, options.totalBytes, now() - startedAt)}`;
    if (options.mode === "bar") {
      write(`\r${line}\x1b[K`);
      barShown = true;
    } else {
      write(`${line}\n`);
    }
  };

  const clearBar = (): void => {
    if (barShown) write("\r\x1b[K");
    barShown = false;
  };

  return {
    advance(bytes) {
      doneBytes += bytes;
      if (options.mode === "quiet") return;

      const at = now();
      if (at - lastDrawAt < interval) return;
      lastDrawAt = at;
      draw();
    },
    finish() {
      if (options.mode === "quiet") return;

      clearBar();
      const seconds = (now() - startedAt) / 1000;
      write(`${options.label}: ${formatBytes(doneBytes)} in ${seconds.toFixed(1)} s (${formatRate(doneBytes, seconds)})\n`);
    },
    abort() {
      clearBar();
    },
  };
}

/** Formats `12.0 MiB of 300.0 MiB (4%), 85.3 MiB/s, ETA 3 s`, or `12.0 MiB, 85.3 MiB/s` without a total. */
export function describeProgress(doneBytes: number, totalBytes: number | undefined, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  if (totalBytes === undefined) return `${formatBytes(doneBytes)}, ${formatRate(doneBytes, seconds)}`;

  const percent = totalBytes > 0 ? Math.floor((doneBytes / totalBytes) * 100) : 100;
  const bytesPerSecond = seconds > 0 ? doneBytes / seconds : 0;
  const eta = bytesPerSecond > 0 ? `ETA ${formatDuration((totalBytes - doneBytes) / bytesPerSecond)}` : "ETA unknown";
  return `${formatBytes(doneBytes)} of ${formatBytes(totalBytes)} (${percent}%), ${formatRate(doneBytes, seconds)}, ${eta}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < mebibyte) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * mebibyte) return `${(bytes / mebibyte).toFixed(1)} MiB`;
  return `${(bytes / (1024 * mebibyte)).toFixed(2)} GiB`;
}

function formatRate(bytes: number, seconds: number): string {
  if (seconds <= 0) return "- MiB/s";
  return `${(bytes / mebibyte / seconds).toFixed(1)} MiB/s`;
}

function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}
