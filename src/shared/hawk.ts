/**
 * Hawk request authentication (scheme version 1), both sides: the header and bewit a client
 * sends, and their verification on the queue. Taskcluster clients use this scheme with the
 * client id as the Hawk id and the access token as the key, always with SHA-256.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface HawkCredentials {
  id: string;
  key: string;
}

/** The parts of a request that the MAC covers. */
export interface HawkRequest {
  method: string;
  /** Path plus query string, exactly as sent. */
  resource: string;
  host: string;
  port: number;
}

export interface HawkArtifacts {
  ts: number;
  nonce: string;
  hash?: string;
  ext?: string;
}

/** Builds the normalized string that the MAC is computed over. */
export function normalizedString(type: "header" | "bewit", request: HawkRequest, artifacts: HawkArtifacts): string {
  const ext = (artifacts.ext ?? "").replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return [
    `hawk.1.${type}`,
    String(artifacts.ts),
    artifacts.nonce,
    request.method.toUpperCase(),
    request.resource,
    request.host.toLowerCase(),
    String(request.port),
    artifacts.hash ?? "",
    ext,
    "",
  ].join("\n");
}

export function calculateMac(
  type: "header" | "bewit",
  key: string,
  request: HawkRequest,
  artifacts: HawkArtifacts,
): string {
  return createHmac("sha256", key).update(normalizedString(type, request, artifacts)).digest("base64");
}

/**
 * Returns the Hawk payload hash of a request body: base64 SHA-256 of `hawk.1.payload`, the media
 * type without parameters in lowercase, and the body, each followed by a newline.
 */
export function calculatePayloadHash(payload: Uint8Array, contentType: string | null): string {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return createHash("sha256").update(`hawk.1.payload\n${mediaType}\n`).update(payload).update("\n").digest("base64");
}

/** Splits a URL into the host, port and resource that Hawk signs. */
export function hawkRequestOf(method: string, url: URL): HawkRequest {
  const defaultPort = url.protocol === "https:" ? 443 : 80;
  return {
    method,
    resource: url.pathname + url.search,
    host: url.hostname,
    port: url.port ? Number(url.port) : defaultPort,
  };
}

/** Returns the value of an `Authorization: Hawk ...` header for one request. */
export function createHawkHeader(
  method: string,
  url: URL,
  credentials: HawkCredentials,
  now: number = Date.now(),
): string {
  const artifacts: HawkArtifacts = {
    ts: Math.floor(now / 1000),
    nonce: randomBytes(6).toString("base64url"),
  };
  const mac = calculateMac("header", credentials.key, hawkRequestOf(method, url), artifacts);
  return `Hawk id="${credentials.id}", ts="${artifacts.ts}", nonce="${artifacts.nonce}", mac="${mac}"`;
}

/** Returns `url` with a `bewit` query parameter that authorizes GET until `ttlSeconds` from now. */
export function createBewitUrl(url: URL, credentials: HawkCredentials, ttlSeconds: number, now = Date.now()): URL {
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  const mac = calculateMac("bewit", credentials.key, hawkRequestOf("GET", url), { ts: expiry, nonce: "" });
  const bewit = Buffer.from(`${credentials.id}\\${expiry}\\${mac}\\`).toString("base64url");

  const signed = new URL(url);
  signed.searchParams.append("bewit", bewit);
  return signed;
}

/** Attributes of a parsed `Authorization: Hawk` header. */
export interface HawkHeaderAttributes extends HawkArtifacts {
  id: string;
  mac: string;
}

const headerAttributeNames = new Set(["id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"]);

/** Parses a Hawk header; returns undefined when it is malformed. */
export function parseHawkHeader(header: string): HawkHeaderAttributes | undefined {
  const match = /^hawk\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;

  const attributes: Record<string, string> = {};
  const pattern = /(\w+)="([^"\\]*)"\s*(?:,\s*|$)/g;
  let consumed = 0;
  for (const part of match[1].matchAll(pattern)) {
    const [whole, name, value] = part;
    if (part.index !== consumed || !name || value === undefined) return undefined;
    if (!headerAttributeNames.has(name) || name in attributes) return undefined;
    attributes[name] = value;
    consumed += whole.length;
  }
  if (consumed !== match[1].length) return undefined;

  const { id, ts, nonce, mac } = attributes;
  if (!id || !ts || !nonce || !mac || !/^\d+$/.test(ts)) return undefined;
  return { id, ts: Number(ts), nonce, mac, hash: attributes.hash, ext: attributes.ext };
}

/** A bewit taken off a URL, and the URL's resource without it. */
export interface ParsedBewit {
  id: string;
  expiry: number;
  mac: string;
  ext: string;
  /** The resource with the bewit parameter removed, as the MAC was computed over it. */
  resource: string;
}

/**
 * Parses the `bewit` query parameter of a request; returns undefined when absent or malformed.
 * `resource` is the raw path and query as received: the parameter is cut out of the string rather
 * than re-serialized, because the client computed its MAC over the original bytes.
 */
export function parseBewit(resource: string): ParsedBewit | undefined {
  const match = /^(.*?)([?&])bewit=([^&]*)(?:&(.*))?$/.exec(resource);
  if (!match?.[3]) return undefined;
  const [, path, separator, encoded, rest] = match as unknown as [string, string, string, string, string?];
  if (rest !== undefined && /(^|&)bewit=/.test(rest)) return undefined;

  const fields = Buffer.from(encoded, "base64url").toString("utf8").split("\\");
  if (fields.length !== 4) return undefined;
  const [id, expiry, mac, ext] = fields as [string, string, string, string];
  if (!id || !/^\d+$/.test(expiry) || !mac) return undefined;

  const remaining = rest ? `${path}${separator}${rest}` : path;
  return { id, expiry: Number(expiry), mac, ext, resource: remaining };
}

/** Compares two base64 MACs in constant time. */
export function macEquals(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}
