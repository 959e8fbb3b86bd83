/**
 * Behaviour of the built-in store beyond the shared conformance suite: authentication failures,
 * durability when a body fails, ranges, multipart errors, key mapping and aws-chunked uploads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { truncateSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import aws4 from "aws4";
import { UnavailableError } from "../../src/shared/errors.ts";
import { openStore } from "../../src/store/index.ts";
import { StoreLayout } from "../../src/store/layout.ts";
import { headerBytes } from "../../src/store/object-file.ts";
import { chunkedFetch, memoryLogger, signedFetch, startStore, type RunningStore } from "./support.ts";

let store: RunningStore;

beforeAll(async () => {
  store = await startStore();
});

afterAll(async () => {
  await store.stop();
});

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function errorCodeOf(response: Response): Promise<string> {
  const text = await response.text();
  return `${response.status} ${/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? response.headers.get("x-amz-error-code")}`;
}

async function put(key: string, body: Uint8Array | string): Promise<Response> {
  return signedFetch(store, "PUT", `/${store.bucket}/${key}`, { body: typeof body === "string" ? Buffer.from(body) : body });
}

async function listTree(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true })).map(String);
}

describe("authentication", () => {
  test("request 20 minutes old: RequestTimeTooSkewed", async () => {
    const old = new Date(Date.now() - 20 * 60 * 1000);
    expect(await errorCodeOf(await signedFetch(store, "GET", `/${store.bucket}/any`, { now: old }))).toBe("403 RequestTimeTooSkewed");
  });

  test("request 14 minutes old is accepted", async () => {
    const recent = new Date(Date.now() - 14 * 60 * 1000);
    expect(await errorCodeOf(await signedFetch(store, "GET", `/${store.bucket}/missing`, { now: recent }))).toBe("404 NoSuchKey");
  });

  test("unknown access key: InvalidAccessKeyId", async () => {
    const other = { ...store, accessKeyId: "AKSTUNKNOWNKEY000000" };
    expect(await errorCodeOf(await signedFetch(other, "GET", `/${store.bucket}/any`))).toBe("403 InvalidAccessKeyId");
  });

  test("wrong secret: SignatureDoesNotMatch", async () => {
    const other = { ...store, secretAccessKey: "not-the-secret" };
    expect(await errorCodeOf(await signedFetch(other, "GET", `/${store.bucket}/any`))).toBe("403 SignatureDoesNotMatch");
  });

  test("wrong region: AuthorizationHeaderMalformed", async () => {
    const other = { ...store, region: "eu-west-1" };
    expect(await errorCodeOf(await signedFetch(other, "GET", `/${store.bucket}/any`))).toBe("400 AuthorizationHeaderMalformed");
  });

  test("unsigned request: AccessDenied", async () => {
    expect(await errorCodeOf(await fetch(`${store.endpoint}/${store.bucket}/any`))).toBe("403 AccessDenied");
  });

  test("presigned URL valid for 8 days: AuthorizationQueryParametersError", async () => {
    const url = new URL(`${store.endpoint}/${store.bucket}/any`);
    const signed = aws4.sign(
      { host: url.host, path: `${url.pathname}?X-Amz-Expires=691200`, service: "s3", region: store.region, signQuery: true },
      { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    );
    expect(await errorCodeOf(await fetch(`${store.endpoint}${signed.path}`))).toBe("400 AuthorizationQueryParametersError");
  });

  test("error answers carry a request id", async () => {
    const response = await signedFetch(store, "GET", `/${store.bucket}/missing`);
    const body = await response.text();
    expect(response.headers.get("x-amz-request-id")).toMatch(/^[0-9A-F]{16}$/);
    expect(body).toContain(`<RequestId>${response.headers.get("x-amz-request-id")}</RequestId>`);
  });
});

describe("durability", () => {
  test("dropped connection stores nothing and keeps the old object", async () => {
    const key = "durability/dropped.bin";
    const original = randomBytes(4096);
    expect((await put(key, original)).status).toBe(200);

    const replacement = randomBytes(1024 * 1024);
    const url = new URL(`${store.endpoint}/${store.bucket}/${key}`);
    const signed = aws4.sign(
      { host: url.host, method: "PUT", path: url.pathname, service: "s3", region: store.region, headers: { "x-amz-content-sha256": sha256Hex(replacement), "content-length": String(replacement.length) } },
      { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    );
    await sendHalfAndClose(url, signed.headers as Record<string, string>, replacement.subarray(0, replacement.length / 2));

    // The store notices the closed connection asynchronously; give it a moment.
    await Bun.sleep(300);
    const stored = await signedFetch(store, "GET", `/${store.bucket}/${key}`);
    expect(sha256Hex(new Uint8Array(await stored.arrayBuffer()))).toBe(sha256Hex(original));
    expect(await readdir(join(store.dataDir, "store", "tmp"))).toEqual([]);
  });

  test("SHA-256 mismatch keeps the old object", async () => {
    const key = "durability/mismatch.bin";
    const original = Buffer.from("the original bytes");
    expect((await put(key, original)).status).toBe(200);

    const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}`, {
      body: Buffer.from("other bytes"),
      headers: { "x-amz-content-sha256": sha256Hex("different bytes") },
    });
    expect(await errorCodeOf(response)).toBe("400 XAmzContentSHA256Mismatch");
    expect(await (await signedFetch(store, "GET", `/${store.bucket}/${key}`)).text()).toBe(original.toString());
  });

  // Bodies from 4 MiB on are hashed by the store's Workers instead of its event loop.
  test("large body ETag and hash check", async () => {
    const key = "durability/large.bin";
    const body = randomBytes(6 * 1024 * 1024 + 5);
    const stored = await put(key, body);
    expect(stored.status).toBe(200);
    expect(stored.headers.get("etag")).toBe(`"${createHash("md5").update(body).digest("hex")}"`);

    const changed = Buffer.from(body);
    changed[changed.length - 1]! ^= 1;
    const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}`, { body: changed, headers: { "x-amz-content-sha256": sha256Hex(body) } });
    expect(await errorCodeOf(response)).toBe("400 XAmzContentSHA256Mismatch");
    expect(sha256Hex(new Uint8Array(await (await signedFetch(store, "GET", `/${store.bucket}/${key}`)).arrayBuffer()))).toBe(sha256Hex(body));
    expect(await readdir(join(store.dataDir, "store", "tmp"))).toEqual([]);
  });

  test("short object file is logged", async () => {
    const logger = memoryLogger();
    const short = await startStore({ logger });
    try {
      const key = "durability/short.bin";
      const body = randomBytes(100_000);
      expect((await signedFetch(short, "PUT", `/${short.bucket}/${key}`, { body })).status).toBe(200);
      truncateSync(new StoreLayout(short.dataDir).objectFile(short.bucket, key), headerBytes + 1000);

      const response = await signedFetch(short, "GET", `/${short.bucket}/${key}`);
      expect((await response.arrayBuffer()).byteLength).toBe(1000);
      expect(logger.events).toContain("store.object-truncated");
    } finally {
      await short.stop();
    }
  });

  test("Content-MD5 mismatch: BadDigest", async () => {
    const response = await signedFetch(store, "PUT", `/${store.bucket}/durability/md5.bin`, {
      body: Buffer.from("abc"),
      headers: { "content-md5": createHash("md5").update("abd").digest("base64") },
    });
    expect(await errorCodeOf(response)).toBe("400 BadDigest");
  });
});

function sendHalfAndClose(url: URL, headers: Record<string, string>, part: Uint8Array): Promise<void> {
  const head = [`PUT ${url.pathname} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), "", ""].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(head);
      socket.write(part, () => setTimeout(() => socket.destroy(), 100));
    });
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

describe("ranges", () => {
  const key = "ranges/hundred.bin";
  const body = randomBytes(100);

  beforeAll(async () => {
    expect((await put(key, body)).status).toBe(200);
  });

  const get = (range: string) => signedFetch(store, "GET", `/${store.bucket}/${key}`, { headers: { range } });

  test("suffix range returns the last bytes", async () => {
    const response = await get("bytes=-10");
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe("bytes 90-99/100");
    expect(response.headers.get("content-length")).toBe("10");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array(body.subarray(90)));
  });

  test("suffix longer than the object returns all", async () => {
    const response = await get("bytes=-500");
    expect(response.headers.get("content-range")).toBe("bytes 0-99/100");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array(body));
  });

  test("open range from an offset", async () => {
    const response = await get("bytes=95-");
    expect(response.headers.get("content-range")).toBe("bytes 95-99/100");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array(body.subarray(95)));
  });

  test("range beyond the end: 416 InvalidRange", async () => {
    const response = await get("bytes=100-200");
    expect(response.headers.get("content-range")).toBe("bytes */100");
    expect(await errorCodeOf(response)).toBe("416 InvalidRange");
  });

  test("HEAD reports the length without a body", async () => {
    const response = await signedFetch(store, "HEAD", `/${store.bucket}/${key}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("100");
    expect(response.headers.get("etag")).toBe(`"${createHash("md5").update(body).digest("hex")}"`);
  });
});

describe("multipart", () => {
  async function initiate(key: string): Promise<string> {
    const response = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploads`);
    expect(response.status).toBe(200);
    return /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(await response.text())![1]!;
  }

  async function uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<string> {
    const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}?partNumber=${partNumber}&uploadId=${uploadId}`, { body });
    expect(response.status).toBe(200);
    return response.headers.get("etag")!;
  }

  function completeBody(parts: [number, string][]): string {
    const items = parts.map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber><ETag>${etag}</ETag></Part>`);
    return `<CompleteMultipartUpload>${items.join("")}</CompleteMultipartUpload>`;
  }

  test("parts out of order: InvalidPartOrder", async () => {
    const key = "multipart/order.bin";
    const uploadId = await initiate(key);
    const first = await uploadPart(key, uploadId, 1, randomBytes(5 * 1024 * 1024));
    const second = await uploadPart(key, uploadId, 2, randomBytes(10));

    const body = completeBody([[2, second], [1, first]]);
    const response = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploadId=${uploadId}`, { body });
    expect(await errorCodeOf(response)).toBe("400 InvalidPartOrder");
  });

  test("complete twice: second is NoSuchUpload", async () => {
    const key = "multipart/twice.bin";
    const uploadId = await initiate(key);
    const etag = await uploadPart(key, uploadId, 1, Buffer.from("only part"));
    const body = completeBody([[1, etag]]);

    const first = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploadId=${uploadId}`, { body });
    expect(first.status).toBe(200);
    const expectedEtag = `"${createHash("md5").update(Buffer.from(etag.replaceAll('"', ""), "hex")).digest("hex")}-1"`;
    expect(await first.text()).toContain(`<ETag>${expectedEtag.replaceAll('"', "&quot;")}</ETag>`);

    const second = await signedFetch(store, "POST", `/${store.bucket}/${key}?uploadId=${uploadId}`, { body });
    expect(await errorCodeOf(second)).toBe("404 NoSuchUpload");
    expect(await (await signedFetch(store, "GET", `/${store.bucket}/${key}`)).text()).toBe("only part");
  });

  test("part number 0: InvalidArgument", async () => {
    const key = "multipart/zero.bin";
    const uploadId = await initiate(key);
    const response = await signedFetch(store, "PUT", `/${store.bucket}/${key}?partNumber=0&uploadId=${uploadId}`, { body: Buffer.from("x") });
    expect(await errorCodeOf(response)).toBe("400 InvalidArgument");
  });

  test("upload id of another key: NoSuchUpload", async () => {
    const uploadId = await initiate("multipart/owner.bin");
    const response = await signedFetch(store, "PUT", `/${store.bucket}/multipart/other.bin?partNumber=1&uploadId=${uploadId}`, { body: Buffer.from("x") });
    expect(await errorCodeOf(response)).toBe("404 NoSuchUpload");
  });

  test("malformed upload id: NoSuchUpload", async () => {
    const response = await signedFetch(store, "PUT", `/${store.bucket}/multipart/x.bin?partNumber=1&uploadId=..%2F..%2Fetc`, { body: Buffer.from("x") });
    expect(await errorCodeOf(response)).toBe("404 NoSuchUpload");
  });
});

