/** `--expires`: a duration from now (`30d`, `12h`, `90m`, `1y`) or a date that `Date` parses. */
import { UsageError } from "../shared/errors.ts";

const unitMs: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/**
 * Returns the expiry as an ISO date-time. A duration gives a later date on each run, which is fine
 * for a re-run, because the queue leaves `expires` out when it compares a repeated createArtifact.
 */
export function parseExpires(text: string, now: Date = new Date()): string {
  const duration = /^(\d+)\s*([mhdwy])$/.exec(text.trim());
  const date = duration
    ? new Date(now.getTime() + Number(duration[1]) * unitMs[duration[2]!]!)
    : /^\d{4}-\d{2}-\d{2}/.test(text)
      ? new Date(text)
      : new Date(NaN);

  // Date holds at most 8.64e15 ms from 1970; a larger duration gives an Invalid Date.
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`invalid --expires ${JSON.stringify(text)}`, { hint: "give a duration such as 30d or 12h, or a date such as 2027-01-31" });
  }
  if (date.getTime() <= now.getTime()) {
    throw new UsageError(`--expires ${JSON.stringify(text)} is in the past (${date.toISOString()})`, { hint: "give a later date or a duration such as 30d" });
  }
  return date.toISOString();
}
