/**
 * Multipart uploads whose parts are written at their place in one data file. Completion renames
 * that file into place, so the object keeps the data file's inode. Every case that cannot, or
 * must not, use the places still gives the exact bytes of the named parts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreLayout } from "../../src/store/layout.ts";
import { chunkedFetch, signedFetch, startStore, type RunningStore } from "./support.ts";

const mib = 1024 * 1024;
const partSize = 5 * mib;

let store: Awaited<ReturnType<typeof startStore>>;
let layout: StoreLayout;

beforeAll(async () => {
  store = await startStore();
  layout = new StoreLayout(store.dataDir);
});

afterAll(async () => {
  await store.stop();
});

function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

async function initiate(target: RunningStore, key: string): Promise<string> {
  const response = await signedFetch(target, "POST", `/${target.bucket}/${key}?uploads`);
  expect(response.status).toBe(200);
  return /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(await response.text())![1]!;
}

function partPath(target: RunningStore, key: string, uploadId: string, partNumber: number): string {
  return `/${target.bucket}/${key}?partNumber=${partNumber}&uploadId=${uploadId}`;
}

async function uploadPart(target: RunningStore, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<string> {
  const response = await signedFetch(target, "PUT", partPath(target, key, uploadId, partNumber), { body });
  expect(response.status).toBe(200);
  return response.headers.get("etag")!;
}

async function complete(target: RunningStore, key: string, uploadId: string, parts: [number, string][]): Promise<Response> {
  const items = parts.map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber><ETag>${etag}</ETag></Part>`);
  const body = `<CompleteMultipartUpload>${items.join("")}</CompleteMultipartUpload>`;
  return signedFetch(target, "POST", `/${target.bucket}/${key}?uploadId=${uploadId}`, { body });
}

async function storedBytes(target: RunningStore, key: string): Promise<Uint8Array> {
  const response = await signedFetch(target, "GET", `/${target.bucket}/${key}`);
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

/** Inode of the upload's data file, or undefined when the upload has none. */
async function dataFileInode(target: RunningStore, uploadId: string): Promise<number | undefined> {
  const directory = new StoreLayout(target.dataDir).uploadDir(target.bucket, uploadId);
  const name = (await readdir(directory)).find((file) => file.startsWith("data-"));
  return name === undefined ? undefined : statSync(join(directory, name)).ino;
}

async function dataFilePath(target: RunningStore, uploadId: string): Promise<string> {
  const directory = new StoreLayout(target.dataDir).uploadDir(target.bucket, uploadId);
  const name = (await readdir(directory)).find((file) => file.startsWith("data-"));
  return join(directory, name!);
}

function objectInode(target: RunningStore, key: string): number {
  return statSync(new StoreLayout(target.dataDir).objectFile(target.bucket, key)).ino;
}

/** Uploads `parts` in the given order of part numbers and completes with all of them in order. */
async function uploadAll(target: RunningStore, key: string, parts: Uint8Array[], order = parts.map((_, index) => index + 1)) {
  const uploadId = await initiate(target, key);
  const etags = new Map<number, string>();
  for (const partNumber of order) etags.set(partNumber, await uploadPart(target, key, uploadId, partNumber, parts[partNumber - 1]!));
  const inode = await dataFileInode(target, uploadId);
  const response = await complete(target, key, uploadId, parts.map((_, index) => [index + 1, etags.get(index + 1)!]));
  expect(response.status).toBe(200);
  return { uploadId, inode };
}

