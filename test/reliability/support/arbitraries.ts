/** fast-check generators of hostile request bodies for the queue API. */
import fc from "fast-check";

const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** A createArtifact body the queue accepts: an empty single-part artifact. */
export function validCreateBody(): Record<string, unknown> {
  return {
    storageType: "blob",
    expires: new Date(Date.now() + 86_400_000).toISOString(),
    contentType: "application/octet-stream",
    contentEncoding: "identity",
    contentSha256: emptySha256,
    contentLength: 0,
  };
}

/** Returns true when `text` is not JSON that JSON.parse accepts. */
function isMalformedJson(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/**
 * Text that is not JSON: well-formed JSON cut short or with a character inserted, random text,
 * and JSON-looking fragments (unquoted keys, trailing commas, single quotes, NaN, comments).
 * Whitespace-only text is left out because the queue reads an empty body as `{}`.
 */
export const malformedJson: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(fc.json(), fc.nat()).map(([json, cut]) => json.slice(0, cut % Math.max(1, json.length))),
    fc.tuple(fc.json(), fc.nat(), fc.constantFrom("{", "}", "[", "]", ",", ":", '"', "\\", "\u0000", "\uffff", "'")).map(
      ([json, at, inserted]) => json.slice(0, at % (json.length + 1)) + inserted + json.slice(at % (json.length + 1)),
    ),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.constantFrom(
      "{storageType: 'blob'}",
      '{"storageType":"blob",}',
      "{'storageType':'blob'}",
      '{"contentLength": NaN}',
      '{"contentLength": Infinity}',
      '{"contentLength": 0x10}',
      '{"a":1} /* comment */',
      '{"a":1}{"b":2}',
      "\ufeff{}",
      '{"a":"\ud800"',
      "[".repeat(10_000),
      '{"a":'.repeat(5_000),
    ),
  )
  .filter((text) => text.trim() !== "" && isMalformedJson(text));

/** Values of a JSON type other than the one a field needs. */
const notAString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.nat(), { maxKeys: 3 }));
const notAnInteger = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(-1, -(2 ** 53), 2 ** 53, 1e308, -0.5, Number.MAX_VALUE),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.nat(), { maxLength: 3 }),
);
const notASha256 = fc.oneof(notAString, fc.string({ maxLength: 70 }).filter((text) => !/^[0-9a-fA-F]{64}$/.test(text)), fc.constant("g".repeat(64)), fc.constant(emptySha256.slice(1)));

/** One field of a valid createArtifact body replaced by a value of a wrong type or range. */
export const wrongTypedCreateBody: fc.Arbitrary<{ field: string; body: Record<string, unknown> }> = fc
  .oneof(
    fc.record({ field: fc.constant("storageType"), value: fc.oneof(notAString, fc.constantFrom("s3", "BLOB", "reference", "")) }),
    fc.record({ field: fc.constant("expires"), value: fc.oneof(notAString, fc.constantFrom("tomorrow", "2026-13-01T00:00:00Z", "2026-02-30T25:61:00Z", "")) }),
    fc.record({ field: fc.constant("contentType"), value: fc.oneof(notAString, fc.constant(""), fc.constant("x".repeat(256))) }),
    fc.record({ field: fc.constant("contentEncoding"), value: fc.oneof(notAString, fc.constantFrom("br", "deflate", "GZIP", "")) }),
    fc.record({ field: fc.constant("contentSha256"), value: notASha256 }),
    fc.record({ field: fc.constant("contentLength"), value: notAnInteger }),
    fc.record({ field: fc.constant("transferLength"), value: notAnInteger }),
    fc.record({ field: fc.constant("parts"), value: fc.oneof(notAString.filter((value) => !Array.isArray(value)), fc.constant([]), fc.array(fc.record({ sha256: notASha256, size: notAnInteger }), { minLength: 1, maxLength: 3 })) }),
    fc.record({ field: fc.constant("unknownField"), value: fc.jsonValue() }),
  )
  .map(({ field, value }) => ({ field, body: { ...validCreateBody(), [field]: value } }));
