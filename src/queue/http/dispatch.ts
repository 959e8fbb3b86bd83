/**
 * Handles one API request: routes it, authenticates the caller, runs the handler, maps every
 * failure to `{code, message}`, and logs one line (method, path, status, duration, clientId).
 * The logged path never includes the query string, which may carry a bewit.
 */
import type { Authenticator } from "../auth/authenticate.ts";
import type { QueueContext } from "../context.ts";
import { ApiError, errorResponse } from "./api-error.ts";
import { apiPrefix, matchRoute } from "./routes.ts";

export async function dispatch(context: QueueContext, authenticator: Authenticator, request: Request, url: URL): Promise<Response> {
  const started = performance.now();
  let clientId: string | undefined;
  let response: Response;

  try {
    const { handler, params } = matchRoute(request.method, url.pathname.slice(apiPrefix.length));
    const caller = await authenticator.authenticate(request, url);
    clientId = caller.clientId;
    response = await handler(context, { request, url, caller, params });
  } catch (error) {
    response = failureResponse(context, request, url, error);
  }

  context.logger.log("request", {
    method: request.method,
    path: url.pathname,
    status: response.status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    clientId: clientId ?? null,
  });
  return response;
}

function failureResponse(context: QueueContext, request: Request, url: URL, error: unknown): Response {
  if (error instanceof ApiError) {
    if (error.status >= 500) logError(context, request, url, error);
    const headers: Record<string, string> = error.status === 401 ? { "www-authenticate": "Hawk" } : {};
    return errorResponse(error, headers);
  }

  logError(context, request, url, error);
  return errorResponse(new ApiError("InternalServerError", "internal error in the queue; the server log has the details"));
}

function logError(context: QueueContext, request: Request, url: URL, error: unknown): void {
  const cause = error instanceof ApiError ? error.cause : undefined;
  context.logger.log("error", {
    method: request.method,
    path: url.pathname,
    error: error instanceof Error ? error.message : String(error),
    cause: cause instanceof Error ? cause.message : undefined,
    stack: error instanceof ApiError ? undefined : (error as Error | undefined)?.stack,
  });
}
