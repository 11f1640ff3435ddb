// The q-net: the small per-query network that Hypencoder's hyper-head produces.
// Semantics follow the paper's RepeatedDenseBlockConverter exactly (see docs/FORMATS.md):
//   hidden layer j: y = ReLU(x·W_j + b_j); y = LayerNorm(y) (no affine, eps, biased variance);
//                   y = y + x when residual[j]; x = y
//   score = x·w_out (no bias)
// With no hidden layer (dims [d, 1]) the q-net is the inner product x·w_out: the paper's note that a
// Hypencoder replicates a dense retriever, whose query embedding is w_out.

export interface QNetArchitecture {
  /** [d, h_1, ..., h_L, 1]: input size, hidden sizes (L ≥ 0), and the final 1. */
  dims: number[];
  activation: 'relu';
  /** LayerNorm without learned parameters after every hidden activation. */
  layerNormEps: number;
  /** One flag per hidden layer; the paper: true for all but the last. */
  residual: boolean[];
}

export interface QNetWeights {
  arch: QNetArchitecture;
  /** matrices[j] is (in_j × out_j), row-major, so y = x·W (W[i*out + o]); the last is (h_L × 1). */
  matrices: Float32Array[];
  /** biases[j] has out_j entries, one per hidden layer (the final matrix has no bias). */
  biases: Float32Array[];
}

export const PAPER_LAYER_NORM_EPS = 1e-5;

/** The paper's architecture for d-dimensional documents and `hidden` layers of width h. */
export function paperArchitecture(d: number, h: number, hiddenLayers: number): QNetArchitecture {
  const dims = [d, ...Array.from({ length: hiddenLayers }, () => h), 1];
  return {
    dims,
    activation: 'relu',
    layerNormEps: PAPER_LAYER_NORM_EPS,
    residual: Array.from({ length: hiddenLayers }, (_, j) => j < hiddenLayers - 1),
  };
}

export function hiddenLayerCount(arch: QNetArchitecture): number {
  return arch.dims.length - 2;
}

/** The output widths of a q-net's hidden layers: dims without the input and the final 1 (none for [d, 1]). */
export function hiddenOutDims(dims: readonly number[]): number[] {
  return dims.slice(1, -1);
}

