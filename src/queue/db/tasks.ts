/** Rows of the `tasks` and `runs` tables, and the statements that read and change them. */
import type { Database } from "bun:sqlite";

export type RunState = "pending" | "running" | "completed" | "failed" | "exception";

export interface TaskRow {
  taskId: string;
  taskQueueId: string;
  created: string;
  deadline: string;
  expires: string;
  definition: string;
}

export interface RunRow {
  taskId: string;
  runId: number;
  state: RunState;
  workerGroup: string | null;
  workerId: string | null;
  scheduled: string;
  started: string | null;
  resolved: string | null;
}

export class TaskTable {
  private readonly selectTask;
  private readonly insertTask;
  private readonly selectRuns;
  private readonly selectRun;
  private readonly insertRun;
  private readonly updateRun;

  constructor(private readonly db: Database) {
    this.selectTask = db.query<TaskRow, [string]>(
      `SELECT task_id AS taskId, task_queue_id AS taskQueueId, created, deadline, expires, definition
       FROM tasks WHERE task_id = ?`,
    );
    this.insertTask = db.query(
      `INSERT INTO tasks (task_id, task_queue_id, created, deadline, expires, definition)
       VALUES ($taskId, $taskQueueId, $created, $deadline, $expires, $definition)`,
    );
    const runColumns = `task_id AS taskId, run_id AS runId, state, worker_group AS workerGroup,
       worker_id AS workerId, scheduled, started, resolved`;
    this.selectRuns = db.query<RunRow, [string]>(`SELECT ${runColumns} FROM runs WHERE task_id = ? ORDER BY run_id`);
    this.selectRun = db.query<RunRow, [string, number]>(`SELECT ${runColumns} FROM runs WHERE task_id = ? AND run_id = ?`);
    this.insertRun = db.query(
      `INSERT INTO runs (task_id, run_id, state, scheduled) VALUES ($taskId, $runId, 'pending', $scheduled)`,
    );
    this.updateRun = db.query(
      `UPDATE runs SET state = $state, worker_group = $workerGroup, worker_id = $workerId, started = $started,
       resolved = $resolved WHERE task_id = $taskId AND run_id = $runId`,
    );
  }

  task(taskId: string): TaskRow | undefined {
    return this.selectTask.get(taskId) ?? undefined;
  }

  runs(taskId: string): RunRow[] {
    return this.selectRuns.all(taskId);
  }

  run(taskId: string, runId: number): RunRow | undefined {
    return this.selectRun.get(taskId, runId) ?? undefined;
  }

  /** Inserts the task and its first run, pending, in one transaction. */
  insert(task: TaskRow, now: string): void {
    this.db.transaction(() => {
      this.insertTask.run({ ...task });
      this.insertRun.run({ taskId: task.taskId, runId: 0, scheduled: now });
    })();
  }

  addRun(taskId: string, runId: number, now: string): void {
    this.insertRun.run({ taskId, runId, scheduled: now });
  }

  saveRun(run: RunRow): void {
    this.updateRun.run({ ...run });
  }

  /** Runs `body` in a write transaction, so a read-check-write sequence is atomic. */
  transaction<T>(body: () => T): T {
    return this.db.transaction(body).immediate();
  }
}
