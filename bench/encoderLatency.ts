// Query-encoding latency in the browser, and what binding the q-net's GPU buffers saves:
//   npx tsx bench/encoderLatency.ts [--config base|small] [--qnet-layers 6] [--dtypes fp32,fp16] [--queries 20]
//   npx tsx bench/encoderLatency.ts --model models/default      (an existing bundle, e.g. the shipped model)
// Makes a random Hypencoder checkpoint (the released architecture with --config base), converts it
// per dtype, writes a small random index for it, then in headless Chromium loads each bundle with
// the page's engine (e2e/pages/engine.html) on every path and prints one JSON object per path:
// load time, first query (pipeline compiles), median and p95 of warm query encoding and of the whole
// search. Needs /usr/bin/python3 with torch (npm run test:deps).
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Browser } from '@playwright/test';
import { launchChromium, startQuietVite } from '../scripts/lib/browser.ts';
import { convert, type Dtype } from '../src/cli/convert.ts';
import { DEFAULT_PYTHON, runTrainingScript } from '../src/cli/python.ts';
import { writeIndexBundle } from '../src/cli/writeIndex.ts';
import { sha256Hex } from '../src/core/formats/index.ts';
import { randomVectors, seededRandom } from '../src/core/qnet.ts';
import { encodeVectors } from '../src/core/vectorStorage.ts';
import type { EngineOptions } from '../src/worker/searchEngine.ts';
import { quantileMs } from './stats.ts';

const { values: o } = parseArgs({
  options: {
    config: { type: 'string', default: 'base' },
    'qnet-layers': { type: 'string', default: '6' },
    dtypes: { type: 'string', default: 'fp32,fp16' },
    queries: { type: 'string', default: '20' },
    docs: { type: 'string', default: '2000' },
    paths: { type: 'string', default: 'webgpu-gpu,webgpu-readback,wasm-webgpu' },
    model: { type: 'string' },
  },
});
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (s: string) => process.stderr.write(`${s}\n`);
const QUERIES = [
  'what is a hypencoder',
  'how do neural retrieval models score documents?',
  'symptoms of vitamin d deficiency in adults',
  'why is the sky blue',
  '1998 world cup final score',
  'boundary layer transition on a flat plate',
  'best way to cook rice',
  'history of the roman empire',
  'how does a transformer attention layer work',
  'capital of australia',
];
const queries = Array.from({ length: Number(o.queries) }, (_, i) => `${QUERIES[i % QUERIES.length]}${i >= QUERIES.length ? ` ${i}` : ''}`);
// cache: false — each path loads in a fresh browser context; storing a 0.5 GB encoder in IndexedDB would only slow the load.
const PATHS: Record<string, EngineOptions> = {
  'webgpu-gpu': { encoder: 'webgpu', scorer: 'webgpu', cache: false },
  'webgpu-readback': { encoder: 'webgpu', scorer: 'webgpu', readbackQnet: true, cache: false },
  'wasm-webgpu': { encoder: 'wasm', scorer: 'webgpu', cache: false },
  'wasm-cpu': { encoder: 'wasm', scorer: 'cpu', cache: false },
};

/** Converts the checkpoint for one dtype and writes a random index for it under public/generated/latency/. */
async function prepare(dtype: string, ckpt: string) {
  const modelDir = join(served, dtype, 'model');
  if (o.model) {
    rmSync(modelDir, { recursive: true, force: true });
    cpSync(o.model, modelDir, { recursive: true });
  } else {
    log(`convert (${dtype})…`);
    await convert(ckpt, { out: modelDir, dtype: dtype as Dtype, force: true, quiet: true, verify: false, maxQueryTokens: 32 });
  }
  const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const d = model.qnet.dims[0];
  const n = Number(o.docs);
  await writeIndexBundle(join(served, dtype, 'index'), {
    manifestFields: { model: { id: model.id, sha256: await sha256Hex(readFileSync(join(modelDir, 'model.json'))) } },
    tiles: [encodeVectors(randomVectors(n, d, seededRandom(2)), n, d, 'f16')],
    metadata: [Array.from({ length: n }, (_, i) => ({ id: `doc-${i}`, title: `Document ${i}`, url: '', text: 'random vector' }))],
    force: true,
  });
}

