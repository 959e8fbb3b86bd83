/**
 * The steps of AWS Signature Version 4 as S3 defines them: canonical URI, canonical query string,
 * canonical headers, canonical request, string to sign, signing key and signature.
 * The store recomputes each signature from the request it received and compares.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const signingAlgorithm = "AWS4-HMAC-SHA256";
export const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface CredentialScope {
  /** YYYYMMDD */
  date: string;
  region: string;
  service: string;
}

export function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Decodes `%XX` escapes of a raw path or query component into bytes; other characters stay UTF-8. */
export function percentDecodeBytes(raw: string): Uint8Array {
  const text = new TextEncoder().encode(raw);
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index++) {
    const byte = text[index]!;
    const hex = byte === 0x25 ? String.fromCharCode(text[index + 1] ?? 0, text[index + 2] ?? 0) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(byte);
    }
  }
  return Uint8Array.from(bytes);
}

/** SigV4 URI encoding: every byte except A-Z a-z 0-9 `-` `_` `.` `~` (and `/` in paths) as `%XX`. */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let encoded = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(char) || (keepSlash && char === "/")) {
      encoded += char;
    } else {
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return encoded;
}

/** S3 encodes the path once (no double encoding, no dot-segment removal). */
export function canonicalUri(rawPath: string): string {
  return uriEncodeBytes(percentDecodeBytes(rawPath), true) || "/";
}

/** Sorted `name=value` pairs of the raw query, leaving out `X-Amz-Signature` for presigned URLs. */
export function canonicalQueryString(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const component of rawQuery.replace(/^\?/, "").split("&")) {
    if (component === "") continue;
    const equals = component.indexOf("=");
    const name = equals === -1 ? component : component.slice(0, equals);
    const value = equals === -1 ? "" : component.slice(equals + 1);
    const encodedName = uriEncodeBytes(percentDecodeBytes(name), false);
    if (encodedName === "X-Amz-Signature") continue;
    pairs.push([encodedName, uriEncodeBytes(percentDecodeBytes(value), false)]);
  }
  pairs.sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `name:value\n` for each signed header, values trimmed and inner runs of spaces collapsed. */
export function canonicalHeaders(headers: Headers, signedHeaders: string[]): string {
  return signedHeaders
    .map((name) => `${name}:${(headers.get(name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
}

export interface CanonicalRequestInput {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Headers;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  return [
    input.method,
    canonicalUri(input.rawPath),
    canonicalQueryString(input.rawQuery),
    canonicalHeaders(input.headers, input.signedHeaders),
    input.signedHeaders.join(";"),
    input.payloadHash,
  ].join("\n");
}

export function stringToSign(amzDate: string, scope: CredentialScope, canonical: string): string {
  return [signingAlgorithm, amzDate, scopeString(scope), sha256Hex(canonical)].join("\n");
}

/**
 * Signing keys by secret and scope. A key depends only on the secret, the date, the region and the
 * service, so a day's requests share one key instead of four HMACs each. The cache is cleared
 * when full, so new dates and secrets never grow it without bound.
 */
const signingKeys = new Map<string, Buffer>();
const maxSigningKeys = 64;

/** Returns the SigV4 signing key of `scope`; callers must not modify the returned buffer. */
export function signingKey(secretAccessKey: string, scope: CredentialScope): Buffer {
  const cacheKey = `${secretAccessKey}\n${scopeString(scope)}`;
  const cached = signingKeys.get(cacheKey);
  if (cached) return cached;

  const dateKey = hmac(`AWS4${secretAccessKey}`, scope.date);
  const regionKey = hmac(dateKey, scope.region);
  const serviceKey = hmac(regionKey, scope.service);
  const key = hmac(serviceKey, "aws4_request");

  if (signingKeys.size >= maxSigningKeys) signingKeys.clear();
  signingKeys.set(cacheKey, key);
  return key;
}

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function signatureOf(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

/** Compares two hex signatures in constant time. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses the ISO 8601 basic format `YYYYMMDDTHHMMSSZ` of `x-amz-date`; undefined when invalid. */
export function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
