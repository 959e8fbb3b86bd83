/**
 * Single PUT or multipart, and the part size. Decided twice: before hashing from what is known
 * (so part hashes come from the same read), and after it from the real transfer length.
 */
import { UsageError } from "../shared/errors.ts";
import { checkSinglePart, maxPartSize, maxSinglePartSize, minPartSize } from "../signer/limits.ts";
import { choosePartSize } from "../signer/part-size.ts";

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