const work = mkdtempSync(join(tmpdir(), 'hypencoder-latency-'));
const served = join(root, 'public', 'generated', 'latency');
let server: Awaited<ReturnType<typeof startQuietVite>> | undefined;
let browser: Browser | undefined;
try {
  const ckpt = join(work, 'checkpoint');
  if (!o.model) {
    log(`random ${o.config} checkpoint, q-net with ${o['qnet-layers']} hidden layers…`);
    await runTrainingScript(DEFAULT_PYTHON, 'make_random_checkpoint.py', [ckpt, '--config', o.config, '--qnet-layers', o['qnet-layers'], '--seed', '1']);
  }
  // An existing bundle has one dtype (its own): measured once, named after model.json's id.
  const dtypes = o.model ? [JSON.parse(readFileSync(join(o.model, 'model.json'), 'utf8')).id] : o.dtypes.split(',');
  for (const dtype of dtypes) await prepare(dtype, ckpt);
  server = await startQuietVite(0, 'error');
  const url = server.resolvedUrls?.local[0];
  browser = await launchChromium();
  for (const dtype of dtypes) {
    const modelDir = join(served, dtype, 'model');
    const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    const n = Number(o.docs);
    const onnxBytes = readFileSync(join(modelDir, 'query_encoder.onnx')).byteLength;
    for (const name of o.paths.split(',')) {
      const page = await browser.newPage();
      await page.goto(`${url}e2e/pages/engine.html`);
      await page.waitForFunction(() => window.engineHarnessReady === true);
      const m = `/generated/latency/${dtype}/model/`;
      const x = `/generated/latency/${dtype}/index/`;
      const first = await page.evaluate(({ m, x, opts }) => window.engineSearch(m, x, opts, ['warm up'], 10), { m, x, opts: PATHS[name] });
      const run = await page.evaluate(({ m, x, opts, qs }) => window.engineSearch(m, x, opts, qs, 10), { m, x, opts: PATHS[name], qs: queries });
      const enc = run.results.map((r) => r.timingsMs.qnet).sort((a, b) => a - b);
      const tot = run.results.map((r) => r.timingsMs.total).sort((a, b) => a - b);
      console.log(
        JSON.stringify({
          config: o.model ?? o.config,
          qnet_dims: model.qnet.dims,
          dtype,
          query_encoder_bytes: onnxBytes,
          path: name,
          ...PATHS[name],
          adapter: first.info.adapter,
          load_ms: +first.loadMs.toFixed(0),
          first_query_ms: +first.results[0].timingsMs.total.toFixed(0),
          encode_ms_median: quantileMs(enc, 0.5),
          encode_ms_p95: quantileMs(enc, 0.95),
          search_ms_median: quantileMs(tot, 0.5),
          search_ms_p95: quantileMs(tot, 0.95),
          queries: queries.length,
          docs: n,
        }),
      );
      await page.close();
    }
  }
  // What binding onnxruntime's buffers saves per query: a readback and re-upload of the q-net.
  const page = await browser.newPage();
  await page.goto(`${url}e2e/pages/engine.html`);
  await page.waitForFunction(() => window.engineHarnessReady === true);
  const dims = JSON.parse(readFileSync(join(served, dtypes[0], 'model', 'model.json'), 'utf8')).qnet.dims;
  const t = await page.evaluate((d) => window.measureQnetTransfer(d), dims);
  console.log(
    JSON.stringify({
      measure: 'qnet_readback_and_reupload',
      qnet_dims: dims,
      qnet_bytes: t.bytes,
      readback_ms_median: +t.readbackMs.toFixed(2),
      upload_ms_median: +t.uploadMs.toFixed(2),
      saved_ms_per_query: +(t.readbackMs + t.uploadMs).toFixed(2),
    }),
  );
  await page.close();
} finally {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
}
