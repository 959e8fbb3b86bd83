import { describe, expect, test } from "bun:test";
import { checkRawArgs, globalArgs, queueConfigOf } from "../../src/cli/options.ts";
import { ExitCode, UsageError } from "../../src/shared/errors.ts";

const args = {
  taskId: { type: "positional" },
  output: { type: "string", alias: "o" },
  gzip: { type: "boolean" },
  ...globalArgs,
} as const;

function usageMessage(rawArgs: string[]): string | undefined {
  try {
    checkRawArgs(rawArgs, args);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return (error as UsageError).message;
  }
}

describe("checkRawArgs", () => {
  test("known options, aliases and negations pass", () => {
    expect(usageMessage(["abc", "-o", "out", "--gzip", "--no-gzip", "--root-url=http://x", "-q"])).toBeUndefined();
  });

  test("a lone dash is a positional argument", () => {
    expect(usageMessage(["-"])).toBeUndefined();
  });

  test("unknown option is named", () => {
    expect(usageMessage(["abc", "--gzipp"])).toBe("unknown option --gzipp");
  });

  test("option without its value is rejected", () => {
    expect(usageMessage(["abc", "--output"])).toBe("option --output needs a value");
    expect(usageMessage(["abc", "-o", "--gzip"])).toBe("option -o needs a value");
  });

  test("negative number is a value for the command to check", () => {
    expect(usageMessage(["abc", "--output", "-5"])).toBeUndefined();
  });

  test("too many positional arguments are rejected", () => {
    expect(usageMessage(["abc", "def"])).toContain("too many arguments (2; this command takes 1)");
  });

  test("words after -- count as positional arguments", () => {
    expect(usageMessage(["--", "--not-an-option"])).toBeUndefined();
    expect(usageMessage(["abc", "--", "x"])).toContain("too many arguments");
  });
});

describe("queueConfigOf", () => {
  test("options win over the Taskcluster environment", () => {
    const config = queueConfigOf(
      { "root-url": "http://127.0.0.1:1", "client-id": "a", "access-token": "b" },
      { TASKCLUSTER_ROOT_URL: "http://127.0.0.1:2", TASKCLUSTER_CLIENT_ID: "c", TASKCLUSTER_ACCESS_TOKEN: "d" },
    );

    expect(config.rootUrl).toBe("http://127.0.0.1:1");
    expect(config.credentials).toEqual({ id: "a", key: "b" });
  });

  test("environment is used when options are absent", () => {
    const config = queueConfigOf({}, { TASKCLUSTER_ROOT_URL: "http://127.0.0.1:2" });

    expect(config.rootUrl).toBe("http://127.0.0.1:2");
    expect(config.credentials).toBeUndefined();
  });

  test("missing root URL names the variable", () => {
    const error = (() => {
      try {
        queueConfigOf({}, {});
      } catch (caught) {
        return caught as UsageError;
      }
    })();

    expect(error?.message).toBe("missing root URL of the queue");
    expect(error?.hint).toContain("TASKCLUSTER_ROOT_URL");
  });

  test("client id without access token is a usage error", () => {
    expect(() => queueConfigOf({ "root-url": "http://x", "client-id": "a" }, {})).toThrow(UsageError);
  });

  test("relative root URL is rejected", () => {
    expect(() => queueConfigOf({ "root-url": "queue.local" }, {})).toThrow("invalid root URL");
  });

  test("root URL of another scheme is rejected", () => {
    expect(() => queueConfigOf({ "root-url": "ftp://127.0.0.1/" }, {})).toThrow("invalid root URL");
  });
});
