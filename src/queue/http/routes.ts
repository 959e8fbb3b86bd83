/**
 * The routes of `<rootUrl>/api/queue/v1`. Patterns match the raw (still percent-encoded) path, so
 * an artifact name may arrive with `/` either raw or as `%2F`; handlers decode the parameters.
 */
import type { ApiRequest, QueueContext } from "../context.ts";
import { completeArtifact } from "../artifacts/complete.ts";
import { createArtifact } from "../artifacts/create.ts";
import { getArtifact, getLatestArtifact, listArtifacts, listLatestArtifacts } from "../artifacts/read.ts";
import { eventStream } from "../events/stream.ts";
import { claimTask, createTask, resolveRun, taskStatus } from "../tasks/handlers.ts";
import { ApiError } from "./api-error.ts";

export const apiPrefix = "/api/queue/v1";

type Handler = (context: QueueContext, api: ApiRequest) => Response | Promise<Response>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const task = "/task/(?<taskId>[^/]+)";
const run = `${task}/runs/(?<runId>[^/]+)`;

const routes: Route[] = [
  { method: "GET", pattern: /^\/ping$/, handler: () => Response.json({ alive: true }) },
  { method: "PUT", pattern: new RegExp(`^${task}$`), handler: createTask },
  { method: "GET", pattern: new RegExp(`^${task}/status$`), handler: taskStatus },
  { method: "POST", pattern: new RegExp(`^${run}/claim$`), handler: claimTask },
  { method: "POST", pattern: new RegExp(`^${run}/completed$`), handler: (c, a) => resolveRun(c, a, "completed") },
  { method: "POST", pattern: new RegExp(`^${run}/failed$`), handler: (c, a) => resolveRun(c, a, "failed") },
  { method: "POST", pattern: new RegExp(`^${run}/exception$`), handler: (c, a) => resolveRun(c, a, "exception") },
  { method: "GET", pattern: new RegExp(`^${run}/artifacts$`), handler: listArtifacts },
  { method: "POST", pattern: new RegExp(`^${run}/artifacts/(?<name>.+)$`), handler: createArtifact },
  { method: "PUT", pattern: new RegExp(`^${run}/artifacts/(?<name>.+)$`), handler: completeArtifact },
  { method: "GET", pattern: new RegExp(`^${run}/artifacts/(?<name>.+)$`), handler: getArtifact },
  { method: "GET", pattern: new RegExp(`^${task}/artifacts$`), handler: listLatestArtifacts },
  { method: "GET", pattern: new RegExp(`^${task}/artifacts/(?<name>.+)$`), handler: getLatestArtifact },
  { method: "GET", pattern: /^\/events$/, handler: eventStream },
];

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
}

/** Finds the route of `path` (below the API prefix); 404 for an unknown path, 405 for a known path and another method. */
export function matchRoute(method: string, path: string): RouteMatch {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) {
      return { handler: route.handler, params: { ...match.groups } };
    }
  }
  if (pathMatched) throw new ApiError("MethodNotAllowed", `${method} is not allowed on ${apiPrefix}${path}`);
  throw new ApiError("ResourceNotFound", `no API endpoint at ${apiPrefix}${path}`);
}
