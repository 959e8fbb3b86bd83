import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/shared/errors.ts";
import { SignerLimitError } from "../../src/signer/limits.ts";
import { artifactMetadataFrom } from "../../src/signer/metadata.ts";
import { emptySha256, S3Signer } from "../../src/signer/signer.ts";
import type { ObjectHeaders, RequestDescriptor, S3Config } from "../../src/signer/types.ts";
import { parseAuthorization, sha256Hex, signatureOf } from "./sigv4-reference.ts";

const amzDate = "20130524T000000Z";
const config: S3Config = {
  endpoint: "http://127.0.0.1:7480",
  region: "us-east-1",
  bucket: "bucket",
  keyPrefix: "prefix/",
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  addressing: "path",
};
const signer = new S3Signer(config, () => new Date("2013-05-24T00:00:00Z"));

const transferSha256 = sha256Hex("transfer");
const headers: ObjectHeaders = {
  contentType: "text/plain; charset=utf-8",
  contentEncoding: "gzip",
  metadata: {
    contentSha256: sha256Hex("content").toUpperCase(),
    contentLength: 7,
    transferSha256,
    transferLength: 8,
    taskId: "fN1SbArXTPSVFNUvaOlinQ",
    runId: 2,
    name: "public/a b.txt",
  },
};
const metadataLines = [
  `x-amz-meta-taskcluster-content-length:7`,
  `x-amz-meta-taskcluster-content-sha256:${sha256Hex("content")}`,
  `x-amz-meta-taskcluster-name:public%2Fa%20b.txt`,
  `x-amz-meta-taskcluster-run-id:2`,
  `x-amz-meta-taskcluster-task-id:fN1SbArXTPSVFNUvaOlinQ`,
  `x-amz-meta-taskcluster-transfer-length:8`,
  `x-amz-meta-taskcluster-transfer-sha256:${transferSha256}`,
];
const metadataNames = metadataLines.map((line) => line.slice(0, line.indexOf(":")));
const host = "host:127.0.0.1:7480";
const date = `x-amz-date:${amzDate}`;

/** Asserts the descriptor is signed over exactly this canonical request. */
function expectCanonical(descriptor: RequestDescriptor, lines: string[]): void {
  const canonicalRequest = lines.join("\n");
  const signedHeaders = lines.at(-2)!;
  const { signedHeaders: actualSignedHeaders, signature } = parseAuthorization(descriptor.headers.authorization);

  expect(actualSignedHeaders).toBe(signedHeaders);
  expect(signature).toBe(signatureOf(canonicalRequest, amzDate, config.region, "s3", config.secretAccessKey));
}

