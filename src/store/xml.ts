/**
 * The small amount of XML the S3 API needs: escaping for the documents the store writes, and a
 * parser for the one document clients send, the CompleteMultipartUpload part list.
 */
import { badRequest } from "./s3-error.ts";

export const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Renders `<name>value</name>` for each defined value, escaping the text. */
export function elements(fields: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`)
    .join("");
}

export function xmlDocument(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${s3Namespace}">${inner}</${root}>`;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Parses `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...`; throws MalformedXML. */
export function parseCompleteMultipartUpload(text: string): CompletedPart[] {
  if (!/<CompleteMultipartUpload[\s>]/.test(text)) {
    throw badRequest("MalformedXML", "the body is not a CompleteMultipartUpload document");
  }

  const parts: CompletedPart[] = [];
  for (const match of text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const partNumber = textOf(match[1]!, "PartNumber");
    const etag = textOf(match[1]!, "ETag");
    if (partNumber === undefined || etag === undefined || !/^\d{1,5}$/.test(partNumber.trim())) {
      throw badRequest("MalformedXML", "each Part needs a numeric PartNumber and an ETag");
    }
    parts.push({ partNumber: Number(partNumber.trim()), etag: normalizeEtag(unescapeXml(etag)) });
  }
  if (parts.length === 0) throw badRequest("MalformedXML", "the part list of CompleteMultipartUpload is empty");
  return parts;
}

function textOf(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
}

const namedEntities: Record<string, string> = { quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" };

/**
 * Decodes the five named entities and numeric character references in one pass. Go's
 * encoding/xml, which rclone uses, writes the quotes of an ETag as `&#34;`.
 */
export function unescapeXml(value: string): string {
  return value.replace(/&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(quot|apos|lt|gt|amp));/g, (whole, decimal, hex, name) => {
    if (name) return namedEntities[name]!;
    const codePoint = decimal ? Number(decimal) : parseInt(hex, 16);
    return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : whole;
  });
}

/** ETags are compared without their quotes, because clients send them both ways. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^"|"$/g, "");
}
