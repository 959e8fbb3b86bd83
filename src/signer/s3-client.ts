/**
 * The S3 requests the queue sends itself: initiate, complete, abort and list multipart uploads,
 * list parts, HEAD, DELETE and GET. Artifact bytes never pass through here except when the queue reads
 * an object back to check its hash.
 */
import { UnavailableError } from "../shared/errors.ts";
import { S3Error } from "./s3-error.ts";
import type { ListMultipartUploadsPage, S3Signer } from "./signer.ts";
import type { ObjectHeaders, ObjectInfo, RequestDescriptor } from "./types.ts";
import {
  type ListMultipartUploadsResult,
  type ListPartsResult,
  parseCompleteMultipartUploadResult,
  parseErrorDocument,
  parseInitiateMultipartUploadResult,
  parseListMultipartUploadsResult,
  parseListPartsResult,
} from "./xml.ts";

export { S3Error } from "./s3-error.ts";

export class S3Client {
  private readonly signer: S3Signer;
  private readonly fetchImpl: typeof fetch;

  constructor(signer: S3Signer, fetchImpl: typeof fetch = fetch) {
    this.signer = signer;
    this.fetchImpl = fetchImpl;
  }

  /** Starts a multipart upload and returns its upload ID. */
  async initiateMultipartUpload(key: string, headers: ObjectHeaders): Promise<string> {
    const response = await this.send("CreateMultipartUpload", this.signer.signCreateMultipartUpload(key, headers));
    return parseInitiateMultipartUploadResult(await response.text(), response.status).uploadId;
  }

  /** Completes a multipart upload; `etag` is undefined when the storage returns an empty one. */
  async completeMultipartUpload(key: string, uploadId: string, etags: string[]): Promise<{ etag: string | undefined }> {
    const response = await this.send("CompleteMultipartUpload", this.signer.signCompleteMultipartUpload(key, uploadId, etags));
    const result = parseCompleteMultipartUploadResult(await response.text(), response.status);
    return { etag: result.etag };
  }

  /** Aborts a multipart upload; an upload that is already gone (404) counts as aborted. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    await this.send("AbortMultipartUpload", this.signer.signAbortMultipartUpload(key, uploadId), { allowNotFound: true });
  }

  /** Lists the parts uploaded so far (the first 1,000, the S3 default page). */
  async listParts(key: string, uploadId: string): Promise<ListPartsResult> {
    const response = await this.send("ListParts", this.signer.signListParts(key, uploadId));
    return parseListPartsResult(await response.text(), response.status);
  }

  /** Lists one page of the bucket's multipart uploads in progress whose keys start with `page.prefix`. */
  async listMultipartUploads(page: ListMultipartUploadsPage): Promise<ListMultipartUploadsResult> {
    const response = await this.send("ListMultipartUploads", this.signer.signListMultipartUploads(page));
    return parseListMultipartUploadsResult(await response.text(), response.status);
  }

  /**
   * Checks that the bucket exists and the credentials may use it, else throws S3Error. Throws
   * UnavailableError when the endpoint cannot be reached or sends no response within `timeoutMs`.
   */
  async headBucket(timeoutMs: number): Promise<void> {
    await this.send("HeadBucket", this.signer.signHeadBucket(), { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Returns the object's length, ETag, type, encoding and user metadata, or undefined when it does not exist. */
  async headObject(key: string): Promise<ObjectInfo | undefined> {
    const response = await this.send("HeadObject", this.signer.signHeadObject(key), { allowNotFound: true });
    if (response.status === 404) return undefined;
    return objectInfoOf(response.headers);
  }

  /** Deletes the object; deleting an object that does not exist succeeds, as in S3. */
  async deleteObject(key: string): Promise<void> {
    await this.send("DeleteObject", this.signer.signDeleteObject(key), { allowNotFound: true });
  }

  /** Returns the response of a GET of the object, body unread and not decompressed. */
  async getObject(key: string): Promise<Response> {
    return this.send("GetObject", this.signer.signGetObject(key), { keepBody: true });
  }

  private async send(
    operation: string,
    descriptor: RequestDescriptor,
    options: { allowNotFound?: boolean; keepBody?: boolean; signal?: AbortSignal } = {},
  ): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(descriptor.url, {
        method: descriptor.method,
        headers: descriptor.headers,
        body: descriptor.body,
        decompress: false,
        signal: options.signal,
      });
    } catch (error) {
      throw new UnavailableError(`S3 ${operation} of ${descriptor.url} failed: ${(error as Error).message}`, {
        hint: "check that the S3 endpoint is reachable",
        cause: error,
      });
    }

    if (response.ok) return response;
    if (response.status === 404 && options.allowNotFound) {
      await response.body?.cancel();
      return response;
    }
    throw await errorOf(operation, response);
  }
}

async function errorOf(operation: string, response: Response): Promise<S3Error> {
  const body = await response.text().catch(() => "");
  const document = parseErrorDocument(body);
  const requestId = response.headers.get("x-amz-request-id") ?? undefined;
  if (document) return new S3Error(operation, { status: response.status, ...document, requestId: document.requestId ?? requestId });

  // HEAD responses and some proxies' errors carry no XML, so the status names the error instead.
  const code = response.statusText.replace(/\s+/g, "") || `Http${response.status}`;
  return new S3Error(operation, { status: response.status, code, message: body.slice(0, 200) || "no error document", requestId });
}

function objectInfoOf(headers: Headers): ObjectInfo {
  const userMetadata: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-amz-meta-")) userMetadata[name.slice("x-amz-meta-".length)] = value;
  }

  return {
    contentLength: Number(headers.get("content-length") ?? Number.NaN),
    etag: headers.get("etag") ?? undefined,
    contentType: headers.get("content-type") ?? undefined,
    contentEncoding: headers.get("content-encoding") ?? undefined,
    userMetadata,
  };
}
