/**
 * The expiry sweeper: deletes expired artifacts (object first, then row, so a failure leaves a
 * row that the next sweep retries) and aborts multipart uploads initiated longer ago than the
 * configured age and never completed. An aborted artifact stays recorded and not present, so the
 * completion gate still names it, and createArtifact with the same body starts a new upload.
 * Uploads that no row names, left by a crash, are found by listing the storage's uploads.
 */
import { UsageError } from "../shared/errors.ts";
import type { QueueContext } from "./context.ts";
import type { ArtifactRecord } from "./db/artifacts.ts";
import { defaultOrphanSweepLimits, OrphanUploadSweep, type OrphanSweepLimits } from "./orphan-uploads.ts";

const batchSize = 100;

export interface SweepResult {
  expired: number;
  aborted: number;
  /** Uploads in storage that no artifact row named. */
  orphansAborted: number;
  failed: number;
}

export class Sweeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<SweepResult> | undefined;
  private readonly orphanUploads: OrphanUploadSweep;

  constructor(
    private readonly context: QueueContext,
    private readonly intervalMs: number,
    orphanLimits: OrphanSweepLimits = defaultOrphanSweepLimits,
  ) {
    this.orphanUploads = new OrphanUploadSweep(context, orphanLimits);
  }

  start(): void {
    this.timer = setInterval(() => void this.sweepOnce(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs one sweep; overlapping calls share the sweep in progress. */
  sweepOnce(): Promise<SweepResult> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<SweepResult> {
    const result: SweepResult = { expired: 0, aborted: 0, orphansAborted: 0, failed: 0 };
    const now = this.context.now();

    for (const record of this.context.artifacts.expired(now, batchSize)) {
      if (await this.attempt("delete-expired", record, () => this.deleteExpired(record))) result.expired++;
      else result.failed++;
    }
    const staleBefore = now - this.context.settings.staleUploadAgeMs;
    for (const record of this.context.artifacts.staleUploads(staleBefore, batchSize)) {
      if (await this.attempt("abort-stale-upload", record, () => this.abortStale(record))) result.aborted++;
      else result.failed++;
    }
    const orphans = await this.orphanUploads.run(staleBefore);
    result.orphansAborted = orphans.aborted;
    result.failed += orphans.failed;

    if (result.expired + result.aborted + result.orphansAborted + result.failed > 0) this.context.logger.log("sweep", { ...result });
    return result;
  }

  private async deleteExpired(record: ArtifactRecord): Promise<void> {
    if (record.uploadId) await this.context.s3.abortMultipartUpload(record.objectKey, record.uploadId);
    await this.context.s3.deleteObject(record.objectKey);
    this.context.artifacts.delete(record);
  }

  private async abortStale(record: ArtifactRecord): Promise<void> {
    await this.context.s3.abortMultipartUpload(record.objectKey, record.uploadId!);
    this.context.artifacts.setUploadId(record, undefined);
  }

  /** Runs one step; a failure is logged and left for the next sweep. */
  private async attempt(action: string, record: ArtifactRecord, step: () => Promise<void>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (error) {
      this.context.logger.log("sweep-failed", {
        action,
        taskId: record.taskId,
        runId: record.runId,
        name: record.name,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }
}

/**
 * Reads the sweeper's test hook, which is not a public option: ARTIFACT_TEST_SWEEP_INTERVAL_MS
 * sets how often the server sweeps, and ARTIFACT_TEST_STALE_UPLOAD_MS how old a multipart upload
 * must be to count as stale. Crash tests use them to watch a sweep abort an abandoned upload
 * without waiting a minute for the sweep and the hour that --stale-upload-hours allows at least.
 */
export function testSweepOf(env: NodeJS.ProcessEnv): { intervalMs?: number; staleUploadAgeMs?: number } {
  return {
    intervalMs: millisecondsOf(env, "ARTIFACT_TEST_SWEEP_INTERVAL_MS"),
    staleUploadAgeMs: millisecondsOf(env, "ARTIFACT_TEST_STALE_UPLOAD_MS"),
  };
}

function millisecondsOf(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 100) {
    throw new UsageError(`invalid ${name} ${JSON.stringify(text)}`, { hint: "give milliseconds from 100 to 999999999, or unset it" });
  }
  return Number(text);
}
