// The CPU scorers, timed in Node (V8, the engine of Chromium's workers): `npm run bench:cpu-scorer -- [options]`
//   reference   referenceTopK(referenceScores(...)): the browser's CPU path before src/core/qnetCpu.ts
//   wasm-simd   CpuQNetScorer.topK, the WebAssembly SIMD kernel (what the engine runs where SIMD exists)
//   js          CpuQNetScorer.topK, the JS kernel (the fallback where WebAssembly SIMD is missing)
//   ort-wasm    onnxruntime-web's WASM backend: a session per query (the weights are the query), one
//               thread as on a page without cross-origin isolation, the top k by the same bounded heap
// on the shipped model's q-net dims: real q-nets by default (its query encoder, onnxruntime-node, on the
// demo's example queries), over N random unit-Gaussian documents stored as f16 and decoded as the
// engine does. Engines are warmed up, then timed round by round, the starting engine rotating, one q-net
// per round; the median counts. stdout: one JSON line per (N, engine), then one with the ratios.
// --browser: the same rounds in headless Chromium (the page imports src/ through Vite; main thread, the
// same V8 as the engine's worker), for reference, wasm-simd, js and webgpu (QNetScorer: setWeights +
// search(k) over f16 documents on the GPU, as the engine runs a query); lines say runtime "chromium …".
// Then chooseScorer (src/worker/backendCalibration.ts, what the engine runs) once, webgpu against
// wasm-simd, with an in-memory store: its choice, medians and wall time are one more line.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelWithEncoders } from '../src/cli/modelDir.ts';
import { loadOnnxRuntimeNode } from '../src/cli/onnxRuntime.ts';
import { qnetWeightsFromOutputs, type OutputTensor } from '../src/core/formats/index.ts';
import {
  paperArchitecture,
  randomVectors,
  randomWeights,
  referenceScores,
  referenceTopK,
  seededRandom,
  type QNetArchitecture,
  type QNetWeights,
  type TopK,
} from '../src/core/qnet.ts';
import { CpuQNetScorer } from '../src/core/qnetCpu.ts';
import { BoundedTopK } from '../src/core/boundedTopK.ts';
import { buildQNetOnnx, QNET_ONNX_INPUT, QNET_ONNX_OUTPUT } from '../src/core/qnetOnnx.ts';
import { BertWordPieceTokenizer } from '../src/core/tokenizer.ts';
import { decodeVectors, encodeVectors } from '../src/core/vectorStorage.ts';
import type { Page } from '@playwright/test';
import { openBenchSession } from './benchPage.ts';
import { integer, integers, oneOf, parseFlags } from './options.ts';
import { median } from './stats.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ENGINES = ['reference', 'wasm-simd', 'js', 'ort-wasm', 'webgpu'] as const;
type Engine = (typeof ENGINES)[number];

const USAGE = `usage: npm run bench:cpu-scorer -- [options]   (JSON lines on stdout, progress on stderr)
  --n LIST          document counts (default 25000,100000)
  --reps R          timed rounds per engine, median reported (default 5)
  --k K             top k (default 100, what hybrid fusion asks for)
  --qnets SRC       model (default: the model's query encoder on the demo's example queries) | random
  --dims LIST       other q-net dims, e.g. 768,768,768,768,768,768,768,1 (random q-nets, the paper's
                    residual flags: all hidden layers but the last; default: the model's)
  --model DIR       model bundle (default models/default)
  --engines LIST    any of ${ENGINES.join(',')} (default: all)
  --ort-threads T   onnxruntime-web WASM threads (default 1)
  --browser         time in headless Chromium instead of Node (engines reference, wasm-simd, js, webgpu)
  --port P          Vite port for --browser (default: a free one)`;

