import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { QueueClient } from "../../src/client/queue-client.ts";
import { ExitCode, type ArtifactError } from "../../src/shared/errors.ts";

/** A local server that answers every request with the status and JSON body the test sets. */
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let server: ReturnType<typeof Bun.serve>;
let queue: QueueClient;

beforeAll(() => {
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json(answer.body, { status: answer.status }) });
  queue = new QueueClient({ rootUrl: `http://127.0.0.1:${server.port}`, retryPolicy: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
});

afterAll(() => server.stop(true));

async function exitCodeFor(status: number, body: unknown): Promise<number> {
  answer = { status, body };
  try {
    await queue.taskStatus("abc");
  } catch (error) {
    return (error as ArtifactError).exitCode;
  }
  throw new Error("the request did not fail");
}

describe("queue answers to exit codes", () => {
  test("final 409 is a data error", async () => {
    expect(await exitCodeFor(409, { code: "RequestConflict", message: "exists with a different contentSha256", retryable: false })).toBe(ExitCode.dataError);
  });

  test("retryable 409 is temporary", async () => {
    expect(await exitCodeFor(409, { code: "RequestConflict", message: "run 0 is pending", retryable: true })).toBe(ExitCode.tempFail);
  });

  test("409 without retryable is temporary", async () => {
    expect(await exitCodeFor(409, { code: "RequestConflict", message: "conflict" })).toBe(ExitCode.tempFail);
  });

  test("401 and 403 are auth errors", async () => {
    expect(await exitCodeFor(401, { code: "AuthenticationFailed", message: "bad mac" })).toBe(ExitCode.noPermission);
    expect(await exitCodeFor(403, { code: "InsufficientScopes", message: "needs scope" })).toBe(ExitCode.noPermission);
  });

  test("404 is missing input and 400 a usage error", async () => {
    expect(await exitCodeFor(404, { code: "ResourceNotFound", message: "no task" })).toBe(ExitCode.noInput);
    expect(await exitCodeFor(400, { code: "InputError", message: "bad name" })).toBe(ExitCode.usage);
  });

  test("500 after retries is unavailable", async () => {
    expect(await exitCodeFor(500, { code: "InternalServerError", message: "boom" })).toBe(ExitCode.unavailable);
  });
});
