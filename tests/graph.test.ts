// The neighbor graph: exact k-NN against a sort-everything oracle, HNSW (hnswlib-node) against
// exact, and both deterministic.
import { describe, expect, it } from 'vitest';
import { buildNeighborGraph } from '../src/cli/annGraph.ts';
import { exactKnnGraph } from '../src/core/knn.ts';
import { randomVectors, seededRandom } from '../src/core/qnet.ts';

function oracle(v: Float32Array, n: number, d: number, k: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const dist = (j: number) => {
      let s = 0;
      for (let t = 0; t < d; t++) s += (v[i * d + t] - v[j * d + t]) ** 2;
      return s;
    };
    return Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .map((j) => [dist(j), j])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .slice(0, k)
      .map((p) => p[1]);
  });
}

describe('exactKnnGraph', () => {
  it('equals the sort-everything oracle, nearest first', () => {
    const n = 300;
    const d = 24;
    const v = randomVectors(n, d, seededRandom(11));
    const g = exactKnnGraph(v, n, d, 8);
    const want = oracle(v, n, d, 8);
    for (let i = 0; i < n; i++) expect(Array.from(g.subarray(i * 8, i * 8 + 8))).toEqual(want[i]);
  });

  it('pads rows with 0xFFFFFFFF when there are fewer than k other documents, and breaks ties by index', () => {
    const v = new Float32Array([0, 0, 1, 0, -1, 0]); // doc 0 at the origin; 1 and 2 equally far
    expect(Array.from(exactKnnGraph(v, 3, 2, 4))).toEqual([1, 2, 0xffffffff, 0xffffffff, 0, 2, 0xffffffff, 0xffffffff, 0, 1, 0xffffffff, 0xffffffff]);
    expect(Array.from(exactKnnGraph(new Float32Array([1, 2]), 1, 2, 2))).toEqual([0xffffffff, 0xffffffff]);
  });
});

describe('HNSW graph (hnswlib-node)', () => {
  const n = 1500;
  const d = 32;
  const r = seededRandom(5);
  const centers = randomVectors(30, d, r);
  const noise = randomVectors(n, d, r);
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) v[i * d + t] = centers[(i % 30) * d + t] + 0.4 * noise[i * d + t];

  it('finds at least 95% of the exact neighbors, never the document itself, and is deterministic', () => {
    const k = 10;
    const exact = buildNeighborGraph(v, n, d, k, 'exact');
    const a = buildNeighborGraph(v, n, d, k, 'hnsw');
    const b = buildNeighborGraph(v, n, d, k, 'hnsw');
    expect(a.method).toBe('hnsw');
    expect(Buffer.from(a.rows.buffer).equals(Buffer.from(b.rows.buffer))).toBe(true);
    let hit = 0;
    for (let i = 0; i < n; i++) {
      const row = a.rows.subarray(i * k, i * k + k);
      expect(row.includes(i)).toBe(false);
      const want = new Set(exact.rows.subarray(i * k, i * k + k));
      for (const x of row) if (want.has(x)) hit++;
    }
    expect(hit / (n * k)).toBeGreaterThanOrEqual(0.95);
  });
});
