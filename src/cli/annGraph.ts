// The index bundle's neighbor graph, three constructions:
//   - 'exact': exact k-NN lists (src/core/knn.ts), up to EXACT_GRAPH_MAX documents by default;
//   - 'hnsw':  k-NN lists answered by an HNSW index (hnswlib-node, the reference C++ hnswlib);
//   - 'hnsw0': the HNSW index's own layer-0 links — a degree-bounded graph (at most 2·M links per
//              document) whose links were chosen by HNSW's neighbor-selection heuristic (Vamana's
//              RobustPrune with alpha = 1) and include the reverse links and the long links made
//              while the index was sparse. hnswlib-node has no call that returns them, so the
//              index is saved with writeIndexSync and layer 0 is read from hnswlib's file layout
//              (readHnswLayer0 below; checked against the file's own header fields).
//              Optionally refined by src/core/graphBuild.ts's robustPrune with alpha > 1.
// HNSW is built on one thread with a fixed seed and points added in document order, so every
// construction is deterministic.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exactKnnGraph } from '../core/knn.ts';
import { GRAPH_NO_NEIGHBOR } from '../core/formats/index.ts';

/** Above this many documents the exact O(N²d) pass gives way to HNSW (see docs/INDEXING.md for the measurement). */
export const EXACT_GRAPH_MAX = 1000;
export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 200;
export const HNSW_SEED = 100;

export type GraphMethod = 'exact' | 'hnsw' | 'hnsw0';

export interface GraphBuild {
  rows: Uint32Array;
  /** Ids per row (rows padded with GRAPH_NO_NEIGHBOR). */
  degree: number;
  method: GraphMethod;
}

