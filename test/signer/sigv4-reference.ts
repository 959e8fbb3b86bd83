/**
 * A second, independent SigV4 computation for the tests: string to sign and signature from a
 * canonical request, with node:crypto. It is checked against AWS's published vectors, then used to
 * check the canonical request the signer must have built for each request kind.
 */
import { createHash, createHmac } from "node:crypto";

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

export function stringToSign(canonicalRequest: string, amzDate: string, region: string, service: string): string {
  const scope = `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`;
  return ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
}

export function signatureOf(canonicalRequest: string, amzDate: string, region: string, service: string, secretAccessKey: string): string {
  const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
  const dateKey = hmac(`AWS4${secretAccessKey}`, amzDate.slice(0, 8));
  const signingKey = hmac(hmac(hmac(dateKey, region), service), "aws4_request");
  return createHmac("sha256", signingKey).update(stringToSign(canonicalRequest, amzDate, region, service), "utf8").digest("hex");
}

/** Returns the Signature and SignedHeaders fields of an Authorization header. */
export function parseAuthorization(authorization: string | undefined): { signedHeaders: string; signature: string } {
  const match = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization ?? "");
  if (!match) throw new Error(`not a SigV4 Authorization header: ${authorization}`);
  return { signedHeaders: match[1]!, signature: match[2]! };
}
