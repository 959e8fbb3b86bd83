/** Latency samples per operation, summarized as count, p50 and p99 in milliseconds. */

export class LatencyRecorder {
  private readonly samples = new Map<string, number[]>();

  /** Runs `operation`, recording its duration under `kind` whether it succeeds or not. */
  async time<T>(kind: string, operation: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await operation();
    } finally {
      this.add(kind, performance.now() - started);
    }
  }

  add(kind: string, milliseconds: number): void {
    const list = this.samples.get(kind) ?? [];
    list.push(milliseconds);
    this.samples.set(kind, list);
  }

  count(): number {
    let total = 0;
    for (const list of this.samples.values()) total += list.length;
    return total;
  }

  /** One line per kind and one for all: `kind n=… p50=… ms p99=… ms`. */
  summary(): string[] {
    const all = [...this.samples.values()].flat();
    return [...[...this.samples.entries()].map(([kind, list]) => line(kind, list)), line("all", all)];
  }
}

function line(kind: string, list: number[]): string {
  return `${kind} n=${list.length} p50=${percentile(list, 0.5).toFixed(1)} ms p99=${percentile(list, 0.99).toFixed(1)} ms`;
}

/** The nearest-rank percentile of `values`. */
export function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}
