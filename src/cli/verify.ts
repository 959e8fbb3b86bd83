/** `artifact verify`: check a local file against the queue's record of an artifact, without downloading it. */
import { QueueClient } from "../client/queue-client.ts";
import { locatorFor, parseReference } from "../download/reference.ts";
import { verifyFile } from "../download/verify-file.ts";
import { UsageError } from "../shared/errors.ts";
import { createProgress, progressModeFor } from "../shared/progress.ts";
import { defineArtifactCommand } from "./command.ts";
import { queueConfigOf } from "./options.ts";
import { idleTimeoutMsOf, referenceArgs, referenceOptionArgs, retryArgs, retryPolicyOf, timeoutArgs } from "./artifact-args.ts";

export default defineArtifactCommand({
  meta: {
    name: "verify",
    description: "Check that FILE has the length and SHA-256 the queue recorded for an artifact (TASKID RUNID NAME FILE, --latest TASKID NAME FILE, or --url URL FILE)",
  },
  args: {
    ...referenceArgs,
    file: { type: "positional", required: false, description: "The local file to check" },
    ...referenceOptionArgs,
    ...retryArgs,
    ...timeoutArgs,
  },
  async run({ args, logger }) {
    const { reference, rest } = parseReference(args._, { latest: args.latest, url: args.url }, ["FILE"]);
    const file = rest[0]!;
    if (file === "-") {
      throw new UsageError("verify checks a file on disk, and - (standard input) is not supported", {
        hint: "save the stream to a file first, or fetch it with artifact download, which verifies what it writes",
      });
    }
    const retryPolicy = retryPolicyOf(args);
    const queue = new QueueClient({ ...queueConfigOf(args), retryPolicy, logger, requestTimeoutMs: idleTimeoutMsOf(args) });

    const { expected } = await locatorFor(queue, reference)();
    const progress = createProgress({ label: `verify ${file}`, totalBytes: expected.contentLength, mode: progressModeFor(args.quiet) });
    try {
      const verified = await verifyFile(file, expected, reference.name, progress);
      if (args.json) process.stdout.write(`${JSON.stringify({ name: reference.name, ...verified, contentType: expected.contentType })}\n`);
    } catch (error) {
      progress.abort();
      throw error;
    }
  },
});
