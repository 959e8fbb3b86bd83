/**
 * Client of the queue API (`<rootUrl>/api/queue/v1`), used by the upload, download, verify and
 * task commands. Requests carry a Hawk header when credentials are set. 5xx responses and network
 * errors are retried here, and every other response is mapped to a typed error once.
 */
import { createHawkHeader, type HawkCredentials } from "../shared/hawk.ts";
import { AuthError, DataError, InputFileError, TemporaryError, UnavailableError, UsageError } from "../shared/errors.ts";
import type { ArtifactError } from "../shared/errors.ts";
import { defaultRetryPolicy, withRetries, type RetryPolicy } from "../shared/retry.ts";
import { silentLogger, type Logger } from "../shared/log.ts";
import { parseLocation, type ArtifactLocation } from "./location.ts";
import type {
  ArtifactList,
  CompleteArtifactRequest,
  CreateArtifactRequest,
  CreateArtifactResponse,
  CreateTaskRequest,
  ClaimTaskRequest,
  TaskStatusResponse,
} from "./types.ts";

export interface QueueClientOptions {
  rootUrl: string;
  credentials?: HawkCredentials;
  retryPolicy?: RetryPolicy;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Each attempt of a request is aborted (and retried) when its response takes longer. There is no limit by default. */
  requestTimeoutMs?: number;
}

/** A non-2xx response of the queue, with its Taskcluster error code. */
export class QueueApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly method: string,
    readonly path: string,
    /** From a 409 body: whether the conflict can pass by itself; undefined when the body has no such field. */
    readonly retryable?: boolean,
  ) {
    super(message);
    this.name = "QueueApiError";
  }
}

export type RunResolution = "completed" | "failed" | "exception";

export class QueueClient {
  readonly rootUrl: string;
  private readonly credentials: HawkCredentials | undefined;
  private readonly retryPolicy: RetryPolicy;
  private readonly logger: Logger;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeoutMs: number | undefined;

  constructor(options: QueueClientOptions) {
    this.rootUrl = options.rootUrl.replace(/\/+$/, "");
    this.credentials = options.credentials;
    this.retryPolicy = options.retryPolicy ?? defaultRetryPolicy;
    this.logger = options.logger ?? silentLogger;
    this.fetchImpl = options.fetch ?? fetch;
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  /** Returns the absolute URL of an API path such as `/task/abc/status`. */
  apiUrl(path: string): URL {
    return new URL(`${this.rootUrl}/api/queue/v1${path}`);
  }

  createTask(taskId: string, body: CreateTaskRequest): Promise<TaskStatusResponse> {
    return this.requestJson("PUT", `/task/${taskId}`, body);
  }

  claimTask(taskId: string, runId: number, body: ClaimTaskRequest): Promise<TaskStatusResponse> {
    return this.requestJson("POST", `/task/${taskId}/runs/${runId}/claim`, body);
  }

  resolveRun(taskId: string, runId: number, resolution: RunResolution): Promise<TaskStatusResponse> {
    return this.requestJson("POST", `/task/${taskId}/runs/${runId}/${resolution}`, {});
  }

  taskStatus(taskId: string): Promise<TaskStatusResponse> {
    return this.requestJson("GET", `/task/${taskId}/status`);
  }

  createArtifact(taskId: string, runId: number, name: string, body: CreateArtifactRequest): Promise<CreateArtifactResponse> {
    return this.requestJson("POST", artifactPath(taskId, runId, name), body);
  }

  /** `timeoutMs` replaces the client's request timeout, since completion can read the whole object. */
  async completeArtifact(taskId: string, runId: number, name: string, body: CompleteArtifactRequest, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.send("PUT", this.apiUrl(artifactPath(taskId, runId, name)), body, true, options.timeoutMs ?? this.requestTimeoutMs);
  }

  listArtifacts(taskId: string, runId: number | "latest", query: { limit?: number; continuationToken?: string } = {}): Promise<ArtifactList> {
    const base = runId === "latest" ? `/task/${taskId}/artifacts` : `/task/${taskId}/runs/${runId}/artifacts`;
    const search = new URLSearchParams();
    if (query.limit !== undefined) search.set("limit", String(query.limit));
    if (query.continuationToken) search.set("continuationToken", query.continuationToken);
    const suffix = search.size > 0 ? `?${search}` : "";
    return this.requestJson("GET", `${base}${suffix}`);
  }

  /** Asks the queue where an artifact is, without following the redirect to storage. */
  artifactLocation(taskId: string, runId: number | "latest", name: string): Promise<ArtifactLocation> {
    const path = runId === "latest" ? `/task/${taskId}/artifacts/${encodeName(name)}` : artifactPath(taskId, runId, name);
    return this.locate(this.apiUrl(path));
  }

  /** Like `artifactLocation`, for a full queue URL such as one carrying a bewit. */
  artifactLocationOfUrl(url: URL): Promise<ArtifactLocation> {
    return this.locate(url, { sign: !url.searchParams.has("bewit") });
  }

  private async locate(url: URL, { sign = true } = {}): Promise<ArtifactLocation> {
    const response = await this.send("GET", url, undefined, sign);
    if (response.status !== 303) {
      throw new DataError(`queue returned status ${response.status} instead of a redirect for ${url.pathname}`, {
        hint: "check that the URL names a blob artifact",
      });
    }
    return parseLocation(response, url);
  }

  private async requestJson<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, body);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  private request(method: string, path: string, body?: unknown): Promise<Response> {
    return this.send(method, this.apiUrl(path), body);
  }

