// The ONNX q-net (the onnxruntime-web baseline of the benchmark) must compute exactly the reference q-net.
// Run through onnxruntime-node's CPU EP, compared with the Float64 reference scorer.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { paperArchitecture, randomVectors, randomWeights, referenceScores, seededRandom, type QNetArchitecture } from '../src/core/qnet';
import { buildQNetOnnx, QNET_ONNX_INPUT, QNET_ONNX_OUTPUT } from '../src/core/qnetOnnx';

async function runOnnx(model: Uint8Array, x: Float32Array, n: number, d: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ [QNET_ONNX_INPUT]: new ort.Tensor('float32', x, [n, d]) });
    const t = out[QNET_ONNX_OUTPUT];
    expect(t.dims).toEqual([n, 1]);
    return t.data as Float32Array;
  } finally {
    await session.release();
  }
}

// Tolerance. onnxruntime computes in float32 (unit roundoff u = 2^-24 ≈ 6e-8). A K-term dot product has
// a worst-case relative error of about K·u (768·6e-8 ≈ 5e-5) of Σ|x_i·w_i|, which here is a few times
// the dot product itself; LayerNorm keeps every layer's output O(1) and residual sums add the errors of the
// layers linearly, so after up to 6 hidden layers the error stays below ~1e-3 of the scores' RMS (typical,
// random-sign rounding is √K times smaller: ~1e-5). A wrong graph (missing residual, eps, bias, LN on the
// wrong axis) is off by O(1) of the RMS, 1000× the bound.
const REL_TOL = 1e-3;

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
}

const cases: { name: string; arch: QNetArchitecture; n: number }[] = [
  { name: 'paper 768×6', arch: paperArchitecture(768, 768, 6), n: 17 },
  { name: 'small [256,256,256,1]', arch: paperArchitecture(256, 256, 2), n: 100 },
  { name: 'odd [37,37,37,1]', arch: paperArchitecture(37, 37, 2), n: 1 },
  {
    name: 'no residual, d ≠ h [50,96,96,1]',
    arch: { dims: [50, 96, 96, 1], activation: 'relu', layerNormEps: 1e-5, residual: [false, false] },
    n: 33,
  },
  {
    name: 'one hidden layer, large eps [64,32,1]',
    arch: { dims: [64, 32, 1], activation: 'relu', layerNormEps: 0.5, residual: [false] },
    n: 9,
  },
  // No hidden layer: the graph is one MatMul, X · W_0, the inner product with the query embedding.
  { name: 'zero layers, inner product [768,1]', arch: paperArchitecture(768, 1, 0), n: 40 },
  { name: 'zero layers, odd [33,1], N=1', arch: paperArchitecture(33, 1, 0), n: 1 },
];

describe('buildQNetOnnx', () => {
  for (const { name, arch, n } of cases) {
    it(`matches referenceScores: ${name}`, async () => {
      const d = arch.dims[0];
      const w = randomWeights(arch, seededRandom(7));
      const x = randomVectors(n, d, seededRandom(11));
      const ref = referenceScores(w, x, n);
      const got = await runOnnx(buildQNetOnnx(w), x, n, d);
      const scale = Math.max(rms(ref), 1e-6);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / scale);
      expect(worst).toBeLessThan(REL_TOL);
    });
  }

  it('uses the layer-norm epsilon (a graph with another eps disagrees)', async () => {
    const arch: QNetArchitecture = { dims: [16, 16, 1], activation: 'relu', layerNormEps: 1e-5, residual: [false] };
    const w = randomWeights(arch, seededRandom(3));
    const x = randomVectors(4, 16, seededRandom(4));
    for (let i = 0; i < x.length; i++) x[i] *= 1e-3; // tiny activations make eps matter
    const ref = referenceScores(w, x, 4);
    const wrong = await runOnnx(buildQNetOnnx({ ...w, arch: { ...arch, layerNormEps: 1 } }), x, 4, 16);
    const right = await runOnnx(buildQNetOnnx(w), x, 4, 16);
    const scale = rms(ref);
    expect(Math.abs(right[0] - ref[0]) / scale).toBeLessThan(REL_TOL);
    expect(Math.abs(wrong[0] - ref[0]) / scale).toBeGreaterThan(0.01);
  });

  it('refuses weights that do not match the architecture', () => {
    const arch = paperArchitecture(8, 8, 1);
    const w = randomWeights(arch, seededRandom(1));
    expect(() => buildQNetOnnx({ ...w, biases: [] })).toThrow(/bias/);
  });
});
