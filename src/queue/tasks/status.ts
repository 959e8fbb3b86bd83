/** The task status body that the task calls return, in Taskcluster's shape. */
import type { RunRow, TaskRow } from "../db/tasks.ts";

export interface TaskStatus {
  taskId: string;
  taskQueueId: string;
  provisionerId: string;
  workerType: string;
  state: string;
  deadline: string;
  expires: string;
  retriesLeft: number;
  runs: Array<Record<string, string | number>>;
}

export function taskStatusOf(task: TaskRow, runs: RunRow[]): { status: TaskStatus } {
  const [provisionerId = "", workerType = ""] = task.taskQueueId.split("/");
  const last = runs.at(-1);
  return {
    status: {
      taskId: task.taskId,
      taskQueueId: task.taskQueueId,
      provisionerId,
      workerType,
      state: last?.state ?? "unscheduled",
      deadline: task.deadline,
      expires: task.expires,
      retriesLeft: 0,
      runs: runs.map(runStatusOf),
    },
  };
}

function runStatusOf(run: RunRow): Record<string, string | number> {
  const status: Record<string, string | number> = { runId: run.runId, state: run.state, scheduled: run.scheduled };
  if (run.workerGroup !== null) status.workerGroup = run.workerGroup;
  if (run.workerId !== null) status.workerId = run.workerId;
  if (run.started !== null) status.started = run.started;
  if (run.resolved !== null) status.resolved = run.resolved;
  return status;
}
