import { describe, expect, test } from "bun:test";
import { backoffDelayMs, withRetries } from "../../src/shared/retry.ts";

const policy = { retries: 3, baseDelayMs: 100, maxDelayMs: 250 };
const noSleep = async () => {};

describe("backoffDelayMs", () => {
  test("ceiling doubles per retry up to the maximum", () => {
    const top = () => 1;

    expect(backoffDelayMs(1, policy, top)).toBe(100);
    expect(backoffDelayMs(2, policy, top)).toBe(200);
    expect(backoffDelayMs(3, policy, top)).toBe(250);
  });

  test("jitter stays within the ceiling", () => {
    expect(backoffDelayMs(2, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(100);
  });
});

describe("withRetries", () => {
  test("retryable failures are retried until success", async () => {
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw new Error("transient");
        return "done";
      },
      { policy, isRetryable: () => true, sleep: noSleep },
    );

    expect(result).toBe("done");
    expect(calls).toBe(3);
  });

  test("final failure is rethrown after the last retry", async () => {
    let calls = 0;
    const attempt = withRetries(
      async () => {
        calls++;
        throw new Error(`failure ${calls}`);
      },
      { policy, isRetryable: () => true, sleep: noSleep },
    );

    await expect(attempt).rejects.toThrow("failure 4");
    expect(calls).toBe(4);
  });

  test("non-retryable failure stops at once", async () => {
    let calls = 0;
    const attempt = withRetries(
      async () => {
        calls++;
        throw new Error("final");
      },
      { policy, isRetryable: () => false, sleep: noSleep },
    );

    await expect(attempt).rejects.toThrow("final");
    expect(calls).toBe(1);
  });
});
