// What an approximate-search index adds to the vectors, computed from the vectors alone:
//   - kmeans / hierarchicalClusters: seeded Lloyd k-means (k-means++ start, trained on a sample,
//     then every vector assigned), two levels so 1M vectors × 1,000 leaves costs ~64 distance
//     evaluations per vector, not 1,000;
//   - chooseEntryPoints: the document nearest each leaf centroid — a walk that starts there
//     begins in every region of the collection (the paper samples 10,000 documents at random);
//   - localityLayout: a document order in which a walk touches few chunks of the files: entry
//     points first (one contiguous range, scored by every query), then the leaves, each leaf's
//     documents together, leaves of a coarse cluster together, clusters chained nearest-first;
//   - permuteVectors / permuteGraph: apply such an order to the vectors and the neighbor rows.
// Everything is deterministic for a given seed.
import { GRAPH_NO_NEIGHBOR } from './formats/indexManifest.ts';
import { seededRandom } from './qnet.ts';

export interface KMeansOptions {
  iterations?: number;
  seed?: number;
  /** Train on at most this many vectors (a seeded sample); all n are assigned at the end. */
  sample?: number;
}

export interface KMeansResult {
  k: number;
  /** k × d. */
  centroids: Float32Array;
  /** Cluster of each of the n vectors. */
  assign: Uint32Array;
}

/** Row `i` of `ids` (or i itself) as an index into `vectors`. */
function rowOf(ids: Uint32Array | null, i: number): number {
  return ids ? ids[i] : i;
}

function sqDist(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const x = a[ai + t] - b[bi + t];
    s += x * x;
  }
  return s;
}

/** Nearest centroid of every listed vector (ties: lower centroid). */
function assignAll(vectors: Float32Array, ids: Uint32Array | null, m: number, d: number, centroids: Float32Array, k: number, out: Uint32Array): void {
  const cn = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += centroids[c * d + t] * centroids[c * d + t];
    cn[c] = s;
  }
  for (let i = 0; i < m; i++) {
    const a = rowOf(ids, i) * d;
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      const b = c * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += vectors[a + t] * centroids[b + t];
      const dist = cn[c] - 2 * dot;
      if (dist < bestD) {
        bestD = dist;
        best = c;
      }
    }
    out[i] = best;
  }
}

/**
 * k-means over the vectors listed in `ids` (all n when null). k is capped at the number of
 * vectors. Returns centroids and the cluster of each listed vector (in `ids` order).
 */
export function kmeansOf(vectors: Float32Array, ids: Uint32Array | null, n: number, d: number, k: number, opts: KMeansOptions = {}): KMeansResult {
  if (!Number.isInteger(k) || k < 1) throw new Error(`kmeans: k must be a positive integer, got ${k}`);
  if (n < 1) throw new Error('kmeans: no vectors');
  k = Math.min(k, n);
  const rand = seededRandom(opts.seed ?? 1);
  const iterations = opts.iterations ?? 10;
  // Training sample: a seeded partial shuffle of positions 0..n-1.
  const m = Math.min(n, Math.max(k, opts.sample ?? Math.max(k * 64, 4096)));
  const pos = partialShuffle(n, m, rand);
  const train = new Uint32Array(m);
  for (let i = 0; i < m; i++) train[i] = rowOf(ids, pos[i]);

  // k-means++ start.
  const centroids = new Float32Array(k * d);
  const near = new Float64Array(m).fill(Infinity);
  let pick = Math.floor(rand() * m);
  for (let c = 0; c < k; c++) {
    centroids.set(vectors.subarray(train[pick] * d, train[pick] * d + d), c * d);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const dist = sqDist(vectors, train[i] * d, centroids, c * d, d);
      if (dist < near[i]) near[i] = dist;
      total += near[i];
    }
    if (c + 1 === k) break;
    let r = rand() * total;
    pick = m - 1;
    for (let i = 0; i < m; i++) {
      r -= near[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
  }

  const assign = new Uint32Array(m);
  const sums = new Float64Array(k * d);
  const counts = new Uint32Array(k);
  for (let it = 0; it < iterations; it++) {
    assignAll(vectors, train, m, d, centroids, k, assign);
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < m; i++) {
      const c = assign[i];
      counts[c]++;
      const a = train[i] * d;
      for (let t = 0; t < d; t++) sums[c * d + t] += vectors[a + t];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // An empty cluster restarts at a random training vector.
        const j = train[Math.floor(rand() * m)] * d;
        centroids.set(vectors.subarray(j, j + d), c * d);
      } else {
        for (let t = 0; t < d; t++) centroids[c * d + t] = sums[c * d + t] / counts[c];
      }
    }
  }
  const all = new Uint32Array(n);
  assignAll(vectors, ids, n, d, centroids, k, all);
  return { k, centroids, assign: all };
}

