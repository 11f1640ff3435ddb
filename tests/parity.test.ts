// PyTorch = onnxruntime-node = our reference scorer, on randomly initialized Hypencoders exported by
// the real converter (training/make_random_checkpoint.py → `convert` → training/parity_fixture.py).
// Needs Debian's PyTorch (`apt-get install -y python3-torch python3-onnx`): without it these tests
// fail with that instruction rather than skip. Tolerances are explained at PARITY_TOLERANCE in
// src/cli/parity.ts. The BERT-base configuration runs outside CI: `npm run parity:bert-base`.
import { beforeAll, describe, expect, it } from 'vitest';
import { PARITY_TOLERANCE, formatParityReport, parityRun, type ParityReport } from '../src/cli/parity.ts';

const CONFIGS = [
  // hidden 64, 2 BERT layers, q-net with 2 hidden layers; safetensors with the BERT stored twice
  { name: 'hidden 64, 2 layers, q-net 2 hidden layers', hidden: 64, layers: 2, heads: 4, qnetLayers: 2, seed: 1 },
  // a deeper q-net (6 hidden layers, like the released 6_layer model) on a narrower BERT
  { name: 'hidden 48, 2 layers, q-net 6 hidden layers', hidden: 48, layers: 2, heads: 3, qnetLayers: 6, seed: 2 },
  // no hidden layer: the q-net [48, 1] is the inner product with the one generated weight vector
  { name: 'hidden 48, 2 layers, zero-layer q-net [48, 1]', hidden: 48, layers: 2, heads: 3, qnetLayers: 0, seed: 3 },
];

for (const cfg of CONFIGS) {
  describe(`parity, ${cfg.name}`, () => {
    let fp32: ParityReport;
    let fp16: ParityReport;
    beforeAll(async () => {
      [fp32, fp16] = await parityRun({
        config: 'small',
        hidden: cfg.hidden,
        layers: cfg.layers,
        heads: cfg.heads,
        qnetLayers: cfg.qnetLayers,
        dtypes: ['fp32', 'fp16'],
        docs: 3000,
        queries: 6,
        seed: cfg.seed,
        quiet: true,
        ortWeb: true,
      });
      console.log(`${formatParityReport(fp32)}\n${formatParityReport(fp16)}`);
    }, 240_000);

    it('tokenizes the queries as the Python reference does', () => {
      expect(fp32.tokensMatch).toBe(true);
    });

    it('fp32: onnxruntime q-nets equal PyTorch q-nets', () => {
      expect(fp32.worstQnetRel).toBeLessThanOrEqual(PARITY_TOLERANCE);
    });

    it('fp32 and fp16: onnxruntime-web (wasm backend) computes the same q-nets as onnxruntime-node', () => {
      expect(fp32.worstOrtWebQnetRel!).toBeLessThanOrEqual(PARITY_TOLERANCE);
      for (const q of fp16.queries) expect(Math.abs(q.ortWebQnetRel! - q.qnetRel)).toBeLessThanOrEqual(PARITY_TOLERANCE);
    });

    it('fp32: our scores on onnxruntime q-nets equal PyTorch scores, same top-10 for every query', () => {
      expect(fp32.docs).toBe(3000);
      expect(fp32.worstScoreRel).toBeLessThanOrEqual(PARITY_TOLERANCE);
      expect(fp32.allTop10Identical).toBe(true);
    });

    it('fp32: document encoder CLS vectors equal PyTorch (padded batch)', () => {
      expect(fp32.clsRel).toBeLessThanOrEqual(PARITY_TOLERANCE);
    });

    it('fp16: onnxruntime equals PyTorch with float16-rounded weights (arithmetic stays float32)', () => {
      for (const q of fp16.queries) expect(q.qnetRelFp16Ref!).toBeLessThanOrEqual(PARITY_TOLERANCE);
    });

    it('fp16: close to the fp32 model (weight rounding only)', () => {
      // Rounding every weight to half precision (relative 2^-11) moves q-net entries by a few 1e-3
      // of their range; through a deep q-net that reaches a few 1e-2 of the largest score on these
      // random models (measured: up to 1.7e-2 with 2 hidden layers, 6.3e-2 with 6). The ranking is
      // what matters: the same top-10 set (order may swap where scores are within that error).
      expect(fp16.worstQnetRel).toBeLessThanOrEqual(2e-2);
      expect(fp16.worstScoreRel).toBeLessThanOrEqual(1.5e-1);
      expect(fp16.minTop10Overlap).toBeGreaterThanOrEqual(8);
    });
  });
}
