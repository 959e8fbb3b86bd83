/**
 * Objects up to 64 KiB live in rows of the store's database, larger ones in files. These tests
 * move keys between the two and check that a key always has one current version, wherever it
 * lives, and that rows survive a killed process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import aws4 from "aws4";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inlineMaxBytes } from "../../src/store/inline-objects.ts";
import { StoreLayout } from "../../src/store/layout.ts";
import { signedFetch, spawnStore, startStore } from "./support.ts";

let store: Awaited<ReturnType<typeof startStore>>;
let layout: StoreLayout;

beforeAll(async () => {
  store = await startStore();
  layout = new StoreLayout(store.dataDir);
});

afterAll(async () => {
  await store.stop();
});

const small = () => randomBytes(1000);
const large = () => randomBytes(inlineMaxBytes + 1);

function md5Etag(body: Uint8Array): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

async function put(key: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<void> {
  const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}`, { body, headers });
  expect(response.status).toBe(200);
}

async function get(key: string, headers: Record<string, string> = {}): Promise<Response> {
  return signedFetch(store, "GET", `/${store.bucket}/${key}`, { headers });
}

async function bodyOf(key: string): Promise<Buffer> {
  const response = await get(key);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function listedKeys(prefix: string): Promise<Array<{ key: string; size: number }>> {
  const text = await (await signedFetch(store, "GET", `/${store.bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`)).text();
  return [...text.matchAll(/<Key>([^<]*)<\/Key>.*?<Size>(\d+)<\/Size>/g)].map((match) => ({ key: match[1]!, size: Number(match[2]) }));
}

function hasFile(key: string): boolean {
  return existsSync(layout.objectFile(store.bucket, key));
}

describe("where an object lives", () => {
  test("size limit between row and file", async () => {
    const atLimit = randomBytes(inlineMaxBytes);
    const overLimit = large();
    await put("place/at-limit.bin", atLimit);
    await put("place/over-limit.bin", overLimit);

    expect(hasFile("place/at-limit.bin")).toBe(false);
    expect(hasFile("place/over-limit.bin")).toBe(true);
    expect((await bodyOf("place/at-limit.bin")).equals(atLimit)).toBe(true);
    expect((await bodyOf("place/over-limit.bin")).equals(overLimit)).toBe(true);
  });

  test("small PUT replaces a file", async () => {
    const key = "place/file-then-row.bin";
    await put(key, large());
    const replacement = small();
    await put(key, replacement, { "content-type": "text/plain" });

    expect(hasFile(key)).toBe(false);
    const response = await get(key);
    expect(response.headers.get("etag")).toBe(md5Etag(replacement));
    expect(response.headers.get("content-type")).toBe("text/plain");
    expect(Buffer.from(await response.arrayBuffer()).equals(replacement)).toBe(true);
    expect(await listedKeys(key)).toEqual([{ key, size: replacement.length }]);
  });

  test("large PUT replaces a row", async () => {
    const key = "place/row-then-file.bin";
    await put(key, small());
    const replacement = large();
    await put(key, replacement);

    expect(hasFile(key)).toBe(true);
    expect((await bodyOf(key)).equals(replacement)).toBe(true);
    expect(await listedKeys(key)).toEqual([{ key, size: replacement.length }]);
  });

  test("completed multipart upload replaces a row", async () => {
    const key = "place/row-then-multipart.bin";
    await put(key, small());
    const initiated = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploads`);
    const uploadId = /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(await initiated.text())![1]!;
    const part = randomBytes(100);
    const uploaded = await signedFetch(store, "PUT", `/${store.bucket}/${key}?partNumber=1&uploadId=${uploadId}`, { body: part });
    const completeBody = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${uploaded.headers.get("etag")}</ETag></Part></CompleteMultipartUpload>`;
    const completed = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploadId=${uploadId}`, { body: completeBody });
    expect(completed.status).toBe(200);

    expect((await bodyOf(key)).equals(part)).toBe(true);
    expect(await listedKeys(key)).toEqual([{ key, size: part.length }]);
  });

  test("concurrent PUTs leave one version", async () => {
    const key = "place/contended.bin";
    const bodies = Array.from({ length: 12 }, (_, index) => (index % 2 === 0 ? small() : large()));
    await Promise.all(bodies.map((body) => put(key, body)));

    const response = await get(key);
    const stored = Buffer.from(await response.arrayBuffer());
    expect(bodies.some((body) => body.equals(stored))).toBe(true);
    expect(response.headers.get("etag")).toBe(md5Etag(stored));
    expect(hasFile(key)).toBe(stored.length > inlineMaxBytes);
    expect(await listedKeys(key)).toEqual([{ key, size: stored.length }]);
  });
});

describe("objects in rows", () => {
  test("Range, If-None-Match and HEAD", async () => {
    const key = "rows/range.bin";
    const body = small();
    await put(key, body);

    const ranged = await get(key, { range: "bytes=10-19" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 10-19/${body.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(10, 20))).toBe(true);

    expect((await get(key, { "if-none-match": md5Etag(body) })).status).toBe(304);

    const head = await signedFetch(store, "HEAD", `/${store.bucket}/${key}`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(body.length));
  });

  test("DELETE of a row, bucket not empty", async () => {
    const bucket = "inline-delete";
    expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);
    expect((await signedFetch(store, "PUT", `/${bucket}/only.txt`, { body: Buffer.from("left behind") })).status).toBe(200);

    const rejected = await signedFetch(store, "DELETE", `/${bucket}`);
    expect(rejected.status).toBe(409);
    expect(await rejected.text()).toContain("BucketNotEmpty");

    expect((await signedFetch(store, "DELETE", `/${bucket}/only.txt`)).status).toBe(204);
    expect((await signedFetch(store, "GET", `/${bucket}/only.txt`)).status).toBe(404);
    expect((await signedFetch(store, "DELETE", `/${bucket}`)).status).toBe(204);
  });

  test("SHA-256 mismatch stores nothing", async () => {
    const key = "rows/other-body.bin";
    const body = small();
    const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}`, {
      body,
      headers: { "x-amz-content-sha256": createHash("sha256").update(small()).digest("hex") },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("XAmzContentSHA256Mismatch");
    expect((await get(key)).status).toBe(404);
  });

  test("queue reader sees a row", async () => {
    const key = "rows/reader.json";
    const body = Buffer.from('{"ok":true}');
    await put(key, body, { "content-type": "application/json", "x-amz-meta-note": "kept" });

    const stored = await store.store.storedObjects.read(key);
    expect(stored?.sha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect(stored?.info).toEqual({
      contentLength: body.length,
      etag: md5Etag(body),
      contentType: "application/json",
      contentEncoding: undefined,
      userMetadata: { note: "kept" },
    });
  });
});

describe("limits and races", () => {
  test("key over 1024 bytes: KeyTooLongError", async () => {
    const key = "k".repeat(1025);
    for (const size of [10, inlineMaxBytes + 1]) {
      const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}`, { body: randomBytes(size) });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("KeyTooLongError");
    }
    const initiated = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploads`);
    expect(initiated.status).toBe(400);
    expect(await initiated.text()).toContain("KeyTooLongError");

    await put("k".repeat(1024), small());
  });

  test("key with a control character: InvalidArgument", async () => {
    for (const [method, suffix] of [["PUT", ""], ["POST", "?uploads"]] as const) {
      const response = await signedFetch(store, method, `/${store.bucket}/limits/bell%07${suffix}`, { body: method === "PUT" ? small() : undefined });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("the key contains U+0007");
    }
    await put("limits/tab%09and%0Anewline", small());
  });

  test("metadata limit for rows and files", async () => {
    const headers = { "x-amz-meta-note": "n".repeat(9000) };
    for (const size of [100, inlineMaxBytes + 1]) {
      const response = await signedFetch(store, "PUT", `/${store.bucket}/limits/metadata.bin`, { body: randomBytes(size), headers });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("MetadataTooLarge");
    }
  });

  test("PUT finishing after DeleteBucket: NoSuchBucket", async () => {
    const bucket = "inline-deleted-meanwhile";
    for (const size of [1000, inlineMaxBytes + 1000]) {
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);
      const pending = await startPut(`/${bucket}/ghost.bin`, randomBytes(size));
      expect((await signedFetch(store, "DELETE", `/${bucket}`)).status).toBe(204);

      const answer = await pending.finish();
      expect(answer).toStartWith("HTTP/1.1 404");
      expect(answer).toContain("NoSuchBucket");

      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);
      expect((await signedFetch(store, "GET", `/${bucket}/ghost.bin`)).status).toBe(404);
      expect((await signedFetch(store, "DELETE", `/${bucket}`)).status).toBe(204);
    }
  });
});

describe("DeleteBucket racing PUTs", () => {
  test("no PUT succeeds into a deleted bucket", async () => {
    for (let round = 0; round < 24; round++) {
      const bucket = `inline-race-${round}`;
      const size = round % 2 === 0 ? 1000 : inlineMaxBytes + 1;
      expect((await signedFetch(store, "PUT", `/${bucket}`)).status).toBe(200);
      const pending = await Promise.all(Array.from({ length: 6 }, (_, index) => startPut(`/${bucket}/k${index}`, randomBytes(size))));

      const deleted = signedFetch(store, "DELETE", `/${bucket}`);
      await Bun.sleep(round % 4);
      const answers = await Promise.all(pending.map((put) => put.finish()));
      const deleteStatus = (await deleted).status;

      const stored = answers.filter((answer) => answer.startsWith("HTTP/1.1 200")).length;
      if (deleteStatus === 204) {
        expect(stored).toBe(0);
        continue;
      }
      expect(deleteStatus).toBe(409);
      const listing = await (await signedFetch(store, "GET", `/${bucket}?list-type=2`)).text();
      expect(listing.match(/<Key>/g)?.length ?? 0).toBe(stored);
    }
  });
});

/** Sends a signed PUT with only its first 10 body bytes; `finish` sends the rest and returns the raw response. */
async function startPut(path: string, body: Uint8Array): Promise<{ finish(): Promise<string> }> {
  const url = new URL(path, store.endpoint);
  const signed = aws4.sign(
    { host: url.host, method: "PUT", path: url.pathname, service: "s3", region: store.region, body: Buffer.from(body), headers: { connection: "close" } },
    { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  );
  const headers = Object.entries(signed.headers as Record<string, string>).map(([name, value]) => `${name}: ${value}`);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  let answer = "";
  socket.on("data", (data) => (answer += data.toString()));
  const closed = new Promise<void>((resolve, reject) => {
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });

  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write([`PUT ${url.pathname} HTTP/1.1`, ...headers, "", ""].join("\r\n"));
  await new Promise<void>((resolve) => socket.write(body.subarray(0, 10), () => resolve()));
  await Bun.sleep(50);
  return {
    finish: async () => {
      socket.write(body.subarray(10));
      await closed;
      return answer;
    },
  };
}

type SpawnedStore = Awaited<ReturnType<typeof spawnStore>>;

/**
 * Runs `beforeRestart` against a store process, then `afterRestart` against a new one on the same
 * data dir. `beforeRestart` may stop or kill the first process itself.
 */
async function acrossRestart(
  beforeRestart: (first: SpawnedStore, dataLayout: StoreLayout) => Promise<void>,
  afterRestart: (second: SpawnedStore, dataLayout: StoreLayout) => Promise<void>,
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "artifact-inline-restart-"));
  const dataLayout = new StoreLayout(dataDir);
  try {
    const first = await spawnStore(dataDir);
    try {
      await beforeRestart(first, dataLayout);
    } finally {
      await first.stop();
    }

    const second = await spawnStore(dataDir);
    try {
      await afterRestart(second, dataLayout);
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("rows and restarts", () => {
  test("acknowledged row survives SIGKILL", async () => {
    const body = small();
    await acrossRestart(
      async (first) => {
        expect((await signedFetch(first, "PUT", `/${first.bucket}/kept.bin`, { body })).status).toBe(200);
        process.kill(first.pid, "SIGKILL");
      },
      async (second) => {
        const response = await signedFetch(second, "GET", `/${second.bucket}/kept.bin`);
        expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
      },
    );
  });

  test("file beside a row removed after a crash", async () => {
    const body = small();
    await acrossRestart(
      async (first, dataLayout) => {
        expect((await signedFetch(first, "PUT", `/${first.bucket}/moved.bin`, { body: large() })).status).toBe(200);
        await first.stop();
        expect(existsSync(dataLayout.runningMarker)).toBe(false);

        // What a crash leaves when a small PUT committed its row but had not removed the file yet.
        const record = { key: "moved.bin", size: body.length, etag: md5Etag(body), lastModified: new Date().toISOString(), headers: {}, userMetadata: {} };
        const database = new Database(dataLayout.inlineDatabase);
        database.run("INSERT INTO objects (bucket, key, record, data) VALUES (?, ?, ?, ?)", ["artifacts", "moved.bin", JSON.stringify(record), body]);
        database.close();
        writeFileSync(dataLayout.runningMarker, "1\n");
        expect(existsSync(dataLayout.objectFile("artifacts", "moved.bin"))).toBe(true);
      },
      async (second, dataLayout) => {
        expect(existsSync(dataLayout.objectFile("artifacts", "moved.bin"))).toBe(false);
        const response = await signedFetch(second, "GET", `/${second.bucket}/moved.bin`);
        expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
      },
    );
  });

  test("row changed at rest keeps its ETag", async () => {
    const body = Buffer.from("the bytes that were stored");
    await acrossRestart(
      async (first, dataLayout) => {
        expect((await signedFetch(first, "PUT", `/${first.bucket}/rot.txt`, { body })).status).toBe(200);
        await first.stop();

        const database = new Database(dataLayout.inlineDatabase);
        database.run("UPDATE objects SET data = ? WHERE key = ?", [Buffer.from("the bytes that were Stored"), "rot.txt"]);
        database.close();
      },
      async (second) => {
        const response = await signedFetch(second, "GET", `/${second.bucket}/rot.txt`);
        expect(response.headers.get("etag")).toBe(md5Etag(body));
        expect(await response.text()).toBe("the bytes that were Stored");
      },
    );
  });
});
