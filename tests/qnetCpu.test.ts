// The fast CPU scorer (src/core/qnetCpu.ts, both kernels) against the Float64 reference scorer on
// random q-nets of 0–3 hidden layers, widths that are not multiples of the kernels' 4 or 8, document
// counts that are not multiples of the block (64) or of the 4-row step, and every storage dtype.
//
// Tolerance. Both sides score the same decoded Float32 vectors, so only f32 rounding separates them
// (u = 2^-24 ≈ 6e-8): the SIMD kernel accumulates in f32, the JS kernel in double, and both store
// activations as f32 between layers. A K-term dot product errs by about √K·u·Σ|terms| (random-walk
// rounding; K·u worst case); LayerNorm brings each row back to unit variance, so each layer adds a
// relative error of that size, and the last dot product measures it against Σ|y·w_out| (referenceScores'
// `magnitudes`). For K ≤ 256 and 3 layers: √3·16·6e-8 ≈ 2e-6; the worst case K·u·L ≈ 5e-5 is not reached
// by random signs. We allow 1e-5 of Σ|y·w_out|, the GPU scorer's bound (e2e/scorer.spec.ts); a skipped
// residual, or one bias off by 0.5 in the last real column before the padding, is ≥ 100× that (the
// negative controls below check that the comparison can fail).
import { describe, expect, it } from 'vitest';
import {
  paperArchitecture,
  randomVectors,
  randomWeights,
  referenceScores,
  referenceTopK,
  seededRandom,
  type QNetArchitecture,
  type QNetWeights,
} from '../src/core/qnet';
import { BLOCK_ROWS, CpuQNetScorer, type CpuKernel } from '../src/core/qnetCpu';
import { BoundedTopK } from '../src/core/boundedTopK.ts';
import { simdModuleBytes } from '../src/core/qnetSimd';
import { decodeTiles, encodeVectors, type StorageDtype } from '../src/core/vectorStorage';

const REL_TOL = 1e-5;
const KERNELS: CpuKernel[] = ['wasm-simd', 'js'];

const arch = (dims: number[], residual: boolean[], layerNormEps = 1e-5): QNetArchitecture => ({ dims, activation: 'relu', layerNormEps, residual });

const cases: { name: string; arch: QNetArchitecture; n: number; dtype: StorageDtype }[] = [
  { name: 'zero layers [100,1] (a dot product), N = 1000', arch: paperArchitecture(100, 1, 0), n: 1000, dtype: 'f16' },
  { name: 'zero layers [37,1], N = 1', arch: paperArchitecture(37, 1, 0), n: 1, dtype: 'f32' },
  { name: 'zero layers [37,1], N = 131 (each row read past its end into the next: times 0)', arch: paperArchitecture(37, 1, 0), n: 131, dtype: 'int8' },
  { name: 'one layer [37,37,1], N = 65', arch: paperArchitecture(37, 37, 1), n: 65, dtype: 'f32' },
  { name: 'one layer, d ≠ h, large eps [50,21,1], N = 3', arch: arch([50, 21, 1], [false], 0.5), n: 3, dtype: 'int8' },
  { name: 'the shipped dims [100,100,100,1], N = 4099', arch: paperArchitecture(100, 100, 2), n: 4099, dtype: 'f16' },
  { name: 'two layers, int8, N = 64 (one whole block)', arch: paperArchitecture(100, 100, 2), n: BLOCK_ROWS, dtype: 'int8' },
  { name: 'three layers [33,33,33,33,1], N = 130', arch: paperArchitecture(33, 33, 3), n: 130, dtype: 'f16' },
  {
    name: 'three layers, d ≠ h, residual only where sizes match [50,96,96,77,1], N = 701',
    arch: arch([50, 96, 96, 77, 1], [false, true, false]),
    n: 701,
    dtype: 'f32',
  },
  { name: 'three layers of width 256 [256,256,256,256,1], N = 67', arch: paperArchitecture(256, 256, 3), n: 67, dtype: 'int8' },
];

/** Vectors as the engine holds them: stored in `dtype` over several tiles, decoded with decodeTiles. */
function storedVectors(n: number, d: number, dtype: StorageDtype, seed: number): Float32Array {
  const raw = randomVectors(n, d, seededRandom(seed));
  const tileRows = Math.max(1, Math.ceil(n / 3));
  const tiles = [];
  for (let a = 0; a < n; a += tileRows) {
    const rows = Math.min(tileRows, n - a);
    tiles.push(encodeVectors(raw.subarray(a * d, (a + rows) * d), rows, d, dtype));
  }
  return decodeTiles(tiles);
}

/** max over documents of |got − ref| / Σ|y·w_out|. */
function worstRelError(got: ArrayLike<number>, ref: Float64Array, mags: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(mags[i], 1e-30));
  return worst;
}

/** Top-k ids equal to the reference's, except at positions where the reference's own scores tie within the tolerance. */
function expectTopKEqualUpToTies(got: { indices: Uint32Array }, ref: Float64Array, mags: Float64Array, k: number): void {
  const want = referenceTopK(ref, k);
  expect(got.indices.length).toBe(want.indices.length);
  for (let p = 0; p < want.indices.length; p++) {
    const a = got.indices[p];
    const b = want.indices[p];
    if (a === b) continue;
    const slack = REL_TOL * Math.max(mags[a], mags[b]);
    expect(Math.abs(ref[a] - ref[b]), `position ${p}: got doc ${a}, reference doc ${b}`).toBeLessThanOrEqual(slack);
  }
}