describe("parts at their place", () => {
  test("uniform parts: data file becomes the object", async () => {
    const parts = [randomBytes(partSize), randomBytes(partSize), randomBytes(partSize), randomBytes(mib + 7)];
    const { inode } = await uploadAll(store, "place/uniform.bin", parts);

    expect(inode).toBeDefined();
    expect(objectInode(store, "place/uniform.bin")).toBe(inode!);
    expect(sha256Hex(await storedBytes(store, "place/uniform.bin"))).toBe(sha256Hex(Buffer.concat(parts)));
  });

  test("parts arriving out of order land at their place", async () => {
    const parts = [randomBytes(partSize), randomBytes(partSize), randomBytes(3 * mib)];
    const { inode } = await uploadAll(store, "place/reverse.bin", parts, [3, 2, 1]);

    // The last part arrived first and is below 5 MiB, so the second part set the part size.
    expect(objectInode(store, "place/reverse.bin")).toBe(inode!);
    expect(sha256Hex(await storedBytes(store, "place/reverse.bin"))).toBe(sha256Hex(Buffer.concat(parts)));
  });

  test("a range across a part boundary reads the right bytes", async () => {
    const parts = [randomBytes(partSize), randomBytes(partSize)];
    await uploadAll(store, "place/range.bin", parts);
    const whole = Buffer.concat(parts);

    const response = await signedFetch(store, "GET", `/${store.bucket}/place/range.bin`, { headers: { range: `bytes=${partSize - 10}-${partSize + 9}` } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).equals(whole.subarray(partSize - 10, partSize + 10))).toBe(true);
  });

  test("multipart ETag and recorded SHA-256", async () => {
    const parts = [randomBytes(partSize), randomBytes(100)];
    await uploadAll(store, "place/etag.bin", parts);
    const md5s = parts.map((part) => createHash("md5").update(part).digest());
    const expected = `"${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-2"`;

    const head = await signedFetch(store, "HEAD", `/${store.bucket}/place/etag.bin`);
    expect(head.headers.get("etag")).toBe(expected);
    const stored = await store.store.storedObjects.read("place/etag.bin");
    expect(stored?.sha256).toBe(sha256Hex(Buffer.concat(parts)));
  });
});

describe("parts that need a copy", () => {
  test("parts of different sizes are copied into a new file", async () => {
    const parts = [randomBytes(6 * mib), randomBytes(partSize), randomBytes(10)];
    const { inode } = await uploadAll(store, "copy/uneven.bin", parts);

    expect(objectInode(store, "copy/uneven.bin")).not.toBe(inode!);
    expect(sha256Hex(await storedBytes(store, "copy/uneven.bin"))).toBe(sha256Hex(Buffer.concat(parts)));
  });

  test("a gap in the part numbers is closed up", async () => {
    const key = "copy/gap.bin";
    const uploadId = await initiate(store, key);
    const first = randomBytes(partSize);
    const third = randomBytes(1000);
    const parts: [number, string][] = [
      [1, await uploadPart(store, key, uploadId, 1, first)],
      [3, await uploadPart(store, key, uploadId, 3, third)],
    ];
    expect((await complete(store, key, uploadId, parts)).status).toBe(200);
    expect(sha256Hex(await storedBytes(store, key))).toBe(sha256Hex(Buffer.concat([first, third])));
  });

  test("part beyond the last is cut off", async () => {
    const key = "copy/extra-part.bin";
    const uploadId = await initiate(store, key);
    const parts = [randomBytes(partSize), randomBytes(partSize)];
    const etags = [await uploadPart(store, key, uploadId, 1, parts[0]!), await uploadPart(store, key, uploadId, 2, parts[1]!)];
    await uploadPart(store, key, uploadId, 3, randomBytes(partSize));

    expect((await complete(store, key, uploadId, [[1, etags[0]!], [2, etags[1]!]])).status).toBe(200);
    const stored = await storedBytes(store, key);
    expect(stored.length).toBe(2 * partSize);
    expect(sha256Hex(stored)).toBe(sha256Hex(Buffer.concat(parts)));
  });
});

