/**
 * Signs S3 requests with AWS Signature Version 4 (aws4) for one bucket. The queue hands the
 * descriptors to the uploader, which adds only the body. Because `x-amz-content-sha256` and
 * `content-length` are signed, the storage itself rejects any body but the one that was hashed.
 *
 * Signed: host, x-amz-date, x-amz-content-sha256, content-length, content-type, content-encoding
 * and the x-amz-meta-taskcluster-* metadata. Never signed: accept-encoding, connection, user-agent
 * and expect, which proxies and HTTP stacks add or rewrite on the way.
 */
import aws4 from "aws4";
import { UsageError } from "../shared/errors.ts";
import { encodeKeyPath, encodeRfc3986 } from "./key.ts";
import { checkPart, checkPartNumber, checkSinglePart, maxPartCount, normalizeSha256 } from "./limits.ts";
import { objectHeaderFields } from "./metadata.ts";
import type { ObjectHeaders, PartHash, RequestDescriptor, S3Config } from "./types.ts";

/** SHA-256 of the empty string: the payload hash of requests without a body. */
export const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Maximum validity of a presigned URL that SigV4 allows: 7 days. */
export const maxPresignSeconds = 7 * 24 * 60 * 60;

type Query = Array<[string, string]>;

/** A ListMultipartUploads page to request. Its markers are the next markers of the page before. */
export interface ListMultipartUploadsPage {
  prefix: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads?: number;
}

interface SignInput {
  method: string;
  /** Undefined for a request on the bucket itself. */
  key: string | undefined;
  query?: Query;
  headers: Record<string, string>;
  body?: string;
}

export class S3Signer {
  readonly config: S3Config;
  private readonly now: () => Date;
  private readonly endpoint: URL;

  constructor(config: S3Config, now: () => Date = () => new Date()) {
    this.config = config;
    this.now = now;
    this.endpoint = parseEndpoint(config.endpoint);
    if (config.keyPrefix !== "" && !config.keyPrefix.endsWith("/")) {
      throw new UsageError(`key prefix "${config.keyPrefix}" does not end in "/"`, { hint: "add a trailing / or leave it empty" });
    }
  }

  /** Returns the object key of an artifact, `<keyPrefix><taskId>/<runId>/<name>`; throws a UsageError for keys S3 or URLs cannot carry. */
  objectKey(taskId: string, runId: number, name: string): string {
    const key = `${this.config.keyPrefix}${taskId}/${runId}/${name}`;
    encodeKeyPath(key);
    return key;
  }

  /** Single-part PUT; content-length and x-amz-content-sha256 are the transfer values of the metadata. */
  signPutObject(key: string, headers: ObjectHeaders): RequestDescriptor {
    const fields = objectHeaderFields(headers);
    checkSinglePart(headers.metadata.transferLength);

    return this.sign({
      method: "PUT",
      key,
      headers: {
        ...fields,
        "content-length": String(headers.metadata.transferLength),
        "x-amz-content-sha256": normalizeSha256(headers.metadata.transferSha256),
      },
    });
  }

  /** CreateMultipartUpload: the object's type, encoding and metadata are set here, not on the parts. */
  signCreateMultipartUpload(key: string, headers: ObjectHeaders): RequestDescriptor {
    const fields = objectHeaderFields(headers);
    return this.sign({ method: "POST", key, query: [["uploads", ""]], headers: { ...fields, "x-amz-content-sha256": emptySha256 } });
  }

  /**
   * UploadPart, with the part's own length and SHA-256 signed. The 5 MiB minimum of non-last parts
   * is checked over all parts with `checkParts`, since one part does not know whether it is last.
   */
  signUploadPart(key: string, uploadId: string, partNumber: number, part: PartHash): RequestDescriptor {
    checkPartNumber(partNumber);
    checkPart(part, 0, 1);
    checkUploadId(uploadId);

    return this.sign({
      method: "PUT",
      key,
      query: [
        ["partNumber", String(partNumber)],
        ["uploadId", uploadId],
      ],
      headers: { "content-length": String(part.size), "x-amz-content-sha256": normalizeSha256(part.sha256) },
    });
  }

  /** CompleteMultipartUpload with its XML body, which the descriptor carries and signs. */
  signCompleteMultipartUpload(key: string, uploadId: string, etags: string[]): RequestDescriptor {
    checkUploadId(uploadId);
    const body = completeMultipartUploadBody(etags);

    return this.sign({
      method: "POST",
      key,
      query: [["uploadId", uploadId]],
      headers: {
        "content-type": "application/xml",
        "content-length": String(Buffer.byteLength(body)),
        "x-amz-content-sha256": new Bun.CryptoHasher("sha256").update(body).digest("hex"),
      },
      body,
    });
  }

  signAbortMultipartUpload(key: string, uploadId: string): RequestDescriptor {
    checkUploadId(uploadId);
    return this.signEmpty("DELETE", key, [["uploadId", uploadId]]);
  }

  signListParts(key: string, uploadId: string): RequestDescriptor {
    checkUploadId(uploadId);
    return this.signEmpty("GET", key, [["uploadId", uploadId]]);
  }

  /**
   * ListMultipartUploads of the bucket: the uploads initiated and neither completed nor aborted,
   * with keys starting with `prefix`, after the given markers, at most `maxUploads` (S3 caps a page at 1,000).
   */
  signListMultipartUploads(page: ListMultipartUploadsPage): RequestDescriptor {
    const query: Query = [["uploads", ""], ["prefix", page.prefix]];
    if (page.keyMarker !== undefined) query.push(["key-marker", page.keyMarker]);
    if (page.uploadIdMarker !== undefined) query.push(["upload-id-marker", page.uploadIdMarker]);
    if (page.maxUploads !== undefined) {
      if (!Number.isSafeInteger(page.maxUploads) || page.maxUploads < 1 || page.maxUploads > 1000) {
        throw new UsageError(`max-uploads ${page.maxUploads} is outside 1 to 1000`);
      }
      query.push(["max-uploads", String(page.maxUploads)]);
    }
    return this.sign({ method: "GET", key: undefined, query, headers: { "x-amz-content-sha256": emptySha256 } });
  }

