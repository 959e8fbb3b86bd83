/** `artifact download`: fetch an artifact and write it only once all four values match the queue's record. */
import { basename } from "node:path";
import { QueueClient } from "../client/queue-client.ts";
import { downloadArtifact, type DownloadResult } from "../download/download.ts";
import { openFileOutput, StdoutClosedError, StdoutOutput, type OutputSink } from "../download/output.ts";
import { locatorFor, parseReference } from "../download/reference.ts";
import { UsageError } from "../shared/errors.ts";
import { signalExitCode } from "../shared/exit-signals.ts";
import { createProgress, progressModeFor } from "../shared/progress.ts";
import { defineArtifactCommand } from "./command.ts";
import { queueConfigOf } from "./options.ts";
import { idleTimeoutMsOf, referenceArgs, referenceOptionArgs, retryArgs, retryPolicyOf, timeoutArgs } from "./artifact-args.ts";

export default defineArtifactCommand({
  meta: {
    name: "download",
    description: "Download an artifact and verify its length and SHA-256 against the queue's record (TASKID RUNID NAME, --latest TASKID NAME, or --url URL)",
  },
  args: {
    ...referenceArgs,
    output: {
      type: "string",
      alias: "o",
      description:
        "Output file, or - for stdout (default: the last segment of the name, in the current directory). A device or FIFO such as /dev/null receives the bytes only after verification, staged in $TMPDIR. With -, a reader that closes the pipe early ends the download quietly with exit code 141, as SIGPIPE would",
    },
    ...referenceOptionArgs,
    ...retryArgs,
    ...timeoutArgs,
  },
  async run({ args, logger }) {
    const { reference } = parseReference(args._, { latest: args.latest, url: args.url });
    if (args.output === "") throw new UsageError('invalid -o "": the output path is empty', { hint: "pass a file path, or - for stdout" });
    if (args.json && args.output === "-") throw new UsageError("--json and -o - both write to stdout", { hint: "pass a file to -o" });

    const config = queueConfigOf(args);
    const retryPolicy = retryPolicyOf(args);
    const idleTimeoutMs = idleTimeoutMsOf(args);
    const queue = new QueueClient({ ...config, retryPolicy, logger, requestTimeoutMs: idleTimeoutMs });
    const output = openOutput(args.output ?? defaultOutputPath(reference.name));
    const mode = progressModeFor(args.quiet);

    let result: DownloadResult;
    try {
      result = await downloadArtifact({
        name: reference.name,
        locate: locatorFor(queue, reference),
        output,
        retryPolicy,
        idleTimeoutMs,
        logger,
        createProgress: (totalBytes) => createProgress({ label: `download ${reference.name}`, totalBytes, mode }),
      });
    } catch (error) {
      // A reader that closes the pipe early chose to stop, so end as SIGPIPE would, without a message.
      if (error instanceof StdoutClosedError) process.exit(signalExitCode("SIGPIPE"));
      if (output instanceof StdoutOutput && output.bytesWritten > 0) {
        process.stderr.write(`artifact: the output on stdout is incomplete and unverified (${output.bytesWritten} bytes written); discard it\n`);
      }
      throw error;
    }

    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else logger.debug(`verified ${result.name}: ${result.contentLength} bytes, content sha256 ${result.contentSha256}`);
  },
});

function openOutput(path: string): OutputSink {
  return path === "-" ? new StdoutOutput() : openFileOutput(path);
}

/** Returns the name's last segment, so a name never places the file outside the current directory. */
function defaultOutputPath(name: string): string {
  const last = basename(name);
  if (last === "" || last === "." || last === ".." || name.endsWith("/")) {
    throw new UsageError(`artifact name ${JSON.stringify(name)} does not give a file name`, { hint: "pass -o FILE" });
  }
  return last;
}