/** Throws with a message naming the field when the architecture is not a valid q-net. */
export function checkArchitecture(arch: QNetArchitecture, where = 'qnet'): void {
  const { dims, residual } = arch;
  if (!Array.isArray(dims) || dims.length < 2) {
    throw new Error(`${where}.dims: need [d, h_1, ..., h_L, 1] (L ≥ 0 hidden layers; [d, 1] is an inner product), got ${JSON.stringify(dims)}`);
  }
  dims.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}.dims[${i}]: must be a positive integer, got ${JSON.stringify(v)}`);
  });
  if (dims[dims.length - 1] !== 1) throw new Error(`${where}.dims: the last entry must be 1 (one score), got ${dims[dims.length - 1]}`);
  if (arch.activation !== 'relu') throw new Error(`${where}.activation: only "relu" is supported, got ${JSON.stringify(arch.activation)}`);
  if (!(arch.layerNormEps > 0)) throw new Error(`${where}.layer_norm_eps: must be > 0, got ${arch.layerNormEps}`);
  const L = dims.length - 2;
  if (!Array.isArray(residual) || residual.length !== L) {
    throw new Error(`${where}.residual: need one flag per hidden layer (${L}), got ${JSON.stringify(residual)}`);
  }
  residual.forEach((r, j) => {
    if (typeof r !== 'boolean') throw new Error(`${where}.residual[${j}]: must be true or false`);
    if (r && dims[j] !== dims[j + 1]) {
      throw new Error(`${where}.residual[${j}]: a residual layer needs equal in and out sizes, got ${dims[j]} → ${dims[j + 1]}`);
    }
  });
}

/** Expected element counts of every weight tensor, in order: W_0..W_L then b_0..b_{L-1}. */
export function weightShapes(arch: QNetArchitecture): { matrices: [number, number][]; biases: number[] } {
  const { dims } = arch;
  const matrices: [number, number][] = [];
  for (let j = 0; j + 1 < dims.length; j++) matrices.push([dims[j], dims[j + 1]]);
  const biases = dims.slice(1, -1);
  return { matrices, biases };
}

export function checkWeights(w: QNetWeights): void {
  checkArchitecture(w.arch);
  const shapes = weightShapes(w.arch);
  if (w.matrices.length !== shapes.matrices.length) {
    throw new Error(`q-net weights: expected ${shapes.matrices.length} matrices, got ${w.matrices.length}`);
  }
  if (w.biases.length !== shapes.biases.length) {
    throw new Error(`q-net weights: expected ${shapes.biases.length} biases, got ${w.biases.length}`);
  }
  shapes.matrices.forEach(([i, o], j) => {
    if (w.matrices[j].length !== i * o) throw new Error(`q-net weights: matrix ${j} should have ${i}×${o}=${i * o} values, got ${w.matrices[j].length}`);
  });
  shapes.biases.forEach((o, j) => {
    if (w.biases[j].length !== o) throw new Error(`q-net weights: bias ${j} should have ${o} values, got ${w.biases[j].length}`);
  });
}

/**
 * The reference scorer: the oracle for every other implementation.
 * Float64 throughout, so its own rounding error is negligible next to any f32 implementation.
 * `vectors` holds n rows of d values (row-major). If `magnitudes` is given, it receives
 * Σ|y_i·w_out_i| per document: the scale against which f32 rounding error is measured.
 */
export function referenceScores(w: QNetWeights, vectors: ArrayLike<number>, n: number, magnitudes?: Float64Array): Float64Array {
  checkWeights(w);
  const { dims, residual, layerNormEps } = w.arch;
  const d = dims[0];
  if (vectors.length < n * d) throw new Error(`referenceScores: need ${n}×${d} values, got ${vectors.length}`);
  const L = dims.length - 2;
  const hmax = Math.max(...dims);
  let x = new Float64Array(hmax);
  let y = new Float64Array(hmax);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) x[i] = vectors[r * d + i];
    for (let j = 0; j < L; j++) {
      const K = dims[j];
      const N = dims[j + 1];
      const W = w.matrices[j];
      const b = w.biases[j];
      for (let o = 0; o < N; o++) y[o] = b[o];
      for (let i = 0; i < K; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        const row = i * N;
        for (let o = 0; o < N; o++) y[o] += xi * W[row + o];
      }
      let mean = 0;
      for (let o = 0; o < N; o++) {
        if (y[o] < 0) y[o] = 0;
        mean += y[o];
      }
      mean /= N;
      let variance = 0;
      for (let o = 0; o < N; o++) variance += (y[o] - mean) * (y[o] - mean);
      variance /= N; // biased, as torch's layer_norm
      const rstd = 1 / Math.sqrt(variance + layerNormEps);
      for (let o = 0; o < N; o++) {
        y[o] = (y[o] - mean) * rstd;
        if (residual[j]) y[o] += x[o];
      }
      const t = x;
      x = y;
      y = t;
    }
    const wOut = w.matrices[L];
    let s = 0;
    let m = 0;
    for (let i = 0; i < dims[L]; i++) {
      s += x[i] * wOut[i];
      m += Math.abs(x[i] * wOut[i]);
    }
    out[r] = s;
    if (magnitudes) magnitudes[r] = m;
  }
  return out;
}

export interface TopK {
  indices: Uint32Array;
  scores: Float64Array;
}

/** The k best (score descending, then index ascending: a total order, so ties break the same way everywhere). */
export function referenceTopK(scores: ArrayLike<number>, k: number): TopK {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const m = Math.min(k, n);
  const indices = new Uint32Array(m);
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    indices[i] = order[i];
    out[i] = scores[order[i]];
  }
  return { indices, scores: out };
}

/** Random weights on the scale of a trained q-net (Kaiming-like), from a seeded generator. */
export function randomWeights(arch: QNetArchitecture, rand: () => number): QNetWeights {
  checkArchitecture(arch);
  const shapes = weightShapes(arch);
  const gaussian = gaussianFrom(rand);
  const matrices = shapes.matrices.map(([i, o]) => {
    const m = new Float32Array(i * o);
    const s = Math.sqrt(2 / i);
    for (let t = 0; t < m.length; t++) m[t] = gaussian() * s;
    return m;
  });
  const biases = shapes.biases.map((o) => {
    const b = new Float32Array(o);
    for (let t = 0; t < o; t++) b[t] = gaussian() * 0.1;
    return b;
  });
  return { arch, matrices, biases };
}

/** Mulberry32: a tiny seeded PRNG so tests and benchmarks are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussianFrom(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** n random document vectors of size d (unit-variance Gaussian, like BERT CLS vectors after scaling). */
export function randomVectors(n: number, d: number, rand: () => number): Float32Array {
  const g = gaussianFrom(rand);
  const v = new Float32Array(n * d);
  for (let t = 0; t < v.length; t++) v[t] = g();
  return v;
}
