// Summaries of repeated figures (median, quantile, mean, sum) and their formatting with fixed digits.

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export const mean = (values: number[]) => sum(values) / Math.max(1, values.length);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value at quantile `q` (0 to 1) of values sorted ascending. */
export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** `n` with `digits` decimals, or `-` when it is not a finite number (a figure that was not measured). */
export const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
