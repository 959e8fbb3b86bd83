/**
 * Authentication of every request with SigV4, either from the `Authorization` header or from the
 * query of a presigned URL, and the payload mode that the signature commits the body to.
 */
import { badRequest, forbidden, notImplemented, StoreError } from "./s3-error.ts";
import {
  canonicalRequest,
  parseAmzDate,
  signatureOf,
  signaturesEqual,
  signingAlgorithm,
  signingKey,
  stringToSign,
  type CredentialScope,
} from "./sigv4.ts";

/** S3 rejects header-signed requests whose x-amz-date is further than this from its clock. */
export const maxClockSkewMs = 15 * 60 * 1000;
/** Maximum validity of a presigned URL that S3 accepts: 7 days. */
export const maxPresignedExpiresSeconds = 604_800;

export interface StoreCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What the signature commits the body to. */
export type Payload =
  | { kind: "sha256"; sha256: string }
  | { kind: "unsigned" }
  | { kind: "aws-chunked"; key: Buffer; scope: CredentialScope; amzDate: string; seedSignature: string };

interface SignatureFields {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  presigned: boolean;
  expiresSeconds?: number;
}

export interface AuthContext {
  credentials: StoreCredentials;
  region: string;
  now: () => Date;
}

/** Verifies the request's signature; returns the payload mode or throws a StoreError. */
export function authenticate(request: Request, url: URL, context: AuthContext): Payload {
  const fields = url.searchParams.has("X-Amz-Algorithm") ? presignedFields(url) : headerFields(request);
  const scope = checkCredential(fields, context);
  checkTime(fields, context.now());

  const signedHeaders = fields.signedHeaders.split(";");
  checkSignedHeaders(request.headers, signedHeaders);
  const payloadHash = payloadHashOf(request.headers, fields.presigned);

  const canonical = canonicalRequest({
    method: request.method,
    rawPath: url.pathname,
    rawQuery: url.search,
    headers: request.headers,
    signedHeaders,
    payloadHash,
  });
  const key = signingKey(context.credentials.secretAccessKey, scope);
  const expected = signatureOf(key, stringToSign(fields.amzDate, scope, canonical));
  if (!signaturesEqual(expected, fields.signature)) {
    throw forbidden(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  return payloadOf(payloadHash, key, scope, fields);
}

function headerFields(request: Request): SignatureFields {
  const header = request.headers.get("authorization");
  if (!header) throw forbidden("AccessDenied", "Anonymous access is not allowed; sign the request with SigV4");

  const [algorithm, ...rest] = header.trim().split(/\s+/);
  if (algorithm !== signingAlgorithm) {
    throw badRequest("InvalidArgument", `Unsupported Authorization type ${algorithm}; only ${signingAlgorithm} is accepted`);
  }
  const parts = new Map<string, string>();
  for (const part of rest.join("").split(",")) {
    const equals = part.indexOf("=");
    if (equals > 0) parts.set(part.slice(0, equals), part.slice(equals + 1));
  }
  const credential = parts.get("Credential");
  const signedHeaders = parts.get("SignedHeaders");
  const signature = parts.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw badRequest("AuthorizationHeaderMalformed", "The authorization header needs Credential, SignedHeaders and Signature");
  }

  const amzDate = request.headers.get("x-amz-date");
  if (!amzDate) throw forbidden("AccessDenied", "AWS authentication requires a valid x-amz-date header");
  return { credential, signedHeaders, signature, amzDate, presigned: false };
}

function presignedFields(url: URL): SignatureFields {
  const query = url.searchParams;
  const algorithm = query.get("X-Amz-Algorithm");
  if (algorithm !== signingAlgorithm) {
    throw badRequest("AuthorizationQueryParametersError", `X-Amz-Algorithm must be ${signingAlgorithm}`);
  }
  const credential = query.get("X-Amz-Credential");
  const signedHeaders = query.get("X-Amz-SignedHeaders");
  const signature = query.get("X-Amz-Signature");
  const amzDate = query.get("X-Amz-Date");
  const expires = query.get("X-Amz-Expires");
  if (!credential || !signedHeaders || !signature || !amzDate || !expires) {
    throw badRequest(
      "AuthorizationQueryParametersError",
      "A presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature",
    );
  }
  const expiresSeconds = Number(expires);
  if (!/^\d+$/.test(expires) || expiresSeconds < 1 || expiresSeconds > maxPresignedExpiresSeconds) {
    throw badRequest(
      "AuthorizationQueryParametersError",
      `X-Amz-Expires must be between 1 and ${maxPresignedExpiresSeconds} seconds, got ${JSON.stringify(expires)}`,
    );
  }
  return { credential, signedHeaders, signature, amzDate, presigned: true, expiresSeconds };
}

function checkCredential(fields: SignatureFields, context: AuthContext): CredentialScope {
  const [accessKeyId, date, region, service, terminator, ...extra] = fields.credential.split("/");
  if (!accessKeyId || !date || !region || !service || terminator !== "aws4_request" || extra.length > 0) {
    throw malformedCredential(fields, `invalid credential ${JSON.stringify(fields.credential)}; expected <key>/<date>/<region>/s3/aws4_request`);
  }
  if (accessKeyId !== context.credentials.accessKeyId) {
    throw forbidden("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", {
      AWSAccessKeyId: accessKeyId,
    });
  }
  if (region !== context.region) {
    throw malformedCredential(fields, `the region '${region}' is wrong; expecting '${context.region}'`, { Region: context.region });
  }
  if (service !== "s3") throw malformedCredential(fields, `the service '${service}' is wrong; expecting 's3'`);
  if (date !== fields.amzDate.slice(0, 8)) {
    throw malformedCredential(fields, `the credential date ${date} is not the date of X-Amz-Date ${fields.amzDate}`);
  }
  return { date, region, service };
}

function malformedCredential(fields: SignatureFields, message: string, details?: Record<string, string>): StoreError {
  const code = fields.presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed";
  return badRequest(code, message, details);
}

function checkTime(fields: SignatureFields, now: Date): void {
  const signedAt = parseAmzDate(fields.amzDate);
  if (!signedAt) {
    throw forbidden("AccessDenied", `invalid X-Amz-Date ${JSON.stringify(fields.amzDate)}; expected YYYYMMDDTHHMMSSZ`);
  }

  const skew = signedAt.getTime() - now.getTime();
  if (!fields.presigned) {
    if (Math.abs(skew) > maxClockSkewMs) {
      throw forbidden("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", {
        RequestTime: fields.amzDate,
        ServerTime: now.toISOString(),
        MaxAllowedSkewMilliseconds: String(maxClockSkewMs),
      });
    }
    return;
  }

  if (skew > maxClockSkewMs) throw forbidden("AccessDenied", "Request is not valid yet");
  if (now.getTime() > signedAt.getTime() + fields.expiresSeconds! * 1000) {
    throw forbidden("AccessDenied", "Request has expired", {
      Expires: new Date(signedAt.getTime() + fields.expiresSeconds! * 1000).toISOString(),
      ServerTime: now.toISOString(),
    });
  }
}

/** `host` must be signed, and so must every `x-amz-*` header present (AWS rejects the rest). */
function checkSignedHeaders(headers: Headers, signedHeaders: string[]): void {
  if (!signedHeaders.includes("host")) {
    throw forbidden("AccessDenied", "The host header must be signed", { HeadersNotSigned: "host" });
  }
  const unsigned: string[] = [];
  headers.forEach((_value, name) => {
    if (name.startsWith("x-amz-") && !signedHeaders.includes(name)) unsigned.push(name);
  });
  if (unsigned.length > 0) {
    throw forbidden("AccessDenied", `There were headers present in the request which were not signed: ${unsigned.join(", ")}`, {
      HeadersNotSigned: unsigned.join(", "),
    });
  }
}

/** The value that ends the canonical request: the signed body hash or a payload mode. */
function payloadHashOf(headers: Headers, presigned: boolean): string {
  const value = headers.get("x-amz-content-sha256");
  if (value === null) {
    if (presigned) return "UNSIGNED-PAYLOAD";
    throw badRequest("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  if (/^[0-9a-f]{64}$/.test(value) || value === "UNSIGNED-PAYLOAD" || value === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    return value;
  }
  if (value.startsWith("STREAMING-")) {
    throw notImplemented(`The payload mode x-amz-content-sha256: ${value} is not supported; send the body's SHA-256, UNSIGNED-PAYLOAD or STREAMING-AWS4-HMAC-SHA256-PAYLOAD`);
  }
  throw badRequest("InvalidArgument", `x-amz-content-sha256 must be a lowercase hex SHA-256 or a payload mode, got ${JSON.stringify(value)}`);
}

function payloadOf(payloadHash: string, key: Buffer, scope: CredentialScope, fields: SignatureFields): Payload {
  if (payloadHash === "UNSIGNED-PAYLOAD") return { kind: "unsigned" };
  if (payloadHash === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    return { kind: "aws-chunked", key, scope, amzDate: fields.amzDate, seedSignature: fields.signature };
  }
  return { kind: "sha256", sha256: payloadHash };
}
