/**
 * Removes what the upload tests stored in Ceph RGW. Its OSD keeps objects in 4 GiB of memory
 * shared by every suite, so each large object goes as soon as its test has read it back.
 */
import { adminRequest, type S3Target } from "../../support/rgw.ts";
import { encodeKeyPath } from "../../../src/signer/key.ts";

export async function deleteObject(target: S3Target, bucket: string, key: string): Promise<void> {
  const response = await adminRequest(target, "DELETE", `/${bucket}/${encodeKeyPath(key)}`);
  await response.arrayBuffer();
  if (response.status !== 204 && response.status !== 404) throw new Error(`deleting ${bucket}/${key} failed: ${response.status}`);
}

/** Aborts the bucket's multipart uploads, deletes its objects, then the bucket itself. */
export async function removeBucket(target: S3Target, bucket: string): Promise<void> {
  const uploads = await (await adminRequest(target, "GET", `/${bucket}?uploads`)).text();
  for (const [, key, uploadId] of uploads.matchAll(/<Upload>[\s\S]*?<Key>([^<]*)<\/Key>[\s\S]*?<UploadId>([^<]*)<\/UploadId>/g)) {
    await (await adminRequest(target, "DELETE", `/${bucket}/${encodeKeyPath(unescapeXml(key!))}?uploadId=${encodeURIComponent(unescapeXml(uploadId!))}`)).arrayBuffer();
  }

  for (;;) {
    const listing = await (await adminRequest(target, "GET", `/${bucket}?list-type=2`)).text();
    const keys = [...listing.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1]!));
    if (keys.length === 0) break;
    for (const key of keys) await deleteObject(target, bucket, key);
  }
  await (await adminRequest(target, "DELETE", `/${bucket}`)).arrayBuffer();
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}
