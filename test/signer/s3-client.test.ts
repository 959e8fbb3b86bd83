import { expect, test } from "bun:test";
import { ExitCode, UnavailableError } from "../../src/shared/errors.ts";
import { S3Client, S3Error } from "../../src/signer/s3-client.ts";
import { S3Signer } from "../../src/signer/signer.ts";

const config = { region: "us-east-1", bucket: "b", keyPrefix: "", accessKeyId: "a", secretAccessKey: "s", addressing: "path" as const };

test("unreachable endpoint throws UnavailableError", async () => {
  // A port that was just free on 127.0.0.1: nothing listens there.
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const endpoint = `http://127.0.0.1:${server.port}`;
  await server.stop(true);

  const client = new S3Client(new S3Signer({ ...config, endpoint }));
  const error = await client.headObject("k").catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(UnavailableError);
  expect((error as UnavailableError).message).toContain(`S3 HeadObject of ${endpoint}/b/k failed`);
  expect((error as UnavailableError).exitCode).toBe(ExitCode.unavailable);
});

test("200 with an Error body fails completion", async () => {
  const body = "<Error><Code>InternalError</Code><Message>try again</Message><RequestId>r1</RequestId></Error>";
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(body, { status: 200 }) });
  try {
    const client = new S3Client(new S3Signer({ ...config, endpoint: `http://127.0.0.1:${server.port}` }));
    const error = await client.completeMultipartUpload("k", "u", ['"e"']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).status).toBe(200);
    expect((error as S3Error).code).toBe("InternalError");
    expect((error as S3Error).requestId).toBe("r1");
  } finally {
    await server.stop(true);
  }
});

test("HEAD error without a body is named by status", async () => {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null, { status: 403, headers: { "x-amz-request-id": "r2" } }) });
  try {
    const client = new S3Client(new S3Signer({ ...config, endpoint: `http://127.0.0.1:${server.port}` }));
    const error = await client.headObject("k").catch((caught: unknown) => caught);
    expect((error as S3Error).status).toBe(403);
    expect((error as S3Error).code).toBe("Forbidden");
    expect((error as S3Error).requestId).toBe("r2");
  } finally {
    await server.stop(true);
  }
});

test("ListMultipartUploads error answer is S3Error", async () => {
  const body = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><RequestId>r3</RequestId></Error>";
  let requested = "";
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) => {
      const url = new URL(request.url);
      requested = `${request.method} ${url.pathname}${url.search}`;
      return new Response(body, { status: 404 });
    },
  });
  try {
    const client = new S3Client(new S3Signer({ ...config, endpoint: `http://127.0.0.1:${server.port}` }));
    const error = await client.listMultipartUploads({ prefix: "p/" }).catch((caught: unknown) => caught);
    expect(requested).toBe("GET /b?uploads=&prefix=p%2F");
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).message).toStartWith("S3 ListMultipartUploads failed: 404 NoSuchBucket");
  } finally {
    await server.stop(true);
  }
});
