/**
 * The S3 behaviour the artifact protocol relies on, as one suite that runs unchanged against any
 * S3-compatible target (Ceph RGW, AWS S3, the built-in store). Signed uploads must succeed. Any body,
 * length or metadata other than the signed ones must be rejected, with nothing stored.
 *
 * Usage: `defineS3Conformance("my store", async () => ({ endpoint, region, accessKeyId,
 * secretAccessKey, bucket }))` inside a test file. `getTarget` runs once, before the first test,
 * and should return an empty bucket of its own. The signer under test signs every request;
 * only the requests it is meant to reject are altered after signing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { S3Client, S3Error } from "../../src/signer/s3-client.ts";
import { artifactMetadataFrom, metadataNames } from "../../src/signer/metadata.ts";
import { emptySha256, S3Signer } from "../../src/signer/signer.ts";
import type { ObjectHeaders, RequestDescriptor } from "../../src/signer/types.ts";
import { parseErrorDocument } from "../../src/signer/xml.ts";
import { sendRaw } from "./raw-http.ts";

export interface ConformanceTarget {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export interface ConformanceOptions {
  /**
   * Whether the target rejects a signed PUT that carries one more, unsigned `x-amz-meta-*`
   * header. AWS S3 and MinIO reject it (403); Ceph RGW 16 accepts it and stores the extra value,
   * so pass false for RGW, and the case then asserts that acceptance instead. Default true.
   */
  rejectsUnsignedMetadata?: boolean;
}

const mebibyte = 1024 * 1024;
/** Multipart cases send objects of about 10 MiB; a shared RGW under load can take seconds. */
const multipartTimeoutMs = 120_000;
const timeoutMs = 30_000;

/** Artifact names with characters S3 keys must carry unchanged. */
export const specialNames = [
  "with space.txt",
  "plus+sign+and+more",
  "100% literal %41 percent",
  "~tilde~",
  "nested/dir/file.txt",
  "ünïcödé/файл/日本語/😀.bin",
  "punctuation !'()*&$@=;:,[]{}^`|#.txt",
];

