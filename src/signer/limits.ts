/**
 * S3's size limits, checked before anything is signed so that a request S3 would reject is never
 * handed to an uploader. Each failure names the value and the limit; the queue returns it as a 400.
 * Limits as AWS documents them for S3 (Amazon S3 User Guide, "multipart upload limits" and
 * "object metadata").
 */
import { UsageError } from "../shared/errors.ts";
import type { PartHash } from "./types.ts";

export const mebibyte = 1024 * 1024;
export const gibibyte = 1024 * mebibyte;

/** Largest object a single PUT may carry. */
export const maxSinglePartSize = 5 * gibibyte;
export const maxPartCount = 10_000;
/** Smallest size of every part but the last. */
export const minPartSize = 5 * mebibyte;
export const maxPartSize = 5 * gibibyte;
/** Sum of the UTF-8 bytes of every user metadata name (without `x-amz-meta-`) and value. */
export const maxUserMetadataBytes = 2 * 1024;
/** Maximum object key length, in UTF-8 bytes. */
export const maxKeyBytes = 1024;

/** A value that S3 would reject, found before signing. */
export class SignerLimitError extends UsageError {
  readonly field: string;
  readonly value: number | string;
  readonly limit: number | string;

  constructor(field: string, value: number | string, limit: number | string, message: string, hint?: string) {
    super(message, { hint });
    this.field = field;
    this.value = value;
    this.limit = limit;
  }
}

/** Throws unless `value` is a byte count: a safe non-negative integer. */
export function checkByteCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SignerLimitError(field, value, "a non-negative integer", `${field} ${value} is not a byte count`);
  }
}

/** Throws unless `value` is a SHA-256 digest in hex (either case; S3 needs it lowercase, see `normalizeSha256`). */
export function checkSha256(field: string, value: string): void {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new SignerLimitError(field, value, "64 hex digits", `${field} "${value}" is not a SHA-256 digest in hex`);
  }
}

export function normalizeSha256(value: string): string {
  return value.toLowerCase();
}

/** Throws when a single PUT of `transferLength` bytes exceeds S3's 5 GiB limit. */
export function checkSinglePart(transferLength: number): void {
  checkByteCount("transferLength", transferLength);
  if (transferLength > maxSinglePartSize) {
    throw new SignerLimitError(
      "transferLength",
      transferLength,
      maxSinglePartSize,
      `transfer length ${transferLength} exceeds the single-part limit of ${maxSinglePartSize} bytes (5 GiB)`,
      "upload it in parts (multipart)",
    );
  }
}

/** Throws when `partNumber` is outside S3's range 1..10,000. */
export function checkPartNumber(partNumber: number): void {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > maxPartCount) {
    throw new SignerLimitError(
      "partNumber",
      partNumber,
      maxPartCount,
      `part number ${partNumber} is outside the range 1 to ${maxPartCount}`,
    );
  }
}

/** Throws when one part's hash or size cannot be uploaded at `index` (0-based) of `count` parts. */
export function checkPart(part: PartHash, index: number, count: number): void {
  const field = `parts[${index}]`;
  checkSha256(`${field}.sha256`, part.sha256);
  checkByteCount(`${field}.size`, part.size);

  if (part.size > maxPartSize) {
    throw new SignerLimitError(field, part.size, maxPartSize, `part ${index + 1} is ${part.size} bytes, more than the limit of ${maxPartSize} (5 GiB)`);
  }
  const isLast = index === count - 1;
  if (!isLast && part.size < minPartSize) {
    throw new SignerLimitError(
      field,
      part.size,
      minPartSize,
      `part ${index + 1} of ${count} is ${part.size} bytes, less than the minimum of ${minPartSize} (5 MiB) for every part but the last`,
    );
  }
}

/** Throws when the parts cannot form a multipart upload of `transferLength` bytes. */
export function checkParts(parts: PartHash[], transferLength: number): void {
  checkByteCount("transferLength", transferLength);
  if (parts.length === 0) {
    throw new SignerLimitError("parts", 0, 1, "a multipart upload needs at least one part");
  }
  if (parts.length > maxPartCount) {
    throw new SignerLimitError("parts", parts.length, maxPartCount, `${parts.length} parts exceed the limit of ${maxPartCount}`, "use larger parts");
  }

  parts.forEach((part, index) => checkPart(part, index, parts.length));

  const sum = parts.reduce((total, part) => total + part.size, 0);
  if (sum !== transferLength) {
    throw new SignerLimitError("parts", sum, transferLength, `the part sizes sum to ${sum} bytes, but the transfer length is ${transferLength}`);
  }
}

/** Throws when the user metadata exceeds S3's 2 KiB; names are given without the `x-amz-meta-` prefix. */
export function checkUserMetadata(metadata: Record<string, string>): void {
  const encoder = new TextEncoder();
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    bytes += encoder.encode(name).length + encoder.encode(value).length;
  }

  if (bytes > maxUserMetadataBytes) {
    throw new SignerLimitError(
      "metadata",
      bytes,
      maxUserMetadataBytes,
      `the user metadata is ${bytes} bytes, more than the limit of ${maxUserMetadataBytes} (2 KiB)`,
      "shorten the artifact name",
    );
  }
}

/** Throws when `key` is longer than S3's 1,024 bytes. */
export function checkKeyLength(key: string): void {
  const bytes = new TextEncoder().encode(key).length;
  if (bytes > maxKeyBytes) {
    throw new SignerLimitError("key", bytes, maxKeyBytes, `object key of ${bytes} bytes exceeds the limit of ${maxKeyBytes}`, "shorten the artifact name");
  }
}