describe("S3Signer request kinds", () => {
  const key = signer.objectKey("fN1SbArXTPSVFNUvaOlinQ", 2, "public/a b.txt");

  test("objectKey joins prefix, task, run and name", () => {
    expect(key).toBe("prefix/fN1SbArXTPSVFNUvaOlinQ/2/public/a b.txt");
  });

  test("PutObject signs transfer hash, length and metadata", () => {
    const put = signer.signPutObject(key, headers);

    expect(put.method).toBe("PUT");
    expect(put.url).toBe("http://127.0.0.1:7480/bucket/prefix/fN1SbArXTPSVFNUvaOlinQ/2/public/a%20b.txt");
    expect(put.headers["content-length"]).toBe("8");
    expect(put.headers["x-amz-content-sha256"]).toBe(transferSha256);
    expect(put.headers.host).toBeUndefined();
    expect(put.body).toBeUndefined();
    expectCanonical(put, [
      "PUT",
      "/bucket/prefix/fN1SbArXTPSVFNUvaOlinQ/2/public/a%20b.txt",
      "",
      "content-encoding:gzip",
      "content-length:8",
      "content-type:text/plain; charset=utf-8",
      host,
      `x-amz-content-sha256:${transferSha256}`,
      date,
      ...metadataLines,
      "",
      ["content-encoding", "content-length", "content-type", "host", "x-amz-content-sha256", "x-amz-date", ...metadataNames].join(";"),
      transferSha256,
    ]);
  });

  test("CreateMultipartUpload signs metadata, no length", () => {
    const create = signer.signCreateMultipartUpload(key, headers);

    expect(create.method).toBe("POST");
    expect(create.url).toEndWith("/public/a%20b.txt?uploads=");
    expectCanonical(create, [
      "POST",
      "/bucket/prefix/fN1SbArXTPSVFNUvaOlinQ/2/public/a%20b.txt",
      "uploads=",
      "content-encoding:gzip",
      "content-type:text/plain; charset=utf-8",
      host,
      `x-amz-content-sha256:${emptySha256}`,
      date,
      ...metadataLines,
      "",
      ["content-encoding", "content-type", "host", "x-amz-content-sha256", "x-amz-date", ...metadataNames].join(";"),
      emptySha256,
    ]);
  });

  test("UploadPart signs the part's hash and length", () => {
    const partSha256 = sha256Hex("part");
    const part = signer.signUploadPart("k", "2~up/load+id=", 3, { sha256: partSha256.toUpperCase(), size: 5_242_880 });

    expect(part.method).toBe("PUT");
    expect(part.url).toBe("http://127.0.0.1:7480/bucket/k?partNumber=3&uploadId=2~up%2Fload%2Bid%3D");
    expect(part.headers["content-length"]).toBe("5242880");
    expect(part.headers["x-amz-content-sha256"]).toBe(partSha256);
    expectCanonical(part, [
      "PUT",
      "/bucket/k",
      "partNumber=3&uploadId=2~up%2Fload%2Bid%3D",
      "content-length:5242880",
      host,
      `x-amz-content-sha256:${partSha256}`,
      date,
      "",
      "content-length;host;x-amz-content-sha256;x-amz-date",
      partSha256,
    ]);
  });

  test("CompleteMultipartUpload signs its XML body", () => {
    const complete = signer.signCompleteMultipartUpload("k", "up", ['"etag1"', "etag2"]);
    const body =
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Part><PartNumber>1</PartNumber><ETag>"etag1"</ETag></Part>' +
      '<Part><PartNumber>2</PartNumber><ETag>"etag2"</ETag></Part>' +
      "</CompleteMultipartUpload>";

    expect(complete.method).toBe("POST");
    expect(complete.body).toBe(body);
    expectCanonical(complete, [
      "POST",
      "/bucket/k",
      "uploadId=up",
      `content-length:${body.length}`,
      "content-type:application/xml",
      host,
      `x-amz-content-sha256:${sha256Hex(body)}`,
      date,
      "",
      "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
      sha256Hex(body),
    ]);
  });

  test.each([
    ["AbortMultipartUpload", () => signer.signAbortMultipartUpload("k", "up"), "DELETE", "uploadId=up"],
    ["ListParts", () => signer.signListParts("k", "up"), "GET", "uploadId=up"],
    ["HeadObject", () => signer.signHeadObject("k"), "HEAD", ""],
    ["DeleteObject", () => signer.signDeleteObject("k"), "DELETE", ""],
    ["GetObject", () => signer.signGetObject("k"), "GET", ""],
  ])("%s signs the empty payload", (_name, sign, method, query) => {
    const descriptor = sign();

    expect(descriptor.method).toBe(method);
    expect(descriptor.url).toBe(`http://127.0.0.1:7480/bucket/k${query ? `?${query}` : ""}`);
    expectCanonical(descriptor, [method, "/bucket/k", query, host, `x-amz-content-sha256:${emptySha256}`, date, "", "host;x-amz-content-sha256;x-amz-date", emptySha256]);
  });

  test("never signs hop-by-hop or proxy-set headers", () => {
    const descriptors = [signer.signPutObject(key, headers), signer.signUploadPart("k", "up", 1, { sha256: transferSha256, size: 1 })];
    for (const descriptor of descriptors) {
      const signed = parseAuthorization(descriptor.headers.authorization).signedHeaders.split(";");
      for (const name of ["accept-encoding", "connection", "user-agent", "expect", "range"]) expect(signed).not.toContain(name);
    }
  });

  test("0-byte PutObject signs the empty-string SHA-256", () => {
    const empty = { ...headers, metadata: { ...headers.metadata, transferSha256: emptySha256, transferLength: 0 } };
    const put = signer.signPutObject(key, empty);
    expect(put.headers["content-length"]).toBe("0");
    expect(put.headers["x-amz-content-sha256"]).toBe(emptySha256);
  });

  test("metadata reads back to the recorded values", () => {
    const put = signer.signPutObject(key, headers);
    const userMetadata = Object.fromEntries(
      Object.entries(put.headers)
        .filter(([name]) => name.startsWith("x-amz-meta-"))
        .map(([name, value]) => [name.slice("x-amz-meta-".length), value]),
    );
    expect(artifactMetadataFrom(userMetadata)).toEqual({ ...headers.metadata, contentSha256: sha256Hex("content") });
    expect(artifactMetadataFrom({})).toBeUndefined();
  });
});

