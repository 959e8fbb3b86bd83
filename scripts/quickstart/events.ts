/** Subscribes to the queue's server-sent-events stream and collects artifact-created messages. */
import { createHawkHeader } from "../../src/shared/hawk.ts";
import type { RunningServer } from "./server.ts";

export interface ArtifactCreated {
  sequence: number;
  taskId: string;
  runId: number;
  name: string;
}

export interface EventSubscription {
  received: ArtifactCreated[];
  /** Resolves once `count` events arrived, or after `timeoutMs` with what arrived. */
  waitFor(count: number, timeoutMs: number): Promise<ArtifactCreated[]>;
  close(): void;
}

export function subscribeEvents(server: RunningServer): EventSubscription {
  const url = new URL(`${server.rootUrl}/api/queue/v1/events`);
  const abort = new AbortController();
  const received: ArtifactCreated[] = [];
  const credentials = { id: server.clientId, key: server.accessToken };

  void (async () => {
    const response = await fetch(url, {
      headers: { authorization: createHawkHeader("GET", url, credentials), accept: "text/event-stream" },
      signal: abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`event stream returned status ${response.status}`);
    await readMessages(response.body, (message) => received.push(message));
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) process.stderr.write(`   event stream failed: ${String(error)}\n`);
  });

  return {
    received,
    async waitFor(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && Date.now() < deadline) await Bun.sleep(50);
      return [...received];
    },
    close: () => abort.abort(),
  };
}

/** Parses SSE blocks (`id:`, `event:`, `data:` lines, blank line between) and passes on artifact-created ones. */
async function readMessages(body: ReadableStream<Uint8Array>, onMessage: (message: ArtifactCreated) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseBlock(block);
      if (message) onMessage(message);
    }
  }
}

function parseBlock(block: string): ArtifactCreated | undefined {
  const fields = new Map<string, string>();
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
  }
  if (fields.get("event") !== "artifact-created") return undefined;

  const data = JSON.parse(fields.get("data") ?? "{}") as { taskId: string; runId: number; artifact: { name: string } };
  return { sequence: Number(fields.get("id")), taskId: data.taskId, runId: data.runId, name: data.artifact.name };
}
