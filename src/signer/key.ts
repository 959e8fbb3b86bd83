/**
 * Object keys and their URL paths. S3 canonicalises a path by percent-encoding each segment per
 * RFC 3986 (everything but A-Z a-z 0-9 - . _ ~) and keeping `/`. The path sent is that same
 * encoding, so the signed path and the path on the wire never differ, and nothing is encoded twice.
 */
import { UsageError } from "../shared/errors.ts";
import { checkKeyLength } from "./limits.ts";

/** Percent-encodes `value` per RFC 3986, `/` included. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Returns the URL path of `key` below the bucket, without the leading `/`.
 * Rejects keys that a URL parser would rewrite: `.` and `..` segments (also when percent-encoded,
 * WHATWG URLs resolve them) and unpaired surrogates, which have no UTF-8 form.
 */
export function encodeKeyPath(key: string): string {
  checkKey(key);
  return key.split("/").map(encodeRfc3986).join("/");
}

function checkKey(key: string): void {
  if (key.length === 0) throw new UsageError("the object key is empty");
  checkKeyLength(key);

  if (!key.isWellFormed()) {
    throw new UsageError(`object key ${JSON.stringify(key)} contains an unpaired UTF-16 surrogate`, {
      hint: "use valid Unicode in artifact names",
    });
  }
  for (const segment of key.split("/")) {
    if (segment === "." || segment === "..") {
      throw new UsageError(`object key ${JSON.stringify(key)} has a "${segment}" segment, which URLs resolve away`, {
        hint: "remove . and .. segments from the artifact name",
      });
    }
  }
}
