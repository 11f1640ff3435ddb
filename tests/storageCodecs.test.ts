// The storage codec table (src/core/storageCodecs.ts): every dtype round-trips within its documented
// rounding, its value check refuses what a writer must never emit, its manifest extras read back what
// they write, and it has the WGSL loader the layer kernel splices in (src/gpu/layerWgsl.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ObjectReader } from '../src/core/formats/fields.ts';
import { checkVectorTileValues } from '../src/core/formats/indexFiles.ts';
import { readStorageExtras, STORAGE_CODECS, storageExtrasObject } from '../src/core/storageCodecs.ts';
import { decodeVectors, encodeVectors, rowStrideWords, STORAGE_DTYPES, type StorageDtype } from '../src/core/vectorStorage.ts';
import { layerWgsl, storageLoaderWgsl } from '../src/gpu/layerWgsl';
import { DIRECT_TILING } from '../src/gpu/layerTiling';
import { seededRandom } from '../src/core/qnet.ts';

/** n × d values over several magnitudes, signs and the edges (0, ±absmax of a dimension). */
function testVectors(n: number, d: number): Float32Array {
  const rand = seededRandom(7);
  const v = new Float32Array(n * d);
  for (let i = 0; i < v.length; i++) v[i] = (rand() * 2 - 1) * 10 ** Math.floor(rand() * 6 - 3);
  v[0] = 0;
  v[1] = -v[d + 1];
  return v;
}

describe('storage codecs', () => {
  it('has one entry per dtype, each with a WGSL loader in shaders/ that defines stored_value and stored_vec4', () => {
    expect(Object.keys(STORAGE_CODECS)).toEqual([...STORAGE_DTYPES]);
    for (const dtype of STORAGE_DTYPES) {
      const codec = STORAGE_CODECS[dtype];
      const file = readFileSync(new URL(`../shaders/${codec.wgslLoader}`, import.meta.url), 'utf8');
      expect(file).toMatch(/fn stored_value\(w: u32, k: u32\) -> f32/);
      const words4 = 4 / codec.valuesPerWord;
      expect(file).toContain(`fn stored_vec4(p: ${words4 === 1 ? 'u32' : `vec${words4}<u32>`}, k: u32) -> vec4<f32>`);
      expect(storageLoaderWgsl(dtype)).toBe(file);
      // The first layer of a q-net over this storage splices it in.
      const shape = { inDim: 47, outDim: 32, strideWords: rowStrideWords(dtype, 47), format: dtype, residual: false, last: true, eps: 1e-5 };
      expect(layerWgsl(shape, DIRECT_TILING)).toContain(file);
    }
  });

  it('keeps the stride rule its name says', () => {
    const rule = (dtype: StorageDtype, dim: number) =>
      ({ dim, 'ceil(dim / 2)': Math.ceil(dim / 2), 'ceil(dim / 4)': Math.ceil(dim / 4) })[STORAGE_CODECS[dtype].strideRule];
    for (const dtype of STORAGE_DTYPES) for (const d of [1, 2, 3, 4, 5, 47, 768]) expect(rowStrideWords(dtype, d)).toBe(rule(dtype, d));
  });

  it('round-trips every dtype within its documented rounding, with zero padding', () => {
    for (const dtype of STORAGE_DTYPES) {
      for (const d of [6, 7, 9]) {
        const n = 40;
        const v = testVectors(n, d);
        const e = encodeVectors(v, n, d, dtype);
        const back = decodeVectors(e);
        const codec = STORAGE_CODECS[dtype];
        for (let i = 0; i < n * d; i++) {
          const err = Math.abs(back[i] - v[i]);
          // Float32 rounding of the dequantized product on top of the codec's own.
          if (!(err <= codec.maxError(v[i], i % d, e) * (1 + 1e-6) + Math.abs(v[i]) * 2 ** -24)) {
            throw new Error(`${dtype} d=${d}: value ${v[i]} came back as ${back[i]} (error ${err} > ${codec.maxError(v[i], i % d, e)})`);
          }
        }
        expect(() => checkVectorTileValues('t.bin', e)).not.toThrow();
      }
    }
    // f32 is exact.
    const v = testVectors(10, 5);
    expect(decodeVectors(encodeVectors(v, 10, 5, 'f32'))).toEqual(v);
  });

  it('refuses NaN (floats), the int8 code -128 and non-zero padding', () => {
    const f32 = encodeVectors(new Float32Array([1, 2, 3]), 1, 3, 'f32');
    f32.words[1] = 0x7fc00000;
    expect(() => checkVectorTileValues('t.bin', f32)).toThrow('t.bin: doc 0 dimension 1 is NaN or infinite');
    const f16 = encodeVectors(new Float32Array([1, 2, 3]), 1, 3, 'f16');
    const f16Clean = f16.words.slice();
    f16.words[0] = (f16.words[0] & 0xffff0000) | 0x7e00;
    expect(() => checkVectorTileValues('t.bin', f16)).toThrow('t.bin: doc 0 dimension 0 is NaN or infinite');
    f16.words.set(f16Clean);
    f16.words[1] |= 0x3c000000; // 1.0 in the padding half
    expect(() => checkVectorTileValues('t.bin', f16)).toThrow('t.bin: doc 0: padding half after dimension 2 must be 0');
    const i8 = encodeVectors(new Float32Array([1, -1, 0.5]), 1, 3, 'int8');
    const i8Clean = i8.words.slice();
    i8.words[0] = (i8.words[0] & 0xffff00ff) | 0x8000;
    expect(() => checkVectorTileValues('t.bin', i8)).toThrow('t.bin: doc 0 dimension 1 is the int8 code -128');
    i8.words.set(i8Clean);
    i8.words[0] |= 0x01000000;
    expect(() => checkVectorTileValues('t.bin', i8)).toThrow('t.bin: doc 0: padding byte 3 must be 0');
  });

  it("reads back the manifest extras it writes, and refuses another dtype's", () => {
    const absmax = new Float32Array([0.5, 2, 3]);
    const obj = { dtype: 'int8', stride_words: 1, ...storageExtrasObject({ absmax }) };
    expect(obj).toEqual({ dtype: 'int8', stride_words: 1, absmax: [0.5, 2, 3] });
    expect(readStorageExtras(new ObjectReader('m.json', 'storage', obj), 'int8', 3)).toEqual({ absmax });
    expect(storageExtrasObject({})).toEqual({});
    expect(readStorageExtras(new ObjectReader('m.json', 'storage', { dtype: 'f16' }), 'f16', 3)).toEqual({});
    expect(() => readStorageExtras(new ObjectReader('m.json', 'storage', { ...obj, dtype: 'f32' }), 'f32', 3)).toThrow(
      'm.json: storage.absmax is only for int8 storage, but storage.dtype is f32',
    );
    expect(() => readStorageExtras(new ObjectReader('m.json', 'storage', { dtype: 'int8' }), 'int8', 3)).toThrow('m.json: storage.absmax is missing');
  });
});
