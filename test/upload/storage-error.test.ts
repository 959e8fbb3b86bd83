import { describe, expect, test } from "bun:test";
import { storageErrorOf } from "../../src/upload/storage-error.ts";

function s3Error(status: number, code: string, message = "details"): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>req-1</RequestId></Error>`;
  return new Response(body, { status, headers: { "content-type": "application/xml" } });
}

describe("storage error remedies", () => {
  const cases: Array<[number, string, string, string]> = [
    [403, "RequestTimeTooSkewed", "too skewed", "renew-signature"],
    [403, "AccessDenied", "Request has expired", "renew-signature"],
    [403, "AccessDenied", "Access Denied", "fail"],
    [400, "XAmzContentSHA256Mismatch", "hash differs", "check-input"],
    [400, "BadDigest", "md5 differs", "check-input"],
    [500, "InternalError", "oops", "retry"],
    [503, "SlowDown", "slow down", "retry"],
    [404, "NoSuchUpload", "gone", "fail"],
  ];
  for (const [status, code, message, remedy] of cases) {
    test(`${status} ${code} ${message}`, async () => {
      const error = await storageErrorOf(s3Error(status, code, message), "PUT of part 2 of 3");

      expect(error.remedy).toBe(remedy as never);
      expect(error.code).toBe(code);
      expect(error.message).toBe(`PUT of part 2 of 3 returned ${status} (${code}, ${message}, request id req-1)`);
    });
  }

  test("signature mismatch is altered in transit", async () => {
    const error = await storageErrorOf(s3Error(403, "SignatureDoesNotMatch", "mismatch"), "PUT of public/a.bin");

    expect(error.remedy).toBe("retry");
    expect(error.alteredInTransit).toBe(true);
    expect(error.message).toBe("PUT of public/a.bin returned 403 (SignatureDoesNotMatch, mismatch, request id req-1): the request was altered in transit");
  });

  test("expired signature is not altered in transit", async () => {
    const error = await storageErrorOf(s3Error(403, "AccessDenied", "Request has expired"), "PUT of public/a.bin");

    expect(error.remedy).toBe("renew-signature");
    expect(error.alteredInTransit).toBe(false);
  });

  test("HTML body keeps the status", async () => {
    const error = await storageErrorOf(new Response("<html>bad gateway</html>", { status: 502, headers: { "x-amz-request-id": "h-1" } }), "PUT of the object");

    expect(error.remedy).toBe("retry");
    expect(error.code).toBeUndefined();
    expect(error.message).toBe("PUT of the object returned 502 (request id h-1)");
  });
});