describe('CpuQNetScorer', () => {
  it('has its WebAssembly SIMD kernel here (a module that fails to validate would fall back to JS silently)', () => {
    expect(WebAssembly.validate(simdModuleBytes())).toBe(true);
    // Compiled synchronously (new WebAssembly.Module), which browsers limit in size on the main thread (4 kB in Chromium at times).
    expect(simdModuleBytes().length).toBeLessThan(4096);
    expect(new CpuQNetScorer().kernel).toBe('wasm-simd');
    expect(new CpuQNetScorer('js').kernel).toBe('js');
  });

  for (const kernel of KERNELS) {
    describe(`kernel ${kernel}`, () => {
      const scorer = new CpuQNetScorer(kernel); // one scorer for every case: its heap is reused and regrown
      for (const [c, { name, arch: a, n, dtype }] of cases.entries()) {
        it(`matches referenceScores and referenceTopK: ${name}, ${dtype}`, () => {
          const d = a.dims[0];
          const w = randomWeights(a, seededRandom(100 + c));
          const x = storedVectors(n, d, dtype, 200 + c);
          const mags = new Float64Array(n);
          const ref = referenceScores(w, x, n, mags);
          const got = scorer.scores(w, x, n);
          expect(got.length).toBe(n);
          expect(worstRelError(got, ref, mags)).toBeLessThan(REL_TOL);
          for (const k of [1, 10, n + 5]) expectTopKEqualUpToTies(scorer.topK(w, x, n, k), ref, mags, k);
        });
      }

      it('breaks exact ties by index, as referenceTopK: 50 distinct rows repeated over N = 1000', () => {
        const d = 40;
        const w = randomWeights(paperArchitecture(d, 40, 2), seededRandom(5));
        const distinct = randomVectors(50, d, seededRandom(6));
        const n = 1000;
        const x = new Float32Array(n * d);
        for (let r = 0; r < n; r++) x.set(distinct.subarray((r % 50) * d, ((r % 50) + 1) * d), r * d);
        const scores = scorer.scores(w, x, n);
        // A row's score does not depend on where it sits in a block: every copy scores the same bits.
        for (let r = 50; r < n; r++) expect(scores[r]).toBe(scores[r % 50]);
        for (const k of [1, 7, 20, 99, 1000]) {
          const got = scorer.topK(w, x, n, k);
          const want = referenceTopK(scores, k);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
        }
      });

      it('scores nothing for N = 0 and keeps nothing for k = 0', () => {
        const w = randomWeights(paperArchitecture(8, 8, 1), seededRandom(1));
        expect(scorer.scores(w, new Float32Array(0), 0).length).toBe(0);
        expect(scorer.topK(w, new Float32Array(0), 0, 10).indices.length).toBe(0);
        expect(scorer.topK(w, randomVectors(5, 8, seededRandom(2)), 5, 0).indices.length).toBe(0);
      });

      it('the tolerance can fail: a q-net with a flipped residual flag or one changed bias is ≥ 100× outside it', () => {
        const a = paperArchitecture(100, 100, 2);
        const w = randomWeights(a, seededRandom(9));
        const n = 257;
        const x = storedVectors(n, 100, 'f16', 10);
        const mags = new Float64Array(n);
        const ref = referenceScores(w, x, n, mags);
        const noResidual: QNetWeights = { ...w, arch: { ...a, residual: [false, false] } };
        expect(worstRelError(scorer.scores(noResidual, x, n), ref, mags)).toBeGreaterThan(100 * REL_TOL);
        const biases = w.biases.map((b) => b.slice());
        biases[1][99] += 0.5; // the last real column, next to the padding
        expect(worstRelError(scorer.scores({ ...w, biases }, x, n), ref, mags)).toBeGreaterThan(100 * REL_TOL);
      });
    });
  }

  it('refuses too few vectors, a bad document count or k, and bad weights, naming what is wrong', () => {
    const scorer = new CpuQNetScorer();
    const w = randomWeights(paperArchitecture(10, 10, 1), seededRandom(1));
    expect(() => scorer.scores(w, new Float32Array(95), 10)).toThrow('CpuQNetScorer.scores: need 10×10 values, got 95');
    expect(() => scorer.topK(w, new Float32Array(100), 1.5, 3)).toThrow('CpuQNetScorer.topK: document count must be a non-negative integer, got 1.5');
    expect(() => scorer.topK(w, new Float32Array(100), 10, -1)).toThrow('k must be a non-negative integer, got -1');
    expect(() => scorer.scores({ ...w, biases: [] }, new Float32Array(100), 10)).toThrow('expected 1 biases, got 0');
  });
});

describe('BoundedTopK, as the CPU scorer uses it', () => {
  it('keeps the k best of a stream in referenceTopK order, ties and NaN-free duplicates included', () => {
    const rand = seededRandom(3);
    // Few distinct values, so ties are everywhere.
    const scores = Array.from({ length: 5000 }, () => Math.floor(rand() * 40) - 20);
    for (const k of [1, 2, 3, 17, 100, 4999, 5000, 6000]) {
      const heap = new BoundedTopK(Math.min(k, scores.length));
      for (const [i, s] of scores.entries()) heap.push(i, s);
      const got = heap.sorted();
      const want = referenceTopK(scores, k);
      expect(Array.from(got.ids)).toEqual(Array.from(want.indices));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
    }
  });
});
