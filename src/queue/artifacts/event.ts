/** The artifact-created message, written in the transaction that marks the artifact present. */
import type { ArtifactRecord } from "../db/artifacts.ts";
import type { RunRow } from "../db/tasks.ts";

export interface ArtifactCreatedEvent {
  version: 1;
  taskId: string;
  runId: number;
  workerGroup: string | null;
  workerId: string | null;
  artifact: { storageType: "blob"; name: string; expires: string; contentType: string };
}

export function artifactCreatedEvent(record: ArtifactRecord, run: RunRow | undefined): ArtifactCreatedEvent {
  return {
    version: 1,
    taskId: record.taskId,
    runId: record.runId,
    workerGroup: run?.workerGroup ?? null,
    workerId: run?.workerId ?? null,
    artifact: {
      storageType: "blob",
      name: record.name,
      expires: new Date(record.expiresMs).toISOString(),
      contentType: record.contentType,
    },
  };
}
