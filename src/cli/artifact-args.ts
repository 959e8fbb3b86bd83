/** Options shared by the commands that name an artifact: its reference and the retry settings. */
import { UsageError } from "../shared/errors.ts";
import { defaultRetryPolicy, type RetryPolicy } from "../shared/retry.ts";

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

export function retryPolicyOf(args: { retries?: string; "retry-delay"?: string }): RetryPolicy {
  return {
    ...defaultRetryPolicy,
    retries: args.retries === undefined ? defaultRetryPolicy.retries : parseCount("--retries", args.retries, 100),
    baseDelayMs: args["retry-delay"] === undefined ? defaultRetryPolicy.baseDelayMs : parseCount("--retry-delay", args["retry-delay"], 60_000),
  };
}

function parseCount(option: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max) {
    throw new UsageError(`invalid ${option} ${JSON.stringify(text)}`, { hint: `pass a whole number from 0 to ${max}` });
  }
  return Number(text);
}
