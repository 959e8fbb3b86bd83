import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WritingMeter } from "../../src/download/writing-meter.ts";

const temp = mkdtempSync(join(tmpdir(), "artifact-writing-meter-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const outputErrorOf = (error: unknown) => new Error(`output failed: ${(error as NodeJS.ErrnoException).code}`);

describe("writing meter", () => {
  test("writes and hashes every chunk in order", async () => {
    const path = join(temp, "ordered.partial");
    writeFileSync(path, "");
    const bytes = randomBytes(5 * 1024 * 1024 + 3);
    const meter = new WritingMeter(path, outputErrorOf);
    try {
      for (let offset = 0; offset < bytes.length; offset += 100_000) await meter.update(new Uint8Array(bytes.subarray(offset, offset + 100_000)));
      expect(await meter.sha256()).toBe(sha256(bytes));
      expect(meter.length).toBe(bytes.length);
      expect(sha256(readFileSync(path))).toBe(sha256(bytes));
    } finally {
      await meter.close();
    }
  });

  test("reset truncates after earlier chunks", async () => {
    const path = join(temp, "restarted.partial");
    writeFileSync(path, "");
    const meter = new WritingMeter(path, outputErrorOf);
    try {
      await meter.update(new Uint8Array(randomBytes(300_000)));
      meter.reset();
      await meter.update(new Uint8Array([1, 2, 3]));
      expect(await meter.sha256()).toBe(sha256(new Uint8Array([1, 2, 3])));
      expect(readFileSync(path)).toEqual(Buffer.from([1, 2, 3]));
    } finally {
      await meter.close();
    }
  });

  test("unopenable file gives output error", async () => {
    const meter = new WritingMeter(join(temp, "missing-folder", "file.partial"), outputErrorOf);
    try {
      await meter.update(new Uint8Array(10)).catch(() => undefined);
      await expect(meter.sha256()).rejects.toThrow("output failed: ENOENT");
    } finally {
      await meter.close();
    }
  });
});
