// The index bundle's neighbor graph: exact k-NN (src/core/knn.ts) up to EXACT_GRAPH_MAX
// documents, HNSW (hnswlib-node, the reference C++ hnswlib) beyond. HNSW is built on one thread
// with a fixed seed and queried in document order, so it is deterministic too.
import { createRequire } from 'node:module';
import { exactKnnGraph } from '../core/knn.ts';
import { GRAPH_NO_NEIGHBOR } from '../core/formats/index.ts';

/** Above this many documents the exact O(N²d) pass gives way to HNSW (see docs/INDEXING.md for the measurement). */
export const EXACT_GRAPH_MAX = 1000;
export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 200;
export const HNSW_SEED = 100;

export interface GraphBuild {
  rows: Uint32Array;
  method: 'exact' | 'hnsw';
}

export function buildNeighborGraph(vectors: Float32Array, n: number, d: number, k: number, method: 'auto' | 'exact' | 'hnsw' = 'auto'): GraphBuild {
  const use = method === 'auto' ? (n <= EXACT_GRAPH_MAX ? 'exact' : 'hnsw') : method;
  if (use === 'exact') return { rows: exactKnnGraph(vectors, n, d, k), method: 'exact' };
  const require = createRequire(import.meta.url);
  const { HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node');
  const index = new HierarchicalNSW('l2', d);
  index.initIndex(n, HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_SEED);
  const row = (i: number) => Array.from(vectors.subarray(i * d, (i + 1) * d));
  for (let i = 0; i < n; i++) index.addPoint(row(i), i);
  index.setEf(Math.max(2 * (k + 1), 64));
  const rows = new Uint32Array(n * k).fill(GRAPH_NO_NEIGHBOR);
  const want = Math.min(k + 1, n);
  for (let i = 0; i < n; i++) {
    const r = index.searchKnn(row(i), want);
    const pairs = r.neighbors.map((id, j) => ({ id, dist: r.distances[j] })).filter((p) => p.id !== i);
    pairs.sort((a, b) => a.dist - b.dist || a.id - b.id);
    pairs.slice(0, k).forEach((p, j) => (rows[i * k + j] = p.id));
  }
  return { rows, method: 'hnsw' };
}