  /** Sends one API request with retries on 5xx and network errors; throws a typed error on any other failure. */
  private async send(method: string, url: URL, body: unknown, sign = true, timeoutMs = this.requestTimeoutMs): Promise<Response> {
    const response = await withRetries(
      async () => {
        const headers: Record<string, string> = { accept: "application/json" };
        if (body !== undefined) headers["content-type"] = "application/json";
        if (sign && this.credentials) headers.authorization = createHawkHeader(method, url, this.credentials);

        const answer = await this.fetchImpl(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: "manual",
          signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
        }).catch((error: unknown) => {
          if (!timedOut(error)) throw error;
          // Without a timeout of its own, the request can still end on Bun's own fetch timeout.
          throw new Error(timeoutMs === undefined ? "no response (timed out)" : `no response within ${timeoutMs / 1000} s (timed out)`);
        });
        if (answer.status >= 500) throw await apiErrorOf(answer, method, url);
        return answer;
      },
      {
        policy: this.retryPolicy,
        isRetryable: (error) => !(error instanceof QueueApiError) || error.status >= 500,
        onRetry: (error, attempt, delayMs) =>
          this.logger.warn(`${method} ${url.pathname} failed (${describe(error)}); retry ${attempt} in ${delayMs} ms`),
      },
    ).catch((error: unknown) => {
      throw toTypedError(error, method, url, this.retryPolicy.retries + 1);
    });

    if (response.status >= 400) throw toTypedError(await apiErrorOf(response, method, url), method, url);
    return response;
  }
}

/** Encodes an artifact name as one path segment, the way taskcluster-client does. */
export function encodeName(name: string): string {
  return encodeURIComponent(name);
}

function artifactPath(taskId: string, runId: number, name: string): string {
  return `/task/${taskId}/runs/${runId}/artifacts/${encodeName(name)}`;
}

async function apiErrorOf(response: Response, method: string, url: URL): Promise<QueueApiError> {
  const text = await response.text().catch(() => "");
  let code = "UnknownError";
  let message = text.slice(0, 500);
  let retryable: boolean | undefined;
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown; retryable?: unknown };
    if (typeof parsed.code === "string") code = parsed.code;
    if (typeof parsed.message === "string") message = parsed.message;
    if (typeof parsed.retryable === "boolean") retryable = parsed.retryable;
  } catch {
    // The body is not JSON (a proxy's HTML page, say); its first 500 characters stand as the message.
  }
  return new QueueApiError(response.status, code, message, method, url.pathname, retryable);
}

function timedOut(error: unknown): boolean {
  return error instanceof Error && error.name === "TimeoutError";
}

function describe(error: unknown): string {
  if (error instanceof QueueApiError) return `${error.status} ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}

/** Maps a queue answer or a network failure to the error family, so it carries the right exit code. */
export function toTypedError(error: unknown, method: string, url: URL, attempts = 1): ArtifactError {
  if (!(error instanceof QueueApiError)) {
    return new UnavailableError(`queue request ${method} ${url.pathname} failed after ${attempts} attempts: ${describe(error)}`, {
      hint: `check that the queue at ${url.origin} is running`,
      cause: error,
    });
  }

  const what = `queue ${method} ${error.path} answered ${error.status} ${error.code}: ${error.message}`;
  switch (error.status) {
    case 400:
    case 413:
      return new UsageError(what, { cause: error });
    case 401:
      return new AuthError(what, { hint: "check TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN", cause: error });
    case 403:
      return new AuthError(what, { hint: "ask for the scope named above", cause: error });
    case 404:
    case 410:
      return new InputFileError(what, { cause: error });
    case 409:
      if (error.retryable === false) return new DataError(what, { hint: "retrying the same request will not change this", cause: error });
      return new TemporaryError(what, { hint: "retry once the conflict is resolved", cause: error });
    default:
      return error.status >= 500
        ? new UnavailableError(`${what} after ${attempts} attempts`, { cause: error })
        : new UsageError(what, { cause: error });
  }
}
