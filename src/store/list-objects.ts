/** ListObjectsV2 and ListObjects (v1), with prefix, delimiter, max-keys and paging. */
import type { S3Request, StoreState } from "./context.ts";
import { receiveSmallBody } from "./body.ts";
import { requireBucket, xmlResponse } from "./buckets.ts";
import type { ObjectRecord } from "./object-file.ts";
import { badRequest } from "./s3-error.ts";
import { listRecords } from "./stored-objects.ts";
import { elements, escapeXml, xmlDocument } from "./xml.ts";

const maxKeysLimit = 1000;

interface ListPage {
  contents: ObjectRecord[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Last key or common prefix of the page; the next page starts after it. */
  lastName: string | undefined;
}

export async function listObjects(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);

  const query = s3.url.searchParams;
  const version2 = query.get("list-type") === "2";
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxKeys = parseMaxKeys(query.get("max-keys"));
  const token = query.get("continuation-token");
  const startAfter = startAfterOf(query, version2);

  const records = await readAllRecords(state, s3.bucket);
  const page = pageOf(records, prefix, delimiter, startAfter, maxKeys);
  const fields = { Name: s3.bucket, Prefix: prefix, Delimiter: delimiter || undefined, MaxKeys: maxKeys, IsTruncated: page.truncated };
  const paging = version2
    ? elements({
        KeyCount: page.contents.length + page.commonPrefixes.length,
        ContinuationToken: token ?? undefined,
        NextContinuationToken: page.truncated && page.lastName ? Buffer.from(page.lastName).toString("base64url") : undefined,
        StartAfter: query.get("start-after") ?? undefined,
      })
    : elements({ Marker: startAfter, NextMarker: page.truncated && delimiter ? page.lastName : undefined });

  return xmlResponse(xmlDocument("ListBucketResult", elements(fields) + paging + contentsXml(page)));
}

function parseMaxKeys(value: string | null): number {
  if (value === null) return maxKeysLimit;
  if (!/^\d+$/.test(value)) throw badRequest("InvalidArgument", `max-keys must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Math.min(Number(value), maxKeysLimit);
}

/** The key the listing starts after: the continuation token or start-after (v2), or the marker (v1). */
function startAfterOf(query: URLSearchParams, version2: boolean): string {
  if (!version2) return query.get("marker") ?? "";
  const token = query.get("continuation-token");
  if (token !== null) return Buffer.from(token, "base64url").toString("utf8");
  return query.get("start-after") ?? "";
}

function compareKeys(a: ObjectRecord, b: ObjectRecord): number {
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

/** NOTE: reads every object record of the bucket per request; fine for the embedded store's sizes. */
async function readAllRecords(state: StoreState, bucket: string): Promise<ObjectRecord[]> {
  return (await listRecords(state, bucket)).sort(compareKeys);
}

function pageOf(records: ObjectRecord[], prefix: string, delimiter: string, startAfter: string, maxKeys: number): ListPage {
  const page: ListPage = { contents: [], commonPrefixes: [], truncated: false, lastName: undefined };
  for (const record of records) {
    if (!record.key.startsWith(prefix) || record.key <= startAfter) continue;

    const cut = delimiter ? record.key.indexOf(delimiter, prefix.length) : -1;
    const commonPrefix = cut === -1 ? undefined : record.key.slice(0, cut + delimiter.length);
    if (commonPrefix !== undefined && (commonPrefix === page.lastName || commonPrefix === startAfter)) continue;

    if (page.contents.length + page.commonPrefixes.length >= maxKeys) {
      page.truncated = true;
      break;
    }
    if (commonPrefix !== undefined) page.commonPrefixes.push(commonPrefix);
    else page.contents.push(record);
    page.lastName = commonPrefix ?? record.key;
  }
  return page;
}

function contentsXml(page: ListPage): string {
  const contents = page.contents.map(
    (record) =>
      `<Contents>${elements({
        Key: record.key,
        LastModified: record.lastModified,
        ETag: record.etag,
        Size: record.size,
        StorageClass: "STANDARD",
      })}</Contents>`,
  );
  const prefixes = page.commonPrefixes.map((prefix) => `<CommonPrefixes><Prefix>${escapeXml(prefix)}</Prefix></CommonPrefixes>`);
  return contents.join("") + prefixes.join("");
}
