// The storage dtypes of document vectors, one table entry each: how many values a 32-bit word
// holds, how values are written and read back, which stored words a writer must never emit, what
// the dtype adds to the manifest's `storage` object, and which WGSL file (shaders/) reads it on the
// GPU. A new dtype is one entry here (and its name in StorageDtype) plus that WGSL loader.
// Rows are zero-padded to whole words; words are little-endian, as WebGPU reads them.
import { Float16Array, getFloat16, setFloat16 } from '@petamoriken/float16';
import { fail, show, type ObjectReader } from './formats/fields.ts';

export type StorageDtype = 'f32' | 'f16' | 'int8';

/** What a dtype adds to a tile and to the manifest's storage object (int8: the per-dimension scale). */
export interface StorageExtras {
  /** int8 only: per-dimension absolute maximum (dequantized value = q / 127 · absmax[dim]). */
  absmax?: Float32Array;
}

export interface EncodedVectors extends StorageExtras {
  dtype: StorageDtype;
  d: number;
  n: number;
  strideWords: number;
  /** n × strideWords words. */
  words: Uint32Array;
}

/** A value check's verdict on one stored value (dim) or on a row's padding (dim null). */
export type BadValue = (row: number, dim: number | null, problem: string) => never;

/** One field a dtype adds to the manifest's storage object. */
interface ManifestExtra {
  key: keyof StorageExtras;
  read(s: ObjectReader, dim: number): Float32Array;
  write(v: ArrayLike<number>): unknown;
}

export interface StorageCodec {
  /** Values per 32-bit word: a row of d values takes ceil(d / valuesPerWord) words. */
  valuesPerWord: 1 | 2 | 4;
  /** That rule as docs/FORMATS.md and manifest errors spell it. */
  strideRule: string;
  /** Writes n rows of d values into `words` (n × stride, zeroed); returns the extras the tile carries. */
  encode(vectors: Float32Array, n: number, d: number, stride: number, words: Uint32Array, extras: StorageExtras): StorageExtras;
  /** The values the GPU reads, as floats, into `out` (n × d). */
  decode(e: EncodedVectors, out: Float32Array): void;
  /** How far a decoded value may lie from the value encoded (the documented rounding). */
  maxError(value: number, dim: number, extras: StorageExtras): number;
  /** Calls `bad` at the first stored value or padding a writer must never emit. */
  checkValues(e: EncodedVectors, bad: BadValue): void;
  manifestExtras: ManifestExtra[];
  /** The file in shaders/ that defines stored_value and stored_vec4 for the layer kernel. */
  wgslLoader: string;
}

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

/** Per-dimension absmax over a set of vectors, for int8 quantization. Zero dims get 1 to stay finite. */
export function int8Absmax(vectors: Float32Array, n: number, d: number): Float32Array {
  const a = new Float32Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) a[i] = Math.max(a[i], Math.abs(vectors[r * d + i]));
  for (let i = 0; i < d; i++) if (!(a[i] > 0)) a[i] = 1;
  return a;
}

/** Decodes value by value through a DataView (the path every dtype has; f16 has a faster one). */
function decodeEach(e: EncodedVectors, out: Float32Array, value: (view: DataView, rowByte: number, i: number) => number): void {
  const { n, d, strideWords, words } = e;
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  for (let r = 0; r < n; r++) {
    const base = r * strideWords * 4;
    for (let i = 0; i < d; i++) out[r * d + i] = value(view, base, i);
  }
}

const f32: StorageCodec = {
  valuesPerWord: 1,
  strideRule: 'dim',
  encode(vectors, n, d, _stride, words) {
    new Float32Array(words.buffer).set(vectors.subarray(0, n * d));
    return {};
  },
  decode: (e, out) => decodeEach(e, out, (view, base, i) => view.getFloat32(base + i * 4, true)),
  maxError: () => 0,
  checkValues({ n, d, strideWords, words }, bad) {
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < d; i++) if ((words[r * strideWords + i] & 0x7f800000) === 0x7f800000) bad(r, i, 'is NaN or infinite');
    }
  },
  manifestExtras: [],
  wgslLoader: 'storage_f32.wgsl',
};

