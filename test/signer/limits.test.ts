import { describe, expect, test } from "bun:test";
import { ExitCode } from "../../src/shared/errors.ts";
import {
  checkParts,
  checkSinglePart,
  checkUserMetadata,
  gibibyte,
  maxPartCount,
  maxSinglePartSize,
  maxUserMetadataBytes,
  mebibyte,
  minPartSize,
  SignerLimitError,
} from "../../src/signer/limits.ts";
import { choosePartSize, maxMultipartTransferLength, partCount } from "../../src/signer/part-size.ts";

const sha = "ab".repeat(32);

function limitErrorOf(run: () => void): SignerLimitError {
  try {
    run();
  } catch (error) {
    if (error instanceof SignerLimitError) return error;
    throw error;
  }
  throw new Error("expected a SignerLimitError, but nothing was thrown");
}

describe("checkSinglePart", () => {
  test("accepts 0 bytes and exactly 5 GiB", () => {
    expect(() => checkSinglePart(0)).not.toThrow();
    expect(() => checkSinglePart(maxSinglePartSize)).not.toThrow();
  });

  test("rejects 5 GiB + 1 naming the limit", () => {
    const error = limitErrorOf(() => checkSinglePart(maxSinglePartSize + 1));
    expect(error.field).toBe("transferLength");
    expect(error.value).toBe(maxSinglePartSize + 1);
    expect(error.limit).toBe(maxSinglePartSize);
    expect(error.message).toContain("5368709121");
    expect(error.message).toContain("5 GiB");
    expect(error.exitCode).toBe(ExitCode.usage);
  });

  test("rejects negative and fractional lengths", () => {
    expect(limitErrorOf(() => checkSinglePart(-1)).field).toBe("transferLength");
    expect(limitErrorOf(() => checkSinglePart(1.5)).field).toBe("transferLength");
  });
});

describe("checkParts", () => {
  const part = (size: number) => ({ sha256: sha, size });

  test("accepts small last part and a single small part", () => {
    expect(() => checkParts([part(minPartSize), part(1)], minPartSize + 1)).not.toThrow();
    expect(() => checkParts([part(0)], 0)).not.toThrow();
  });

  test("rejects a non-last part of 5 MiB - 1", () => {
    const error = limitErrorOf(() => checkParts([part(minPartSize - 1), part(10)], minPartSize + 9));
    expect(error.field).toBe("parts[0]");
    expect(error.value).toBe(minPartSize - 1);
    expect(error.limit).toBe(minPartSize);
  });

  test("rejects a part over 5 GiB", () => {
    const error = limitErrorOf(() => checkParts([part(5 * gibibyte + 1)], 5 * gibibyte + 1));
    expect(error.field).toBe("parts[0]");
    expect(error.limit).toBe(5 * gibibyte);
  });

  test("rejects 10,001 parts", () => {
    const parts = Array.from({ length: maxPartCount + 1 }, () => part(minPartSize));
    const error = limitErrorOf(() => checkParts(parts, parts.length * minPartSize));
    expect(error.field).toBe("parts");
    expect(error.value).toBe(maxPartCount + 1);
    expect(error.limit).toBe(maxPartCount);
  });

  test("rejects sizes that do not sum to the length", () => {
    const error = limitErrorOf(() => checkParts([part(minPartSize), part(5)], minPartSize + 6));
    expect(error.value).toBe(minPartSize + 5);
    expect(error.limit).toBe(minPartSize + 6);
  });

  test("rejects no parts and a bad part hash", () => {
    expect(limitErrorOf(() => checkParts([], 0)).field).toBe("parts");
    expect(limitErrorOf(() => checkParts([{ sha256: "xyz", size: 1 }], 1)).field).toBe("parts[0].sha256");
  });
});

describe("checkUserMetadata", () => {
  test("accepts exactly 2 KiB counted in UTF-8 bytes", () => {
    const name = "taskcluster-name";
    const value = "x".repeat(maxUserMetadataBytes - name.length);
    expect(() => checkUserMetadata({ [name]: value })).not.toThrow();
  });

  test("rejects 2 KiB + 1 counting multi-byte characters", () => {
    const name = "taskcluster-name";
    const value = "ü".repeat(Math.ceil((maxUserMetadataBytes - name.length + 1) / 2));
    const error = limitErrorOf(() => checkUserMetadata({ [name]: value }));
    expect(error.field).toBe("metadata");
    expect(error.limit).toBe(maxUserMetadataBytes);
    expect(error.value).toBe(name.length + 2 * value.length);
  });
});

describe("choosePartSize", () => {
  test.each([
    [0, 5 * mebibyte],
    [1, 5 * mebibyte],
    [10 * gibibyte, 5 * mebibyte],
    [100 * gibibyte, 11 * mebibyte],
    [maxMultipartTransferLength, 5 * gibibyte],
  ])("length %d gets parts of %d bytes", (length, expected) => {
    expect(choosePartSize(length)).toBe(expected);
  });

  test("never needs more than 10,000 parts", () => {
    for (const length of [50 * gibibyte + 1, 100 * gibibyte, 1024 * gibibyte - 7, maxMultipartTransferLength]) {
      const size = choosePartSize(length);
      expect(partCount(length, size)).toBeLessThanOrEqual(maxPartCount);
      expect(size % mebibyte).toBe(0);
    }
  });

  test("rejects lengths beyond 10,000 parts of 5 GiB", () => {
    const error = limitErrorOf(() => choosePartSize(maxMultipartTransferLength + 1));
    expect(error.limit).toBe(maxMultipartTransferLength);
  });
});
