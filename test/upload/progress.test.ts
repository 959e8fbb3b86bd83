import { describe, expect, test } from "bun:test";
import { createProgress, describeProgress, progressModeFor } from "../../src/shared/progress.ts";

function recorder(): { output: string[]; write: (text: string) => void } {
  const output: string[] = [];
  return { output, write: (text) => output.push(text) };
}

describe("progress reporter", () => {
  test("mode follows quiet and terminal", () => {
    expect(progressModeFor(true, true)).toBe("quiet");
    expect(progressModeFor(false, true)).toBe("bar");
    expect(progressModeFor(undefined, false)).toBe("lines");
  });

  test("lines mode prints at most one line per interval", () => {
    const { output, write } = recorder();
    let clock = 0;
    const progress = createProgress({ label: "upload x", totalBytes: 100, mode: "lines", write, now: () => clock });

    for (let second = 1; second <= 25; second++) {
      clock = second * 1000;
      progress.advance(4);
    }
    progress.finish();

    expect(output).toHaveLength(3);
    expect(output[0]).toBe("upload x: 40 B of 100 B (40%), 0.0 MiB/s, ETA 15 s\n");
    expect(output[1]).toStartWith("upload x: 80 B of 100 B (80%)");
    expect(output[2]).toBe("upload x: 100 B in 25.0 s (0.0 MiB/s)\n");
  });

  test("quiet mode prints nothing", () => {
    const { output, write } = recorder();
    let clock = 0;
    const progress = createProgress({ label: "upload x", totalBytes: 10, mode: "quiet", write, now: () => clock });
    clock = 60_000;
    progress.advance(10);
    progress.finish();

    expect(output).toEqual([]);
  });

  test("bar redraws in place and clears before the summary", () => {
    const { output, write } = recorder();
    let clock = 0;
    const progress = createProgress({ label: "up", totalBytes: 2 * 1024 * 1024, mode: "bar", write, now: () => clock });
    clock = 1000;
    progress.advance(1024 * 1024);
    progress.finish();

    expect(output[0]).toBe("\rup: 1.0 MiB of 2.0 MiB (50%), 1.0 MiB/s, ETA 1 s\x1b[K");
    expect(output[1]).toBe("\r\x1b[K");
    expect(output[2]).toBe("up: 1.0 MiB in 1.0 s (1.0 MiB/s)\n");
  });

  test("unknown total shows bytes and rate", () => {
    expect(describeProgress(3 * 1024 * 1024, undefined, 2000)).toBe("3.0 MiB, 1.5 MiB/s");
  });

  test("negative advance takes back a re-sent part", () => {
    expect(describeProgress(0, 0, 0)).toBe("0 B of 0 B (100%), - MiB/s, ETA unknown");
    const { output, write } = recorder();
    let clock = 0;
    const progress = createProgress({ label: "p", totalBytes: 100, mode: "lines", write, now: () => clock, lineIntervalMs: 1 });
    clock = 1000;
    progress.advance(60);
    clock = 2000;
    progress.advance(-30);

    expect(output[1]).toStartWith("p: 30 B of 100 B (30%)");
  });
});