describe("keys and buckets", () => {
  test("traversal-like keys stay inside the data dir", async () => {
    const key = "..%2F..%2F..%2Fescape.txt";
    expect((await put(key, "inside")).status).toBe(200);
    expect(await (await signedFetch(store, "GET", `/${store.bucket}/${key}`)).text()).toBe("inside");

    const files = await listTree(store.dataDir);
    expect(files.some((file) => file.includes("escape"))).toBe(false);
    expect(await readdir(join(store.dataDir, ".."))).not.toContain("escape.txt");
  });

  test("ListObjectsV2 lists keys with prefix and delimiter", async () => {
    for (const key of ["list/a.txt", "list/b/c.txt", "list/b/d.txt"]) expect((await put(key, key)).status).toBe(200);
    const response = await signedFetch(store, "GET", `/${store.bucket}?list-type=2&prefix=list%2F&delimiter=%2F`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect([...text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1])).toEqual(["list/a.txt"]);
    expect([...text.matchAll(/<Prefix>([^<]*)<\/Prefix>/g)].map((match) => match[1])).toEqual(["list/", "list/b/"]);
  });

  test("missing bucket: NoSuchBucket", async () => {
    expect(await errorCodeOf(await signedFetch(store, "GET", "/no-such-bucket/key"))).toBe("404 NoSuchBucket");
  });

  test("invalid bucket name: InvalidBucketName", async () => {
    expect(await errorCodeOf(await signedFetch(store, "PUT", "/..hidden"))).toBe("400 InvalidBucketName");
  });

  test("unsupported sub-resource: NotImplemented", async () => {
    expect(await errorCodeOf(await signedFetch(store, "PUT", `/${store.bucket}/key?acl`, { body: Buffer.from("") }))).toBe("501 NotImplemented");
  });

  test("credentials persist across restarts", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "artifact-store-restart-"));
    try {
      const first = await openStore({ dataDir, logger: memoryLogger() });
      await first.close();
      const again = await openStore({ dataDir, logger: memoryLogger() });
      await again.close();
      expect(again.credentials).toEqual(first.credentials);
      const mode = (await Bun.file(again.credentialsFile!).stat()).mode & 0o777;
      expect(mode.toString(8)).toBe("600");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("second store on one folder: 69", async () => {
    const second = openStore({ dataDir: store.dataDir, logger: memoryLogger() });
    await expect(second).rejects.toBeInstanceOf(UnavailableError);
    await expect(second).rejects.toThrow(/objects\.sqlite is in use by another artifact process/);
  });
});