/** k-means over all n vectors. */
export function kmeans(vectors: Float32Array, n: number, d: number, k: number, opts: KMeansOptions = {}): KMeansResult {
  return kmeansOf(vectors, null, n, d, k, opts);
}

/** Visiting order of k points (centroids): start at 0, always go to the nearest unvisited. */
function chain(points: Float32Array, k: number, d: number): Uint32Array {
  const order = new Uint32Array(k);
  const used = new Uint8Array(k);
  let cur = 0;
  used[0] = 1;
  for (let i = 1; i < k; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      if (used[c]) continue;
      const dist = sqDist(points, cur * d, points, c * d, d);
      if (dist < bestD) {
        bestD = dist;
        best = c;
      }
    }
    order[i] = best;
    used[best] = 1;
    cur = best;
  }
  return order;
}

export interface Leaves {
  /** Number of leaves (about the requested count). */
  count: number;
  /** Leaf of each document; leaves are numbered in layout order (coarse cluster, then chain). */
  leafOf: Uint32Array;
  /** count × d. */
  centroids: Float32Array;
}

/**
 * Two-level k-means: ceil(sqrt(leaves)) coarse clusters, each split into leaves in proportion to
 * its size. Leaves are numbered so that leaves of one coarse cluster are consecutive and
 * neighbors in numbering are near in space.
 */
export function hierarchicalClusters(vectors: Float32Array, n: number, d: number, leaves: number, seed = 1): Leaves {
  if (!Number.isInteger(leaves) || leaves < 1) throw new Error(`hierarchicalClusters: leaves must be a positive integer, got ${leaves}`);
  leaves = Math.min(leaves, n);
  const k1 = Math.min(Math.ceil(Math.sqrt(leaves)), n);
  const coarse = kmeans(vectors, n, d, k1, { seed, iterations: 8 });
  const members: number[][] = Array.from({ length: coarse.k }, () => []);
  for (let i = 0; i < n; i++) members[coarse.assign[i]].push(i);
  const coarseOrder = chain(coarse.centroids, coarse.k, d);
  const leafOf = new Uint32Array(n);
  const cents: Float32Array[] = [];
  let next = 0;
  for (const c of coarseOrder) {
    const ids = Uint32Array.from(members[c]);
    if (ids.length === 0) continue;
    const want = Math.max(1, Math.min(ids.length, Math.round((leaves * ids.length) / n)));
    const fine = kmeansOf(vectors, ids, ids.length, d, want, { seed: seed + 1 + c, iterations: 6 });
    const order = chain(fine.centroids, fine.k, d);
    const rank = new Uint32Array(fine.k);
    order.forEach((leaf, r) => {
      rank[leaf] = r;
    });
    for (let i = 0; i < ids.length; i++) leafOf[ids[i]] = next + rank[fine.assign[i]];
    for (const leaf of order) cents.push(fine.centroids.subarray(leaf * d, leaf * d + d));
    next += fine.k;
  }
  const centroids = new Float32Array(next * d);
  cents.forEach((c, i) => {
    centroids.set(c, i * d);
  });
  return { count: next, leafOf, centroids };
}

