/**
 * Aborts orphan multipart uploads: uploads in progress under the queue's key prefix that no
 * artifact row names. They appear when `artifact serve` stops after storage created an upload and
 * before the queue recorded its upload ID. The queue owns every key under its prefix, so an upload
 * there that no row names and that is older than the stale-upload age has no user and is aborted.
 */
import type { ListedUpload, ListMultipartUploadsResult } from "../signer/xml.ts";
import type { QueueContext } from "./context.ts";
import { lockKeyOf } from "./artifacts/ids.ts";
import type { ArtifactId } from "./artifacts/record.ts";

/** Work one pass may do, so that a bucket with many uploads never stalls the sweeper. */
export interface OrphanSweepLimits {
  /** Uploads requested per ListMultipartUploads page (S3 returns at most 1,000). */
  pageSize: number;
  /** ListMultipartUploads requests per pass; the next pass continues where this one stopped. */
  maxPages: number;
  /** Abort attempts per pass. */
  maxAborts: number;
}

export const defaultOrphanSweepLimits: OrphanSweepLimits = { pageSize: 1000, maxPages: 10, maxAborts: 100 };

export interface OrphanSweepResult {
  aborted: number;
  failed: number;
}

interface ListingCursor {
  keyMarker: string;
  uploadIdMarker: string;
}

export class OrphanUploadSweep {
  /** Position after which the next pass continues the listing; undefined means the first upload. */
  private cursor: ListingCursor | undefined;

  constructor(
    private readonly context: QueueContext,
    private readonly limits: OrphanSweepLimits = defaultOrphanSweepLimits,
  ) {}

  /** Aborts the orphan uploads initiated at or before `staleBeforeMs`, within the pass's limits. */
  async run(staleBeforeMs: number): Promise<OrphanSweepResult> {
    const result: OrphanSweepResult = { aborted: 0, failed: 0 };

    for (let page = 0; page < this.limits.maxPages; page++) {
      const listed = await this.listPage();
      if (!listed) {
        result.failed++;
        return result;
      }

      for (const upload of listed.uploads) {
        if (upload.initiated.getTime() <= staleBeforeMs) {
          if (result.aborted + result.failed >= this.limits.maxAborts) return result;
          const outcome = await this.abortUnlessNamed(upload);
          if (outcome === "aborted") result.aborted++;
          if (outcome === "failed") result.failed++;
        }
        this.cursor = { keyMarker: upload.key, uploadIdMarker: upload.uploadId };
      }

      if (!listed.isTruncated) {
        this.cursor = undefined;
        return result;
      }
      if (listed.nextKeyMarker !== undefined && listed.nextUploadIdMarker !== undefined) {
        this.cursor = { keyMarker: listed.nextKeyMarker, uploadIdMarker: listed.nextUploadIdMarker };
      }
    }
    return result;
  }

  private async listPage(): Promise<ListMultipartUploadsResult | undefined> {
    try {
      return await this.context.s3.listMultipartUploads({
        prefix: this.context.signer.config.keyPrefix,
        keyMarker: this.cursor?.keyMarker,
        uploadIdMarker: this.cursor?.uploadIdMarker,
        maxUploads: this.limits.pageSize,
      });
    } catch (error) {
      this.context.logger.log("sweep-failed", { action: "list-multipart-uploads", error: messageOf(error) });
      return undefined;
    }
  }

  /**
   * Aborts `upload` unless an artifact row names it. The check and the abort run under the
   * artifact's lock, which createArtifact holds from CreateMultipartUpload until its row is
   * written, so an upload that this process is about to record is never aborted. A key that is
   * not an artifact key belongs to another program sharing the bucket, so it is left alone.
   */
  private async abortUnlessNamed(upload: ListedUpload): Promise<"aborted" | "named" | "failed"> {
    const id = artifactIdOfKey(upload.key, this.context.signer.config.keyPrefix);
    if (!id) return "named";

    return this.context.artifactLocks.run(lockKeyOf(id), async () => {
      if (this.context.artifacts.get(id.taskId, id.runId, id.name)?.uploadId === upload.uploadId) return "named";
      return this.abort(upload);
    });
  }

  /** Aborts the upload; one that is already gone (404 NoSuchUpload) counts as aborted. */
  private async abort(upload: ListedUpload): Promise<"aborted" | "failed"> {
    const fields = { key: upload.key, uploadId: upload.uploadId, initiated: upload.initiated.toISOString() };
    try {
      await this.context.s3.abortMultipartUpload(upload.key, upload.uploadId);
    } catch (error) {
      this.context.logger.log("sweep-failed", { action: "abort-orphan-upload", ...fields, error: messageOf(error) });
      return "failed";
    }
    this.context.logger.log("abort-orphan-upload", fields);
    return "aborted";
  }
}

/**
 * Returns the artifact whose object key is `key` (`<keyPrefix><taskId>/<runId>/<name>`), or
 * undefined when the key has another form, so that no row can name its upload.
 */
export function artifactIdOfKey(key: string, keyPrefix: string): ArtifactId | undefined {
  if (!key.startsWith(keyPrefix)) return undefined;

  const match = /^([A-Za-z0-9_-]{22})\/(\d{1,3})\/([\s\S]+)$/.exec(key.slice(keyPrefix.length));
  if (!match) return undefined;
  return { taskId: match[1]!, runId: Number(match[2]), name: match[3]! };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
