/** Reading a SigV4 presigned URL's validity from its `X-Amz-Date` and `X-Amz-Expires` parameters. */

/** Returns the expiry in epoch milliseconds, or undefined when the URL does not say. */
export function presignedUrlExpiresAt(url: string): number | undefined {
  const query = new URL(url).searchParams;
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get("X-Amz-Date") ?? "");
  const expires = query.get("X-Amz-Expires");
  if (!date || !expires || !/^\d+$/.test(expires)) return undefined;

  const [, year, month, day, hour, minute, second] = date.map(Number) as number[];
  return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) + Number(expires) * 1000;
}

/** Returns the URL without its query, which carries the signature, for logs and messages. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
