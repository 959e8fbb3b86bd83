import { checkByteCount, maxPartCount, maxPartSize, mebibyte, minPartSize, SignerLimitError } from "./limits.ts";

/** Largest transfer a multipart upload can carry: 10,000 parts of 5 GiB. */
export const maxMultipartTransferLength = maxPartCount * maxPartSize;

/**
 * Chooses the part size for a transfer of `transferLength` bytes: at least 5 MiB, large enough
 * that at most 10,000 parts are needed, rounded up to whole MiB, and at most 5 GiB.
 */
export function choosePartSize(transferLength: number): number {
  checkByteCount("transferLength", transferLength);
  if (transferLength > maxMultipartTransferLength) {
    throw new SignerLimitError(
      "transferLength",
      transferLength,
      maxMultipartTransferLength,
      `transfer length ${transferLength} exceeds the multipart limit of ${maxMultipartTransferLength} bytes (10,000 parts of 5 GiB)`,
    );
  }

  const neededForCount = Math.ceil(transferLength / maxPartCount);
  const roundedToMebibyte = Math.ceil(neededForCount / mebibyte) * mebibyte;
  return Math.min(maxPartSize, Math.max(minPartSize, roundedToMebibyte));
}

/** Returns how many parts of `partSize` bytes a transfer of `transferLength` bytes needs (at least one). */
export function partCount(transferLength: number, partSize: number): number {
  return Math.max(1, Math.ceil(transferLength / partSize));
}