  /** HeadBucket: succeeds when the bucket exists and the credentials may use it. */
  signHeadBucket(): RequestDescriptor {
    return this.sign({ method: "HEAD", key: undefined, headers: { "x-amz-content-sha256": emptySha256 } });
  }

  signHeadObject(key: string): RequestDescriptor {
    return this.signEmpty("HEAD", key);
  }

  signDeleteObject(key: string): RequestDescriptor {
    return this.signEmpty("DELETE", key);
  }

  /** GET of the object; a Range header may be added unsigned. */
  signGetObject(key: string): RequestDescriptor {
    return this.signEmpty("GET", key);
  }

  /** Returns a GET URL signed in its query, valid for `expiresInSeconds` (1 s to 7 days) from now. */
  presignGetObject(key: string, expiresInSeconds: number): string {
    if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > maxPresignSeconds) {
      throw new UsageError(`presigned URL validity ${expiresInSeconds} s is outside 1 to ${maxPresignSeconds} s (7 days)`);
    }

    const { host, path } = this.location(key);
    const query: Query = [
      ["X-Amz-Date", amzDate(this.now())],
      ["X-Amz-Expires", String(expiresInSeconds)],
    ];
    const signed = aws4.sign(
      { service: "s3", region: this.config.region, method: "GET", host, path: `${path}?${formatQuery(query)}`, headers: { host }, signQuery: true },
      this.credentials(),
    );
    return `${this.endpoint.protocol}//${host}${signed.path}`;
  }

  private signEmpty(method: string, key: string, query?: Query): RequestDescriptor {
    return this.sign({ method, key, query, headers: { "x-amz-content-sha256": emptySha256 } });
  }

  private sign(input: SignInput): RequestDescriptor {
    const { host, path } = this.location(input.key);
    const pathWithQuery = input.query ? `${path}?${formatQuery(input.query)}` : path;
    const headers = { host, "x-amz-date": amzDate(this.now()), ...input.headers };

    const signed = aws4.sign(
      { service: "s3", region: this.config.region, method: input.method, host, path: pathWithQuery, headers, body: input.body },
      this.credentials(),
    );

    const descriptor: RequestDescriptor = {
      url: `${this.endpoint.protocol}//${host}${signed.path}`,
      method: input.method,
      headers: outgoingHeaders(signed.headers ?? {}),
    };
    if (input.body !== undefined) descriptor.body = input.body;
    return descriptor;
  }

  /** Returns the host and the encoded path of `key`, or of the bucket, for the configured addressing style. */
  private location(key: string | undefined): { host: string; path: string } {
    if (key === undefined) {
      if (this.config.addressing === "virtual-host") return { host: `${this.config.bucket}.${this.endpoint.host}`, path: "/" };
      return { host: this.endpoint.host, path: `/${this.config.bucket}` };
    }
    const keyPath = encodeKeyPath(key);
    if (this.config.addressing === "virtual-host") {
      return { host: `${this.config.bucket}.${this.endpoint.host}`, path: `/${keyPath}` };
    }
    return { host: this.endpoint.host, path: `/${this.config.bucket}/${keyPath}` };
  }

  private credentials(): { accessKeyId: string; secretAccessKey: string } {
    return { accessKeyId: this.config.accessKeyId, secretAccessKey: this.config.secretAccessKey };
  }
}

/** Returns the CompleteMultipartUpload XML for the ETags of parts 1..n, in order. */
export function completeMultipartUploadBody(etags: string[]): string {
  if (etags.length === 0 || etags.length > maxPartCount) {
    throw new UsageError(`${etags.length} ETags given; a multipart upload completes with 1 to ${maxPartCount} parts`);
  }

  const parts = etags.map((etag, index) => {
    if (!/^"?[\x21\x23-\x7e]+"?$/.test(etag)) {
      throw new UsageError(`ETag ${JSON.stringify(etag)} of part ${index + 1} is not a valid ETag`, { hint: "send the ETag header of the part's response unchanged" });
    }
    const quoted = etag.startsWith('"') ? etag : `"${etag}"`;
    return `<Part><PartNumber>${index + 1}</PartNumber><ETag>${escapeXml(quoted)}</ETag></Part>`;
  });
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join("")}</CompleteMultipartUpload>`;
}

/** Formats a date as SigV4's basic ISO 8601 timestamp, `YYYYMMDDTHHMMSSZ`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

function formatQuery(query: Query): string {
  return query.map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(value)}`).join("&");
}

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Lowercases names and drops `host`, which the client's HTTP stack derives from the URL. */
function outgoingHeaders(headers: Record<string, string | number | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === "host" || value === undefined) continue;
    result[lower] = String(value);
  }
  return result;
}

function checkUploadId(uploadId: string): void {
  if (uploadId.length === 0 || !/^[\x21-\x7e]+$/.test(uploadId)) {
    throw new UsageError(`upload ID ${JSON.stringify(uploadId)} is not valid`, { hint: "use the UploadId that CreateMultipartUpload returned" });
  }
}

function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new UsageError(`S3 endpoint "${endpoint}" is not a URL`, { hint: "give scheme, host and port, e.g. http://127.0.0.1:7480", cause: error });
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || (url.pathname !== "/" && url.pathname !== "") || url.search) {
    throw new UsageError(`S3 endpoint "${endpoint}" must be an http or https origin without a path`);
  }
  return url;
}

