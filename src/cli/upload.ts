/** `artifact upload <taskId> <runId> <name> -i FILE|-`: hash, send and complete one blob artifact. */
import { defineArtifactCommand } from "./command.ts";
import { queueConfigOf } from "./options.ts";
import { QueueClient } from "../client/queue-client.ts";
import { UsageError } from "../shared/errors.ts";
import { progressModeFor } from "../shared/progress.ts";
import { parseByteSize } from "../upload/sizes.ts";
import { checkPartSizeOption, defaultMultipartThreshold, type UploadMode } from "../upload/plan.ts";
import { defaultUploadIdleTimeoutMs, uploadArtifact } from "../upload/upload.ts";
import { idleTimeoutMsOf, retryArgs, retryPolicyOf } from "./artifact-args.ts";
import { parseExpires } from "../upload/expires.ts";

export default defineArtifactCommand({
  meta: { name: "upload", description: "Upload a file (or stdin) as a blob artifact of a task run" },
  args: {
    taskId: { type: "positional", description: "Task id (slugid)", required: true },
    runId: { type: "positional", description: "Run number (0, 1, ...)", required: true },
    name: { type: "positional", description: "Artifact name, for example public/build.tar.gz", required: true },
    input: { type: "string", alias: "i", description: "File to upload, or - for stdin (spooled to a temporary file first)", required: true },
    gzip: { type: "boolean", description: "Compress with gzip before sending (Content-Encoding: gzip)" },
    "content-type": { type: "string", description: "Media type (default: from the file name, else application/octet-stream)" },
    expires: { type: "string", description: "Expiry: a duration such as 30d, 12h, 90m, or a date (default: the task's expiry)" },
    multipart: { type: "boolean", description: "Always upload in parts (an empty input still goes in one PUT)" },
    "single-part": { type: "boolean", description: "Always upload with one PUT (at most 5 GiB)" },
    "multipart-threshold": { type: "string", description: "In automatic mode, sizes above this go in parts (bytes or K/M/G; default 64MiB)" },
    "part-size": { type: "string", description: "Part size, 5MiB to 5GiB (bytes or K/M/G; default: from the size, at most 10,000 parts)" },
    concurrency: { type: "string", description: "Parts in flight at once (default 4)" },
    ...retryArgs,
    "idle-timeout": {
      type: "string",
      description: `Seconds a storage request may go without taking a body byte or returning a response before the attempt fails and is retried; the last few MiB of a request drain unseen, so a link slower than 256 KiB/s in all can still time out (default ${defaultUploadIdleTimeoutMs / 1000})`,
    },
  },
  async run({ args, logger }) {
    const runId = Number(args.runId);
    if (!/^\d+$/.test(args.runId) || !Number.isSafeInteger(runId)) {
      throw new UsageError(`invalid run id ${JSON.stringify(args.runId)}`, { hint: "give the run number, for example 0" });
    }
    if (args.multipart && args["single-part"]) throw new UsageError("--multipart and --single-part exclude each other");

    let mode: UploadMode = "auto";
    if (args.multipart) mode = "multipart";
    if (args["single-part"]) mode = "single-part";
    const partSize = args["part-size"] === undefined ? undefined : parseByteSize("part-size", args["part-size"]);
    checkPartSizeOption(partSize);
    const concurrency = parseConcurrency(args.concurrency);
    const retryPolicy = retryPolicyOf(args);
    const idleTimeoutMs = args["idle-timeout"] === undefined ? defaultUploadIdleTimeoutMs : idleTimeoutMsOf(args);
    const config = queueConfigOf(args);
    const queue = new QueueClient({ rootUrl: config.rootUrl, credentials: config.credentials, logger, retryPolicy, requestTimeoutMs: idleTimeoutMs });

    const summary = await uploadArtifact(
      {
        taskId: args.taskId,
        runId,
        name: args.name,
        input: args.input,
        gzip: Boolean(args.gzip),
        contentType: args["content-type"],
        expires: args.expires === undefined ? undefined : parseExpires(args.expires),
        plan: {
          mode,
          multipartThreshold: args["multipart-threshold"] === undefined ? defaultMultipartThreshold : parseByteSize("multipart-threshold", args["multipart-threshold"]),
          partSize,
        },
        concurrency,
        idleTimeoutMs,
      },
      { queue, logger, progressMode: progressModeFor(args.quiet), retryPolicy },
    );

    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
});

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 4;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 64) {
    throw new UsageError(`invalid --concurrency ${JSON.stringify(text)}`, { hint: "give a whole number from 1 to 64" });
  }
  return value;
}
