#!/usr/bin/env bun
/**
 * Measures the built-in store's peak memory while it receives a large object as a multipart
 * upload and serves it back with Range requests, checking the bytes end to end.
 *
 *   bun scripts/bench-store-rss.ts [size in MiB, default 2048] [part and range size in MiB, default 64]
 *
 * The store runs as its own `artifact store serve` process; its peak RSS is VmHWM from
 * /proc/<pid>/status (Linux only). Needs about three times the size free under the temp folder.
 * Exits 1 when the bytes differ or the peak exceeds ARTIFACT_BENCH_MAX_RSS_MIB (default 150).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "../src/signer/s3-client.ts";
import { S3Signer } from "../src/signer/signer.ts";
import type { ObjectHeaders } from "../src/signer/types.ts";
import { spawnStore } from "../test/store/support.ts";

const mebibyte = 1024 * 1024;

export interface RssResult {
  sizeBytes: number;
  parts: number;
  peakRssMiB: number;
  byteExact: boolean;
}

/** Uploads `sizeMiB` of random bytes in parts, reads them back by Range, and returns the figures. */
export async function measureStoreRss(sizeMiB: number, partMiB: number): Promise<RssResult> {
  const folder = await mkdtemp(join(tmpdir(), "artifact-store-rss-"));
  const store = await spawnStore(join(folder, "data"));
  try {
    const source = join(folder, "source.bin");
    const partSize = partMiB * mebibyte;
    const { sha256, partHashes } = await writeRandomFile(source, sizeMiB * mebibyte, partSize);

    const signer = new S3Signer({ ...store, keyPrefix: "", addressing: "path" });
    const client = new S3Client(signer);
    const key = signer.objectKey("rssBenchTaskId00000000", 0, "large.bin");
    await uploadInParts(signer, client, key, source, partSize, partHashes, sha256);

    const downloaded = await downloadByRanges(signer, key, sizeMiB * mebibyte, partSize);
    return {
      sizeBytes: sizeMiB * mebibyte,
      parts: partHashes.length,
      peakRssMiB: await peakRssMiB(store.pid),
      byteExact: downloaded === sha256,
    };
  } finally {
    await store.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

/** Writes random bytes, returning the whole file's and each part's SHA-256. */
async function writeRandomFile(path: string, size: number, partSize: number): Promise<{ sha256: string; partHashes: string[] }> {
  const file = await open(path, "w");
  const whole = createHash("sha256");
  const partHashes: string[] = [];
  try {
    for (let offset = 0; offset < size; offset += partSize) {
      const part = randomBytes(Math.min(partSize, size - offset));
      whole.update(part);
      partHashes.push(createHash("sha256").update(part).digest("hex"));
      await file.write(part, 0, part.length, offset);
    }
  } finally {
    await file.close();
  }
  return { sha256: whole.digest("hex"), partHashes };
}

async function uploadInParts(
  signer: S3Signer,
  client: S3Client,
  key: string,
  source: string,
  partSize: number,
  partHashes: string[],
  sha256: string,
): Promise<void> {
  const size = Bun.file(source).size;
  const headers: ObjectHeaders = {
    contentType: "application/octet-stream",
    contentEncoding: "identity",
    metadata: { contentSha256: sha256, contentLength: size, transferSha256: sha256, transferLength: size, taskId: "rssBenchTaskId00000000", runId: 0, name: "large.bin" },
  };
  const uploadId = await client.initiateMultipartUpload(key, headers);
  const etags: string[] = [];
  for (const [index, partSha256] of partHashes.entries()) {
    const start = index * partSize;
    const end = Math.min(start + partSize, size);
    const request = signer.signUploadPart(key, uploadId, index + 1, { sha256: partSha256, size: end - start });
    const response = await fetch(request.url, { method: "PUT", headers: request.headers, body: Bun.file(source).slice(start, end) });
    if (response.status !== 200) throw new Error(`part ${index + 1} failed: ${response.status} ${await response.text()}`);
    etags.push(response.headers.get("etag")!);
  }
  await client.completeMultipartUpload(key, uploadId, etags);
}

/** Reads the object in Range requests of `rangeSize` bytes and returns the SHA-256 of all bytes. */
async function downloadByRanges(signer: S3Signer, key: string, size: number, rangeSize: number): Promise<string> {
  const hash = createHash("sha256");
  for (let start = 0; start < size; start += rangeSize) {
    const last = Math.min(start + rangeSize, size) - 1;
    const request = signer.signGetObject(key);
    const response = await fetch(request.url, { headers: { ...request.headers, range: `bytes=${start}-${last}` }, decompress: false });
    if (response.status !== 206) throw new Error(`range ${start}-${last} failed: ${response.status}`);
    let received = 0;
    for await (const chunk of response.body!) {
      hash.update(chunk);
      received += chunk.length;
    }
    if (received !== last - start + 1) throw new Error(`range ${start}-${last}: got ${received} bytes`);
  }
  return hash.digest("hex");
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

if (import.meta.main) {
  const sizeMiB = Number(process.argv[2] ?? 2048);
  const partMiB = Number(process.argv[3] ?? 64);
  const maxRssMiB = Number(process.env.ARTIFACT_BENCH_MAX_RSS_MIB ?? 150);
  const result = await measureStoreRss(sizeMiB, partMiB);
  console.log(JSON.stringify({ ...result, maxRssMiB }));
  if (!result.byteExact || result.peakRssMiB > maxRssMiB) process.exit(1);
}
