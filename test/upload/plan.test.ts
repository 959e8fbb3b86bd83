import { describe, expect, test } from "bun:test";
import { checkPartSizeOption, checkPlan, defaultMultipartThreshold, isMultipart, partSizeBeforeHashing, refuseLargeSinglePart } from "../../src/upload/plan.ts";
import { parseByteSize } from "../../src/upload/sizes.ts";
import { parseExpires } from "../../src/upload/expires.ts";
import { gzipSizeBound } from "../../src/hashing/gzip.ts";
import { UsageError } from "../../src/shared/errors.ts";

const mebibyte = 1024 * 1024;
const gibibyte = 1024 * mebibyte;
const auto = { mode: "auto" as const, multipartThreshold: defaultMultipartThreshold };

describe("upload plan", () => {
  test("automatic mode switches above 64 MiB", () => {
    expect(isMultipart(64 * mebibyte, auto)).toBe(false);
    expect(isMultipart(64 * mebibyte + 1, auto)).toBe(true);
    expect(isMultipart(1, { ...auto, mode: "multipart" })).toBe(true);
    expect(isMultipart(0, { ...auto, mode: "multipart" })).toBe(false);
    expect(isMultipart(10 * mebibyte, { ...auto, multipartThreshold: 8 * mebibyte })).toBe(true);
  });

  test("single part above 5 GiB is rejected", () => {
    const tooLarge = 5 * gibibyte + 1;

    expect(() => isMultipart(tooLarge, { ...auto, mode: "single-part" })).toThrow(UsageError);
    expect(() => refuseLargeSinglePart(tooLarge)).toThrow(`--single-part cannot upload ${tooLarge} bytes: S3 limits a single PUT to ${5 * gibibyte} bytes (5 GiB)`);
    expect(() => refuseLargeSinglePart(5 * gibibyte)).not.toThrow();
    expect(isMultipart(tooLarge, auto)).toBe(true);
  });

  test("part size keeps 100 GiB within 10,000 parts", () => {
    const length = 100 * gibibyte;
    const partSize = partSizeBeforeHashing(length, auto)!;

    expect(partSize).toBeGreaterThanOrEqual(length / 10_000);
    expect(Math.ceil(length / partSize)).toBeLessThanOrEqual(10_000);
    expect(partSize % mebibyte).toBe(0);
  });

  test("part size bounds and overrides", () => {
    expect(partSizeBeforeHashing(65 * mebibyte, auto)).toBe(5 * mebibyte);
    expect(partSizeBeforeHashing(64 * mebibyte, auto)).toBeUndefined();
    expect(partSizeBeforeHashing(undefined, auto)).toBeUndefined();
    expect(partSizeBeforeHashing(10 * gibibyte, { ...auto, mode: "single-part" })).toBeUndefined();
    expect(partSizeBeforeHashing(1000, { ...auto, mode: "multipart" })).toBe(5 * mebibyte);
    expect(partSizeBeforeHashing(gibibyte, { ...auto, partSize: 16 * mebibyte })).toBe(16 * mebibyte);
  });

  test("part size option range", () => {
    expect(() => checkPartSizeOption(5 * mebibyte - 1)).toThrow("--part-size 5242879 is outside the range");
    expect(() => checkPartSizeOption(5 * gibibyte + 1)).toThrow(UsageError);
    expect(() => checkPartSizeOption(5 * mebibyte)).not.toThrow();
    expect(() => checkPartSizeOption(undefined)).not.toThrow();
  });

  test("part count over 10,000 names a size that fits", () => {
    const length = 60 * gibibyte;
    const plan = { ...auto, partSize: 5 * mebibyte };

    expect(() => checkPlan(length, plan)).toThrow(UsageError);
    expect(() => checkPlan(length, plan)).toThrow(`--part-size ${5 * mebibyte} needs 12288 parts for ${length} bytes, more than S3's limit of 10000 parts`);
    expect(() => checkPlan(length, { ...plan, partSize: 7 * mebibyte })).not.toThrow();
    expect(() => checkPlan(length, { ...plan, partSize: 6 * mebibyte })).toThrow("needs 10240 parts");
    expect(() => checkPlan(length, auto)).not.toThrow();
  });

  test("plan hint gives a part size that works", () => {
    const length = 60 * gibibyte;
    let hint: string | undefined;
    try {
      checkPlan(length, { ...auto, partSize: 5 * mebibyte });
    } catch (error) {
      hint = (error as UsageError).hint;
    }

    expect(hint).toBe("give --part-size 7M or more");
    expect(Math.ceil(length / (7 * mebibyte))).toBeLessThanOrEqual(10_000);
  });

  test("plan limits without a part size", () => {
    const tooLarge = 10_000 * 5 * gibibyte + 1;

    expect(() => checkPlan(tooLarge, auto)).toThrow("exceeds the multipart limit");
    expect(() => checkPlan(5 * gibibyte + 1, { ...auto, mode: "single-part" })).toThrow("S3 limits a single PUT");
    expect(() => checkPlan(5 * gibibyte, { ...auto, mode: "single-part" })).not.toThrow();
    expect(() => checkPlan(100, { ...auto, partSize: mebibyte })).toThrow("--part-size 1048576 is outside the range");
    expect(() => checkPlan(100, { ...auto, multipartThreshold: 5 * gibibyte + 1 })).toThrow("--multipart-threshold 5368709121 is above");
    expect(() => checkPlan(100, { ...auto, mode: "multipart", multipartThreshold: 8 * gibibyte })).not.toThrow();
  });

  test("gzip bound covers the worst case", () => {
    expect(gzipSizeBound(0)).toBe(25);
    expect(gzipSizeBound(gibibyte)).toBeGreaterThan(gibibyte + gibibyte / 4096);
  });
});

describe("option values", () => {
  test("byte sizes with binary units", () => {
    expect(parseByteSize("part-size", "8MiB")).toBe(8 * mebibyte);
    expect(parseByteSize("part-size", "8m")).toBe(8 * mebibyte);
    expect(parseByteSize("part-size", "1.5G")).toBe(1.5 * gibibyte);
    expect(parseByteSize("part-size", "5242880")).toBe(5 * mebibyte);
    expect(() => parseByteSize("part-size", "8 parsecs")).toThrow('invalid --part-size "8 parsecs"');
    expect(() => parseByteSize("part-size", "-1")).toThrow(UsageError);
  });

  test("expiry durations and dates", () => {
    const now = new Date("2026-12-01T00:00:00.000Z");

    expect(parseExpires("30d", now)).toBe("2026-12-31T00:00:00.000Z");
    expect(parseExpires("12h", now)).toBe("2026-12-01T12:00:00.000Z");
    expect(parseExpires("2027-01-31", now)).toBe("2027-01-31T00:00:00.000Z");
    expect(() => parseExpires("soon", now)).toThrow('invalid --expires "soon"');
  });

  test("expires beyond Date's range is a usage error", () => {
    expect(() => parseExpires("99999999d", new Date("2026-12-01T00:00:00Z"))).toThrow('invalid --expires "99999999d"');
  });

  test("expires in the past is a usage error", () => {
    expect(() => parseExpires("2020-01-01", new Date("2026-12-01T00:00:00Z"))).toThrow("is in the past");
    expect(() => parseExpires("0d", new Date("2026-12-01T00:00:00Z"))).toThrow("is in the past");
  });
});
