/**
 * `GET /events`: a server-sent-events stream of the event log from a cursor. Each message carries
 * its sequence number as the SSE id, so a subscriber that reconnects with `Last-Event-ID` (or
 * `?since=N`) receives every later message once, in order. The stream is pulled, so a slow
 * subscriber holds back reading rather than filling memory.
 */
import type { ApiRequest, QueueContext } from "../context.ts";
import { ApiError } from "../http/api-error.ts";

/** A comment line is sent after this much silence, so proxies and idle timers keep the stream open. */
export const keepAliveMs = 5_000;
const batchSize = 200;

export function eventStream(context: QueueContext, api: ApiRequest): Response {
  let cursor = cursorOf(api);
  let stopWaiting: (() => void) | undefined;
  let closed = false;
  const encoder = new TextEncoder();

  const stream = new ReadableStream<Uint8Array>(
    {
      // A first comment makes the server send the response headers before any event exists.
      start(controller) {
        controller.enqueue(encoder.encode(": stream open\n\n"));
      },
      // Each pull enqueues something before it returns: a stream whose pull returns empty-handed
      // is not pulled again, so the wait for new events happens inside the loop.
      async pull(controller) {
        while (!closed) {
          const rows = context.events.after(cursor, batchSize);
          if (rows.length > 0) {
            const text = rows.map((row) => `id: ${row.sequence}\nevent: ${row.kind}\ndata: ${row.payload}\n\n`).join("");
            cursor = rows.at(-1)!.sequence;
            controller.enqueue(encoder.encode(text));
            return;
          }

          const woken = await waitForEvents(context, keepAliveMs, (stop) => (stopWaiting = stop));
          if (!woken && !closed) {
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
            return;
          }
        }
      },
      cancel() {
        closed = true;
        stopWaiting?.();
      },
    },
    { highWaterMark: 0 },
  );

  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
  });
}

/** Resolves true when an event is appended, false after `timeoutMs`; `register` receives a function that ends the wait. */
function waitForEvents(context: QueueContext, timeoutMs: number, register: (stop: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (woken: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(woken);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const unsubscribe = context.notifier.subscribe(() => finish(true));
    register(() => finish(false));
  });
}

/** Returns the sequence number to stream after: `Last-Event-ID` when reconnecting, else `?since=`, else 0 (everything). */
function cursorOf(api: ApiRequest): number {
  const value = api.request.headers.get("last-event-id") ?? api.url.searchParams.get("since") ?? "0";
  if (!/^\d{1,15}$/.test(value)) {
    throw new ApiError("InputValidationError", `event cursor ${JSON.stringify(value)} is not a sequence number; pass the id of the last event received`);
  }
  return Number(value);
}