const f = parseFlags(
  process.argv.slice(2),
  { strings: ['n', 'reps', 'k', 'qnets', 'model', 'engines', 'ort-threads', 'port', 'dims'], booleans: ['browser'] },
  USAGE,
);
const opts = {
  n: f.n ? integers('--n', f.n) : [25000, 100000],
  reps: f.reps ? integer('--reps', f.reps) : 5,
  k: f.k ? integer('--k', f.k) : 100,
  qnets: oneOf('--qnets', f.qnets ?? 'model', ['model', 'random']),
  model: resolve(f.model ?? join(root, 'models/default')),
  engines: f.engines ? f.engines.split(',').map((e) => oneOf('--engines', e, ENGINES)) : [...ENGINES],
  ortThreads: f['ort-threads'] ? integer('--ort-threads', f['ort-threads']) : 1,
  browser: f.browser ?? false,
  port: f.port ? integer('--port', f.port) : 0,
  dims: f.dims ? integers('--dims', f.dims) : null,
};
if (opts.dims) {
  if (opts.dims.length < 2 || opts.dims.at(-1) !== 1) throw new Error(`--dims: need d,h_1,...,1 (the last 1), got ${f.dims}`);
  if (f.qnets === 'model') throw new Error("--dims gives random q-nets; --qnets model takes the model's dims");
  opts.qnets = 'random';
}
if (opts.browser) {
  if (!f.engines) opts.engines = ['reference', 'wasm-simd', 'js', 'webgpu'];
  if (opts.engines.includes('ort-wasm')) throw new Error('--engines: ort-wasm runs in Node only, not with --browser');
} else {
  if (!f.engines) opts.engines = opts.engines.filter((e) => e !== 'webgpu');
  if (opts.engines.includes('webgpu')) throw new Error('--engines: webgpu needs --browser');
}
const log = (m: string) => process.stderr.write(`${m}\n`);

/** One q-net per timed round: the model's encoder on the example queries, or seeded random weights of the model's dims. */
async function qnets(count: number): Promise<{ arch: QNetArchitecture; nets: QNetWeights[] }> {
  if (opts.dims) {
    const dims = opts.dims;
    const L = dims.length - 2;
    const arch = { ...paperArchitecture(dims[0], 1, L), dims, residual: dims.slice(1, -1).map((h, j) => j < L - 1 && dims[j] === h) };
    return { arch, nets: Array.from({ length: count }, (_, q) => randomWeights(arch, seededRandom(900 + q))) };
  }
  const { model } = await loadModelWithEncoders(opts.model);
  const arch = model.qnet;
  if (opts.qnets === 'random') return { arch, nets: Array.from({ length: count }, (_, q) => randomWeights(arch, seededRandom(900 + q))) };
  const ort = await loadOnnxRuntimeNode();
  if (!ort) throw new Error('--qnets model needs onnxruntime-node (npm ci installs it); or pass --qnets random');
  const enc = model.encoders!;
  const session = await ort.InferenceSession.create(join(opts.model, enc.files.queryEncoder.path));
  const tok = BertWordPieceTokenizer.fromVocab(readFileSync(join(opts.model, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
  const queries: string[] = JSON.parse(readFileSync(join(root, 'data/demo/example-queries.json'), 'utf8')).examples.map((e: { query: string }) => e.query);
  const nets: QNetWeights[] = [];
  for (let q = 0; q < count; q++) {
    const { ids } = tok.encode(queries[q % queries.length], enc.maxQueryTokens);
    const shape = [1, ids.length];
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), shape),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
    });
    nets.push(qnetWeightsFromOutputs(model, out as unknown as Record<string, OutputTensor>));
  }
  await session.release();
  return { arch, nets };
}

type Run = (w: QNetWeights) => Promise<TopK>;

async function ortWasm(vectors: Float32Array, n: number, d: number, k: number): Promise<Run> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = opts.ortThreads;
  return async (w) => {
    const session = await ort.InferenceSession.create(buildQNetOnnx(w), { executionProviders: ['wasm'] });
    try {
      const out = await session.run({ [QNET_ONNX_INPUT]: new ort.Tensor('float32', vectors.subarray(0, n * d), [n, d]) });
      const scores = out[QNET_ONNX_OUTPUT].data as Float32Array;
      const heap = new BoundedTopK(Math.min(k, n));
      for (let i = 0; i < n; i++) heap.push(i, scores[i]);
      const { ids, scores: best } = heap.sorted();
      return { indices: ids, scores: best };
    } finally {
      await session.release();
    }
  };
}

/** Milliseconds per timed round of each engine, and how many top-k positions differed from the reference beyond a tie. */
interface Timings {
  runtime: string;
  /** --browser with webgpu and wasm-simd: chooseScorer's answer on this page. */
  calibration?: unknown;
  ms: Record<string, number[]>;
  topkMismatches: Record<string, number>;
}

