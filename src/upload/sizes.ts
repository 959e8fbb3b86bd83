/** Byte sizes given on the command line, such as `64MiB`, `8M` or `5368709120`. */
import { UsageError } from "../shared/errors.ts";

const units: Record<string, number> = { "": 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** Parses a byte count with an optional binary unit (K/KiB, M/MiB, G/GiB); throws UsageError naming the option. */
export function parseByteSize(option: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const multiplier = match ? units[match[2]!.toLowerCase()] : undefined;
  const bytes = match && multiplier !== undefined ? Math.round(Number(match[1]) * multiplier) : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(`invalid --${option} ${JSON.stringify(text)}`, { hint: "give bytes, or a number with K, M or G (KiB, MiB, GiB)" });
  }
  return bytes;
}
