/** File helpers of the quick start: byte comparison, hashing, and finding a stored object on disk. */
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** Compares two files byte for byte, reading both in 1 MiB chunks. */
export async function sameBytes(left: string, right: string): Promise<boolean> {
  if (Bun.file(left).size !== Bun.file(right).size) return false;
  const [a, b] = await Promise.all([open(left, "r"), open(right, "r")]);
  const chunkA = Buffer.alloc(1 << 20);
  const chunkB = Buffer.alloc(1 << 20);

  try {
    for (let position = 0; ; ) {
      const [readA, readB] = await Promise.all([
        a.read(chunkA, 0, chunkA.length, position),
        b.read(chunkB, 0, chunkB.length, position),
      ]);
      if (readA.bytesRead !== readB.bytesRead) return false;
      if (readA.bytesRead === 0) return true;
      if (!chunkA.subarray(0, readA.bytesRead).equals(chunkB.subarray(0, readB.bytesRead))) return false;
      position += readA.bytesRead;
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

export async function sha256File(path: string, start = 0): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).slice(start).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Where an object's bytes lie on disk: the store may keep a header of its own before them. */
export interface StoredObject {
  path: string;
  dataOffset: number;
}

/**
 * Finds the file under `dir` whose last `size` bytes have the object's SHA-256. Only files at
 * most 64 KiB longer than the object are hashed, which leaves room for a metadata header.
 */
export async function findStoredObject(dir: string, size: number, sha256: string): Promise<StoredObject | undefined> {
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry);
    const info = await stat(path);
    const dataOffset = info.size - size;
    if (!info.isFile() || dataOffset < 0 || dataOffset > 65_536) continue;
    if ((await sha256File(path, dataOffset)) === sha256) return { path, dataOffset };
  }
  return undefined;
}

/** Inverts every bit of the byte at `offset`, in place. */
export async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, "r+");
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}
