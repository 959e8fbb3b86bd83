/**
 * Slugids: 22-character URL-safe base64 encodings of random (v4) UUIDs, the form of Taskcluster
 * task ids. "Nice" slugids clear the first bit, so they never start with `-` and can be passed
 * on a command line without being taken for an option.
 */
import { randomBytes } from "node:crypto";

const slugidPattern = /^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/;

/** Returns a new slugid whose first character is never `-` or `_`. */
export function niceSlugid(): string {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("base64url");
}

/** Returns true when `value` is a slugid of a v4 UUID. */
export function isSlugid(value: string): boolean {
  return slugidPattern.test(value);
}
