/**
 * completeArtifact: completes a multipart upload, checks the stored object against the record,
 * then marks the artifact present and appends artifact-created in one transaction, so the event
 * is written exactly once. Any mismatch is 400 and the artifact stays not present.
 */
import { S3Error } from "../../signer/s3-client.ts";
import type { ObjectInfo } from "../../signer/types.ts";
import { requireScope } from "../auth/authenticate.ts";
import type { ApiRequest, QueueContext } from "../context.ts";
import type { ArtifactRecord } from "../db/artifacts.ts";
import { ApiError, inputError, notFound } from "../http/api-error.ts";
import { readJson } from "../http/body.ts";
import { compile, completeArtifactSchema, validated } from "../http/schemas.ts";
import { objectMismatches, transferHashMismatch } from "./check-object.ts";
import { artifactIdOf, lockKeyOf } from "./ids.ts";
import type { ArtifactId } from "./record.ts";
import { artifactCreatedEvent } from "./event.ts";
import { storageFailure } from "./storage-errors.ts";

const validateComplete = compile<{ etags: string[] }>(completeArtifactSchema);

/** S3 error codes of CompleteMultipartUpload that mean the client sent wrong ETags or parts. */
const clientPartErrors = new Set(["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML", "InvalidArgument"]);

export async function completeArtifact(context: QueueContext, api: ApiRequest): Promise<Response> {
  const id = artifactIdOf(api);
  const { etags } = validated(validateComplete, await readJson(api.request));
  requireScope(api.caller, `queue:create-artifact:${id.taskId}/${id.runId}`);

  await context.artifactLocks.run(lockKeyOf(id), () => complete(context, id, etags));
  return new Response(null, { status: 204 });
}

async function complete(context: QueueContext, id: ArtifactId, etags: string[]): Promise<void> {
  const record = context.artifacts.get(id.taskId, id.runId, id.name);
  if (!record) throw notFound(`artifact ${JSON.stringify(id.name)} of task ${id.taskId} run ${id.runId} was never created; call createArtifact first`);
  if (record.present) return;

  if (record.parts) await completeMultipartUpload(context, record, etags);
  else if (etags.length > 1) throw inputError(`a single-part artifact completes with at most 1 ETag, got ${etags.length}`);

  await checkStoredObject(context, record, etags);
  publishCreated(context, record);
}

async function completeMultipartUpload(context: QueueContext, record: ArtifactRecord, etags: string[]): Promise<void> {
  if (etags.length !== record.parts!.length) {
    throw inputError(`expected ${record.parts!.length} ETags, one per part in order, got ${etags.length}`);
  }
  if (!record.uploadId) {
    throw inputError(`the multipart upload of ${JSON.stringify(record.name)} was aborted; call createArtifact again and upload every part`);
  }

  try {
    await context.s3.completeMultipartUpload(record.objectKey, record.uploadId, etags);
  } catch (error) {
    // NoSuchUpload after a completion that succeeded but whose response was lost: the object
    // check below decides, so a retried completion succeeds when the object is right.
    if (error instanceof S3Error && error.code === "NoSuchUpload") return;
    if (error instanceof S3Error && clientPartErrors.has(error.code)) {
      throw inputError(`storage rejected the parts: ${error.code}: ${error.message}; upload every part again and send the ETags in part order`);
    }
    throw storageFailure("CompleteMultipartUpload", record.objectKey, error);
  }
}

/** HEADs the object (and reads a multipart object once); on any mismatch deletes it and throws 400. */
async function checkStoredObject(context: QueueContext, record: ArtifactRecord, etags: string[]): Promise<void> {
  const stored = await readStoredObject(context, record);
  if (!stored) {
    if (record.parts) context.artifacts.setUploadId(record, undefined);
    throw inputError(`no object is stored for ${JSON.stringify(record.name)}; send the requests from createArtifact before completing`);
  }

  const mismatches = objectMismatches(record, stored.info, etags);
  if (mismatches.length === 0) {
    const hashMismatch = await transferHashMismatch(context, record, stored.sha256);
    if (hashMismatch) mismatches.push(hashMismatch);
  }
  if (mismatches.length > 0) await rejectObject(context, record, mismatches);
}

/**
 * Marks a multipart artifact present when its object is stored and matches the record. A process
 * that stopped after CompleteMultipartUpload and before marking the artifact leaves the object in
 * place and the upload gone, so its parts can no longer be sent. Returns false, changing nothing,
 * when there is no such object.
 */
export async function publishIfStored(context: QueueContext, record: ArtifactRecord): Promise<boolean> {
  const stored = await readStoredObject(context, record);
  if (!stored || objectMismatches(record, stored.info, []).length > 0) return false;
  if (await transferHashMismatch(context, record, stored.sha256)) return false;

  // Once the artifact no longer names the upload, the sweeper aborts what is left of it.
  context.artifacts.setUploadId(record, undefined);
  publishCreated(context, record);
  return true;
}

/** Returns the object's HEAD values, and the built-in store's SHA-256 of it; undefined when there is no object. */
async function readStoredObject(context: QueueContext, record: ArtifactRecord): Promise<{ info: ObjectInfo; sha256?: string } | undefined> {
  try {
    // The built-in store's record is what its HEAD would return, without signing and checking a request.
    if (context.storedObjects) return await context.storedObjects.read(record.objectKey);
    const info = await context.s3.headObject(record.objectKey);
    return info ? { info } : undefined;
  } catch (error) {
    throw storageFailure("HeadObject", record.objectKey, error);
  }
}

/** Deletes an object that does not match the record, so a new upload starts clean, and throws 400. */
async function rejectObject(context: QueueContext, record: ArtifactRecord, mismatches: string[]): Promise<never> {
  context.logger.log("artifact-rejected", { taskId: record.taskId, runId: record.runId, name: record.name, mismatches: mismatches.join("; ") });
  try {
    await context.s3.deleteObject(record.objectKey);
  } catch (error) {
    throw storageFailure("DeleteObject", record.objectKey, error);
  }
  if (record.parts) context.artifacts.setUploadId(record, undefined);

  throw new ApiError(
    "InputError",
    `stored object of ${JSON.stringify(record.name)} does not match the record: ${mismatches.join("; ")}; the object was deleted, call createArtifact again and re-upload`,
  );
}

/** Marks the artifact present and appends artifact-created in one transaction; nothing if it was already present. */
function publishCreated(context: QueueContext, record: ArtifactRecord): void {
  const published = context.db
    .transaction(() => {
      if (!context.artifacts.markPresent(record)) return false;
      const run = context.tasks.run(record.taskId, record.runId);
      context.events.append("artifact-created", artifactCreatedEvent(record, run), context.now());
      return true;
    })
    .immediate();

  if (published) context.notifier.notify();
}
