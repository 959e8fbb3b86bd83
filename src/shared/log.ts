/**
 * Logging to stderr only, because stdout carries artifact bytes or the `--json` result.
 * The CLI writes plain lines; `artifact serve` writes one JSON object per line.
 */

export type LogLevel = "quiet" | "normal" | "verbose";

export interface Logger {
  /** A line the user sees unless `--quiet`. */
  info(message: string): void;
  /** A line the user sees only with `--verbose`. */
  debug(message: string): void;
  /** A retry, a fallback or another event worth seeing even in CI logs; hidden by `--quiet`. */
  warn(message: string): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = writeStderr): Logger {
  return {
    info: (message) => {
      if (level !== "quiet") write(message);
    },
    debug: (message) => {
      if (level === "verbose") write(message);
    },
    warn: (message) => {
      if (level !== "quiet") write(`warning: ${message}`);
    },
  };
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Fields of one structured server log line; never put a secret, signature or presigned query here. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface StructuredLogger {
  log(event: string, fields?: LogFields): void;
}

/** Writes `{"time", "event", ...fields}` as one JSON line per call. */
export function createStructuredLogger(write: (line: string) => void = writeStderr): StructuredLogger {
  return {
    log(event, fields = {}) {
      write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
    },
  };
}

export const silentLogger: Logger = { info() {}, debug() {}, warn() {} };