export function defineS3Conformance(label: string, getTarget: () => Promise<ConformanceTarget>, options: ConformanceOptions = {}): void {
  const rejectsUnsignedMetadata = options.rejectsUnsignedMetadata ?? true;

  describe(`S3 conformance: ${label}`, () => {
    let target: ConformanceTarget;
    let signer: S3Signer;
    let client: S3Client;

    const createdKeys: string[] = [];

    beforeAll(async () => {
      target = await getTarget();
      signer = signerFor(target);
      client = new S3Client(signer);
    });

    // Objects are deleted so that repeated runs do not fill a small test store.
    afterAll(async () => {
      for (const key of createdKeys) await client.deleteObject(key);
    });

    /** Returns a new key in this suite's prefix, so cases never see each other's objects. */
    const freshKey = (name = "object.bin") => {
      const key = signer.objectKey(crypto.randomUUID().replaceAll("-", ""), 0, name);
      createdKeys.push(key);
      return key;
    };

    test("single PUT stores bytes and metadata", async () => {
      const body = randomBytes(1024);
      const key = freshKey("single.bin");
      const headers = objectHeaders(body, "single.bin");

      const put = await send(signer.signPutObject(key, headers), body);
      expect(put.status).toBe(200);

      const info = await client.headObject(key);
      expect(info?.contentLength).toBe(body.length);
      expect(info?.contentType).toBe(headers.contentType);
      expect(info?.contentEncoding).toBe(headers.contentEncoding);
      for (const name of Object.values(metadataNames)) expect(info?.userMetadata[name]).toBeDefined();
      expect(artifactMetadataFrom(info?.userMetadata ?? {})).toEqual(headers.metadata);
      expect(await bytesOf(await client.getObject(key))).toEqual(new Uint8Array(body));
    }, timeoutMs);

    test("changed body byte: XAmzContentSHA256Mismatch", async () => {
      const body = randomBytes(1024);
      const key = freshKey();
      const descriptor = signer.signPutObject(key, objectHeaders(body, "object.bin"));

      const changed = Buffer.from(body);
      changed[512] = changed[512]! ^ 0xff;
      await expectS3Error(await send(descriptor, changed), 400, "XAmzContentSHA256Mismatch");
      expect(await client.headObject(key)).toBeUndefined();
    }, timeoutMs);

    test("changed Content-Length: SignatureDoesNotMatch", async () => {
      const body = randomBytes(1024);
      const key = freshKey();
      const descriptor = signer.signPutObject(key, objectHeaders(body, "object.bin"));

      // A length and body one byte shorter than signed; an HTTP client would not send this mismatch.
      const shorter = body.subarray(0, body.length - 1);
      const response = await sendRaw(descriptor.url, "PUT", { ...descriptor.headers, "content-length": String(shorter.length) }, shorter);
      expect(response.status).toBe(403);
      expect(parseErrorDocument(response.body)?.code).toBe("SignatureDoesNotMatch");
      expect(await client.headObject(key)).toBeUndefined();
    }, timeoutMs);

    test("changed metadata value: SignatureDoesNotMatch", async () => {
      const body = randomBytes(64);
      const key = freshKey();
      const descriptor = signer.signPutObject(key, objectHeaders(body, "object.bin"));
      const taskIdHeader = `x-amz-meta-${metadataNames.taskId}`;

      const altered = withHeaders(descriptor, { [taskIdHeader]: "SomeOtherTaskIdXXXXXXX" });
      await expectS3Error(await send(altered, body), 403, "SignatureDoesNotMatch");
      expect(await client.headObject(key)).toBeUndefined();
    }, timeoutMs);

    test(`unsigned extra metadata: ${rejectsUnsignedMetadata ? "rejected" : "accepted (target quirk)"}`, async () => {
      const body = randomBytes(64);
      const key = freshKey();
      const descriptor = withHeaders(signer.signPutObject(key, objectHeaders(body, "object.bin")), { "x-amz-meta-unsigned": "extra" });

      const response = await send(descriptor, body);
      if (rejectsUnsignedMetadata) {
        expect(response.status).toBe(403);
        expect(await client.headObject(key)).toBeUndefined();
      } else {
        expect(response.status).toBe(200);
        expect((await client.headObject(key))?.userMetadata.unsigned).toBe("extra");
      }
    }, timeoutMs);

    test("0-byte PUT with the empty-string SHA-256", async () => {
      const body = new Uint8Array(0);
      const key = freshKey("empty");
      const headers = objectHeaders(body, "empty");
      expect(headers.metadata.transferSha256).toBe(emptySha256);

      expect((await send(signer.signPutObject(key, headers), body)).status).toBe(200);
      expect((await client.headObject(key))?.contentLength).toBe(0);
      expect((await bytesOf(await client.getObject(key))).length).toBe(0);
    }, timeoutMs);

    test("Range GET returns the requested bytes", async () => {
      const body = randomBytes(100);
      const key = freshKey();
      expect((await send(signer.signPutObject(key, objectHeaders(body, "object.bin")), body)).status).toBe(200);

      const get = signer.signGetObject(key);
      const response = await fetch(get.url, { headers: { ...get.headers, range: "bytes=10-19" }, decompress: false });
      expect(response.status).toBe(206);
      expect(response.headers.get("content-range")).toBe("bytes 10-19/100");
      expect(await bytesOf(response)).toEqual(new Uint8Array(body.subarray(10, 20)));
    }, timeoutMs);

    test("3-part multipart upload is byte-exact", async () => {
      const parts = [randomBytes(5 * mebibyte), randomBytes(5 * mebibyte), randomBytes(1000)];
      const whole = Buffer.concat(parts);
      const key = freshKey("multipart.bin");
      const headers = objectHeaders(whole, "multipart.bin");

      const uploadId = await client.initiateMultipartUpload(key, headers);
      const etags = await uploadParts(signer, key, uploadId, parts);
      await client.completeMultipartUpload(key, uploadId, etags);

      const info = await client.headObject(key);
      expect(info?.contentLength).toBe(whole.length);
      expect(artifactMetadataFrom(info?.userMetadata ?? {})).toEqual(headers.metadata);
      const stored = await bytesOf(await client.getObject(key));
      expect(sha256Hex(stored)).toBe(sha256Hex(whole));
    }, multipartTimeoutMs);

    test("changed part byte: XAmzContentSHA256Mismatch", async () => {
      const part = randomBytes(1024);
      const key = freshKey();
      const uploadId = await client.initiateMultipartUpload(key, objectHeaders(part, "object.bin"));

      const changed = Buffer.from(part);
      changed[0] = changed[0]! ^ 0x01;
      const descriptor = signer.signUploadPart(key, uploadId, 1, { sha256: sha256Hex(part), size: part.length });
      await expectS3Error(await send(descriptor, changed), 400, "XAmzContentSHA256Mismatch");
      expect((await client.listParts(key, uploadId)).parts).toEqual([]);
      await client.abortMultipartUpload(key, uploadId);
    }, timeoutMs);

    test("wrong part ETag: InvalidPart", async () => {
      const part = randomBytes(1024);
      const key = freshKey();
      const uploadId = await client.initiateMultipartUpload(key, objectHeaders(part, "object.bin"));
      const [etag] = await uploadParts(signer, key, uploadId, [part]);

      const wrong = etag!.replace(/[0-9a-f]/, (digit) => (digit === "0" ? "1" : "0"));
      await expectRejected(client.completeMultipartUpload(key, uploadId, [wrong]), 400, "InvalidPart");
      expect(await client.headObject(key)).toBeUndefined();
      await client.abortMultipartUpload(key, uploadId);
    }, timeoutMs);

    test("5 MiB - 1 non-last part: EntityTooSmall", async () => {
      const parts = [randomBytes(5 * mebibyte - 1), randomBytes(1)];
      const key = freshKey();
      const uploadId = await client.initiateMultipartUpload(key, objectHeaders(Buffer.concat(parts), "object.bin"));
      const etags = await uploadParts(signer, key, uploadId, parts);

      await expectRejected(client.completeMultipartUpload(key, uploadId, etags), 400, "EntityTooSmall");
      expect(await client.headObject(key)).toBeUndefined();
      await client.abortMultipartUpload(key, uploadId);
    }, multipartTimeoutMs);

    test("abort leaves no upload and no object", async () => {
      const part = randomBytes(1024);
      const key = freshKey();
      const uploadId = await client.initiateMultipartUpload(key, objectHeaders(part, "object.bin"));
      await uploadParts(signer, key, uploadId, [part]);

      await client.abortMultipartUpload(key, uploadId);
      // AWS returns NoSuchUpload and Ceph RGW 16 returns NoSuchKey, both with status 404.
      await expectRejected(client.listParts(key, uploadId), 404);
      expect(await client.headObject(key)).toBeUndefined();
    }, timeoutMs);

    test("ListMultipartUploads pages by prefix", async () => {
      const taskId = crypto.randomUUID().replaceAll("-", "");
      const prefix = signer.objectKey(taskId, 0, "");
      const keys = [freshKey(), signer.objectKey(taskId, 0, "a.bin"), signer.objectKey(taskId, 0, "a.bin"), signer.objectKey(taskId, 0, "b.bin")];
      const started = Date.now();
      const uploads = [];
      for (const key of keys) uploads.push({ key, uploadId: await client.initiateMultipartUpload(key, objectHeaders(new Uint8Array(1), "object.bin")) });

      try {
        const listed: Array<{ key: string; uploadId: string }> = [];
        let page = await client.listMultipartUploads({ prefix, maxUploads: 2 });
        let pages = 1;
        while (true) {
          for (const upload of page.uploads) {
            listed.push({ key: upload.key, uploadId: upload.uploadId });
            // Initiated is the storage's clock, which may round down to the second.
            expect(Math.abs(upload.initiated.getTime() - started)).toBeLessThan(60_000);
          }
          if (!page.isTruncated) break;
          expect(pages).toBeLessThan(3);
          page = await client.listMultipartUploads({ prefix, maxUploads: 2, keyMarker: page.nextKeyMarker, uploadIdMarker: page.nextUploadIdMarker });
          pages++;
        }
        expect(pages).toBe(2);
        const byKeyAndId = (a: { key: string; uploadId: string }, b: { key: string; uploadId: string }) =>
          `${a.key} ${a.uploadId}` < `${b.key} ${b.uploadId}` ? -1 : 1;
        expect(listed.toSorted(byKeyAndId)).toEqual(uploads.slice(1).toSorted(byKeyAndId));
      } finally {
        for (const upload of uploads) await client.abortMultipartUpload(upload.key, upload.uploadId);
      }
      expect((await client.listMultipartUploads({ prefix })).uploads).toEqual([]);
    }, timeoutMs);

    test("presigned GET works until it expires", async () => {
      const body = randomBytes(64);
      const key = freshKey();
      expect((await send(signer.signPutObject(key, objectHeaders(body, "object.bin")), body)).status).toBe(200);

      const valid = await fetch(signer.presignGetObject(key, 60), { decompress: false });
      expect(valid.status).toBe(200);
      expect(await bytesOf(valid)).toEqual(new Uint8Array(body));

      // Signed two hours ago with a 60 s validity.
      const past = signerFor(target, () => new Date(Date.now() - 2 * 60 * 60 * 1000));
      const expired = await fetch(past.presignGetObject(key, 60), { decompress: false });
      expect(expired.status).toBe(403);
      await expired.body?.cancel();
    }, timeoutMs);

    test("tampered presigned GET: 403", async () => {
      const body = randomBytes(64);
      const key = freshKey();
      const other = freshKey();
      for (const k of [key, other]) expect((await send(signer.signPutObject(k, objectHeaders(body, "object.bin")), body)).status).toBe(200);
      const url = new URL(signer.presignGetObject(key, 60));

      const tampered = [
        setParam(url, "X-Amz-Signature", flipLastHex(url.searchParams.get("X-Amz-Signature")!)),
        setParam(url, "X-Amz-Expires", "3600"),
        new URL(url.toString().replace(new URL(signer.signGetObject(key).url).pathname, new URL(signer.signGetObject(other).url).pathname)),
      ];
      for (const changed of tampered) {
        expect(changed.toString()).not.toBe(url.toString());
        const response = await fetch(changed, { decompress: false });
        expect(response.status).toBe(403);
        await response.body?.cancel();
      }
    }, timeoutMs);

    test("special-character keys round-trip", async () => {
      for (const name of specialNames) {
        const body = Buffer.from(`bytes of ${name}`);
        const key = freshKey(name);
        const put = await send(signer.signPutObject(key, objectHeaders(body, name)), body);
        expect(`${put.status} ${name}`).toBe(`200 ${name}`);

        expect(artifactMetadataFrom((await client.headObject(key))?.userMetadata ?? {})?.name).toBe(name);
        expect(Buffer.from(await bytesOf(await client.getObject(key))).toString()).toBe(body.toString());
        const presigned = await fetch(signer.presignGetObject(key, 60), { decompress: false });
        expect(Buffer.from(await bytesOf(presigned)).toString()).toBe(body.toString());
      }
    }, timeoutMs);
  });
}