/** The rounds in Node: round 0 warms up; engines rotate which goes first. */
async function timeInNode(nets: QNetWeights[], n: number, d: number): Promise<Timings> {
  const vectors = decodeVectors(encodeVectors(randomVectors(n, d, seededRandom(n)), n, d, 'f16'));
  const wasm = new CpuQNetScorer('wasm-simd');
  const js = new CpuQNetScorer('js');
  const runs: Record<Engine, () => Promise<Run>> = {
    reference: async () => async (w) => referenceTopK(referenceScores(w, vectors, n), opts.k),
    'wasm-simd': async () => async (w) => wasm.topK(w, vectors, n, opts.k),
    js: async () => async (w) => js.topK(w, vectors, n, opts.k),
    'ort-wasm': () => ortWasm(vectors, n, d, opts.k),
    webgpu: () => Promise.reject(new Error('webgpu needs --browser')),
  };
  const run = Object.fromEntries(await Promise.all(opts.engines.map(async (e) => [e, await runs[e]()] as const))) as Record<Engine, Run>;
  const ms: Record<string, number[]> = Object.fromEntries(opts.engines.map((e) => [e, []]));
  const topkMismatches: Record<string, number> = Object.fromEntries(opts.engines.map((e) => [e, 0]));
  for (let round = 0; round < nets.length; round++) {
    const w = nets[round];
    // The reference's own top k for this q-net: what every engine's ids are checked against (ties within 1e-5 of the score allowed).
    const want = referenceTopK(referenceScores(w, vectors, n), opts.k);
    for (let e = 0; e < opts.engines.length; e++) {
      const engine = opts.engines[(e + round) % opts.engines.length];
      const t0 = performance.now();
      const got = await run[engine](w);
      const t = performance.now() - t0;
      if (round > 0) ms[engine].push(t);
      for (let p = 0; p < want.indices.length; p++) {
        if (got.indices[p] !== want.indices[p] && Math.abs(got.scores[p] - want.scores[p]) > 1e-5 * Math.abs(want.scores[p])) topkMismatches[engine]++;
      }
    }
    log(`N=${n} round ${round}/${nets.length - 1}: ${opts.engines.map((e) => `${e} ${ms[e].at(-1)?.toFixed(0) ?? '-'} ms`).join(', ')}`);
  }
  return { runtime: `node ${process.version}`, ms, topkMismatches };
}

type PlainNet = { arch: QNetArchitecture; matrices: number[][]; biases: number[][] };

/** The same rounds in the page (src/ imported through Vite); the function runs in Chromium, so it closes over nothing. */
async function timeInBrowser(page: Page, nets: QNetWeights[], n: number, d: number): Promise<Timings> {
  const plain: PlainNet[] = nets.map((w) => ({ arch: w.arch, matrices: w.matrices.map((m) => Array.from(m)), biases: w.biases.map((b) => Array.from(b)) }));
  return page.evaluate(
    async ({ plain, n, d, k, engines }) => {
      // Vite serves src/ at the site root; a variable specifier keeps tsc from resolving it from bench/.
      const src = '/src/';
      const q: typeof import('../src/core/qnet.ts') = await import(/* @vite-ignore */ `${src}core/qnet.ts`);
      const vs: typeof import('../src/core/vectorStorage.ts') = await import(/* @vite-ignore */ `${src}core/vectorStorage.ts`);
      const { CpuQNetScorer }: typeof import('../src/core/qnetCpu.ts') = await import(/* @vite-ignore */ `${src}core/qnetCpu.ts`);
      const stored = vs.encodeVectors(q.randomVectors(n, d, q.seededRandom(n)), n, d, 'f16');
      const vectors = vs.decodeVectors(stored);
      const asWeights = (p: (typeof plain)[number]) => ({
        arch: p.arch,
        matrices: p.matrices.map((m) => Float32Array.from(m)),
        biases: p.biases.map((b) => Float32Array.from(b)),
      });
      type Weights = ReturnType<typeof asWeights>;
      type Found = { indices: Uint32Array; scores: ArrayLike<number> };
      const search: Record<string, (w: Weights) => Promise<Found>> = {
        reference: async (w) => q.referenceTopK(q.referenceScores(w, vectors, n), k),
      };
      for (const kernel of ['wasm-simd', 'js'] as const) {
        const scorer = new CpuQNetScorer(kernel);
        search[kernel] = async (w) => scorer.topK(w, vectors, n, k);
      }
      let adapter = '';
      let release = () => {};
      let gpuScorer: import('../src/gpu/qnetScorer.ts').QNetScorer | null = null;
      if (engines.includes('webgpu')) {
        // The engine's query on WebGPU: the q-net uploaded, every document scored, the top k read back.
        const dev: typeof import('../src/gpu/device.ts') = await import(/* @vite-ignore */ `${src}gpu/device.ts`);
        const { QNetScorer }: typeof import('../src/gpu/qnetScorer.ts') = await import(/* @vite-ignore */ `${src}gpu/qnetScorer.ts`);
        const sd = await dev.requestScorerDevice();
        const scorer = await QNetScorer.create(sd.device, plain[0].arch, { dtype: 'f16' });
        scorer.setDocuments([stored]);
        adapter = sd.adapterInfo;
        gpuScorer = scorer;
        release = () => scorer.destroy();
        search.webgpu = async (w) => {
          scorer.setWeights(w);
          return scorer.search(k);
        };
      }
      const ms: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e, []]));
      const topkMismatches: Record<string, number> = Object.fromEntries(engines.map((e) => [e, 0]));
      for (let round = 0; round < plain.length; round++) {
        const w = asWeights(plain[round]);
        const want = await search.reference(w);
        for (let e = 0; e < engines.length; e++) {
          const engine = engines[(e + round) % engines.length];
          const t0 = performance.now();
          const got = await search[engine](w);
          const t = performance.now() - t0;
          if (round > 0) ms[engine].push(t);
          for (let p = 0; p < want.indices.length; p++) {
            if (got.indices[p] !== want.indices[p] && Math.abs(got.scores[p] - want.scores[p]) > 1e-5 * Math.abs(want.scores[p])) topkMismatches[engine]++;
          }
        }
        console.log(`N=${n} round ${round}/${plain.length - 1}: ${engines.map((e) => `${e} ${ms[e].at(-1)?.toFixed(0) ?? '-'} ms`).join(', ')}`);
      }
      // The calibration the engine runs at load (chooseScorer: both scorers, a probe q-net of these dims, the hybrid depth), with an in-memory store.
      let calibration: unknown;
      if (gpuScorer && engines.includes('wasm-simd')) {
        const { chooseScorer }: typeof import('../src/worker/backendCalibration.ts') = await import(/* @vite-ignore */ `${src}worker/backendCalibration.ts`);
        const mem = new Map<string, unknown>();
        const store = { get: async (key: string) => mem.get(key), set: async (key: string, v: unknown) => void mem.set(key, v) };
        const t0 = performance.now();
        const c = await chooseScorer(gpuScorer, new CpuQNetScorer(), vectors, plain[0].arch, adapter, { store });
        calibration = { ...c, wall_ms: +(performance.now() - t0).toFixed(1), adapter };
      }
      release();
      const ua = navigator.userAgent.match(/(?:HeadlessChrome|Chrome)\/[\d.]+/)?.[0] ?? navigator.userAgent;
      return { runtime: `chromium ${ua}`, ms, topkMismatches, calibration };
    },
    { plain, n, d, k: opts.k, engines: opts.engines as string[] },
  );
}