/** The document nearest each leaf centroid, one per non-empty leaf, in leaf order. */
export function entryPointsOf(vectors: Float32Array, n: number, d: number, leaves: Leaves): Uint32Array {
  const best = new Float64Array(leaves.count).fill(Infinity);
  const who = new Uint32Array(leaves.count).fill(GRAPH_NO_NEIGHBOR);
  for (let i = 0; i < n; i++) {
    const l = leaves.leafOf[i];
    const dist = sqDist(vectors, i * d, leaves.centroids, l * d, d);
    if (dist < best[l]) {
      best[l] = dist;
      who[l] = i;
    }
  }
  return who.filter((v) => v !== GRAPH_NO_NEIGHBOR);
}

/**
 * About `count` entry points for the graph walk: the documents nearest the centroids of a
 * two-level k-means with `count` leaves (docs/INDEXING.md measures them against random ones).
 */
export function chooseEntryPoints(vectors: Float32Array, n: number, d: number, count: number, seed = 1): Uint32Array {
  return entryPointsOf(vectors, n, d, hierarchicalClusters(vectors, n, d, count, seed));
}

/** 0..n-1 with its first m places a seeded uniform draw without replacement (partial Fisher–Yates). */
function partialShuffle(n: number, m: number, rand: () => number): Uint32Array {
  const pos = new Uint32Array(n);
  for (let i = 0; i < n; i++) pos[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = pos[i];
    pos[i] = pos[j];
    pos[j] = t;
  }
  return pos;
}

/** `count` distinct documents drawn at random (seeded), ascending: the paper's entry points. */
export function randomEntryPoints(n: number, count: number, seed = 1): Uint32Array {
  count = Math.min(count, n);
  const rand = seededRandom(seed);
  return partialShuffle(n, count, rand).slice(0, count).sort();
}

export interface LocalityLayout {
  /** order[newId] = old document number. */
  order: Uint32Array;
  /** Entry points as new ids: 0 .. count-1. */
  entryPoints: Uint32Array;
  /** Leaves used (about the requested entry count). */
  leaves: number;
  /** leaves + 1 positions: leaf l's other documents are new ids leafStart[l] … leafStart[l+1] − 1. */
  leafStart: Uint32Array;
}

export interface LocalityOptions {
  /**
   * Split every leaf with more than this many documents by k-means into pieces of about this
   * size, stored piece by piece (pieces chained nearest-first): with it near the chunk size a
   * chunk holds one tight group of neighbors. Default: no split.
   */
  pieceDocs?: number;
}

/**
 * A document order for lazily fetched files: the entry points (one per leaf) first, then every
 * leaf's other documents together, leaves in hierarchicalClusters order; within a leaf, original
 * order, or piece by piece with `pieceDocs`. The walk scores the entry points (one contiguous
 * range) and then moves between neighboring documents, which now share chunks.
 */
export function localityLayout(vectors: Float32Array, n: number, d: number, entryCount: number, seed = 1, opts: LocalityOptions = {}): LocalityLayout {
  if (opts.pieceDocs !== undefined && (!Number.isInteger(opts.pieceDocs) || opts.pieceDocs < 1))
    throw new Error(`localityLayout: pieceDocs must be a positive integer, got ${opts.pieceDocs}`);
  const leaves = hierarchicalClusters(vectors, n, d, entryCount, seed);
  const entries = entryPointsOf(vectors, n, d, leaves);
  const isEntry = new Uint8Array(n);
  for (const e of entries) isEntry[e] = 1;
  const start = new Uint32Array(leaves.count + 1);
  for (let i = 0; i < n; i++) if (!isEntry[i]) start[leaves.leafOf[i] + 1]++;
  for (let l = 0; l < leaves.count; l++) start[l + 1] += start[l];
  const order = new Uint32Array(n);
  order.set(entries, 0);
  const fill = start.map((s) => s + entries.length);
  for (let i = 0; i < n; i++) if (!isEntry[i]) order[fill[leaves.leafOf[i]]++] = i;
  const piece = opts.pieceDocs;
  if (piece) {
    for (let l = 0; l < leaves.count; l++) {
      const a = entries.length + start[l];
      const b = entries.length + start[l + 1];
      if (b - a <= piece) continue;
      const ids = order.slice(a, b);
      const km = kmeansOf(vectors, ids, ids.length, d, Math.ceil((b - a) / piece), { seed: seed + 7919 + l, iterations: 5 });
      const rank = new Uint32Array(km.k);
      chain(km.centroids, km.k, d).forEach((c, r) => {
        rank[c] = r;
      });
      // Stable by piece rank: original order within a piece.
      const count = new Uint32Array(km.k + 1);
      for (let i = 0; i < ids.length; i++) count[rank[km.assign[i]] + 1]++;
      for (let c = 0; c < km.k; c++) count[c + 1] += count[c];
      for (let i = 0; i < ids.length; i++) order[a + count[rank[km.assign[i]]]++] = ids[i];
    }
  }
  const entryPoints = new Uint32Array(entries.length);
  for (let i = 0; i < entries.length; i++) entryPoints[i] = i;
  return { order, entryPoints, leaves: leaves.count, leafStart: start.map((x) => x + entries.length) };
}