describe("aws-chunked uploads", () => {
  function chunkedUpload(key: string, chunks: Uint8Array[], tamper = false) {
    return chunkedFetch(store, `/${store.bucket}/${key}`, chunks, { tamper });
  }

  test("chunk signatures verify and the payload is stored", async () => {
    const chunks = [randomBytes(65536), randomBytes(65536), randomBytes(1000)];
    const response = await chunkedUpload("chunked/ok.bin", chunks);
    expect(response.status).toBe(200);
    const stored = new Uint8Array(await (await signedFetch(store, "GET", `/${store.bucket}/chunked/ok.bin`)).arrayBuffer());
    expect(sha256Hex(stored)).toBe(sha256Hex(Buffer.concat(chunks)));
  });

  test("small object in tiny chunks is stored", async () => {
    const payload = randomBytes(60_000);
    const chunks = Array.from({ length: payload.length / 16 }, (_, index) => payload.subarray(index * 16, index * 16 + 16));
    const response = await chunkedUpload("chunked/tiny-chunks.bin", chunks);
    expect(response.status).toBe(200);
    const stored = new Uint8Array(await (await signedFetch(store, "GET", `/${store.bucket}/chunked/tiny-chunks.bin`)).arrayBuffer());
    expect(sha256Hex(stored)).toBe(sha256Hex(payload));
  });

  test("small chunked object is stored", async () => {
    const chunks = [randomBytes(8192), randomBytes(100)];
    const response = await chunkedUpload("chunked/small.bin", chunks);
    expect(response.status).toBe(200);
    const stored = new Uint8Array(await (await signedFetch(store, "GET", `/${store.bucket}/chunked/small.bin`)).arrayBuffer());
    expect(sha256Hex(stored)).toBe(sha256Hex(Buffer.concat(chunks)));
  });

  test("changed chunk byte: SignatureDoesNotMatch, nothing stored", async () => {
    const chunks = [Buffer.alloc(65536, 0x42), randomBytes(100)];
    const response = await chunkedUpload("chunked/tampered.bin", chunks, true);
    expect(await errorCodeOf(response)).toBe("403 SignatureDoesNotMatch");
    expect((await signedFetch(store, "HEAD", `/${store.bucket}/chunked/tampered.bin`)).status).toBe(404);
  });
});

describe("artifact store serve", () => {
  test("invalid --port exits 64", async () => {
    const main = join(import.meta.dir, "../../src/cli/main.ts");
    const child = Bun.spawn([process.execPath, main, "store", "serve", "--port", "70000", "--data-dir", store.dataDir], { stderr: "pipe" });
    const stderr = await new Response(child.stderr).text();
    expect(await child.exited).toBe(64);
    expect(stderr).toContain("invalid --port");
  });
});
