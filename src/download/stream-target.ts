/**
 * Outputs that are not regular files: devices such as /dev/null and FIFOs. A rename would replace
 * the device node or FIFO with a regular file, so the verified bytes are copied into it instead.
 */
import { constants, createReadStream, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/** Returns whether the output takes bytes by writing into it rather than by a rename onto it. */
export function isStreamTarget(stats: Stats): boolean {
  // NOTE: tests cover character devices and FIFOs. Block devices take the same path untested.
  return stats.isCharacterDevice() || stats.isFIFO() || stats.isBlockDevice();
}

/** Copies the verified temporary file into the device or FIFO at `path`; opening a FIFO waits for a reader. */
export async function copyToStreamTarget(temporaryPath: string, path: string): Promise<void> {
  // Without O_CREAT, a device node removed meanwhile fails with ENOENT instead of becoming a regular file.
  const target = await open(path, constants.O_WRONLY);
  try {
    for await (const chunk of createReadStream(temporaryPath)) {
      await writeAll(target, chunk as Buffer);
    }
  } finally {
    await target.close();
  }
}

async function writeAll(target: FileHandle, chunk: Buffer): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await target.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}
