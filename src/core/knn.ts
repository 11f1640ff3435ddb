// Exact k-nearest-neighbor graph by L2 distance (the index bundle's optional neighbor graph):
// row i lists the K nearest other documents, nearest first, ties by lower index; rows of a
// collection with fewer than K + 1 documents are padded with 0xFFFFFFFF. O(N² d): used up to a
// few thousand documents, beyond which the indexer uses an HNSW graph (src/cli/annGraph.ts).
import { GRAPH_NO_NEIGHBOR } from './formats/indexManifest.ts';

/** `vectors` is n × d row-major. Returns n × k u32 neighbor indices. */
export function exactKnnGraph(vectors: Float32Array, n: number, d: number, k: number): Uint32Array {
  const out = new Uint32Array(n * k).fill(GRAPH_NO_NEIGHBOR);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += vectors[i * d + t] * vectors[i * d + t];
    norms[i] = s;
  }
  const dist = new Float64Array(n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i * d;
    for (let j = 0; j < n; j++) {
      if (j === i) {
        dist[j] = Infinity;
        continue;
      }
      const b = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += vectors[a + t] * vectors[b + t];
      dist[j] = norms[i] + norms[j] - 2 * dot;
    }
    // Partial selection of the k smallest (k is small): insertion into a sorted prefix.
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dj = dist[j];
      if (m === k && !(dj < dist[order[m - 1]])) continue;
      let p = m < k ? m++ : k - 1;
      while (p > 0 && dist[order[p - 1]] > dj) {
        order[p] = order[p - 1];
        p--;
      }
      order[p] = j;
    }
    for (let r = 0; r < m; r++) out[i * k + r] = order[r];
  }
  return out;
}
