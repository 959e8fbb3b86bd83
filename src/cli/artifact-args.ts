/** Options shared by the commands that name an artifact: its reference, the retry settings and the timeout. */
import { UsageError } from "../shared/errors.ts";
import { defaultRetryPolicy, type RetryPolicy } from "../shared/retry.ts";
import { defaultIdleTimeoutMs } from "../download/download.ts";

/** Positionals and options of the three forms: TASKID RUNID NAME, --latest TASKID NAME, --url URL. */
export const referenceArgs = {
  taskId: { type: "positional", required: false, description: "Task id (22 characters)" },
  runId: { type: "positional", required: false, description: "Run number, for example 0 (left out with --latest)" },
  name: { type: "positional", required: false, description: "Artifact name, for example public/build.tar.gz" },
} as const;

export const referenceOptionArgs = {
  latest: { type: "boolean", description: "Take the artifact from the task's latest run" },
  url: { type: "string", description: "The artifact's queue URL, for example one carrying a bewit" },
} as const;

export const retryArgs = {
  retries: { type: "string", description: `Retries after the first attempt (default ${defaultRetryPolicy.retries})` },
  "retry-delay": { type: "string", description: `Upper bound of the first backoff delay, in milliseconds (default ${defaultRetryPolicy.baseDelayMs}); it doubles per retry up to 30 s` },
} as const;

export const timeoutArgs = {
  "idle-timeout": {
    type: "string",
    description: `Seconds without a byte from the queue or the storage before an attempt is given up and retried (default ${defaultIdleTimeoutMs / 1000})`,
  },
} as const;

/** Returns the idle timeout in milliseconds. */
export function idleTimeoutMsOf(args: { "idle-timeout"?: string }): number {
  const text = args["idle-timeout"];
  if (text === undefined) return defaultIdleTimeoutMs;
  return parseCount("--idle-timeout", text, 3600, 1) * 1000;
}

export function retryPolicyOf(args: { retries?: string; "retry-delay"?: string }): RetryPolicy {
  return {
    ...defaultRetryPolicy,
    retries: args.retries === undefined ? defaultRetryPolicy.retries : parseCount("--retries", args.retries, 100),
    baseDelayMs: args["retry-delay"] === undefined ? defaultRetryPolicy.baseDelayMs : parseCount("--retry-delay", args["retry-delay"], 60_000),
  };
}

function parseCount(option: string, text: string, max: number, min = 0): number {
  if (!/^\d+$/.test(text) || Number(text) > max || Number(text) < min) {
    throw new UsageError(`invalid ${option} ${JSON.stringify(text)}`, { hint: `pass a whole number from ${min} to ${max}` });
  }
  return Number(text);
}
