/**
 * Just enough ELF reading to tell which target a release binary is for: the machine field and
 * the program interpreter (glibc or musl loader). Reads the first 64 KiB only.
 */
import { open } from "node:fs/promises";

export interface ElfFacts {
  machine: number;
  interpreter: string | undefined;
}

const PT_INTERP = 3;

/** Returns the ELF facts of a file, or undefined when it is not a 64-bit little-endian ELF file. */
export async function readElf(path: string): Promise<ElfFacts | undefined> {
  const file = await open(path, "r");
  try {
    const head = Buffer.alloc(65536);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    const isElf64LittleEndian = bytes.length >= 64 && bytes.readUInt32BE(0) === 0x7f454c46 && bytes[4] === 2 && bytes[5] === 1;
    if (!isElf64LittleEndian) return undefined;
    return { machine: bytes.readUInt16LE(18), interpreter: findInterpreter(bytes) };
  } finally {
    await file.close();
  }
}

function findInterpreter(bytes: Buffer): string | undefined {
  const programHeaderOffset = Number(bytes.readBigUInt64LE(32));
  const entrySize = bytes.readUInt16LE(54);
  const count = bytes.readUInt16LE(56);

  for (let index = 0; index < count; index++) {
    const entry = programHeaderOffset + index * entrySize;
    if (entry + entrySize > bytes.length) return undefined;
    if (bytes.readUInt32LE(entry) !== PT_INTERP) continue;
    const offset = Number(bytes.readBigUInt64LE(entry + 8));
    const size = Number(bytes.readBigUInt64LE(entry + 32));
    if (offset + size > bytes.length) return undefined;
    return bytes.toString("latin1", offset, offset + size).replace(/\0+$/, "");
  }
  return undefined;
}
