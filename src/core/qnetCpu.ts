// The fast CPU scorer: referenceScores' q-net (src/core/qnet.ts) over every document, for browsers
// without WebGPU (or where WebGPU is the slower one) and for Node. Same semantics, Float32 storage:
//   - documents go BLOCK_ROWS at a time, so each layer is a small matrix product Y = X·W whose
//     weights (100×100 floats = 40 kB for the shipped model) stay in cache across the block;
//   - the product is register-blocked: WebAssembly SIMD (qnetSimd.ts, 4 rows × 8 outputs in f32x4
//     lanes, then ReLU + LayerNorm + residual in f32x4 too), or where SIMD is missing a JS kernel of
//     4 rows × 4 outputs in locals and the same row steps in JS;
//   - widths are padded to a multiple of 8 with zero weights, so neither kernel has a remainder
//     loop (padded outputs are kept out of LayerNorm's statistics and never read by the next layer);
//     a last partial block is padded with zero rows, scored and dropped;
//   - the final dot product (h_L values per document): SIMD too, or a JS loop;
//   - the top k is kept in a bounded heap while blocks are scored: O(n log k), no sort of n scores.
// Weights, biases and activations live in one Float32 heap (the wasm memory when SIMD is used):
// allocated when a q-net needs more room than the last one, never per document or per block.
import { BoundedTopK } from './boundedTopK.ts';
import { maskKeeps } from './facets.ts';
import { checkWeights, type QNetWeights, type TopK } from './qnet.ts';
import { instantiateSimd, simdModule, type SimdKernels } from './qnetSimd.ts';

/** Documents per block: 64 rows × 104 floats × 4 bytes = 26 kB per activation buffer, next to the weights in L2. */
export const BLOCK_ROWS = 64;
/** Output widths are padded to this (the SIMD kernel's 8 outputs per step). */
const PAD = 8;
const WASM_PAGE_FLOATS = 65536 / 4;

export type CpuKernel = 'wasm-simd' | 'js';

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** One hidden layer's place in the heap (float offsets): W is K × Np, zero-padded; b has Np entries. */
interface Layer {
  K: number;
  N: number;
  Np: number;
  w: number;
  b: number;
  residual: boolean;
}

interface Plan {
  d: number;
  layers: Layer[];
  wOut: Float32Array;
  eps: number;
  /** w_out zero-padded to a multiple of 4 (SIMD dot), and the block's f32 scores. */
  out: number;
  outScores: number;
  /** The block's input rows (stride d) and the two activation buffers (stride ≤ width). */
  input: number;
  act: [number, number];
  floats: number;
}

export class CpuQNetScorer {
  readonly kernel: CpuKernel;
  private heap = new Float32Array(0);
  private memory: WebAssembly.Memory | null = null;
  private simd: SimdKernels | null = null;
  private readonly module: WebAssembly.Module | null;

  /** 'auto' (default): WebAssembly SIMD where the engine has it, else the JS kernel. */
  constructor(kernel: CpuKernel | 'auto' = 'auto') {
    this.module = kernel === 'js' ? null : simdModule();
    if (kernel === 'wasm-simd' && !this.module) throw new Error('CpuQNetScorer: this JavaScript engine has no WebAssembly SIMD');
    this.kernel = this.module ? 'wasm-simd' : 'js';
  }

  /** Every document's score: referenceScores' values, to Float32 rounding. */
  scores(w: QNetWeights, vectors: Float32Array, n: number): Float64Array {
    const plan = this.load(w, vectors, n, 'CpuQNetScorer.scores');
    const out = new Float64Array(n);
    for (let start = 0; start < n; start += BLOCK_ROWS) this.scoreBlock(plan, vectors, start, Math.min(BLOCK_ROWS, n - start), out, start);
    return out;
  }

  /** The k best documents in referenceTopK's order (score descending, then index ascending); with `mask`, among those whose bit is set (facets.ts passageMask). */
  topK(w: QNetWeights, vectors: Float32Array, n: number, k: number, mask?: Uint32Array): TopK {
    if (!Number.isInteger(k) || k < 0) throw new Error(`CpuQNetScorer.topK: k must be a non-negative integer, got ${k}`);
    const plan = this.load(w, vectors, n, 'CpuQNetScorer.topK');
    const heap = new BoundedTopK(Math.min(k, n));
    const block = new Float64Array(BLOCK_ROWS);
    for (let start = 0; start < n; start += BLOCK_ROWS) {
      const rows = Math.min(BLOCK_ROWS, n - start);
      this.scoreBlock(plan, vectors, start, rows, block, 0);
      for (let r = 0; r < rows; r++) if (maskKeeps(mask, start + r)) heap.push(start + r, block[r]);
    }
    const { ids, scores } = heap.sorted();
    return { indices: ids, scores };
  }