async function main(): Promise<void> {
  const rounds = opts.reps + 1; // round 0 warms every engine up and is not counted
  const { arch, nets } = await qnets(rounds);
  const d = arch.dims[0];
  const session = opts.browser ? await openBenchSession(opts.port, log) : null;
  try {
    if (session) {
      await session.page.goto(`${session.base}/bench/pages/cpuScorer.html`);
      // tsx (esbuild keepNames) wraps named functions in __name(…), which the page does not define.
      await session.page.evaluate('globalThis.__name = (f) => f');
    }
    for (const n of opts.n) {
      const load = loadavg()[0];
      const t = session ? await timeInBrowser(session.page, nets, n, d) : await timeInNode(nets, n, d);
      const docsPerS = (e: string) => n / (median(t.ms[e]) / 1000);
      const base = {
        bench: 'cpu-scorer',
        runtime: t.runtime,
        N: n,
        dims: arch.dims,
        k: opts.k,
        qnets: opts.qnets,
        storage: 'f16',
        reps: opts.reps,
        host_cpus: cpus().length,
      };
      for (const engine of opts.engines) {
        const line = {
          ...base,
          engine,
          ...(engine === 'ort-wasm' ? { ort_threads: opts.ortThreads } : {}),
          docs_per_s: Math.round(docsPerS(engine)),
          ms_median: +median(t.ms[engine]).toFixed(1),
          ms: t.ms[engine].map((x) => +x.toFixed(1)),
          gflops: +((docsPerS(engine) * 2 * arch.dims.slice(0, -1).reduce((s, v, j) => s + v * arch.dims[j + 1], 0)) / 1e9).toFixed(2),
          topk_mismatches: t.topkMismatches[engine],
          host_load_avg_1m: [+load.toFixed(2), +loadavg()[0].toFixed(2)],
        };
        console.log(JSON.stringify(line));
      }
      if (t.calibration) console.log(JSON.stringify({ ...base, calibration: t.calibration }));
      if (opts.engines.includes('reference')) {
        const ratios = Object.fromEntries(opts.engines.filter((e) => e !== 'reference').map((e) => [e, +(docsPerS(e) / docsPerS('reference')).toFixed(2)]));
        console.log(JSON.stringify({ ...base, speedup_vs_reference: ratios }));
      }
    }
  } finally {
    await session?.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
