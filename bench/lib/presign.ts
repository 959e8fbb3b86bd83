/** Presigned URLs for the floor measurements: a raw curl needs no SDK, only the URL. */
import aws4 from "aws4";
import type { S3Endpoint } from "./targets.ts";

/** Returns a SigV4 query-signed URL (UNSIGNED-PAYLOAD) for one object, valid for one hour. */
export function presignedUrl(s3: S3Endpoint, method: "GET" | "PUT", key: string): string {
  const endpoint = new URL(s3.endpoint);
  const path = `/${s3.bucket}/${key.split("/").map(encodeURIComponent).join("/")}?X-Amz-Expires=3600`;
  const signed = aws4.sign(
    { host: endpoint.host, method, path, service: "s3", region: s3.region, signQuery: true },
    { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  );
  return `${endpoint.protocol}//${endpoint.host}${signed.path}`;
}
