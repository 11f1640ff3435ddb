// How document vectors are stored in tiles and on the GPU: rows of 32-bit words, zero-padded.
//   f32:  one float per word            (stride = d words)
//   f16:  two halves per word, low half first, as WGSL's pack2x16float / unpack2x16float
//   int8: four signed bytes per word, low byte first, as WGSL's unpack4x8snorm; value = q/127 · absmax[dim]
// Each dtype is one entry of STORAGE_CODECS (storageCodecs.ts); these functions dispatch on it.
import { type EncodedVectors, STORAGE_CODECS, type StorageDtype } from './storageCodecs.ts';

export { int8Absmax, type EncodedVectors, type StorageDtype } from './storageCodecs.ts';

export const STORAGE_DTYPES = Object.keys(STORAGE_CODECS) as readonly StorageDtype[];

/**
 * The indexer's storage when none is asked for: int8 halves f16's bytes (the demo's vectors 4.96 MB →
 * about 2.5 MB) and kept quality where measured: Cranfield nDCG@10 neural 0.1863 → 0.1857, hybrid
 * 0.3875 → 0.3879; the Debian handbook question set MRR@10 neural 0.4043 → 0.4039, hybrid 0.8027 both.
 */
export const DEFAULT_STORAGE_DTYPE: StorageDtype = 'int8';

/** 32-bit words per stored row of d values. */
export function rowStrideWords(dtype: StorageDtype, d: number): number {
  return Math.ceil(d / STORAGE_CODECS[dtype].valuesPerWord);
}

export function encodeVectors(vectors: Float32Array, n: number, d: number, dtype: StorageDtype, absmax?: Float32Array): EncodedVectors {
  if (vectors.length < n * d) throw new Error(`encodeVectors: need ${n}×${d} values, got ${vectors.length}`);
  const strideWords = rowStrideWords(dtype, d);
  const words = new Uint32Array(n * strideWords);
  const extras = STORAGE_CODECS[dtype].encode(vectors, n, d, strideWords, words, absmax ? { absmax } : {});
  return { dtype, d, n, strideWords, words, ...extras };
}

/** The values the GPU will see, as plain floats: the oracle scores these. */
export function decodeVectors(e: EncodedVectors): Float32Array {
  const out = new Float32Array(e.n * e.d);
  STORAGE_CODECS[e.dtype].decode(e, out);
  return out;
}

/** Several tiles of one index decoded into one n × d array, in order. */
export function decodeTiles(tiles: EncodedVectors[]): Float32Array {
  const d = tiles[0]?.d ?? 0;
  const out = new Float32Array(tiles.reduce((s, t) => s + t.n, 0) * d);
  let row = 0;
  for (const t of tiles) {
    out.set(decodeVectors(t), row * d);
    row += t.n;
  }
  return out;
}
