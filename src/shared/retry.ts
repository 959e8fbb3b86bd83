/**
 * Exponential backoff with full jitter. Which failures are worth another attempt is decided by
 * the caller's `isRetryable`, in one place per operation.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Upper bound of the first delay, in milliseconds. */
  baseDelayMs: number;
  /** Upper bound of any delay, in milliseconds. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 5, baseDelayMs: 100, maxDelayMs: 30_000 };

/** Returns the delay before retry number `retry` (1-based): uniform in [0, min(max, base * 2^(retry-1))]. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
}

export interface RetryContext {
  /** 1 for the first attempt. */
  attempt: number;
}

export interface RetryOptions {
  policy?: RetryPolicy;
  isRetryable: (error: unknown) => boolean;
  /** Called before each wait, for logging. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `operation` until it succeeds, fails with an error that is not retryable, or runs out of
 * retries; then rethrows the last error.
 */
export async function withRetries<T>(
  operation: (context: RetryContext) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const policy = options.policy ?? defaultRetryPolicy;
  const sleep = options.sleep ?? Bun.sleep;

  for (let attempt = 1; ; attempt++) {
    try {
      return await operation({ attempt });
    } catch (error) {
      if (attempt > policy.retries || !options.isRetryable(error)) throw error;

      const delayMs = backoffDelayMs(attempt, policy);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
