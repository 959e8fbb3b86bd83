import { describe, expect, test } from "bun:test";
import { parseCompleteMultipartUpload, unescapeXml } from "../../src/store/xml.ts";

describe("store XML", () => {
  test("numeric character references decode", () => {
    expect(unescapeXml("&#34;abc&#34; &#x26; &#60;")).toBe('"abc" & <');
  });

  test("named entities decode once", () => {
    expect(unescapeXml("&quot;&amp;lt;&apos;")).toBe(`"&lt;'`);
  });

  test("out-of-range reference stays as written", () => {
    expect(unescapeXml("&#1114112;")).toBe("&#1114112;");
  });

  test("part list with Go's escaped quotes parses", () => {
    const xml = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;0d3f&#34;</ETag></Part></CompleteMultipartUpload>";

    expect(parseCompleteMultipartUpload(xml)).toEqual([{ partNumber: 1, etag: "0d3f" }]);
  });
});
