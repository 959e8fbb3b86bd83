/**
 * getArtifact and getLatestArtifact: 404 while not present, 410 once expired, else 303 to a
 * presigned GET with the recorded values in `x-taskcluster-location-*` headers. And the two
 * list calls, paged by name.
 */
import type { ApiRequest, QueueContext } from "../context.ts";
import type { ArtifactRecord } from "../db/artifacts.ts";
import { ApiError, notFound } from "../http/api-error.ts";
import { decodeParam, nameParam, runIdParam, taskIdParam } from "../http/params.ts";
import { taskOrNotFound } from "../tasks/handlers.ts";
import { artifactIdOf, requireReadScope } from "./ids.ts";

export const defaultListLimit = 1000;

export function getArtifact(context: QueueContext, api: ApiRequest): Response {
  const id = artifactIdOf(api);
  requireReadScope(api.caller, id.name);
  return redirectTo(context, context.artifacts.get(id.taskId, id.runId, id.name), id.name, id.taskId);
}

export function getLatestArtifact(context: QueueContext, api: ApiRequest): Response {
  const taskId = taskIdParam(api.params.taskId!);
  const name = nameParam(decodeParam(api.params.name!));
  requireReadScope(api.caller, name);

  const runId = latestRunId(context, taskId);
  return redirectTo(context, context.artifacts.get(taskId, runId, name), name, taskId);
}

function redirectTo(context: QueueContext, record: ArtifactRecord | undefined, name: string, taskId: string): Response {
  if (!record) throw notFound(`artifact ${JSON.stringify(name)} of task ${taskId} not found`);
  if (record.expiresMs <= context.now()) {
    throw new ApiError("ResourceExpired", `artifact ${JSON.stringify(name)} of task ${taskId} expired at ${new Date(record.expiresMs).toISOString()}`);
  }
  if (!record.present) {
    throw notFound(`artifact ${JSON.stringify(name)} of task ${taskId} run ${record.runId} is not present yet; its upload has not completed`);
  }

  const url = context.signer.presignGetObject(record.objectKey, context.settings.presignedGetSeconds);
  return Response.json({ storageType: "blob", url }, { status: 303, headers: { location: url, ...locationHeaders(record) } });
}

/** The recorded values, which a downloader verifies the bytes against. */
export function locationHeaders(record: ArtifactRecord): Record<string, string> {
  return {
    "x-taskcluster-artifact-storage-type": "blob",
    "x-taskcluster-location-content-sha256": record.contentSha256,
    "x-taskcluster-location-content-length": String(record.contentLength),
    "x-taskcluster-location-transfer-sha256": record.transferSha256,
    "x-taskcluster-location-transfer-length": String(record.transferLength),
    "x-taskcluster-location-content-encoding": record.contentEncoding,
    "x-taskcluster-location-content-type": record.contentType,
  };
}

export function listArtifacts(context: QueueContext, api: ApiRequest): Response {
  const taskId = taskIdParam(api.params.taskId!);
  const runId = runIdParam(api.params.runId!);
  taskOrNotFound(context, taskId);
  if (!context.tasks.run(taskId, runId)) throw notFound(`task ${taskId} has no run ${runId}`);
  return listPage(context, api.url, taskId, runId);
}

export function listLatestArtifacts(context: QueueContext, api: ApiRequest): Response {
  const taskId = taskIdParam(api.params.taskId!);
  return listPage(context, api.url, taskId, latestRunId(context, taskId));
}

function listPage(context: QueueContext, url: URL, taskId: string, runId: number): Response {
  const limit = limitOf(url.searchParams.get("limit"));
  const after = afterOf(url.searchParams.get("continuationToken"));

  const page = context.artifacts.page(taskId, runId, after, limit + 1);
  const artifacts = page.slice(0, limit).map((record) => ({
    storageType: "blob",
    name: record.name,
    expires: new Date(record.expiresMs).toISOString(),
    contentType: record.contentType,
  }));
  const body: { artifacts: typeof artifacts; continuationToken?: string } = { artifacts };
  if (page.length > limit) body.continuationToken = Buffer.from(artifacts.at(-1)!.name).toString("base64url");
  return Response.json(body);
}

function latestRunId(context: QueueContext, taskId: string): number {
  taskOrNotFound(context, taskId);
  const last = context.tasks.runs(taskId).at(-1);
  if (!last) throw notFound(`task ${taskId} has no runs`);
  return last.runId;
}

function limitOf(value: string | null): number {
  if (value === null) return defaultListLimit;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > defaultListLimit) {
    throw new ApiError("InputValidationError", `limit ${JSON.stringify(value)} is not an integer from 1 to ${defaultListLimit}`);
  }
  return Number(value);
}

/** A continuation token is the last name of the previous page, base64url-encoded. */
function afterOf(token: string | null): string {
  if (token === null || token === "") return "";
  const name = Buffer.from(token, "base64url").toString("utf8");
  if (!/^[A-Za-z0-9_-]+$/.test(token) || /[^\x20-\x7e]/.test(name) || name === "") {
    throw new ApiError("InputValidationError", `continuationToken ${JSON.stringify(token)} is not one this queue returned`);
  }
  return name;
}
