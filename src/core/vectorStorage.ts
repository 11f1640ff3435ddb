// How document vectors are stored in tiles and on the GPU: rows of 32-bit words, zero-padded.
//   f32:  one float per word            (stride = d words)
//   f16:  two halves per word, low half first, as WGSL's pack2x16float / unpack2x16float
//   int8: four signed bytes per word, low byte first, as WGSL's unpack4x8snorm; value = q/127 · absmax[dim]
import { Float16Array, getFloat16, setFloat16 } from '@petamoriken/float16';

/** Little-endian host: Uint16Array views of the words are the file's byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let halfTable: Float32Array | null = null;
/** Every f16 bit pattern's value (getFloat16 of it), so decoding is one table lookup per value. */
function halfToFloat(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    const dv = new DataView(new ArrayBuffer(2));
    for (let b = 0; b < 65536; b++) {
      dv.setUint16(0, b, true);
      halfTable[b] = getFloat16(dv, 0, true);
    }
  }
  return halfTable;
}

export type StorageDtype = 'f32' | 'f16' | 'int8';
export const STORAGE_DTYPES: readonly StorageDtype[] = ['f32', 'f16', 'int8'];

/** 32-bit words per stored row of d values. */
export function rowStrideWords(dtype: StorageDtype, d: number): number {
  switch (dtype) {
    case 'f32':
      return d;
    case 'f16':
      return Math.ceil(d / 2);
    case 'int8':
      return Math.ceil(d / 4);
  }
}

export interface EncodedVectors {
  dtype: StorageDtype;
  d: number;
  n: number;
  strideWords: number;
  /** n × strideWords words. */
  words: Uint32Array;
  /** int8 only: per-dimension absolute maximum (dequantized value = q / 127 · absmax[dim]). */
  absmax?: Float32Array;
}

/** Per-dimension absmax over a set of vectors, for int8 quantization. Zero dims get 1 to stay finite. */
export function int8Absmax(vectors: Float32Array, n: number, d: number): Float32Array {
  const a = new Float32Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) a[i] = Math.max(a[i], Math.abs(vectors[r * d + i]));
  for (let i = 0; i < d; i++) if (!(a[i] > 0)) a[i] = 1;
  return a;
}

export function encodeVectors(vectors: Float32Array, n: number, d: number, dtype: StorageDtype, absmax?: Float32Array): EncodedVectors {
  if (vectors.length < n * d) throw new Error(`encodeVectors: need ${n}×${d} values, got ${vectors.length}`);
  const strideWords = rowStrideWords(dtype, d);
  const words = new Uint32Array(n * strideWords);
  const view = new DataView(words.buffer);
  if (dtype === 'f32') {
    const f = new Float32Array(words.buffer);
    f.set(vectors.subarray(0, n * d));
  } else if (dtype === 'f16') {
    if (LITTLE_ENDIAN) {
      // Float16Array rounds as setFloat16 does (the same library); ~50× faster than a DataView call per value.
      const halves = new Uint16Array(words.buffer);
      const rows = 4096;
      for (let r0 = 0; r0 < n; r0 += rows) {
        const m = Math.min(rows, n - r0);
        const bits = new Uint16Array(new Float16Array(vectors.subarray(r0 * d, (r0 + m) * d)).buffer);
        if (d % 2 === 0) halves.set(bits, r0 * d);
        else for (let r = 0; r < m; r++) halves.set(bits.subarray(r * d, (r + 1) * d), (r0 + r) * strideWords * 2);
      }
    } else {
      for (let r = 0; r < n; r++) {
        const base = r * strideWords * 4;
        for (let i = 0; i < d; i++) setFloat16(view, base + i * 2, vectors[r * d + i], true);
      }
    }
  } else {
    const scale = absmax ?? int8Absmax(vectors, n, d);
    if (scale.length !== d) throw new Error(`encodeVectors: int8 absmax needs ${d} values, got ${scale.length}`);
    for (let r = 0; r < n; r++) {
      const base = r * strideWords * 4;
      for (let i = 0; i < d; i++) {
        const q = Math.max(-127, Math.min(127, Math.round((vectors[r * d + i] / scale[i]) * 127)));
        view.setInt8(base + i, q);
      }
    }
    return { dtype, d, n, strideWords, words, absmax: scale };
  }
  return { dtype, d, n, strideWords, words };
}

/** The values the GPU will see, as plain floats: the oracle scores these. */
export function decodeVectors(e: EncodedVectors): Float32Array {
  const { n, d, strideWords, words } = e;
  const out = new Float32Array(n * d);
  if (e.dtype === 'f16' && LITTLE_ENDIAN && words.byteOffset % 2 === 0) {
    const table = halfToFloat();
    const halves = new Uint16Array(words.buffer, words.byteOffset, words.length * 2);
    for (let r = 0; r < n; r++) {
      const base = r * strideWords * 2;
      for (let i = 0; i < d; i++) out[r * d + i] = table[halves[base + i]];
    }
    return out;
  }
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  for (let r = 0; r < n; r++) {
    const base = r * strideWords * 4;
    for (let i = 0; i < d; i++) {
      let v: number;
      if (e.dtype === 'f32') v = view.getFloat32(base + i * 4, true);
      else if (e.dtype === 'f16') v = getFloat16(view, base + i * 2, true);
      else v = (view.getInt8(base + i) / 127) * e.absmax![i];
      out[r * d + i] = v;
    }
  }
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