  /** Checks the inputs, lays the q-net out in the heap (padded), and returns where everything is. */
  private load(w: QNetWeights, vectors: Float32Array, n: number, where: string): Plan {
    checkWeights(w);
    const { dims, residual, layerNormEps } = w.arch;
    const d = dims[0];
    if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: document count must be a non-negative integer, got ${n}`);
    if (vectors.length < n * d) throw new Error(`${where}: need ${n}×${d} values, got ${vectors.length}`);
    const L = dims.length - 2;
    let at = 0;
    const layers: Layer[] = [];
    for (let j = 0; j < L; j++) {
      const K = dims[j];
      const N = dims[j + 1];
      const Np = roundUp(N, PAD);
      layers.push({ K, N, Np, w: at, b: at + K * Np, residual: residual[j] });
      at += K * Np + Np;
    }
    const width = Math.max(d, ...layers.map((l) => l.Np));
    const out = at;
    const outScores = out + roundUp(dims[L], PAD);
    const input = outScores + BLOCK_ROWS;
    // PAD floats of slack after the input rows: the SIMD residual reads each row's padding width (qnetSimd.ts, norm).
    const act: [number, number] = [input + roundUp(BLOCK_ROWS * d + PAD, PAD), 0];
    act[1] = act[0] + BLOCK_ROWS * width;
    const plan: Plan = { d, layers, wOut: w.matrices[L], eps: layerNormEps, out, outScores, input, act, floats: act[1] + BLOCK_ROWS * width };
    this.reserve(plan.floats);
    const F = this.heap;
    for (let j = 0; j < L; j++) {
      const { K, N, Np } = layers[j];
      const src = w.matrices[j];
      F.fill(0, layers[j].w, layers[j].b + Np);
      for (let i = 0; i < K; i++) F.set(src.subarray(i * N, (i + 1) * N), layers[j].w + i * Np);
      F.set(w.biases[j], layers[j].b);
    }
    F.fill(0, out, outScores);
    F.set(w.matrices[L], out);
    return plan;
  }

  private reserve(floats: number): void {
    if (this.heap.length >= floats) return;
    if (this.module) {
      const pages = Math.ceil(floats / WASM_PAGE_FLOATS);
      if (!this.memory) {
        this.memory = new WebAssembly.Memory({ initial: pages });
        this.simd = instantiateSimd(this.module, this.memory);
      } else {
        this.memory.grow(pages - this.memory.buffer.byteLength / 65536);
      }
      this.heap = new Float32Array(this.memory.buffer);
    } else {
      this.heap = new Float32Array(floats);
    }
  }

  /** Scores of documents [start, start + rows) into out[at..at + rows); rows ≤ BLOCK_ROWS. */
  private scoreBlock(p: Plan, vectors: Float32Array, start: number, rows: number, out: Float64Array, at: number): void {
    const F = this.heap;
    const { d, layers, wOut, eps } = p;
    const rows4 = roundUp(rows, 4);
    F.set(vectors.subarray(start * d, (start + rows) * d), p.input);
    if (rows4 > rows) F.fill(0, p.input + rows * d, p.input + rows4 * d);
    let x = p.input;
    let xs = d;
    for (let j = 0; j < layers.length; j++) {
      const layer = layers[j];
      const y = p.act[j % 2];
      if (this.simd) {
        this.simd.gemm(4 * x, 4 * xs, rows4, 4 * layer.w, layer.K, layer.Np, 4 * layer.b, 4 * y);
        this.simd.norm(4 * y, rows4, layer.N, layer.Np, eps, 4 * x, 4 * xs, layer.residual ? 1 : 0);
      } else {
        matmulBias(F, x, xs, rows4, layer, y);
        reluNormResidual(F, y, rows4, layer, eps, x, xs);
      }
      x = y;
      xs = layer.Np;
    }
    const K = wOut.length;
    if (this.simd) {
      this.simd.dot(4 * x, 4 * xs, rows, 4 * p.out, Math.ceil(K / 4), 4 * p.outScores);
      for (let r = 0; r < rows; r++) out[at + r] = F[p.outScores + r];
      return;
    }
    for (let r = 0; r < rows; r++) {
      const row = x + r * xs;
      let acc = 0;
      for (let i = 0; i < K; i++) acc += F[row + i] * wOut[i];
      out[at + r] = acc;
    }
  }
}

/**
 * The JS kernel: F[y + r·Np + o] = b[o] + Σ_i F[x + r·xs + i]·W[i][o] for `rows` rows (a multiple
 * of 4). Four documents × four outputs per step: 8 loads feed 16 multiply-adds kept in locals.
 */
function matmulBias(F: Float32Array, x: number, xs: number, rows: number, layer: Layer, y: number): void {
  const { K, Np, w, b } = layer;
  for (let r = 0; r < rows; r += 4) {
    const x0 = x + r * xs;
    const x1 = x0 + xs;
    const x2 = x1 + xs;
    const x3 = x2 + xs;
    for (let o = 0; o < Np; o += 4) {
      const b0 = F[b + o];
      const b1 = F[b + o + 1];
      const b2 = F[b + o + 2];
      const b3 = F[b + o + 3];
      // biome-ignore format: the 4 × 4 tile
      let a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3, a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
      for (let i = 0, wi = w + o; i < K; i++, wi += Np) {
        const w0 = F[wi];
        const w1 = F[wi + 1];
        const w2 = F[wi + 2];
        const w3 = F[wi + 3];
        const v0 = F[x0 + i];
        const v1 = F[x1 + i];
        const v2 = F[x2 + i];
        const v3 = F[x3 + i];
        a00 += v0 * w0;
        a01 += v0 * w1;
        a02 += v0 * w2;
        a03 += v0 * w3;
        a10 += v1 * w0;
        a11 += v1 * w1;
        a12 += v1 * w2;
        a13 += v1 * w3;
        a20 += v2 * w0;
        a21 += v2 * w1;
        a22 += v2 * w2;
        a23 += v2 * w3;
        a30 += v3 * w0;
        a31 += v3 * w1;
        a32 += v3 * w2;
        a33 += v3 * w3;
      }
      let yo = y + r * Np + o;
      F[yo] = a00;
      F[yo + 1] = a01;
      F[yo + 2] = a02;
      F[yo + 3] = a03;
      yo += Np;
      F[yo] = a10;
      F[yo + 1] = a11;
      F[yo + 2] = a12;
      F[yo + 3] = a13;
      yo += Np;
      F[yo] = a20;
      F[yo + 1] = a21;
      F[yo + 2] = a22;
      F[yo + 3] = a23;
      yo += Np;
      F[yo] = a30;
      F[yo + 1] = a31;
      F[yo + 2] = a32;
      F[yo + 3] = a33;
    }
  }
}

/** In place on the block at y (row stride Np, N real columns): ReLU, LayerNorm without affine, then + X when residual. */
function reluNormResidual(F: Float32Array, y: number, rows: number, layer: Layer, eps: number, x: number, xs: number): void {
  const { N, Np, residual } = layer;
  for (let r = 0; r < rows; r++) {
    const y0 = y + r * Np;
    let sum = 0;
    for (let o = y0; o < y0 + N; o++) {
      // biome-ignore lint/complexity/useMathMinMax: Math.max measured up to 2× slower here in V8; and NaN stays NaN, as in the reference
      const v = F[o] < 0 ? 0 : F[o];
      F[o] = v;
      sum += v;
    }
    const mean = sum / N;
    let sq = 0;
    for (let o = y0; o < y0 + N; o++) {
      const c = F[o] - mean;
      sq += c * c;
    }
    const rstd = 1 / Math.sqrt(sq / N + eps); // biased variance, as torch's layer_norm
    if (residual) {
      for (let o = 0, x0 = x + r * xs; o < N; o++) F[y0 + o] = (F[y0 + o] - mean) * rstd + F[x0 + o];
    } else {
      for (let o = y0; o < y0 + N; o++) F[o] = (F[o] - mean) * rstd;
    }
  }
}
