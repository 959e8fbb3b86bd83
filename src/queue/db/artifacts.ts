/**
 * Rows of the `artifacts` table: the values recorded at createArtifact (the four expected
 * values, encoding, content type, expiry, parts and multipart upload id) and the present flag.
 */
import type { Database } from "bun:sqlite";
import type { PartHash } from "../../signer/types.ts";

export interface ArtifactRecord {
  taskId: string;
  runId: number;
  name: string;
  objectKey: string;
  expiresMs: number;
  contentType: string;
  contentEncoding: "identity" | "gzip";
  contentSha256: string;
  contentLength: number;
  transferSha256: string;
  transferLength: number;
  /** Set for multipart artifacts, over the transfer bytes. */
  parts: PartHash[] | undefined;
  /** The multipart upload in progress; cleared once the artifact is present. */
  uploadId: string | undefined;
  present: boolean;
  /** When the artifact was created, or its multipart upload last restarted; the sweeper's stale age counts from it. */
  createdMs: number;
}

interface ArtifactRow extends Omit<ArtifactRecord, "parts" | "uploadId" | "present"> {
  parts: string | null;
  uploadId: string | null;
  present: number;
}

const columns = `task_id AS taskId, run_id AS runId, name, object_key AS objectKey, expires_ms AS expiresMs,
  content_type AS contentType, content_encoding AS contentEncoding, content_sha256 AS contentSha256,
  content_length AS contentLength, transfer_sha256 AS transferSha256, transfer_length AS transferLength,
  parts, upload_id AS uploadId, present, created_ms AS createdMs`;

export class ArtifactTable {
  private readonly selectOne;
  private readonly selectPage;
  private readonly selectMissing;
  private readonly insertOne;
  private readonly markPresentStatement;
  private readonly clearUploadStatement;
  private readonly restartUploadStatement;
  private readonly deleteOne;
  private readonly selectExpired;
  private readonly selectStale;

  constructor(db: Database) {
    this.selectOne = db.query<ArtifactRow, [string, number, string]>(
      `SELECT ${columns} FROM artifacts WHERE task_id = ? AND run_id = ? AND name = ?`,
    );
    this.selectPage = db.query<ArtifactRow, [string, number, string, number]>(
      `SELECT ${columns} FROM artifacts WHERE task_id = ? AND run_id = ? AND present = 1 AND name > ?
       ORDER BY name LIMIT ?`,
    );
    this.selectMissing = db.query<{ name: string }, [string, number]>(
      `SELECT name FROM artifacts WHERE task_id = ? AND run_id = ? AND present = 0 ORDER BY name`,
    );
    this.insertOne = db.query(
      `INSERT INTO artifacts (task_id, run_id, name, object_key, expires_ms, content_type, content_encoding,
         content_sha256, content_length, transfer_sha256, transfer_length, parts, upload_id, present, created_ms)
       VALUES ($taskId, $runId, $name, $objectKey, $expiresMs, $contentType, $contentEncoding, $contentSha256,
         $contentLength, $transferSha256, $transferLength, $parts, $uploadId, 0, $createdMs)
       ON CONFLICT DO NOTHING`,
    );
    this.markPresentStatement = db.query(
      `UPDATE artifacts SET present = 1, upload_id = NULL WHERE task_id = ? AND run_id = ? AND name = ? AND present = 0`,
    );
    this.clearUploadStatement = db.query(
      `UPDATE artifacts SET upload_id = ? WHERE task_id = ? AND run_id = ? AND name = ? AND present = 0`,
    );
    this.restartUploadStatement = db.query(
      `UPDATE artifacts SET upload_id = ?, created_ms = ? WHERE task_id = ? AND run_id = ? AND name = ? AND present = 0`,
    );
    this.deleteOne = db.query(`DELETE FROM artifacts WHERE task_id = ? AND run_id = ? AND name = ?`);
    this.selectExpired = db.query<ArtifactRow, [number, number]>(
      `SELECT ${columns} FROM artifacts WHERE expires_ms <= ? ORDER BY expires_ms LIMIT ?`,
    );
    this.selectStale = db.query<ArtifactRow, [number, number]>(
      `SELECT ${columns} FROM artifacts WHERE present = 0 AND upload_id IS NOT NULL AND created_ms <= ?
       ORDER BY created_ms LIMIT ?`,
    );
  }

  get(taskId: string, runId: number, name: string): ArtifactRecord | undefined {
    const row = this.selectOne.get(taskId, runId, name);
    return row ? recordOf(row) : undefined;
  }

  /** Inserts `record` unless the artifact exists; returns false when another request inserted it first. */
  insert(record: ArtifactRecord): boolean {
    const result = this.insertOne.run({
      ...record,
      parts: record.parts ? JSON.stringify(record.parts) : null,
      uploadId: record.uploadId ?? null,
    });
    return result.changes === 1;
  }

  /** Sets `present`; returns false when it was already set, so the caller publishes nothing. */
  markPresent(record: ArtifactRecord): boolean {
    return this.markPresentStatement.run(record.taskId, record.runId, record.name).changes === 1;
  }

  /** Replaces the multipart upload id of an artifact that is not present (undefined clears it). */
  setUploadId(record: ArtifactRecord, uploadId: string | undefined): void {
    this.clearUploadStatement.run(uploadId ?? null, record.taskId, record.runId, record.name);
  }

  /** Records a new multipart upload of an artifact whose earlier one was aborted; its stale age starts at `nowMs`. */
  restartUpload(record: ArtifactRecord, uploadId: string, nowMs: number): void {
    this.restartUploadStatement.run(uploadId, nowMs, record.taskId, record.runId, record.name);
  }

  delete(record: ArtifactRecord): void {
    this.deleteOne.run(record.taskId, record.runId, record.name);
  }

  /** Returns up to `limit` present artifacts of a run whose names sort after `after`. */
  page(taskId: string, runId: number, after: string, limit: number): ArtifactRecord[] {
    return this.selectPage.all(taskId, runId, after, limit).map(recordOf);
  }

  /** Returns the names of the run's artifacts that were created but are not present. */
  missing(taskId: string, runId: number): string[] {
    return this.selectMissing.all(taskId, runId).map((row) => row.name);
  }

  expired(nowMs: number, limit: number): ArtifactRecord[] {
    return this.selectExpired.all(nowMs, limit).map(recordOf);
  }

  /** Returns artifacts whose multipart upload was initiated at or before `createdBeforeMs` and never completed. */
  staleUploads(createdBeforeMs: number, limit: number): ArtifactRecord[] {
    return this.selectStale.all(createdBeforeMs, limit).map(recordOf);
  }
}

function recordOf(row: ArtifactRow): ArtifactRecord {
  return {
    ...row,
    parts: row.parts === null ? undefined : (JSON.parse(row.parts) as PartHash[]),
    uploadId: row.uploadId ?? undefined,
    present: row.present === 1,
  };
}