describe("a part sent twice", () => {
  test("the second upload wins and is copied to the place", async () => {
    const key = "twice/replaced.bin";
    const uploadId = await initiate(store, key);
    const first = randomBytes(partSize);
    const second = [randomBytes(partSize), randomBytes(partSize)];
    const etag1 = await uploadPart(store, key, uploadId, 1, first);
    await uploadPart(store, key, uploadId, 2, second[0]!);
    const etag2 = await uploadPart(store, key, uploadId, 2, second[1]!);
    const inode = await dataFileInode(store, uploadId);

    expect((await complete(store, key, uploadId, [[1, etag1], [2, etag2]])).status).toBe(200);
    expect(objectInode(store, key)).toBe(inode!);
    expect(sha256Hex(await storedBytes(store, key))).toBe(sha256Hex(Buffer.concat([first, second[1]!])));
  });

  test("failed retry keeps the acknowledged part", async () => {
    const key = "twice/failed-retry.bin";
    const uploadId = await initiate(store, key);
    const parts = [randomBytes(partSize), randomBytes(partSize)];
    const etag1 = await uploadPart(store, key, uploadId, 1, parts[0]!);
    const etag2 = await uploadPart(store, key, uploadId, 2, parts[1]!);

    // Every byte arrives and is written before the SHA-256 check fails at the end.
    const other = randomBytes(partSize);
    const retry = await signedFetch(store, "PUT", partPath(store, key, uploadId, 2), { body: other, headers: { "x-amz-content-sha256": sha256Hex(parts[1]!) } });
    expect(retry.status).toBe(400);

    expect((await complete(store, key, uploadId, [[1, etag1], [2, etag2]])).status).toBe(200);
    expect(sha256Hex(await storedBytes(store, key))).toBe(sha256Hex(Buffer.concat(parts)));
  });

  test("concurrent uploads of one part", async () => {
    const key = "twice/concurrent.bin";
    const uploadId = await initiate(store, key);
    const first = randomBytes(partSize);
    const versions = [randomBytes(partSize), randomBytes(partSize)];
    const etag1 = await uploadPart(store, key, uploadId, 1, first);
    const etags = await Promise.all(versions.map((body) => uploadPart(store, key, uploadId, 2, body)));

    // The part whose record was renamed last is the current one; only its ETag completes.
    const attempts: number[] = [];
    for (const etag of etags) attempts.push((await complete(store, key, uploadId, [[1, etag1], [2, etag]])).status);
    const winner = attempts.indexOf(200);
    expect(attempts.filter((status) => status === 200)).toHaveLength(1);
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(sha256Hex(await storedBytes(store, key))).toBe(sha256Hex(Buffer.concat([first, versions[winner]!])));
  });

  test("overlong aws-chunked part spares the next", async () => {
    const key = "twice/overlong.bin";
    const uploadId = await initiate(store, key);
    const parts = [randomBytes(partSize), randomBytes(partSize)];
    const etag2 = await uploadPart(store, key, uploadId, 2, parts[1]!);

    const overlong = [parts[0]!.subarray(0, partSize / 2), parts[0]!.subarray(partSize / 2), randomBytes(64 * 1024)];
    const response = await chunkedFetch(store, partPath(store, key, uploadId, 1), overlong, { decodedLength: partSize });
    expect(response.status).toBe(400);

    const etag1 = await uploadPart(store, key, uploadId, 1, parts[0]!);
    expect((await complete(store, key, uploadId, [[1, etag1], [2, etag2]])).status).toBe(200);
    expect(sha256Hex(await storedBytes(store, key))).toBe(sha256Hex(Buffer.concat(parts)));
  });
});

