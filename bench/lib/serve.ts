/** Starts `artifact serve` and waits for its `listening on <rootUrl>` line. */
import type { Subprocess } from "bun";
import { UnavailableError } from "../../src/shared/errors.ts";

export interface RunningServe {
  pid: number;
  rootUrl: string;
  stop(): Promise<void>;
}

const startTimeoutMs = 30_000;

/** `wrapper` runs before the binary, for example `ip netns exec NAME`. */
export async function startServe(binary: string, args: string[], wrapper: string[] = []): Promise<RunningServe> {
  const child = Bun.spawn([...wrapper, binary, "serve", ...args], { stdout: "ignore", stderr: "pipe" });
  // Stops the server when the benchmark exits early (bench/run.ts exits on SIGINT and SIGTERM).
  const onExit = () => child.kill("SIGTERM");
  process.once("exit", onExit);
  let rootUrl: string;
  try {
    rootUrl = await waitForListening(child);
  } catch (error) {
    process.off("exit", onExit);
    child.kill();
    await child.exited;
    throw error;
  }

  return {
    pid: child.pid,
    rootUrl,
    stop: async () => {
      process.off("exit", onExit);
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

async function waitForListening(child: Subprocess<"ignore", "ignore", "pipe">): Promise<string> {
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  const timeout = setTimeout(() => child.kill(), startTimeoutMs);
  let output = "";

  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
      const match = /listening on (\S+)/.exec(output);
      if (match) {
        reader.releaseLock();
        // Keep draining stderr so the server never blocks on a full pipe.
        void child.stderr.pipeTo(new WritableStream()).catch(() => {});
        return match[1]!;
      }
    }
  } finally {
    clearTimeout(timeout);
  }
  throw new UnavailableError(`artifact serve stopped before listening: ${output.trim().split("\n").slice(-3).join(" | ")}`, {
    hint: "run the same artifact serve command by hand",
  });
}
