/** Checks of the path parameters: task ids, run ids and artifact names. */
import { artifactNameProblem } from "../../shared/artifact-name.ts";
import { isSlugid } from "../../shared/slugid.ts";
import { ApiError } from "./api-error.ts";

/** Taskcluster allows runs 0 to 49 per task; a larger id is a typo, not a run. */
export const maxRunId = 49;

export function taskIdParam(value: string): string {
  if (!isSlugid(value)) throw invalid(`taskId ${JSON.stringify(value)} is not a slugid (22 characters of URL-safe base64)`);
  return value;
}

export function runIdParam(value: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) > maxRunId) {
    throw invalid(`runId ${JSON.stringify(value)} is not an integer from 0 to ${maxRunId}`);
  }
  return Number(value);
}

/** Checks a decoded artifact name against the rule the client applies too (see artifactNameProblem). */
export function nameParam(value: string): string {
  const problem = artifactNameProblem(value);
  if (problem) throw invalid(problem);
  return value;
}

/** Decodes one percent-encoded path parameter; `%2F` becomes `/`. */
export function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalid(`path parameter ${JSON.stringify(raw)} is not valid percent-encoding; encode % as %25`);
  }
}

function invalid(message: string): ApiError {
  return new ApiError("InputValidationError", message);
}
