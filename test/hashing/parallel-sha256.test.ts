import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { ParallelSha256 } from "../../src/hashing/parallel-sha256.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("SHA-256 in a Worker", () => {
  test("many chunks match one hash", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 7);
    const hash = new ParallelSha256();
    try {
      // 40 chunks is more than the Worker queues at once, so update() has to wait for it.
      const size = Math.ceil(bytes.length / 40);
      for (let offset = 0; offset < bytes.length; offset += size) {
        await hash.update(new Uint8Array(bytes.subarray(offset, offset + size)));
        if (offset === 0) expect(await hash.digest()).toBe(sha256(bytes.subarray(0, size)));
      }
      expect(await hash.digest()).toBe(sha256(bytes));
      expect(await hash.digest()).toBe(sha256(bytes));
    } finally {
      hash.close();
    }
  });

  test("reset starts over", async () => {
    const hash = new ParallelSha256();
    try {
      await hash.update(new Uint8Array([1, 2, 3]));
      hash.reset();
      await hash.update(new Uint8Array([4, 5]));
      expect(await hash.digest()).toBe(sha256(new Uint8Array([4, 5])));
    } finally {
      hash.close();
    }
  });

  test("view copied, whole buffer taken", async () => {
    const hash = new ParallelSha256();
    try {
      const shared = new Uint8Array([9, 8, 7, 6]);
      await hash.update(shared.subarray(1, 3));
      expect(shared).toEqual(new Uint8Array([9, 8, 7, 6]));

      const whole = new Uint8Array([5, 4]);
      await hash.update(whole);
      expect(whole.byteLength).toBe(0);
      expect(await hash.digest()).toBe(sha256(new Uint8Array([8, 7, 5, 4])));
    } finally {
      hash.close();
    }
  });

  test("closed hash rejects calls", async () => {
    const hash = new ParallelSha256();
    hash.close();
    await expect(hash.digest()).rejects.toThrow("SHA-256 worker was closed");
    await expect(hash.update(new Uint8Array(1))).rejects.toThrow("SHA-256 worker was closed");
  });
});
