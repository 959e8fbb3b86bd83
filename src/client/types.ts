/** Bodies of the queue API, as the protocol defines them. Hex values are lowercase in answers. */

export type ContentEncoding = "identity" | "gzip";

export interface PartDescriptor {
  sha256: string;
  size: number;
}

export interface CreateArtifactRequest {
  storageType: "blob";
  expires: string;
  contentType: string;
  contentEncoding: ContentEncoding;
  contentSha256: string;
  contentLength: number;
  transferSha256: string;
  transferLength: number;
  /** Present means multipart: one entry per part, over the transfer bytes. */
  parts?: PartDescriptor[];
}

/** A request the queue signed; the client sends it exactly as given. */
export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export interface CreateArtifactResponse {
  storageType: "blob";
  expires: string;
  /** Empty when the artifact is already present. */
  requests: SignedRequest[];
}

export interface CompleteArtifactRequest {
  etags: string[];
}

export interface CreateTaskRequest {
  taskQueueId: string;
  created: string;
  deadline: string;
  expires: string;
  payload: Record<string, unknown>;
  metadata: { name: string; description: string; owner: string; source: string };
}

export interface ClaimTaskRequest {
  workerGroup: string;
  workerId: string;
}

export interface RunStatus {
  runId: number;
  state: "pending" | "running" | "completed" | "failed" | "exception";
  workerGroup?: string;
  workerId?: string;
  resolved?: string;
}

export interface TaskStatusResponse {
  status: {
    taskId: string;
    taskQueueId: string;
    state: string;
    expires: string;
    deadline: string;
    runs: RunStatus[];
  };
}

export interface ArtifactListEntry {
  storageType: "blob";
  name: string;
  expires: string;
  contentType: string;
}

export interface ArtifactList {
  artifacts: ArtifactListEntry[];
  continuationToken?: string;
}
