/**
 * Single PUT or multipart, and the part size. Decided twice: before hashing from what is known
 * (so part hashes come from the same read), and after it from the real transfer length.
 */
import { UsageError } from "../shared/errors.ts";
import { checkSinglePart, maxPartCount, maxPartSize, maxSinglePartSize, mebibyte, minPartSize } from "../signer/limits.ts";
import { choosePartSize, partCount } from "../signer/part-size.ts";

export type UploadMode = "auto" | "multipart" | "single-part";

export interface PlanOptions {
  mode: UploadMode;
  /** In automatic mode, transfers above this many bytes go multipart. */
  multipartThreshold: number;
  /** Overrides the part size chosen from the length. */
  partSize?: number;
}

export const defaultMultipartThreshold = 64 * 1024 * 1024;

/** Throws a UsageError when `--part-size` is outside S3's range of 5 MiB to 5 GiB. */
export function checkPartSizeOption(partSize: number | undefined): void {
  if (partSize === undefined) return;
  if (partSize < minPartSize || partSize > maxPartSize) {
    throw new UsageError(`--part-size ${partSize} is outside the range ${minPartSize} (5 MiB) to ${maxPartSize} (5 GiB)`);
  }
}

/** Throws a UsageError for options that no length can satisfy: the part size range, and a threshold above a single PUT's 5 GiB. */
export function checkPlanOptions(options: PlanOptions): void {
  checkPartSizeOption(options.partSize);
  if (options.mode === "auto" && options.multipartThreshold > maxSinglePartSize) {
    throw new UsageError(`--multipart-threshold ${options.multipartThreshold} is above S3's single PUT limit of ${maxSinglePartSize} bytes (5 GiB)`, {
      hint: "give 5G or less",
    });
  }
}

/**
 * Throws a UsageError (exit 64) when the plan cannot carry `transferLength` bytes: a single PUT
 * above 5 GiB, more than 10,000 parts of the given part size, or more than 10,000 parts of 5 GiB.
 * Upload calls it before hashing when the file size is the transfer length, else right after
 * stdin is spooled or the input compressed, and always before any request.
 * NOTE: with --gzip the compressed length is unknown until the whole input was read, so a part
 * count over the limit is found only after compressing.
 */
export function checkPlan(transferLength: number, options: PlanOptions): void {
  checkPlanOptions(options);
  if (!isMultipart(transferLength, options)) return;

  // Throws above 10,000 parts of 5 GiB, whatever part size was given.
  const sizeThatFits = choosePartSize(transferLength);
  if (options.partSize === undefined) return;

  const count = partCount(transferLength, options.partSize);
  if (count > maxPartCount) {
    throw new UsageError(
      `--part-size ${options.partSize} needs ${count} parts for ${transferLength} bytes, more than S3's limit of ${maxPartCount} parts`,
      { hint: `give --part-size ${sizeThatFits / mebibyte}M or more` },
    );
  }
}

/**
 * Returns the part size to hash with before the exact transfer length is known, or undefined for
 * no part hashes yet. `lengthBound` is an upper bound of the transfer length, undefined for stdin.
 */
export function partSizeBeforeHashing(lengthBound: number | undefined, options: PlanOptions): number | undefined {
  if (options.mode === "single-part" || lengthBound === undefined) return undefined;
  if (options.mode === "auto" && lengthBound <= options.multipartThreshold) return undefined;
  return options.partSize ?? choosePartSize(lengthBound);
}

/** Decides multipart from the exact transfer length; refuses a single PUT above 5 GiB. */
export function isMultipart(transferLength: number, options: PlanOptions): boolean {
  if (options.mode === "single-part") {
    refuseLargeSinglePart(transferLength);
    return false;
  }
  // A part has at least one byte, so an empty transfer is one PUT even with --multipart.
  if (transferLength === 0) return false;
  return options.mode === "multipart" || transferLength > options.multipartThreshold;
}

/** Throws before any byte is sent when `--single-part` cannot carry the transfer. */
export function refuseLargeSinglePart(transferLength: number): void {
  if (transferLength > maxSinglePartSize) {
    throw new UsageError(`--single-part cannot upload ${transferLength} bytes: S3 limits a single PUT to ${maxSinglePartSize} bytes (5 GiB)`, {
      hint: "drop --single-part so the upload goes in parts",
    });
  }
  checkSinglePart(transferLength);
}