const f16: StorageCodec = {
  valuesPerWord: 2,
  strideRule: 'ceil(dim / 2)',
  encode(vectors, n, d, stride, words) {
    if (LITTLE_ENDIAN) {
      // Float16Array rounds as setFloat16 does (the same library); ~50× faster than a DataView call per value.
      const halves = new Uint16Array(words.buffer);
      const rows = 4096;
      for (let r0 = 0; r0 < n; r0 += rows) {
        const m = Math.min(rows, n - r0);
        const bits = new Uint16Array(new Float16Array(vectors.subarray(r0 * d, (r0 + m) * d)).buffer);
        if (d % 2 === 0) halves.set(bits, r0 * d);
        else for (let r = 0; r < m; r++) halves.set(bits.subarray(r * d, (r + 1) * d), (r0 + r) * stride * 2);
      }
    } else {
      const view = new DataView(words.buffer);
      for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) setFloat16(view, r * stride * 4 + i * 2, vectors[r * d + i], true);
    }
    return {};
  },
  decode(e, out) {
    const { n, d, strideWords, words } = e;
    if (!LITTLE_ENDIAN || words.byteOffset % 2 !== 0) return decodeEach(e, out, (view, base, i) => getFloat16(view, base + i * 2, true));
    const table = halfToFloat();
    const halves = new Uint16Array(words.buffer, words.byteOffset, words.length * 2);
    for (let r = 0; r < n; r++) {
      const base = r * strideWords * 2;
      for (let i = 0; i < d; i++) out[r * d + i] = table[halves[base + i]];
    }
  },
  // Round to nearest: half a unit in the last place (11 significant bits), 2^-25 below the normal range.
  maxError: (v) => Math.max(Math.abs(v) * 2 ** -11, 2 ** -25),
  checkValues({ n, d, strideWords, words }, bad) {
    for (let r = 0; r < n; r++) {
      const row = r * strideWords;
      for (let i = 0; i < d; i++) {
        const h = (words[row + (i >> 1)] >>> ((i & 1) * 16)) & 0xffff;
        if ((h & 0x7c00) === 0x7c00) bad(r, i, 'is NaN or infinite');
      }
      if (d & 1 && words[row + (d >> 1)] >>> 16 !== 0) bad(r, null, `padding half after dimension ${d - 1} must be 0`);
    }
  },
  manifestExtras: [],
  wgslLoader: 'storage_f16.wgsl',
};

const int8: StorageCodec = {
  valuesPerWord: 4,
  strideRule: 'ceil(dim / 4)',
  encode(vectors, n, d, stride, words, extras) {
    const scale = extras.absmax ?? int8Absmax(vectors, n, d);
    if (scale.length !== d) throw new Error(`encodeVectors: int8 absmax needs ${d} values, got ${scale.length}`);
    const view = new DataView(words.buffer);
    for (let r = 0; r < n; r++) {
      const base = r * stride * 4;
      for (let i = 0; i < d; i++) view.setInt8(base + i, Math.max(-127, Math.min(127, Math.round((vectors[r * d + i] / scale[i]) * 127))));
    }
    return { absmax: scale };
  },
  decode: (e, out) => decodeEach(e, out, (view, base, i) => (view.getInt8(base + i) / 127) * e.absmax![i]),
  // Round to nearest code: half a step of absmax / 127 (values inside ±absmax).
  maxError: (_v, dim, extras) => extras.absmax![dim] / 254,
  checkValues({ n, d, strideWords, words }, bad) {
    const byte = (row: number, i: number) => (words[row + (i >> 2)] >>> ((i & 3) * 8)) & 0xff;
    for (let r = 0; r < n; r++) {
      const row = r * strideWords;
      for (let i = 0; i < d; i++) if (byte(row, i) === 0x80) bad(r, i, 'is the int8 code -128 (codes are -127..127)');
      for (let i = d; i < strideWords * 4; i++) if (byte(row, i) !== 0) bad(r, null, `padding byte ${i} must be 0`);
    }
  },
  manifestExtras: [
    {
      key: 'absmax',
      read(s, dim) {
        const a = s.array('absmax');
        if (a.length !== dim) fail(s.file, s.where('absmax'), `must have dim (${dim}) values, got ${a.length}`);
        a.forEach((v, i) => {
          if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) fail(s.file, s.where(`absmax[${i}]`), `must be a finite number > 0, got ${show(v)}`);
        });
        return Float32Array.from(a as number[]);
      },
      write: (v) => Array.from(v),
    },
  ],
  wgslLoader: 'storage_int8.wgsl',
};

export const STORAGE_CODECS: { readonly [D in StorageDtype]: StorageCodec } = { f32, f16, int8 };

/**
 * The dtype's extras from a manifest's storage object `s`; an extra of another dtype is refused
 * (`storage.absmax is only for int8 storage, but storage.dtype is f32`).
 */
export function readStorageExtras(s: ObjectReader, dtype: StorageDtype, dim: number): StorageExtras {
  const out: StorageExtras = {};
  for (const extra of STORAGE_CODECS[dtype].manifestExtras) out[extra.key] = extra.read(s, dim);
  for (const [other, codec] of Object.entries(STORAGE_CODECS)) {
    for (const { key } of codec.manifestExtras) {
      if (!(key in out) && s.has(key)) fail(s.file, s.where(key), `is only for ${other} storage, but storage.dtype is ${dtype}`);
    }
  }
  return out;
}

/** The extras present in `extras`, as the manifest's storage object writes them. */
export function storageExtrasObject(extras: { [K in keyof StorageExtras]?: ArrayLike<number> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const codec of Object.values(STORAGE_CODECS)) {
    for (const { key, write } of codec.manifestExtras) {
      const v = extras[key];
      if (v !== undefined) out[key] = write(v);
    }
  }
  return out;
}
