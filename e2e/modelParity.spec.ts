import { expect, test } from '@playwright/test';
import { INDEX_URL, MODEL_URL, randomModelFixture } from './helpers/randomModel.ts';
import type { EngineOptions } from '../src/worker/searchEngine.ts';

// Parity all the way into the browser: a random Hypencoder (small BERT, q-net with 2 hidden layers)
// is exported by the real converter; PyTorch scores 3000 documents for a set of queries; the browser
// engine (onnxruntime-web query encoder → our WGSL scorer, or the WASM / CPU paths) must return the
// same top-10 with the same scores.
//
// Tolerance: 1e-4 of the largest |score| (the same bound as the Node parity, src/cli/parity.ts):
// onnxruntime's q-net differs from PyTorch's by float32 rounding in a different order (~1e-6
// relative), and both scorers run the q-net in float32; 1e-4 leaves two orders of margin and is far
// below what a wrong layout, a transposed matrix or a dropped bias produces (≥ 1e-1).
const TOL = 1e-4;
let queries: string[] = [];
let torchScores: Float32Array[] = [];

test.beforeEach(async ({ baseURL }) => {
  test.setTimeout(300_000); // the first test builds the fixture (Python export + PyTorch scores)
  ({ queries, torchScores } = await randomModelFixture(baseURL));
});

const paths: { name: string; opts: EngineOptions }[] = [
  { name: 'onnxruntime-web WebGPU → q-net as GPU buffers → WGSL scorer', opts: { encoder: 'webgpu', scorer: 'webgpu' } },
  { name: 'onnxruntime-web WASM → WGSL scorer', opts: { encoder: 'wasm', scorer: 'webgpu' } },
  { name: 'onnxruntime-web WASM → CPU reference scorer', opts: { encoder: 'wasm', scorer: 'cpu' } },
];

for (const p of paths) {
  test(`browser = PyTorch: ${p.name}`, async ({ page }) => {
    await page.goto('/e2e/pages/engine.html');
    await page.waitForFunction(() => window.engineHarnessReady === true);
    const run = await page.evaluate(([m, x, opts, qs]) => window.engineSearch(m, x, opts, qs, 10), [MODEL_URL, INDEX_URL, p.opts, queries] as const);
    expect(run.info.backend).toBe(p.opts.scorer);
    expect(run.info.encoder).toBe(p.opts.encoder);
    for (const [q, r] of run.results.entries()) {
      const torch = torchScores[q];
      const scale = torch.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const order = Array.from(torch.keys()).sort((a, b) => torch[b] - torch[a] || a - b);
      const gap = torch[order[9]] - torch[order[10]];
      const worst = Math.max(...r.docs.map((doc, i) => Math.abs(r.scores[i] - torch[doc])));
      console.log(
        `${p.name} | "${r.query}": max |Δscore| ${(worst / scale).toExponential(2)} of max |score|, encode ${r.timingsMs.qnet.toFixed(1)} ms, score ${r.timingsMs.score.toFixed(1)} ms`,
      );
      expect(worst).toBeLessThan(TOL * scale);
      if (gap > 2 * TOL * scale) expect(r.docs).toEqual(order.slice(0, 10));
      else expect(r.docs.filter((d) => order.slice(0, 11).includes(d)).length).toBeGreaterThanOrEqual(9);
    }
  });
}
