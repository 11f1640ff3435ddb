// A q-net with no hidden layer (dims [d, 1]) is an inner product with its one weight vector, the
// query embedding of a dense retriever. The reference must score exactly that, in Float64.
import { describe, expect, it } from 'vitest';
import { checkArchitecture, paperArchitecture, randomVectors, randomWeights, referenceScores, referenceTopK, seededRandom } from '../src/core/qnet';
import { decodeVectors, encodeVectors } from '../src/core/vectorStorage';

/** x · w in Float64, written out independently of referenceScores. */
function innerProducts(vectors: ArrayLike<number>, w: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += vectors[r * d + i] * w[i];
    out[r] = s;
  }
  return out;
}

describe('zero-layer q-net reference', () => {
  for (const [d, n] of [
    [33, 1],
    [100, 257],
    [768, 1000],
  ]) {
    it(`scores x · w_out for d=${d}, N=${n} (f32 and int8-stored documents), and its top 10 is the brute-force one`, () => {
      const arch = paperArchitecture(d, 1, 0);
      expect(arch.dims).toEqual([d, 1]);
      const w = randomWeights(arch, seededRandom(d));
      expect(w.biases).toEqual([]);
      const raw = randomVectors(n, d, seededRandom(n));
      for (const vectors of [raw, decodeVectors(encodeVectors(raw, n, d, 'int8'))]) {
        const mags = new Float64Array(n);
        const got = referenceScores(w, vectors, n, mags);
        const want = innerProducts(vectors, w.matrices[0], n, d);
        // The same Float64 sum in the same order: equal to the bit.
        expect(got).toEqual(want);
        const absSums = innerProducts(Float64Array.from(vectors, Math.abs), Float64Array.from(w.matrices[0], Math.abs), n, d);
        expect(mags).toEqual(absSums);
        expect(referenceTopK(got, 10)).toEqual(referenceTopK(want, 10));
      }
    });
  }

  it('refuses a q-net without its final 1 and residual flags it has no layer for', () => {
    expect(() => checkArchitecture({ dims: [8], activation: 'relu', layerNormEps: 1e-5, residual: [] })).toThrow('qnet.dims: need [d, h_1, ..., h_L, 1]');
    expect(() => checkArchitecture({ dims: [8, 2], activation: 'relu', layerNormEps: 1e-5, residual: [] })).toThrow('the last entry must be 1');
    expect(() => checkArchitecture({ dims: [8, 1], activation: 'relu', layerNormEps: 1e-5, residual: [false] })).toThrow('one flag per hidden layer (0)');
  });
});