function hnswIndex(vectors: Float32Array, n: number, d: number, m: number, efConstruction: number) {
  const require = createRequire(import.meta.url);
  const { HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node');
  const index = new HierarchicalNSW('l2', d);
  index.initIndex(n, m, efConstruction, HNSW_SEED);
  const row = (i: number) => Array.from(vectors.subarray(i * d, (i + 1) * d));
  for (let i = 0; i < n; i++) index.addPoint(row(i), i);
  return { index, row };
}

/**
 * k-NN lists: 'exact' or 'hnsw' (k neighbors per row, nearest first), or 'hnsw0' (HNSW layer-0
 * links, degree 2·m where m = ceil(k / 2), so the degree is k rounded up to even).
 */
export function buildNeighborGraph(
  vectors: Float32Array,
  n: number,
  d: number,
  k: number,
  method: 'auto' | GraphMethod = 'auto',
  efConstruction = HNSW_EF_CONSTRUCTION,
): GraphBuild {
  const use = method === 'auto' ? (n <= EXACT_GRAPH_MAX ? 'exact' : 'hnsw') : method;
  if (use === 'exact') return { rows: exactKnnGraph(vectors, n, d, k), degree: k, method: 'exact' };
  if (use === 'hnsw0') {
    const m = Math.max(2, Math.ceil(k / 2));
    const { index } = hnswIndex(vectors, n, d, m, efConstruction);
    const dir = mkdtempSync(path.join(tmpdir(), 'hnsw-'));
    try {
      const file = path.join(dir, 'index.bin');
      index.writeIndexSync(file);
      const g = readHnswLayer0(readFileSync(file), n, file);
      return { rows: sortRowsByDistance(g.rows, g.degree, vectors, n, d), degree: g.degree, method: 'hnsw0' };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const { index, row } = hnswIndex(vectors, n, d, HNSW_M, efConstruction);
  index.setEf(Math.max(2 * (k + 1), 64));
  const rows = new Uint32Array(n * k).fill(GRAPH_NO_NEIGHBOR);
  const want = Math.min(k + 1, n);
  for (let i = 0; i < n; i++) {
    const r = index.searchKnn(row(i), want);
    const pairs = r.neighbors.map((id, j) => ({ id, dist: r.distances[j] })).filter((p) => p.id !== i);
    pairs.sort((a, b) => a.dist - b.dist || a.id - b.id);
    pairs.slice(0, k).forEach((p, j) => {
      rows[i * k + j] = p.id;
    });
  }
  return { rows, degree: k, method: 'hnsw' };
}

/** Each row's ids nearest first (ties by id), padding last: the order graph shards store. */
function sortRowsByDistance(rows: Uint32Array, degree: number, vectors: Float32Array, n: number, d: number): Uint32Array {
  const dist = new Float64Array(degree);
  const idx = Array.from({ length: degree }, (_, i) => i);
  const tmp = new Uint32Array(degree);
  for (let i = 0; i < n; i++) {
    const row = rows.subarray(i * degree, (i + 1) * degree);
    let m = 0;
    while (m < degree && row[m] !== GRAPH_NO_NEIGHBOR) m++;
    for (let j = 0; j < m; j++) {
      let s = 0;
      const a = i * d;
      const b = row[j] * d;
      for (let t = 0; t < d; t++) {
        const x = vectors[a + t] - vectors[b + t];
        s += x * x;
      }
      dist[j] = s;
    }
    const o = idx.slice(0, m).sort((x, y) => dist[x] - dist[y] || row[x] - row[y]);
    for (let j = 0; j < m; j++) tmp[j] = row[o[j]];
    row.set(tmp.subarray(0, m));
  }
  return rows;
}

/**
 * Layer 0 of an index saved by hnswlib's saveIndex (hnswalg.h): a 96-byte header (offsetLevel0,
 * max_elements, cur_element_count, size_data_per_element, label_offset, offsetData: u64; maxlevel:
 * i32; enterpoint: u32; maxM, maxM0, M: u64; mult: f64; ef_construction: u64), then
 * cur_element_count records of size_data_per_element bytes: a u32 whose low 16 bits count the
 * links, maxM0 u32 internal ids, the vector, and the u64 label at label_offset. Rows are returned
 * by label, ids translated to labels, padded with GRAPH_NO_NEIGHBOR; degree = maxM0.
 */
export function readHnswLayer0(buf: Uint8Array, n: number, file = 'hnsw index'): { rows: Uint32Array; degree: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u64 = (o: number) => Number(v.getBigUint64(o, true));
  if (buf.byteLength < 96) throw new Error(`${file}: truncated hnswlib header (${buf.byteLength} bytes)`);
  const offsetLevel0 = u64(0);
  const count = u64(16);
  const sizePer = u64(24);
  const labelOffset = u64(32);
  const offsetData = u64(40);
  const maxM0 = u64(64);
  if (offsetLevel0 !== 0 || count !== n || offsetData !== 4 + 4 * maxM0 || labelOffset + 8 > sizePer || 96 + count * sizePer > buf.byteLength) {
    throw new Error(
      `${file}: unexpected hnswlib layout (offsetLevel0 ${offsetLevel0}, count ${count} for ${n} points, size_data_per_element ${sizePer}, offsetData ${offsetData}, maxM0 ${maxM0})`,
    );
  }
  const degree = maxM0;
  const labelOf = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const label = u64(96 + i * sizePer + labelOffset);
    if (label >= n) throw new Error(`${file}: element ${i} has label ${label}, beyond ${n} points`);
    labelOf[i] = label;
  }
  const rows = new Uint32Array(n * degree).fill(GRAPH_NO_NEIGHBOR);
  for (let i = 0; i < n; i++) {
    const base = 96 + i * sizePer;
    const links = v.getUint16(base, true);
    if (links > degree) throw new Error(`${file}: element ${i} has ${links} links, more than maxM0 ${degree}`);
    const out = labelOf[i] * degree;
    for (let j = 0; j < links; j++) {
      const id = v.getUint32(base + 4 + 4 * j, true);
      if (id >= n) throw new Error(`${file}: element ${i} links to ${id}, beyond ${n} points`);
      rows[out + j] = labelOf[id];
    }
  }
  return { rows, degree };
}
