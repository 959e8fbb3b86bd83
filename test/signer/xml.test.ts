import { describe, expect, test } from "bun:test";
import { ExitCode } from "../../src/shared/errors.ts";
import { S3Error } from "../../src/signer/s3-error.ts";
import {
  parseCompleteMultipartUploadResult,
  parseErrorDocument,
  parseInitiateMultipartUploadResult,
  parseListMultipartUploadsResult,
  parseListPartsResult,
  rootElementName,
} from "../../src/signer/xml.ts";

const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';

function s3ErrorOf(run: () => unknown): S3Error {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error("expected an S3Error, but nothing was thrown");
}

describe("S3 XML parsing", () => {
  test("InitiateMultipartUploadResult gives the upload ID", () => {
    const xml = `${declaration}<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>a &amp; b</Key><UploadId>2~x&lt;y</UploadId></InitiateMultipartUploadResult>`;
    expect(parseInitiateMultipartUploadResult(xml)).toEqual({ bucket: "b", key: "a & b", uploadId: "2~x<y" });
  });

  test("InitiateMultipartUploadResult without UploadId is invalid", () => {
    const error = s3ErrorOf(() => parseInitiateMultipartUploadResult("<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>"));
    expect(error.code).toBe("InvalidResponse");
  });

  test("CompleteMultipartUploadResult gives the ETag", () => {
    const xml = `${declaration}<CompleteMultipartUploadResult><Location>http://h/b/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-3&quot;</ETag></CompleteMultipartUploadResult>`;
    expect(parseCompleteMultipartUploadResult(xml)).toEqual({ location: "http://h/b/k", key: "k", etag: '"3858f62230ac3c915f300c664312c11f-3"' });
  });

  test("empty ETag of Ceph RGW is undefined", () => {
    for (const etag of ["<ETag></ETag>", "<ETag/>"]) {
      const xml = `<CompleteMultipartUploadResult><Key>k</Key>${etag}</CompleteMultipartUploadResult>`;
      expect(parseCompleteMultipartUploadResult(xml).etag).toBeUndefined();
    }
  });

  test("a 200 with an Error body is an S3Error", () => {
    const xml = `${declaration}\n\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>`;
    const error = s3ErrorOf(() => parseCompleteMultipartUploadResult(xml, 200));
    expect(error.status).toBe(200);
    expect(error.code).toBe("InternalError");
    expect(error.requestId).toBe("656c76696e6727732072657175657374");
    expect(error.message).toContain("CompleteMultipartUpload");
    expect(error.message).toContain("request id 656c76696e6727732072657175657374");
  });

  test("an unexpected root element is InvalidResponse", () => {
    const error = s3ErrorOf(() => parseCompleteMultipartUploadResult("<html><body>proxy error</body></html>", 200));
    expect(error.code).toBe("InvalidResponse");
    expect(error.message).toContain("html");
    expect(s3ErrorOf(() => parseCompleteMultipartUploadResult("", 200)).message).toContain("(none)");
  });

  test("Error document fields and exit codes", () => {
    const xml = "<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/b/k</Resource><RequestId>tx1</RequestId></Error>";
    expect(parseErrorDocument(xml)).toEqual({ code: "NoSuchKey", message: "The resource you requested does not exist", resource: "/b/k", requestId: "tx1" });
    expect(parseErrorDocument("<ListPartsResult/>")).toBeUndefined();
    expect(new S3Error("PutObject", { status: 403, code: "SignatureDoesNotMatch", message: "m" }).exitCode).toBe(ExitCode.noPermission);
    expect(new S3Error("PutObject", { status: 503, code: "SlowDown", message: "m" }).exitCode).toBe(ExitCode.unavailable);
    expect(new S3Error("PutObject", { status: 400, code: "XAmzContentSHA256Mismatch", message: "m" }).exitCode).toBe(ExitCode.dataError);
  });

  test("ListPartsResult lists the parts", () => {
    const xml = `${declaration}<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><Owner><ID>o</ID></Owner><NextPartNumberMarker>2</NextPartNumberMarker><IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag><Size>5242880</Size></Part><Part><LastModified>2026-01-01T00:00:00.000Z</LastModified><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag><Size>3</Size></Part></ListPartsResult>`;
    expect(parseListPartsResult(xml)).toEqual({
      parts: [
        { partNumber: 1, etag: '"e1"', size: 5242880 },
        { partNumber: 2, etag: '"e2"', size: 3 },
      ],
      isTruncated: true,
      nextPartNumberMarker: 2,
    });
  });

  test("ListPartsResult part without a size is invalid", () => {
    const xml = "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></ListPartsResult>";
    expect(s3ErrorOf(() => parseListPartsResult(xml)).code).toBe("InvalidResponse");
  });

  test("ListMultipartUploadsResult lists uploads and next markers", () => {
    const xml =
      `${declaration}<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><KeyMarker></KeyMarker>` +
      `<UploadIdMarker></UploadIdMarker><NextKeyMarker>p/b &amp; c</NextKeyMarker><NextUploadIdMarker>2~u2</NextUploadIdMarker><MaxUploads>2</MaxUploads>` +
      `<IsTruncated>true</IsTruncated><Upload><Key>p/a</Key><UploadId>2~u1</UploadId><Initiator><ID>i</ID></Initiator><Owner><ID>o</ID></Owner>` +
      `<StorageClass>STANDARD</StorageClass><Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload>` +
      `<Upload><Key>p/b &amp; c</Key><UploadId>2~u2</UploadId><Initiated>2026-01-02T03:04:06.000Z</Initiated></Upload></ListMultipartUploadsResult>`;

    expect(parseListMultipartUploadsResult(xml)).toEqual({
      uploads: [
        { key: "p/a", uploadId: "2~u1", initiated: new Date("2026-01-02T03:04:05.000Z") },
        { key: "p/b & c", uploadId: "2~u2", initiated: new Date("2026-01-02T03:04:06.000Z") },
      ],
      isTruncated: true,
      nextKeyMarker: "p/b & c",
      nextUploadIdMarker: "2~u2",
    });
  });

  test("empty ListMultipartUploadsResult has no markers", () => {
    const xml = "<ListMultipartUploadsResult><Bucket>b</Bucket><NextKeyMarker/><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>";
    expect(parseListMultipartUploadsResult(xml)).toEqual({ uploads: [], isTruncated: false, nextKeyMarker: undefined, nextUploadIdMarker: undefined });
  });

  test.each([
    ["no Initiated", "<Upload><Key>k</Key><UploadId>u</UploadId></Upload>"],
    ["invalid Initiated", "<Upload><Key>k</Key><UploadId>u</UploadId><Initiated>yesterday</Initiated></Upload>"],
    ["no UploadId", "<Upload><Key>k</Key><Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload>"],
  ])("listed upload with %s is invalid", (_, upload) => {
    const xml = `<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>${upload}</ListMultipartUploadsResult>`;
    expect(s3ErrorOf(() => parseListMultipartUploadsResult(xml)).code).toBe("InvalidResponse");
  });

  test("root element skips declaration and comments", () => {
    expect(rootElementName(`${declaration}<!-- c --><Error/>`)).toBe("Error");
    expect(rootElementName("no xml")).toBeUndefined();
  });
});
