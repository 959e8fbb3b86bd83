/**
 * The `Range` header of GET, as S3 supports it: one range `bytes=first-last`, `bytes=first-` or
 * the suffix `bytes=-length`. A header that is not one valid range is ignored (the whole object
 * is sent), as RFC 9110 asks; a valid range that starts beyond the end is 416 InvalidRange.
 */
import { StoreError } from "./s3-error.ts";

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

/** Returns the range to send, or undefined for the whole object. */
export function parseRange(header: string | null, size: number): ByteRange | undefined {
  const match = header === null ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];

  if (first === "") {
    if (last === "") return undefined;
    const suffixLength = Number(last);
    if (suffixLength === 0 || size === 0) throw unsatisfiable(header!, size);
    return { start: Math.max(0, size - suffixLength), end: size };
  }

  const start = Number(first);
  const end = last === "" ? size : Math.min(Number(last) + 1, size);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) throw unsatisfiable(header!, size);
  return { start, end };
}

function unsatisfiable(header: string, size: number): StoreError {
  const error = new StoreError(416, "InvalidRange", `The requested range ${header} is not satisfiable for an object of ${size} bytes`, {
    RangeRequested: header,
    ActualObjectSize: String(size),
  });
  error.headers["content-range"] = `bytes */${size}`;
  return error;
}
