// The summary statistics every benchmark reports its timings with (Node drivers and pages alike).

/** The median; NaN for no values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/** The p-quantile (0 ≤ p ≤ 1) of ascending `sorted`, nearest rank below, to 0.1 (milliseconds, here). */
export const quantileMs = (sorted: readonly number[], p: number) => +sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1);