/** Checks that `order` is a permutation of 0..n-1; returns its inverse (newIdOf[old] = new). */
export function inversePermutation(order: Uint32Array, n: number): Uint32Array {
  if (order.length !== n) throw new Error(`permutation: ${order.length} entries for ${n} documents`);
  const inv = new Uint32Array(n).fill(GRAPH_NO_NEIGHBOR);
  for (let i = 0; i < n; i++) {
    const o = order[i];
    if (o >= n || inv[o] !== GRAPH_NO_NEIGHBOR) throw new Error(`permutation: entry ${i} (${o}) is out of range or repeated`);
    inv[o] = i;
  }
  return inv;
}

/** Vectors in the new order: row i is old row order[i]. */
export function permuteVectors(vectors: Float32Array, n: number, d: number, order: Uint32Array): Float32Array {
  inversePermutation(order, n);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) out.set(vectors.subarray(order[i] * d, order[i] * d + d), i * d);
  return out;
}

/** Neighbor rows in the new order, with ids renumbered; padding stays at the end of each row. */
export function permuteGraph(rows: Uint32Array, n: number, degree: number, order: Uint32Array): Uint32Array {
  const inv = inversePermutation(order, n);
  const out = new Uint32Array(n * degree);
  for (let i = 0; i < n; i++) {
    const src = order[i] * degree;
    for (let j = 0; j < degree; j++) {
      const v = rows[src + j];
      out[i * degree + j] = v === GRAPH_NO_NEIGHBOR ? v : inv[v];
    }
  }
  return out;
}

/**
 * Fills each row's padding with reverse links: for every link u → v (nearest-first order of u's
 * row, rows in id order), u is appended to v's row if v's row has a free slot and lacks u. A
 * degree-bounded graph (HNSW layer 0 keeps ~13 of 32 slots on clustered data) leaves outliers
 * with no in-link at all — and a q-net's best documents are often outliers (extreme in some
 * direction), which a walk could then never reach. Returns how many links were added.
 */
export function addReverseLinks(rows: Uint32Array, n: number, degree: number): number {
  if (rows.length !== n * degree) throw new Error(`addReverseLinks: ${rows.length} ids is not ${n} × ${degree}`);
  const fill = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    while (m < degree && rows[i * degree + m] !== GRAPH_NO_NEIGHBOR) m++;
    fill[i] = m;
  }
  const original = fill.slice();
  let added = 0;
  // Rank by rank: every document's nearest out-link gets its reverse before anyone's second.
  for (let j = 0; j < degree; j++) {
    for (let u = 0; u < n; u++) {
      if (j >= original[u]) continue;
      const v = rows[u * degree + j];
      if (fill[v] >= degree) continue;
      const row = rows.subarray(v * degree, v * degree + fill[v]);
      if (row.includes(u)) continue;
      rows[v * degree + fill[v]++] = u;
      added++;
    }
  }
  return added;
}