function signerFor(target: ConformanceTarget, now?: () => Date): S3Signer {
  const config = { ...target, keyPrefix: "conformance/", addressing: "path" as const };
  return new S3Signer(config, now);
}

function objectHeaders(body: Uint8Array, name: string): ObjectHeaders {
  const sha256 = sha256Hex(body);
  return {
    contentType: "application/octet-stream",
    contentEncoding: "identity",
    metadata: { contentSha256: sha256, contentLength: body.length, transferSha256: sha256, transferLength: body.length, taskId: "fN1SbArXTPSVFNUvaOlinQ", runId: 0, name },
  };
}

async function uploadParts(signer: S3Signer, key: string, uploadId: string, parts: Uint8Array[]): Promise<string[]> {
  const etags: string[] = [];
  for (const [index, part] of parts.entries()) {
    const response = await send(signer.signUploadPart(key, uploadId, index + 1, { sha256: sha256Hex(part), size: part.length }), part);
    expect(response.status).toBe(200);
    const etag = response.headers.get("etag");
    expect(etag).toBeTruthy();
    etags.push(etag!);
  }
  return etags;
}

function send(descriptor: RequestDescriptor, body: Uint8Array): Promise<Response> {
  return fetch(descriptor.url, { method: descriptor.method, headers: descriptor.headers, body, decompress: false });
}

function withHeaders(descriptor: RequestDescriptor, headers: Record<string, string>): RequestDescriptor {
  return { ...descriptor, headers: { ...descriptor.headers, ...headers } };
}

async function expectS3Error(response: Response, status: number, code: string): Promise<void> {
  const body = await response.text();
  expect(`${response.status} ${parseErrorDocument(body)?.code}`).toBe(`${status} ${code}`);
}

async function expectRejected(promise: Promise<unknown>, status: number, code?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(S3Error);
  expect((error as S3Error).status).toBe(status);
  if (code) expect((error as S3Error).code).toBe(code);
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  expect(response.ok).toBe(true);
  return new Uint8Array(await response.arrayBuffer());
}

function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

function setParam(url: URL, name: string, value: string): URL {
  const copy = new URL(url);
  copy.searchParams.set(name, value);
  return copy;
}

function flipLastHex(hex: string): string {
  return hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");
}
