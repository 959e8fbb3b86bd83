/** Reads the queue's event stream until it has been quiet for a while, and parses its messages. */
export interface StreamedEvent {
  id: number;
  event: string;
  data: any;
}

export async function readEvents(rootUrl: string, headers: Record<string, string> = {}, quietMs = 500): Promise<StreamedEvent[]> {
  const controller = new AbortController();
  const response = await fetch(`${rootUrl}/api/queue/v1/events`, { headers, signal: controller.signal });
  if (response.status !== 200) throw new Error(`event stream answered ${response.status}: ${await response.text()}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();

  let text = "";
  for (;;) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(quietMs).then(() => undefined)]);
    if (!chunk || chunk.done) break;
    text += chunk.value;
  }
  controller.abort();
  return parseEvents(text);
}

export function parseEvents(text: string): StreamedEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("id: "))
    .map((block) => {
      const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]));
      return { id: Number(fields.id), event: fields.event!, data: JSON.parse(fields.data!) };
    });
}
