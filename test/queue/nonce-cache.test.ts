import { expect, test } from "bun:test";
import { NonceCache } from "../../src/queue/auth/nonce-cache.ts";

test("nonce accepted once per client", () => {
  const cache = new NonceCache(60);

  expect(cache.remember("root", 1000, "abc", 1000)).toBe(true);
  expect(cache.remember("root", 1000, "abc", 1001)).toBe(false);
  expect(cache.remember("other", 1000, "abc", 1001)).toBe(true);
  expect(cache.remember("root", 1001, "abc", 1001)).toBe(true);
});

test("seconds outside the window are dropped", () => {
  const cache = new NonceCache(60);
  cache.remember("root", 1000, "old", 1000);
  cache.remember("root", 1050, "newer", 1050);
  expect(cache.size).toBe(2);

  // At 1061 the timestamp 1000 is 61 s old, which the skew check rejects anyway.
  cache.remember("root", 1061, "now", 1061);
  expect(cache.size).toBe(2);
  expect(cache.remember("root", 1050, "newer", 1061)).toBe(false);
});