describe("S3Signer ListMultipartUploads", () => {
  test("signs the bucket path and the paging query", () => {
    const list = signer.signListMultipartUploads({ prefix: "prefix/", keyMarker: "prefix/a b", uploadIdMarker: "2~x+y", maxUploads: 100 });

    expect(list.method).toBe("GET");
    expect(list.url).toBe("http://127.0.0.1:7480/bucket?uploads=&prefix=prefix%2F&key-marker=prefix%2Fa%20b&upload-id-marker=2~x%2By&max-uploads=100");
    expectCanonical(list, [
      "GET",
      "/bucket",
      "key-marker=prefix%2Fa%20b&max-uploads=100&prefix=prefix%2F&upload-id-marker=2~x%2By&uploads=",
      host,
      `x-amz-content-sha256:${emptySha256}`,
      date,
      "",
      "host;x-amz-content-sha256;x-amz-date",
      emptySha256,
    ]);
  });

  test("first page has no markers", () => {
    expect(signer.signListMultipartUploads({ prefix: "" }).url).toBe("http://127.0.0.1:7480/bucket?uploads=&prefix=");
  });

  test("virtual-host addressing lists at the root path", () => {
    const virtual = new S3Signer({ ...config, endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1", addressing: "virtual-host" });
    expect(virtual.signListMultipartUploads({ prefix: "p/" }).url).toBe("https://bucket.s3.eu-west-1.amazonaws.com/?uploads=&prefix=p%2F");
  });

  test.each([0, 1001, 1.5])("rejects max-uploads %p", (maxUploads) => {
    expect(() => signer.signListMultipartUploads({ prefix: "", maxUploads })).toThrow(UsageError);
  });
});

describe("S3Signer key encoding", () => {
  const unprefixed = new S3Signer({ ...config, keyPrefix: "" }, () => new Date("2013-05-24T00:00:00Z"));

  test.each([
    ["a b", "a%20b"],
    ["a+b", "a%2Bb"],
    ["100%", "100%25"],
    ["%41", "%2541"],
    ["~tilde", "~tilde"],
    ["dir/sub/file", "dir/sub/file"],
    ["dir//file/", "dir//file/"],
    ["ü€😀", "%C3%BC%E2%82%AC%F0%9F%98%80"],
    ["!'()*", "%21%27%28%29%2A"],
    ["$&,:;=@", "%24%26%2C%3A%3B%3D%40"],
    ["-._~AZaz09", "-._~AZaz09"],
  ])("key %p has path %p", (key, path) => {
    const get = unprefixed.signGetObject(key);
    expect(get.url).toBe(`http://127.0.0.1:7480/bucket/${path}`);
    expect(new URL(get.url).pathname).toBe(`/bucket/${path}`);
    expectCanonical(get, ["GET", `/bucket/${path}`, "", host, `x-amz-content-sha256:${emptySha256}`, date, "", "host;x-amz-content-sha256;x-amz-date", emptySha256]);
  });

  test.each(["a/../b", "./a", "a/.", "..", "", "\ud800"])("rejects key %p", (key) => {
    expect(() => unprefixed.signGetObject(key)).toThrow(UsageError);
  });

  test("rejects a key over 1,024 bytes", () => {
    expect(() => unprefixed.signGetObject("ü".repeat(513))).toThrow(SignerLimitError);
    expect(() => unprefixed.signGetObject("x".repeat(1024))).not.toThrow();
  });

  test("virtual-host addressing puts the bucket in the host", () => {
    const virtual = new S3Signer({ ...config, endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1", addressing: "virtual-host" });
    const get = virtual.signGetObject("a b");
    expect(get.url).toBe("https://bucket.s3.eu-west-1.amazonaws.com/a%20b");
    expect(get.headers.authorization).toContain("/eu-west-1/s3/aws4_request");
  });
});

describe("S3Signer checks before signing", () => {
  const key = "k";

  test("rejects a 5 GiB + 1 single PUT", () => {
    const big = { ...headers, metadata: { ...headers.metadata, transferLength: 5 * 1024 ** 3 + 1 } };
    expect(() => signer.signPutObject(key, big)).toThrow(SignerLimitError);
  });

  test("rejects metadata over 2 KiB", () => {
    const long = { ...headers, metadata: { ...headers.metadata, name: "n".repeat(2000) } };
    expect(() => signer.signPutObject(key, long)).toThrow(/2 KiB/);
  });

  test("rejects bad hashes and header values", () => {
    const badSha = { ...headers, metadata: { ...headers.metadata, transferSha256: "abc" } };
    expect(() => signer.signPutObject(key, badSha)).toThrow(/transferSha256/);
    expect(() => signer.signPutObject(key, { ...headers, contentType: "text/plain\r\nx: y" })).toThrow(/content type/);
  });

  test("rejects part numbers outside 1 to 10,000", () => {
    const part = { sha256: transferSha256, size: 1 };
    expect(() => signer.signUploadPart(key, "up", 0, part)).toThrow(/part number 0/);
    expect(() => signer.signUploadPart(key, "up", 10_001, part)).toThrow(/part number 10001/);
    expect(() => signer.signUploadPart(key, "", 1, part)).toThrow(/upload ID/);
  });

  test("rejects empty and malformed ETag lists", () => {
    expect(() => signer.signCompleteMultipartUpload(key, "up", [])).toThrow(/0 ETags/);
    expect(() => signer.signCompleteMultipartUpload(key, "up", ["a<b>"])).not.toThrow();
    expect(() => signer.signCompleteMultipartUpload(key, "up", ['"a b"'])).toThrow(/ETag/);
  });

  test("presigned validity must be 1 s to 7 days", () => {
    expect(() => signer.presignGetObject(key, 0)).toThrow(UsageError);
    expect(() => signer.presignGetObject(key, 604_801)).toThrow(/604801/);
    expect(new URL(signer.presignGetObject(key, 604_800)).searchParams.get("X-Amz-Expires")).toBe("604800");
  });

  test("rejects bad endpoints and key prefixes", () => {
    expect(() => new S3Signer({ ...config, endpoint: "127.0.0.1:7480" })).toThrow(UsageError);
    expect(() => new S3Signer({ ...config, endpoint: "http://h/path" })).toThrow(/without a path/);
    expect(() => new S3Signer({ ...config, keyPrefix: "p" })).toThrow(/does not end/);
  });
});
