import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convert } from '../src/cli/convert.ts';
import { DEFAULT_PYTHON } from '../src/cli/python.ts';
import { runTrainingScript } from '../src/cli/parity.ts';
import { writeIndexBundle } from '../src/cli/writeIndex.ts';
import { sha256Hex } from '../src/core/formats/index.ts';
import { encodeVectors } from '../src/core/vectorStorage.ts';
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
const generated = join(import.meta.dirname, '..', 'public', 'generated', 'e2e-model');

let queries: string[] = [];
let torchScores: Float32Array[] = [];
let nDocs = 0;

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const work = mkdtempSync(join(tmpdir(), 'hypencoder-e2e-model-'));
  try {
    const ckpt = join(work, 'checkpoint');
    await runTrainingScript(DEFAULT_PYTHON, 'make_random_checkpoint.py', [ckpt, '--config', 'small', '--hidden', '64', '--layers', '2', '--heads', '4', '--qnet-layers', '2', '--seed', '3']);
    const modelDir = join(generated, 'model');
    await convert(ckpt, { out: modelDir, dtype: 'fp32', force: true, quiet: true, verify: false, maxQueryTokens: 32 });
    const fixture = join(work, 'fixture');
    await runTrainingScript(DEFAULT_PYTHON, 'parity_fixture.py', [ckpt, '--out', fixture, '--vocab', join(modelDir, 'vocab.txt'), '--docs', '3000', '--queries', '6', '--seed', '3']);
    const fx = JSON.parse(readFileSync(join(fixture, 'fixture.json'), 'utf8'));
    queries = fx.queries.map((q: { text: string }) => q.text);
    nDocs = fx.docs;
    const d = fx.dims[0];
    const docs = readF32(join(fixture, 'docs.f32'));
    const scores = readF32(join(fixture, 'scores.f32'));
    torchScores = queries.map((_, q) => scores.subarray(q * nDocs, (q + 1) * nDocs));
    const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    const modelSha = await sha256Hex(readFileSync(join(modelDir, 'model.json')));
    // f32 storage: the documents exactly as PyTorch scored them.
    await writeIndexBundle(join(generated, 'index'), {
      manifestFields: { model: { id: model.id, sha256: modelSha }, tileDocs: 1024 },
      tiles: [0, 1024, 2048].map((s) => {
        const n = Math.min(1024, nDocs - s);
        return encodeVectors(docs.subarray(s * d, (s + n) * d), n, d, 'f32');
      }),
      metadata: [Array.from({ length: nDocs }, (_, i) => ({ id: `doc-${i}`, title: `Document ${i}`, url: '', text: 'random vector' }))],
      force: true,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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
    const run = await page.evaluate(
      ([opts, qs]) => window.engineSearch('/generated/e2e-model/model/', '/generated/e2e-model/index/', opts, qs, 10),
      [p.opts, queries] as const,
    );
    expect(run.info.backend).toBe(p.opts.scorer);
    expect(run.info.encoder).toBe(p.opts.encoder);
    for (const [q, r] of run.results.entries()) {
      const torch = torchScores[q];
      const scale = torch.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const order = Array.from(torch.keys()).sort((a, b) => torch[b] - torch[a] || a - b);
      const gap = torch[order[9]] - torch[order[10]];
      const worst = Math.max(...r.docs.map((doc, i) => Math.abs(r.scores[i] - torch[doc])));
      console.log(`${p.name} | "${r.query}": max |Δscore| ${(worst / scale).toExponential(2)} of max |score|, encode ${r.timingsMs.qnet.toFixed(1)} ms, score ${r.timingsMs.score.toFixed(1)} ms`);
      expect(worst).toBeLessThan(TOL * scale);
      if (gap > 2 * TOL * scale) expect(r.docs).toEqual(order.slice(0, 10));
      else expect(r.docs.filter((d) => order.slice(0, 11).includes(d)).length).toBeGreaterThanOrEqual(9);
    }
  });
}
