/**
 * The task calls that artifacts depend on: create, claim, resolve and status. A task starts with
 * run 0 pending; a run that failed or ended in exception may be followed by a new claim of the
 * next run id.
 */
import { requireScope } from "../auth/authenticate.ts";
import type { ApiRequest, QueueContext } from "../context.ts";
import type { RunRow, RunState, TaskRow } from "../db/tasks.ts";
import { conflict, inputError, notFound } from "../http/api-error.ts";
import { readJson } from "../http/body.ts";
import { runIdParam, taskIdParam } from "../http/params.ts";
import { claimSchema, compile, createTaskSchema, parseTime, resolveSchema, validated } from "../http/schemas.ts";
import { taskStatusOf } from "./status.ts";

interface CreateTaskBody {
  taskQueueId: string;
  created: string;
  deadline: string;
  expires?: string;
  payload: object;
  metadata: object;
}

const validateCreateTask = compile<CreateTaskBody>(createTaskSchema);
const validateClaim = compile<{ workerGroup: string; workerId: string }>(claimSchema);
const validateResolve = compile<object>(resolveSchema);

/** A task without `expires` is kept this long after its deadline. */
const defaultExpiryAfterDeadlineMs = 365 * 24 * 60 * 60 * 1000;

export type Resolution = "completed" | "failed" | "exception";

export async function createTask(context: QueueContext, api: ApiRequest): Promise<Response> {
  const taskId = taskIdParam(api.params.taskId!);
  const body = validated(validateCreateTask, await readJson(api.request));
  requireScope(api.caller, `queue:create-task:${body.taskQueueId}`);

  const task = taskRowOf(taskId, body);
  const now = new Date(context.now()).toISOString();
  const created = context.tasks.transaction(() => {
    const existing = context.tasks.task(taskId);
    if (existing) {
      if (existing.definition !== task.definition) throw conflict(`task ${taskId} exists with a different definition`);
      return existing;
    }
    context.tasks.insert(task, now);
    return task;
  });
  return Response.json(taskStatusOf(created, context.tasks.runs(taskId)));
}

function taskRowOf(taskId: string, body: CreateTaskBody): TaskRow {
  const created = parseTime(body.created, "created");
  const deadline = parseTime(body.deadline, "deadline");
  const expires = body.expires ? parseTime(body.expires, "expires") : deadline + defaultExpiryAfterDeadlineMs;
  if (deadline <= created) throw inputError(`deadline ${body.deadline} is not after created ${body.created}`);
  if (expires < deadline) throw inputError(`expires ${body.expires} is before deadline ${body.deadline}`);

  return {
    taskId,
    taskQueueId: body.taskQueueId,
    created: new Date(created).toISOString(),
    deadline: new Date(deadline).toISOString(),
    expires: new Date(expires).toISOString(),
    definition: JSON.stringify({ ...body, expires: new Date(expires).toISOString() }),
  };
}

export async function claimTask(context: QueueContext, api: ApiRequest): Promise<Response> {
  const taskId = taskIdParam(api.params.taskId!);
  const runId = runIdParam(api.params.runId!);
  const worker = validated(validateClaim, await readJson(api.request));
  const task = taskOrNotFound(context, taskId);
  requireScope(api.caller, `queue:claim-task:${task.taskQueueId}`);

  const nowMs = context.now();
  if (Date.parse(task.deadline) <= nowMs) throw conflict(`task ${taskId} passed its deadline ${task.deadline}`);

  const now = new Date(nowMs).toISOString();
  context.tasks.transaction(() => {
    const run = claimableRun(context, taskId, runId, now);
    if (run.state === "running") {
      if (run.workerGroup === worker.workerGroup && run.workerId === worker.workerId) return;
      throw conflict(`run ${runId} of task ${taskId} is already claimed by ${run.workerGroup}/${run.workerId}`);
    }
    context.tasks.saveRun({ ...run, state: "running", ...worker, started: now });
  });

  return Response.json({ ...taskStatusOf(task, context.tasks.runs(taskId)), runId, ...worker });
}

/** Returns the run to claim: the pending run, or a new run after one that failed or ended in exception. */
function claimableRun(context: QueueContext, taskId: string, runId: number, now: string): RunRow {
  const existing = context.tasks.run(taskId, runId);
  if (existing) {
    if (existing.state === "pending" || existing.state === "running") return existing;
    throw conflict(`run ${runId} of task ${taskId} is already resolved as ${existing.state}`);
  }

  const previous = context.tasks.run(taskId, runId - 1);
  if (!previous || (previous.state !== "failed" && previous.state !== "exception")) {
    throw notFound(`task ${taskId} has no run ${runId}`);
  }
  context.tasks.addRun(taskId, runId, now);
  return context.tasks.run(taskId, runId)!;
}

export async function resolveRun(context: QueueContext, api: ApiRequest, resolution: Resolution): Promise<Response> {
  const taskId = taskIdParam(api.params.taskId!);
  const runId = runIdParam(api.params.runId!);
  validated(validateResolve, await readJson(api.request));
  requireScope(api.caller, `queue:resolve-task:${taskId}/${runId}`);
  const task = taskOrNotFound(context, taskId);

  const now = new Date(context.now()).toISOString();
  context.tasks.transaction(() => {
    const run = context.tasks.run(taskId, runId);
    if (!run) throw notFound(`task ${taskId} has no run ${runId}`);
    if (run.state === resolution) return;
    if (run.state !== "running") throw conflict(`run ${runId} of task ${taskId} is ${run.state}, not running`, run.state === "pending");
    if (resolution === "completed") requireArtifactsPresent(context, taskId, runId);
    context.tasks.saveRun({ ...run, state: resolution as RunState, resolved: now });
  });

  return Response.json(taskStatusOf(task, context.tasks.runs(taskId)));
}

/** The completion gate: a run with any blob artifact that is not present cannot be completed. */
function requireArtifactsPresent(context: QueueContext, taskId: string, runId: number): void {
  const missing = context.artifacts.missing(taskId, runId);
  if (missing.length === 0) return;

  const shown = missing.slice(0, 20).map((name) => JSON.stringify(name)).join(", ");
  const more = missing.length > 20 ? ` and ${missing.length - 20} more` : "";
  throw conflict(
    `run ${runId} of task ${taskId} has ${missing.length} artifact(s) not present: ${shown}${more}; complete them before resolving the run as completed`,
    true,
  );
}

export function taskStatus(context: QueueContext, api: ApiRequest): Response {
  const taskId = taskIdParam(api.params.taskId!);
  const task = taskOrNotFound(context, taskId);
  return Response.json(taskStatusOf(task, context.tasks.runs(taskId)));
}

export function taskOrNotFound(context: QueueContext, taskId: string): TaskRow {
  const task = context.tasks.task(taskId);
  if (!task) throw notFound(`task ${taskId} not found`);
  return task;
}
