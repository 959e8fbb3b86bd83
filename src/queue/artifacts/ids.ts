/** The artifact a request names, checked, and the scope rules that depend on it. */
import { requireScope, type Caller } from "../auth/authenticate.ts";
import type { ApiRequest } from "../context.ts";
import { decodeParam, nameParam, runIdParam, taskIdParam } from "../http/params.ts";
import type { ArtifactId } from "./record.ts";

export function artifactIdOf(api: ApiRequest): ArtifactId {
  return {
    taskId: taskIdParam(api.params.taskId!),
    runId: runIdParam(api.params.runId!),
    name: nameParam(decodeParam(api.params.name!)),
  };
}

export function lockKeyOf(id: ArtifactId): string {
  return `${id.taskId}/${id.runId}/${id.name}`;
}

/** Reading an artifact needs `queue:get-artifact:<name>` unless the name starts with `public/`. */
export function requireReadScope(caller: Caller, name: string): void {
  if (name.startsWith("public/")) return;
  requireScope(caller, `queue:get-artifact:${name}`);
}
