/**
 * createArtifact: records the artifact's expected values and returns signed S3 requests for its
 * bytes. Repeating the call with the same body signs afresh for the same upload; a different body
 * is 409; once the artifact is present the same body gets `requests: []`.
 */
import { checkParts } from "../../signer/limits.ts";
import type { ObjectHeaders, RequestDescriptor } from "../../signer/types.ts";
import { requireScope } from "../auth/authenticate.ts";
import type { ApiRequest, QueueContext } from "../context.ts";
import type { ArtifactRecord } from "../db/artifacts.ts";
import { conflict, inputError, notFound } from "../http/api-error.ts";
import { readJson } from "../http/body.ts";
import { compile, createArtifactSchema, validated } from "../http/schemas.ts";
import { publishIfStored } from "./complete.ts";
import { artifactIdOf, lockKeyOf } from "./ids.ts";
import { firstDifference, recordOf, type CreateArtifactBody } from "./record.ts";
import { signOrReject, storageFailure } from "./storage-errors.ts";

const validateCreateArtifact = compile<CreateArtifactBody>(createArtifactSchema);

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export async function createArtifact(context: QueueContext, api: ApiRequest): Promise<Response> {
  const id = artifactIdOf(api);
  const body = validated(validateCreateArtifact, await readJson(api.request));
  requireScope(api.caller, `queue:create-artifact:${id.taskId}/${id.runId}`);

  const objectKey = signOrReject(() => context.signer.objectKey(id.taskId, id.runId, id.name));
  const requested = recordOf(id, body, objectKey, context.now());

  const { record, requests } = await context.artifactLocks.run(lockKeyOf(id), () => createOrResume(context, requested));
  return Response.json({ storageType: "blob", expires: new Date(record.expiresMs).toISOString(), requests });
}

async function createOrResume(
  context: QueueContext,
  requested: ArtifactRecord,
): Promise<{ record: ArtifactRecord; requests: SignedRequest[] }> {
  const existing = context.artifacts.get(requested.taskId, requested.runId, requested.name);
  if (existing) return resume(context, existing, requested);

  checkRunAcceptsArtifacts(context, requested);
  const created = await initiate(context, requested);
  if (context.artifacts.insert(created.record)) return created;

  // Another process inserted the artifact between the read and the insert: keep its upload.
  if (created.record.uploadId) await abortQuietly(context, created.record.objectKey, created.record.uploadId);
  return resume(context, context.artifacts.get(requested.taskId, requested.runId, requested.name)!, requested);
}

/** Handles a repeated createArtifact: 409 for a different body, else fresh signatures for the same upload. */
async function resume(
  context: QueueContext,
  stored: ArtifactRecord,
  requested: ArtifactRecord,
): Promise<{ record: ArtifactRecord; requests: SignedRequest[] }> {
  const difference = firstDifference(stored, requested);
  if (difference) {
    throw conflict(`artifact ${JSON.stringify(stored.name)} of task ${stored.taskId} run ${stored.runId} exists with a different ${difference}; upload under another name`);
  }
  if (stored.present) return { record: stored, requests: [] };

  checkRunAcceptsArtifacts(context, stored);
  if (stored.parts && stored.uploadId && (await publishIfStored(context, stored))) return { record: stored, requests: [] };
  if (stored.parts && !stored.uploadId) {
    // The earlier upload was aborted (stale, or its object failed the checks): start a new one.
    const restarted = await initiate(context, stored);
    context.artifacts.restartUpload(stored, restarted.record.uploadId!, context.now());
    return restarted;
  }
  return { record: stored, requests: signUpload(context, stored) };
}

/**
 * Checks the limits, initiates the multipart upload when the artifact has parts, and signs the
 * upload's requests. A single-part artifact is signed once: that signature checks its limits and
 * is the request returned.
 */
async function initiate(context: QueueContext, record: ArtifactRecord): Promise<{ record: ArtifactRecord; requests: SignedRequest[] }> {
  const headers = objectHeadersOf(record);
  if (!record.parts) return { record, requests: signUpload(context, record) };

  signOrReject(() => {
    checkParts(record.parts!, record.transferLength);
    context.signer.signCreateMultipartUpload(record.objectKey, headers);
  });
  let uploadId: string;
  try {
    uploadId = await context.s3.initiateMultipartUpload(record.objectKey, headers);
  } catch (error) {
    throw storageFailure("CreateMultipartUpload", record.objectKey, error);
  }
  const started = { ...record, uploadId };
  return { record: started, requests: signUpload(context, started) };
}

function signUpload(context: QueueContext, record: ArtifactRecord): SignedRequest[] {
  const headers = objectHeadersOf(record);
  if (!record.parts) return [withoutBody(signOrReject(() => context.signer.signPutObject(record.objectKey, headers)))];

  return record.parts.map((part, index) =>
    withoutBody(signOrReject(() => context.signer.signUploadPart(record.objectKey, record.uploadId!, index + 1, part))),
  );
}

/** 404 for an unknown task or run, 409 unless the run is running, 400 for an expiry after the task's. */
function checkRunAcceptsArtifacts(context: QueueContext, record: ArtifactRecord): void {
  const task = context.tasks.task(record.taskId);
  if (!task) throw notFound(`task ${record.taskId} not found`);
  const run = context.tasks.run(record.taskId, record.runId);
  if (!run) throw notFound(`task ${record.taskId} has no run ${record.runId}`);
  if (run.state !== "running") {
    throw conflict(`run ${record.runId} of task ${record.taskId} is ${run.state}; artifacts can be created only while it is running`, run.state === "pending");
  }

  const taskExpiresMs = Date.parse(task.expires);
  if (record.expiresMs > taskExpiresMs) {
    throw inputError(`expires ${new Date(record.expiresMs).toISOString()} is after the task's expires ${task.expires}`);
  }
}

export function objectHeadersOf(record: ArtifactRecord): ObjectHeaders {
  return {
    contentType: record.contentType,
    contentEncoding: record.contentEncoding,
    metadata: {
      contentSha256: record.contentSha256,
      contentLength: record.contentLength,
      transferSha256: record.transferSha256,
      transferLength: record.transferLength,
      taskId: record.taskId,
      runId: record.runId,
      name: record.name,
    },
  };
}

function withoutBody(descriptor: RequestDescriptor): SignedRequest {
  return { url: descriptor.url, method: descriptor.method, headers: descriptor.headers };
}

/** Aborts an upload nobody will use; a failure is logged and leaves the parts in storage. */
export async function abortQuietly(context: QueueContext, key: string, uploadId: string): Promise<void> {
  try {
    await context.s3.abortMultipartUpload(key, uploadId);
  } catch (error) {
    context.logger.log("abort-failed", { key, error: error instanceof Error ? error.message : String(error) });
  }
}
