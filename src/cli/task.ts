/**
 * `artifact task ...`: the task calls that artifacts depend on, for scripts and the quick start.
 * `create` prints the new taskId on stdout; the others print the task status as JSON.
 */
import { defineCommand } from "citty";
import { QueueClient, type RunResolution } from "../client/queue-client.ts";
import { UsageError } from "../shared/errors.ts";
import { niceSlugid } from "../shared/slugid.ts";
import { parseExpires } from "../upload/expires.ts";
import { defineArtifactCommand } from "./command.ts";
import { queueConfigOf, type GlobalOptions } from "./options.ts";

/** A new task must be claimed within this time. */
const deadlineMs = 24 * 60 * 60 * 1000;

function clientOf(options: GlobalOptions): QueueClient {
  const { rootUrl, credentials } = queueConfigOf(options);
  return new QueueClient({ rootUrl, credentials });
}

function runIdOf(text: string): number {
  if (!/^\d{1,2}$/.test(text)) throw new UsageError(`invalid run id ${JSON.stringify(text)}`, { hint: "give the run number, such as 0" });
  return Number(text);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const create = defineArtifactCommand({
  meta: { name: "create", description: "Create a task with run 0 pending and print its taskId" },
  args: {
    "task-queue": { type: "string", description: "Task queue id, <provisionerId>/<workerType>", required: true },
    expires: { type: "string", description: "Expiry of the task and default expiry of its artifacts: a duration (30d, 12h) or a date (default 7d)", default: "7d" },
  },
  async run({ args }) {
    const now = new Date();
    const expires = parseExpires(args.expires, now);
    const deadline = new Date(Math.min(now.getTime() + deadlineMs, Date.parse(expires))).toISOString();
    const taskId = niceSlugid();

    const status = await clientOf(args).createTask(taskId, {
      taskQueueId: args["task-queue"],
      created: now.toISOString(),
      deadline,
      expires,
      payload: {},
      metadata: { name: "artifact task", description: "created with artifact task create", owner: "artifact", source: "artifact task create" },
    });
    if (args.json) printJson({ taskId, ...status });
    else process.stdout.write(`${taskId}\n`);
  },
});

const claim = defineArtifactCommand({
  meta: { name: "claim", description: "Claim a run of a task as running" },
  args: {
    taskId: { type: "positional", description: "Task id", required: true },
    runId: { type: "positional", description: "Run id, such as 0", required: true },
    "worker-group": { type: "string", description: "Worker group recorded on the run", required: true },
    "worker-id": { type: "string", description: "Worker id recorded on the run", required: true },
  },
  async run({ args }) {
    const body = { workerGroup: args["worker-group"], workerId: args["worker-id"] };
    printJson(await clientOf(args).claimTask(args.taskId, runIdOf(args.runId), body));
  },
});

function resolveCommand(name: string, resolution: RunResolution, description: string) {
  return defineArtifactCommand({
    meta: { name, description },
    args: {
      taskId: { type: "positional", description: "Task id", required: true },
      runId: { type: "positional", description: "Run id, such as 0", required: true },
    },
    async run({ args }) {
      printJson(await clientOf(args).resolveRun(args.taskId, runIdOf(args.runId), resolution));
    },
  });
}

const status = defineArtifactCommand({
  meta: { name: "status", description: "Print the status of a task and its runs as JSON" },
  args: { taskId: { type: "positional", description: "Task id", required: true } },
  async run({ args }) {
    printJson(await clientOf(args).taskStatus(args.taskId));
  },
});

export default defineCommand({
  meta: { name: "task", description: "Create, claim, resolve and inspect tasks" },
  subCommands: {
    create,
    claim,
    complete: resolveCommand("complete", "completed", "Resolve a run as completed; fails while any of its artifacts is not present"),
    fail: resolveCommand("fail", "failed", "Resolve a run as failed"),
    exception: resolveCommand("exception", "exception", "Resolve a run as exception"),
    status,
  },
});
