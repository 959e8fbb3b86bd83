/**
 * Trial counts of the reliability suite. `npm test` runs the reduced CI counts; the nightly runner
 * (scripts/reliability.ts) sets ARTIFACT_RELIABILITY=nightly for the full ones.
 */

export const nightly = process.env.ARTIFACT_RELIABILITY === "nightly";

export const counts = {
  /** Malformed JSON bodies sent by the property-based fuzzer. */
  malformedBodies: nightly ? 10_000 : 1_000,
  /** Well-formed JSON bodies with random shapes and values. */
  randomBodies: nightly ? 5_000 : 500,
  /** Queue requests of the mixed load test (create, complete, get, list). */
  loadRequests: nightly ? 10_000 : 2_000,
  /** Clients sending at once in the load test. */
  loadConcurrency: 200,
  /** `artifact upload` runs killed at a random point of a multipart upload, then run again. */
  clientCrashTrials: nightly ? 10 : 3,
  /** Concurrent uploads while `artifact serve` is killed. */
  serveCrashUploads: nightly ? 50 : 20,
} as const;

/** Seed of every property run, printed so a failure can be replayed with ARTIFACT_RELIABILITY_SEED. */
export const seed = Number(process.env.ARTIFACT_RELIABILITY_SEED ?? Date.now() % 2 ** 31);

/** Time allowed for starting servers and creating buckets, in milliseconds; a busy shared RGW can take tens of seconds. */
export const setupTimeoutMs = 120_000;
