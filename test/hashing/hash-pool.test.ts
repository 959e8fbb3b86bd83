import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { HashPool } from "../../src/hashing/hash-pool.ts";

function digestsOf(bytes: Uint8Array) {
  return { md5: createHash("md5").update(bytes).digest("hex"), sha256: createHash("sha256").update(bytes).digest("hex") };
}

describe("hash pool", () => {
  test("concurrent streams keep own hashes", async () => {
    const pool = new HashPool(2);
    try {
      const inputs = Array.from({ length: 5 }, (_, index) => randomBytes(1_000_000 + index));
      const results = await Promise.all(
        inputs.map(async (bytes) => {
          const stream = pool.open();
          // 20 chunks is more than one stream may queue, so update() has to wait.
          for (let offset = 0; offset < bytes.length; offset += 50_000) await stream.update(bytes.subarray(offset, offset + 50_000));
          return stream.digest();
        }),
      );
      expect(results).toEqual(inputs.map(digestsOf));
    } finally {
      pool.close();
    }
  });

  test("dropped stream leaves others intact", async () => {
    const pool = new HashPool(1);
    try {
      const dropped = pool.open();
      const other = pool.open();
      await dropped.update(new Uint8Array([1]));
      await other.update(new Uint8Array([2, 3]));
      dropped.drop();
      expect(await other.digest()).toEqual(digestsOf(new Uint8Array([2, 3])));
      await expect(dropped.digest()).rejects.toThrow("has ended");
    } finally {
      pool.close();
    }
  });

  test("closing the pool fails open streams", async () => {
    const pool = new HashPool(1);
    const stream = pool.open();
    await stream.update(new Uint8Array([1]));
    const digest = stream.digest();
    pool.close();
    await expect(digest).rejects.toThrow("the hashing pool was closed");
    expect(() => pool.open()).toThrow("the hashing pool was closed");
  });

  test("failed Worker is replaced", async () => {
    const pool = new HashPool(1);
    try {
      const before = pool.open();
      await before.update(new Uint8Array([1]));
      // A chunk for a stream id the Worker never opened makes its code throw.
      (pool as unknown as { workers: Worker[] }).workers[0]!.postMessage({ id: 999_999, chunk: new Uint8Array(1) });
      await expect(before.digest()).rejects.toThrow("hashing worker failed");

      const after = pool.open();
      await after.update(new Uint8Array([2, 3]));
      expect(await after.digest()).toEqual(digestsOf(new Uint8Array([2, 3])));
    } finally {
      pool.close();
    }
  });
});