describe("data file across restarts and failures", () => {
  test("parts before and after a restart complete in place", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "artifact-data-file-restart-"));
    try {
      const key = "restart/parts.bin";
      const parts = [randomBytes(partSize), randomBytes(partSize), randomBytes(2 * mib)];
      const first = await startStore({ dataDir });
      const uploadId = await initiate(first, key);
      const etag1 = await uploadPart(first, key, uploadId, 1, parts[0]!);
      const inode = await dataFileInode(first, uploadId);
      await first.stop();

      const second = await startStore({ dataDir });
      try {
        const etag2 = await uploadPart(second, key, uploadId, 2, parts[1]!);
        const etag3 = await uploadPart(second, key, uploadId, 3, parts[2]!);
        expect((await complete(second, key, uploadId, [[1, etag1], [2, etag2], [3, etag3]])).status).toBe(200);
        expect(objectInode(second, key)).toBe(inode!);
        expect(sha256Hex(await storedBytes(second, key))).toBe(sha256Hex(Buffer.concat(parts)));
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("data file gone: NoSuchUpload", async () => {
    const key = "gone/parts.bin";
    const uploadId = await initiate(store, key);
    const etag = await uploadPart(store, key, uploadId, 1, randomBytes(partSize));
    await unlink(await dataFilePath(store, uploadId));

    const response = await complete(store, key, uploadId, [[1, etag]]);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("<Code>NoSuchUpload</Code>");
  });

  test("abort removes the data file with the upload", async () => {
    const key = "abort/parts.bin";
    const uploadId = await initiate(store, key);
    await uploadPart(store, key, uploadId, 1, randomBytes(partSize));
    expect(await dataFileInode(store, uploadId)).toBeDefined();

    const response = await signedFetch(store, "DELETE", `/${store.bucket}/${key}?uploadId=${uploadId}`);
    expect(response.status).toBe(204);
    expect(await readdir(layout.uploadsDir(store.bucket))).not.toContain(uploadId);
  });

  test("part sent again after its data file is gone", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "artifact-data-file-gone-"));
    try {
      const key = "gone/sent-again.bin";
      // Part 3 is of the part size too, so that sending it again makes a new data file.
      const parts = [randomBytes(partSize), randomBytes(partSize), randomBytes(partSize)];
      const first = await startStore({ dataDir });
      const uploadId = await initiate(first, key);
      const etags = [];
      for (const [index, part] of parts.entries()) etags.push(await uploadPart(first, key, uploadId, index + 1, part));
      // As a completion leaves it when the process stops after the rename and before removing the folder.
      await unlink(await dataFilePath(first, uploadId));
      await first.stop();

      const second = await startStore({ dataDir });
      try {
        expect(await uploadPart(second, key, uploadId, 3, parts[2]!)).toBe(etags[2]!);
        const response = await complete(second, key, uploadId, etags.map((etag, index) => [index + 1, etag]));
        expect(response.status).toBe(404);
        expect(await response.text()).toContain("<Code>NoSuchUpload</Code>");
        expect((await signedFetch(second, "HEAD", `/${second.bucket}/${key}`)).status).toBe(404);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("restart after a crash removes a finished upload's folder", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "artifact-data-file-finished-"));
    try {
      const first = await startStore({ dataDir });
      const uploadId = await initiate(first, "finished/parts.bin");
      await uploadPart(first, "finished/parts.bin", uploadId, 1, randomBytes(partSize));
      await unlink(await dataFilePath(first, uploadId));
      await first.stop();
      writeFileSync(new StoreLayout(dataDir).runningMarker, "1\n");

      const second = await startStore({ dataDir });
      try {
        expect(existsSync(new StoreLayout(dataDir).uploadDir(second.bucket, uploadId))).toBe(false);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("failed completion of some parts keeps the others", async () => {
    const target = await startStore();
    const key = "subset/parts.bin";
    const objectPath = new StoreLayout(target.dataDir).objectFile(target.bucket, key);
    try {
      const uploadId = await initiate(target, key);
      const parts = [randomBytes(partSize), randomBytes(partSize), randomBytes(partSize), randomBytes(100)];
      const etags = [];
      for (const [index, part] of parts.entries()) etags.push(await uploadPart(target, key, uploadId, index + 1, part));

      // A folder where the object's file goes makes the completion fail at its last step, the rename.
      mkdirSync(join(objectPath, "blocker"), { recursive: true });
      const failed = await complete(target, key, uploadId, [[1, etags[0]!], [2, etags[1]!]]);
      expect(failed.status).toBe(500);
      await rm(objectPath, { recursive: true });

      const response = await complete(target, key, uploadId, etags.map((etag, index) => [index + 1, etag]));
      expect(response.status).toBe(200);
      expect(sha256Hex(await storedBytes(target, key))).toBe(sha256Hex(Buffer.concat(parts)));
    } finally {
      await target.stop();
    }
  });

  test("part sent again during a copying completion", async () => {
    const key = "race/copying.bin";
    const uploadId = await initiate(store, key);
    // A gap before the last part makes completion copy every part into a new file.
    const parts = Array.from({ length: 20 }, () => randomBytes(partSize));
    const listed: [number, string][] = [];
    for (const [index, part] of parts.entries()) {
      const partNumber = index === parts.length - 1 ? parts.length + 1 : index + 1;
      listed.push([partNumber, await uploadPart(store, key, uploadId, partNumber, part)]);
    }
    // Sent twice, so that its data is in a file of its own, which completion opens last.
    listed[listed.length - 1]![1] = await uploadPart(store, key, uploadId, parts.length + 1, parts.at(-1)!);

    const completing = complete(store, key, uploadId, listed);
    await Bun.sleep(30);
    const replacement = randomBytes(partSize);
    await uploadPart(store, key, uploadId, parts.length + 1, replacement);
    const response = await completing;

    // Either the completion read the listed version, or it saw the new one and refused.
    if (response.status === 200) {
      expect(sha256Hex(await storedBytes(store, key))).toBe(sha256Hex(Buffer.concat(parts)));
    } else {
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("<Code>InvalidPart</Code>");
    }
  });
});
