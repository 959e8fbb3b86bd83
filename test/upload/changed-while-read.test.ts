import { afterAll, describe, expect, test } from "bun:test";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { uploadArtifact, type ArtifactQueue, type UploadRequest } from "../../src/upload/upload.ts";
import { defaultMultipartThreshold } from "../../src/upload/plan.ts";
import { DataError } from "../../src/shared/errors.ts";
import { makeTempDir, writeRandomFile } from "./support/files.ts";

const temp = await makeTempDir("artifact-changed-while-read");
afterAll(() => temp.remove());

/** A queue that must not be reached: the checks under test run before any request. */
const unreachableQueue: ArtifactQueue = {
  taskStatus: () => Promise.reject(new Error("queue reached")),
  createArtifact: () => Promise.reject(new Error("queue reached")),
  completeArtifact: () => Promise.reject(new Error("queue reached")),
};

function uploadRequest(input: string, gzip: boolean): UploadRequest {
  return { taskId: "changedTask0000000000A", runId: 0, name: "public/changing.log", input, gzip, plan: { mode: "auto", multipartThreshold: defaultMultipartThreshold }, concurrency: 4 };
}

/** Reads the file, and after its first chunk overwrites 4 bytes in place, so its size stays the same. */
function overwritingReader(path: string): (file: string) => AsyncIterable<Uint8Array> {
  return async function* () {
    let first = true;
    for await (const chunk of Bun.file(path).stream()) {
      yield chunk;
      if (!first) continue;
      first = false;
      const handle = await open(path, "r+");
      await handle.write(Buffer.from("XXXX"), 0, 4, 3 * 1024 * 1024);
      await handle.close();
    }
  };
}

describe("input written to while hashed", () => {
  for (const gzip of [false, true]) {
    test(`same size exits 65 (gzip ${gzip})`, async () => {
      const path = join(temp.dir, `rewritten-${gzip}.log`);
      await writeRandomFile(path, 4 * 1024 * 1024);

      const upload = uploadArtifact(uploadRequest(path, gzip), { queue: unreachableQueue, readInput: overwritingReader(path) });

      await expect(upload).rejects.toBeInstanceOf(DataError);
      await expect(upload).rejects.toThrow(`input ${path} changed while it was read (modified at `);
    });
  }
});
