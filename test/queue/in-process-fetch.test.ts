import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtInS3Config } from "../../src/queue/server.ts";
import { inProcessFetch } from "../../src/queue/store.ts";
import { S3Client, S3Error } from "../../src/signer/s3-client.ts";
import { S3Signer } from "../../src/signer/signer.ts";
import type { S3Config } from "../../src/signer/types.ts";
import { openStore, type EmbeddedStore } from "../../src/store/index.ts";
import { memoryLogger } from "../store/support.ts";

// The store's origin in these tests. Requests that leave the process go to `network`, which fails them.
const storeOrigin = "http://127.0.0.1:9";

describe("inProcessFetch to the built-in store", () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let config: S3Config;
  const networkCalls: string[] = [];
  const refuse = async (input: string | URL | Request): Promise<Response> => {
    networkCalls.push(String(input instanceof Request ? input.url : input));
    throw new Error("connection refused");
  };
  const network = Object.assign(refuse, { preconnect: fetch.preconnect }) as typeof fetch;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "artifact-in-process-"));
    store = await openStore({ dataDir, logger: memoryLogger() });
    config = builtInS3Config(storeOrigin, store);
  });

  afterAll(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("multipart round trip stays in process", async () => {
    const signer = new S3Signer(config);
    const client = new S3Client(signer, inProcessFetch(store, storeOrigin, network));
    const content = new Uint8Array(1024).fill(7);
    const sha256 = new Bun.CryptoHasher("sha256").update(content).digest("hex");
    const metadata = { contentSha256: sha256, contentLength: 1024, transferSha256: sha256, transferLength: 1024, taskId: "t", runId: 0, name: "a b/c" };
    const key = signer.objectKey("t", 0, "a b/c");

    const uploadId = await client.initiateMultipartUpload(key, { contentType: "text/plain", contentEncoding: "identity", metadata });
    const part = signer.signUploadPart(key, uploadId, 1, { sha256, size: 1024 });
    const partResponse = await inProcessFetch(store, storeOrigin, network)(part.url, { method: part.method, headers: part.headers, body: content });
    expect(partResponse.status).toBe(200);
    await client.completeMultipartUpload(key, uploadId, [partResponse.headers.get("etag")!]);

    const info = await client.headObject(key);
    expect(info?.contentLength).toBe(1024);
    expect(info?.userMetadata["taskcluster-content-sha256"]).toBe(sha256);
    expect(networkCalls).toEqual([]);
  });

  test("store still rejects a wrong signature", async () => {
    const signer = new S3Signer({ ...config, secretAccessKey: "not-the-store-secret" });
    const client = new S3Client(signer, inProcessFetch(store, storeOrigin, network));

    const failure = await client.headObject("t/0/missing").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(S3Error);
    expect((failure as S3Error).status).toBe(403);
  });

  test("other origins go to the network", async () => {
    const client = new S3Client(new S3Signer({ ...config, endpoint: "http://127.0.0.1:10" }), inProcessFetch(store, storeOrigin, network));

    await expect(client.headObject("t/0/a")).rejects.toThrow("connection refused");
    expect(networkCalls).toEqual(["http://127.0.0.1:10/artifacts/t/0/a"]);
  });
});
