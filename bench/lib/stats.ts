/** Medians with their spread, and ratios between them. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  count: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new RangeError("summarize needs at least one value");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, count: sorted.length };
}
