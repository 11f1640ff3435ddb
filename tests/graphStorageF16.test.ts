// The f16 fast paths of src/core/vectorStorage.ts (Float16Array rounding, table decoding), which a
// 1M-document graph index build depends on (~300 s → ~1 s): bit for bit the per-value DataView path.
import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/core/qnet.ts';
import { decodeVectors, encodeVectors, rowStrideWords } from '../src/core/vectorStorage.ts';

function slowEncode(v: Float32Array, n: number, d: number): Uint32Array {
  const stride = rowStrideWords('f16', d);
  const words = new Uint32Array(n * stride);
  const view = new DataView(words.buffer);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) setFloat16(view, r * stride * 4 + i * 2, v[r * d + i], true);
  return words;
}

describe('f16 storage fast paths', () => {
  const r = seededRandom(11);
  const special = [
    0,
    -0,
    1,
    -1,
    65504,
    65505,
    65519.99,
    65520,
    -65520,
    1e9,
    -1e9,
    Infinity,
    -Infinity,
    NaN,
    6.1e-5,
    6.0e-8,
    5.9e-8,
    2.98e-8,
    1e-10,
    -1e-10,
    1.00048828125,
    1.0009765625 + 0.00048828125,
    2049,
    2051,
  ];
  const values = new Float32Array(4099 * 7);
  for (let i = 0; i < values.length; i++) {
    const e = Math.floor(r() * 50) - 30; // 2^-30 … 2^19: subnormal, normal, overflow
    values[i] = i < special.length ? special[i] : (r() < 0.5 ? -1 : 1) * (1 + r()) * 2 ** e;
  }
  for (const d of [7, 100, 101]) {
    it(`encodes exactly as setFloat16 per value and decodes exactly as getFloat16 (d = ${d}, padding zero)`, () => {
      const n = Math.floor(values.length / d);
      const fast = encodeVectors(values, n, d, 'f16');
      const slow = slowEncode(values, n, d);
      expect(Buffer.from(fast.words.buffer).equals(Buffer.from(slow.buffer))).toBe(true);
      const back = decodeVectors(fast);
      const view = new DataView(slow.buffer);
      const stride = rowStrideWords('f16', d);
      for (let row = 0; row < n; row += 1) {
        for (let i = 0; i < d; i++)
          expect(
            Object.is(back[row * d + i], getFloat16(view, row * stride * 4 + i * 2, true)) ||
              (Number.isNaN(back[row * d + i]) && Number.isNaN(getFloat16(view, row * stride * 4 + i * 2, true))),
          ).toBe(true);
      }
    });
  }

  it('decodes every one of the 65536 bit patterns as getFloat16 does', () => {
    const words = new Uint32Array(32768);
    for (let i = 0; i < 32768; i++) words[i] = (2 * i) | ((2 * i + 1) << 16);
    const got = decodeVectors({ dtype: 'f16', d: 2, n: 32768, strideWords: 1, words });
    const view = new DataView(words.buffer);
    for (let b = 0; b < 65536; b++) {
      const want = getFloat16(view, b * 2, true);
      if (Number.isNaN(want)) expect(Number.isNaN(got[b])).toBe(true);
      else expect(Object.is(got[b], want)).toBe(true);
    }
  });
});
