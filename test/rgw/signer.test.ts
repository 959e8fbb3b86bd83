import { expect, test } from "bun:test";
import { ExitCode } from "../../src/shared/errors.ts";
import { S3Client, S3Error } from "../../src/signer/s3-client.ts";
import { emptySha256 as emptySha, S3Signer } from "../../src/signer/signer.ts";
import { elementText } from "../../src/signer/xml.ts";
import { defineS3Conformance, specialNames } from "../s3/conformance.ts";
import { adminRequest, createTestBucket, describeRgw } from "../support/rgw.ts";

describeRgw("signer", (target) => {
  // Ceph RGW 16 accepts an extra unsigned x-amz-meta-* header; AWS S3 and MinIO reject it.
  defineS3Conformance("Ceph RGW", async () => ({ ...target, bucket: await createTestBucket(target, "signer") }), { rejectsUnsignedMetadata: false });

  test("special keys are stored unencoded", async () => {
    const bucket = await createTestBucket(target, "signer-keys");
    const signer = new S3Signer({ ...target, bucket, keyPrefix: "", addressing: "path" });

    for (const name of specialNames) {
      const put = signer.signPutObject(name, {
        contentType: "text/plain",
        contentEncoding: "identity",
        metadata: { contentSha256: emptySha, contentLength: 0, transferSha256: emptySha, transferLength: 0, taskId: "t", runId: 0, name },
      });
      expect((await fetch(put.url, { method: "PUT", headers: put.headers, body: "" })).status).toBe(200);
    }

    // Listing is signed by the test's own admin helper, independent of the signer under test.
    const listing = await (await adminRequest(target, "GET", `/${bucket}?list-type=2&encoding-type=url`)).text();
    // With encoding-type=url, RGW URL-encodes each key (a space as +) inside XML-escaped text.
    const keys = [...listing.matchAll(/<Key>[^<]*<\/Key>/g)].map((match) => decodeURIComponent(elementText(match[0], "Key")!.replace(/\+/g, " ")));
    expect(keys.sort()).toEqual([...specialNames].sort());
  }, 30_000);

  test("RGW completes with an empty ETag", async () => {
    const bucket = await createTestBucket(target, "signer-etag");
    const signer = new S3Signer({ ...target, bucket, keyPrefix: "", addressing: "path" });
    const client = new S3Client(signer);
    const metadata = { contentSha256: emptySha, contentLength: 0, transferSha256: emptySha, transferLength: 0, taskId: "t", runId: 0, name: "n" };

    const uploadId = await client.initiateMultipartUpload("k", { contentType: "text/plain", contentEncoding: "identity", metadata });
    const part = signer.signUploadPart("k", uploadId, 1, { sha256: emptySha, size: 0 });
    const response = await fetch(part.url, { method: "PUT", headers: part.headers, body: "" });
    expect(response.status).toBe(200);

    const result = await client.completeMultipartUpload("k", uploadId, [response.headers.get("etag")!]);
    expect(result.etag).toBeUndefined();
    expect((await client.headObject("k"))?.etag).toMatch(/^"[0-9a-f]{32}-1"$/);
  }, 30_000);
});

describeRgw("S3Client", (target) => {
  const clientFor = async () => {
    const bucket = await createTestBucket(target, "signer-client");
    return new S3Client(new S3Signer({ ...target, bucket, keyPrefix: "", addressing: "path" }));
  };

  test("missing objects: HEAD undefined, DELETE succeeds", async () => {
    const client = await clientFor();
    expect(await client.headObject("missing")).toBeUndefined();
    expect(await client.deleteObject("missing")).toBeUndefined();
  }, 30_000);

  test("GET of a missing object throws NoSuchKey", async () => {
    const client = await clientFor();
    const error = await client.getObject("missing").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).status).toBe(404);
    expect((error as S3Error).code).toBe("NoSuchKey");
    expect((error as S3Error).requestId).toBeTruthy();
    expect((error as S3Error).message).toContain("GetObject failed: 404 NoSuchKey");
  }, 30_000);

  test("wrong secret key throws SignatureDoesNotMatch", async () => {
    const bucket = await createTestBucket(target, "signer-client");
    const client = new S3Client(new S3Signer({ ...target, secretAccessKey: "wrong", bucket, keyPrefix: "", addressing: "path" }));
    const error = await client.listParts("k", "no-such-upload").catch((caught: unknown) => caught);
    expect((error as S3Error).status).toBe(403);
    expect((error as S3Error).code).toBe("SignatureDoesNotMatch");
    expect((error as S3Error).exitCode).toBe(ExitCode.noPermission);
  }, 30_000);

  test("aborting an unknown upload succeeds", async () => {
    const client = await clientFor();
    expect(await client.abortMultipartUpload("k", "2~no-such-upload")).toBeUndefined();
  }, 30_000);
});
