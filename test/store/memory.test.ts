/**
 * Peak memory of the store process while it receives and serves an object larger than any
 * buffer it may hold. scripts/bench-store-rss.ts runs the same check at 2 GiB.
 */
import { expect, test } from "bun:test";
import { measureStoreRss } from "../../scripts/bench-store-rss.ts";

/** The bound the store keeps for objects of any size, well below the 256 MiB sent here. */
const maxRssMiB = 150;

test("256 MiB multipart and Range reads stay under 150 MiB RSS", async () => {
  const result = await measureStoreRss(256, 32);
  expect(result.parts).toBe(8);
  expect(result.byteExact).toBe(true);
  expect(result.peakRssMiB).toBeLessThan(maxRssMiB);
}, 300_000);
