/**
 * Batches the server's log lines into one write per event-loop turn, so a burst of requests
 * shares one system call instead of making one synchronous stderr write per line.
 * No line is dropped. The buffer flushes after the current turn, at `maxLines`, on `flush()` and
 * when the process exits normally. Only a kill that ends the process mid-turn (SIGKILL, a crash
 * of the runtime) loses the lines of that turn.
 */
export class LineBuffer {
  private lines: string[] = [];
  private scheduled = false;

  constructor(
    private readonly sink: (text: string) => void,
    private readonly maxLines = 512,
  ) {}

  /** Appends one line, without its newline. */
  readonly write = (line: string): void => {
    this.lines.push(line);
    if (this.lines.length >= this.maxLines) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  /** Writes every buffered line to the sink now. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const text = `${this.lines.join("\n")}\n`;
    this.lines = [];
    this.sink(text);
  };
}

/** The buffer in front of this process's stderr, flushed when the process exits. */
export const stderrLines = new LineBuffer((text) => process.stderr.write(text));
process.on("exit", stderrLines.flush);
