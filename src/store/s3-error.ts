/**
 * S3 error responses: every failure the store reports to a client is a `StoreError` with the status
 * and the standard S3 error code, rendered as the `<Error>` XML document that S3 clients parse.
 */
import { escapeXml } from "./xml.ts";

export class StoreError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra `<Error>` elements some codes carry, for example `HeadersNotSigned`. */
  readonly details: Record<string, string>;
  /** Response headers the answer needs, for example Content-Range on 416. */
  readonly headers: Record<string, string> = {};

  constructor(status: number, code: string, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = "StoreError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, string>) =>
  new StoreError(400, code, message, details);

export const forbidden = (code: string, message: string, details?: Record<string, string>) =>
  new StoreError(403, code, message, details);

export const notFound = (code: string, message: string) => new StoreError(404, code, message);
export const noSuchBucket = (bucket: string) => notFound("NoSuchBucket", `The specified bucket does not exist: ${bucket}`);

export const notImplemented = (message: string) => new StoreError(501, "NotImplemented", message);

/** Renders the error response. HEAD responses carry no body, so the code travels in a header too. */
export function errorResponse(error: StoreError, method: string, resource: string, requestId: string): Response {
  const headers: Record<string, string> = {
    "content-type": "application/xml",
    "x-amz-request-id": requestId,
    "x-amz-error-code": error.code,
    ...error.headers,
  };
  if (method === "HEAD") return new Response(null, { status: error.status, headers });

  const details = Object.entries(error.details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join("");
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code>` +
    `<Message>${escapeXml(error.message)}</Message>${details}` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, { status: error.status, headers });
}
