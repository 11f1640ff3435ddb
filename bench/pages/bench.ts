// The benchmark page (driven by bench/bench.ts, not a test): on one page and one adapter it times
//   ours   — QNetScorer (src/gpu/qnetScorer.ts): scores every document and selects the top k on the GPU;
//   ort    — the same q-net as an ONNX graph (src/core/qnetOnnx.ts) through onnxruntime-web's WebGPU EP;
//   naive  — one invocation per document (shaders/qnet_naive.wgsl);
//   cpu    — the Float64 reference scorer (src/core/qnet.ts referenceScores), on the main thread;
// and measures the adapter's f32 GEMM peak (bench/gemmPeak.ts). Every engine scores the same f16-stored
// documents (the baselines get them decoded to f32) with the same weights.
//
// Timing: each engine is warmed up, then timed as the median of `reps` full passes; a pass ends only
// when its GPU work is done (ours: top-k read back; naive: queue.onSubmittedWorkDone(); ort: the output
// downloaded). Slow baselines are timed on the first `timed_docs_*` documents instead of all N, sized so
// a pass takes about `baselineSeconds`; docs/s is a rate, so the ratios stay comparable (reported).
import type * as OrtModule from 'onnxruntime-web';
import { randomVectors, randomWeights, referenceScores, referenceTopK, seededRandom, type QNetArchitecture, type QNetWeights } from '../../src/core/qnet';
import { decodeVectors, encodeVectors, type EncodedVectors } from '../../src/core/vectorStorage';
import { buildQNetOnnx, QNET_ONNX_INPUT, QNET_ONNX_OUTPUT } from '../../src/core/qnetOnnx';
import { isCpuEmulated, requestScorerDevice, type ScorerDevice } from '../../src/gpu/device';
import { NaiveScorer } from '../naiveScorer';
import { gemmRunner, measureGemmPeak, type GemmPeak } from '../gemmPeak';
import { tilingFor, type LayerTiling } from '../../src/gpu/layerTiling';
import { median } from '../stats.ts';

export type Engine = 'ours' | 'ort' | 'naive' | 'cpu';
/**
 * onnxruntime-web ships two WebGPU execution providers: 'jsep' (the default bundle, kernels in TypeScript,
 * ort-wasm-simd-threaded.jsep.*) and 'native' ('onnxruntime-web/webgpu', the C++ WebGPU EP,
 * ort-wasm-simd-threaded.asyncify.*).
 */
export type OrtVariant = 'jsep' | 'native';

export interface BenchConfig {
  N: number;
  dims: number[];
  engines?: Engine[];
  k?: number;
  /** Timed passes per engine after warm-up; the median counts. */
  reps?: number;
  /** A baseline slower than this per full pass (seconds) is timed on fewer documents. */
  baselineSeconds?: number;
  /** Our scorer's pass over all N longer than this (seconds) is timed on fewer documents (Infinity: never). */
  oursSeconds?: number;
  seed?: number;
  /** Which onnxruntime-web WebGPU EPs to time; speedup_vs_ort_webgpu is against the faster. */
  ortVariants?: OrtVariant[];
  /** Our kernel's tile sizes (default: tilingFor(device)); for sweeps on a new adapter. */
  tiling?: LayerTiling | null;
  /**
   * Precede every timed pass of a GPU engine with an untimed one (default: on real GPUs, whose clocks
   * drop while another engine, the CPU reference say, runs and take a while to ramp up again).
   */
  warmEachPass?: boolean | null;
  /** Time the CPU reference after the GPU rounds instead of among them (default: on real GPUs). */
  cpuApart?: boolean | null;
}

export interface EngineFigures {
  docs_per_s: number;
  timed_docs: number;
  median_ms: number;
  times_ms: number[];
}

export type BenchLine = Record<string, unknown>;

// bench.html?auto: the page drives itself (see autorun below) and also sends its log to the server.
const auto = new URLSearchParams(location.search).has('auto');
const post = (path: string, body: unknown) => fetch(path, { method: 'POST', body: JSON.stringify(body) });
const log = (msg: string) => {
  console.log(`[bench] ${msg}`);
  if (auto) void post('/bench-log', { msg }).catch(() => {});
};

const round = (v: number, digits = 4) => Number(v.toPrecision(digits));

function paperResidual(dims: number[]): boolean[] {
  const L = dims.length - 2;
  return Array.from({ length: L }, (_, j) => j < L - 1);
}

export function flopsPerDoc(dims: number[]): number {
  let f = 0;
  for (let j = 0; j + 1 < dims.length; j++) f += 2 * dims[j] * dims[j + 1];
  return f;
}

/** Document count for a timed pass of about `seconds` at `docsPerMs`, a multiple of `quantum`, within [lo, N]. */
/** Probe size: about `gflop` GFLOP of q-net work, a multiple of `quantum`, within [quantum, min(N, cap)]. */
function probeDocs(dims: number[], gflop: number, quantum: number, cap: number, N: number): number {
  const n = Math.floor((gflop * 1e9) / flopsPerDoc(dims) / quantum) * quantum;
  return Math.min(N, cap, Math.max(quantum, n));
}

function sizeFor(docsPerMs: number, seconds: number, quantum: number, lo: number, N: number): number {
  const n = Math.floor((docsPerMs * seconds * 1000) / quantum) * quantum;
  return Math.max(Math.min(lo, N), Math.min(N, n));
}

async function timePasses(reps: number, pass: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await pass();
    times.push(performance.now() - t0);
  }
  return times;
}

function figures(timedDocs: number, times: number[]): EngineFigures {
  const ms = median(times);
  return { docs_per_s: round((timedDocs / ms) * 1000), timed_docs: timedDocs, median_ms: round(ms), times_ms: times.map((t) => round(t)) };
}

// ---------------------------------------------------------------------------------------------

let scorerDevice: Promise<ScorerDevice> | null = null;
function device(): Promise<ScorerDevice> {
  scorerDevice ??= requestScorerDevice().then((d) => {
    d.device.lost.then((info) => log(`scorer device lost: ${info.message}`));
    return d;
  });
  return scorerDevice;
}

let peak: GemmPeak | null = null;

/** Measures (once per page) the adapter's f32 GEMM peak on the scorer's device. */
async function measurePeak(opts: { size?: number; reps?: number } = {}): Promise<BenchLine> {
  const { device: dev, adapterInfo } = await device();
  peak = await measureGemmPeak(dev, { size: opts.size, reps: opts.reps ?? 5, log });
  return {
    adapter: adapterInfo,
    peak_gflops: round(peak.best.gflops),
    peak_config: peak.best.label,
    gemm_shape: [peak.M, peak.N, peak.K],
    all: peak.all.map((r) => ({ config: r.label, gflops: round(r.gflops), ms: round(r.medianMs), max_rel_err: round(r.maxRelErr, 2) })),
    skipped: peak.skipped,
  };
}

// The documents: Gaussian vectors stored as f16 pairs, in tiles of TILE_DOCS, generated lazily and in order
// from one seeded stream, so the first m documents are the same whatever N is, and a configuration that
// times only a prefix never pays for generating the rest. Kept across configurations of the same d and seed.
const TILE_DOCS = 8192;

interface Docs {
  d: number;
  seed: number;
  tiles: EncodedVectors[];
  rand: () => number;
  decoded: Float32Array<ArrayBuffer>;
  decodedDocs: number;
}

let docsCache: Docs | null = null;

function docsFor(d: number, seed: number): Docs {
  if (!docsCache || docsCache.d !== d || docsCache.seed !== seed) {
    docsCache = { d, seed, tiles: [], rand: seededRandom(seed), decoded: new Float32Array(0), decodedDocs: 0 };
  }
  return docsCache;
}

/** Makes sure the first m documents exist. */
function ensureDocs(docs: Docs, m: number): void {
  let have = docs.tiles.length * TILE_DOCS;
  if (have >= m) return;
  const t0 = performance.now();
  while (have < m) {
    docs.tiles.push(encodeVectors(randomVectors(TILE_DOCS, docs.d, docs.rand), TILE_DOCS, docs.d, 'f16'));
    have += TILE_DOCS;
  }
  log(`data: ${have} × ${docs.d} f16 documents ready (+${(performance.now() - t0).toFixed(0)} ms)`);
}

/** The first m documents as the f32 values the GPU sees (decoded f16). */
function prefix(docs: Docs, m: number): Float32Array<ArrayBuffer> {
  if (m > docs.decodedDocs) {
    ensureDocs(docs, m);
    const out = new Float32Array(m * docs.d);
    let row = 0;
    for (const t of firstTiles(docs, m)) {
      out.set(decodeVectors(t), row * docs.d);
      row += t.n;
    }
    docs.decoded = out;
    docs.decodedDocs = m;
  }
  return docs.decoded.subarray(0, m * docs.d);
}

/** The tiles of the first m documents. */
function firstTiles(docs: Docs, m: number): EncodedVectors[] {
  ensureDocs(docs, m);
  const out: EncodedVectors[] = [];
  let rows = 0;
  for (const t of docs.tiles) {
    if (rows >= m) break;
    const take = Math.min(t.n, m - rows);
    out.push(take === t.n ? t : { ...t, n: take, words: t.words.subarray(0, take * t.strideWords) });
    rows += take;
  }
  return out;
}

function relErr(got: ArrayLike<number>, ref: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += ref[i] * ref[i];
  const scale = Math.max(Math.sqrt(s / n), 1e-12);
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / scale);
  return worst;
}

// --- engines -------------------------------------------------------------------------------------
// Each engine is prepared (built, sized, warmed up) first; then the timed passes of all engines are
// interleaved round by round (the starting engine rotating), so that a change of background load on the
// machine (other processes share the CPU that SwiftShader runs on) hits every engine alike.

interface Prepared {
  name: string;
  timedDocs: number;
  pass: () => Promise<void>;
  /** After the timed rounds: correctness figures against the Float64 reference of the first documents. */
  check?: (ref: Float64Array) => Promise<BenchLine>;
  dispose: () => Promise<void> | void;
  /** Runs on the main thread, not the GPU: no untimed pass before it, and timed apart on real GPUs. */
  onCpu?: boolean;
}

async function prepareOurs(dev: GPUDevice, arch: QNetArchitecture, w: QNetWeights, docs: Docs, c: Required<BenchConfig>): Promise<Prepared> {
  const { QNetScorer } = await import('../../src/gpu/qnetScorer');
  const scorer = await QNetScorer.create(dev, arch, { dtype: 'f16', tiling: c.tiling ?? undefined });
  try {
    scorer.setWeights(w);
    const search = async () => {
      await scorer.search(c.k);
    };
    // Probe on a few hundred documents (about 4 GFLOP); a full pass longer than oursSeconds is timed on fewer
    // documents. The warm-up pass at the chosen size checks the estimate (a small probe can be optimistic).
    let n = c.N;
    const limited = Number.isFinite(c.oursSeconds);
    const probe = probeDocs(arch.dims, 4, 64, 4096, c.N);
    if (probe < c.N && limited) {
      scorer.setDocuments(firstTiles(docs, probe));
      await search(); // warm-up
      const [probeMs] = await timePasses(1, search);
      n = sizeFor(probe / probeMs, c.oursSeconds, 64, probe, c.N);
      log(`ours: probe ${probe} docs in ${probeMs.toFixed(0)} ms → timing ${n} docs`);
    }
    for (;;) {
      scorer.setDocuments(firstTiles(docs, n));
      const [warmMs] = await timePasses(1, search); // warm-up
      log(`ours: warm-up pass over ${n} docs ${warmMs.toFixed(0)} ms`);
      if (!limited || warmMs <= 1.5 * c.oursSeconds * 1000 || n <= 64) break;
      n = sizeFor(n / warmMs, c.oursSeconds, 64, 64, c.N);
      log(`ours: slower than the probe said → timing ${n} docs`);
    }
    return {
      name: 'ours',
      timedDocs: n,
      pass: search,
      check: (ref) => checkOurs(dev, arch, w, docs, ref, c.k, c.tiling ?? undefined),
      dispose: () => scorer.destroy(),
    };
  } catch (e) {
    scorer.destroy();
    throw e;
  }
}

/** Ours on the first ref.length documents, against the reference: every score and the top k. */
async function checkOurs(
  dev: GPUDevice,
  arch: QNetArchitecture,
  w: QNetWeights,
  docs: Docs,
  ref: Float64Array,
  k: number,
  tiling?: LayerTiling,
): Promise<BenchLine> {
  const { QNetScorer } = await import('../../src/gpu/qnetScorer');
  const n = ref.length;
  const scorer = await QNetScorer.create(dev, arch, { dtype: 'f16', tiling });
  try {
    scorer.setDocuments(firstTiles(docs, n));
    scorer.setWeights(w);
    const all = await scorer.scoreAll();
    const top = await scorer.search(k);
    const want = referenceTopK(ref, k);
    // Identical up to ties: a differing position is accepted only if the reference scores there are within
    // the GPU's f32 error (1e-4 of the scores' RMS, the parity tests' bound).
    let s = 0;
    for (let i = 0; i < n; i++) s += ref[i] * ref[i];
    const tol = 1e-4 * Math.sqrt(s / n);
    let mismatches = 0;
    for (let i = 0; i < want.indices.length; i++) {
      if (top.indices[i] !== want.indices[i] && Math.abs(ref[top.indices[i]] - want.scores[i]) > tol) mismatches++;
    }
    return { check_docs: n, ours_max_rel_err: relErr(all, ref, n), ours_topk_mismatches: mismatches };
  } finally {
    scorer.destroy();
  }
}

async function prepareNaive(dev: GPUDevice, arch: QNetArchitecture, w: QNetWeights, docs: Docs, c: Required<BenchConfig>): Promise<Prepared> {
  const naive = await NaiveScorer.create(dev, arch, 'f16');
  try {
    naive.setWeights(w);
    // Probe on a few workgroups to size the timed pass: at least 4 workgroups of 64, since a workgroup is
    // SwiftShader's unit of parallelism (one workgroup would leave the other cores idle).
    const probe = Math.min(c.N, Math.max(256, probeDocs(arch.dims, 0.2, 64, 512, c.N)));
    naive.setDocuments(firstTiles(docs, probe));
    const pass = (n: number) => async () => {
      naive.dispatch(n);
      await dev.queue.onSubmittedWorkDone();
    };
    await pass(probe)(); // compile + warm-up
    const [probeMs] = await timePasses(1, pass(probe));
    const n = sizeFor(probe / probeMs, c.baselineSeconds, 64, probe, c.N);
    log(`naive: probe ${probe} docs in ${probeMs.toFixed(0)} ms → timing ${n} docs`);
    if (n > probe) naive.setDocuments(firstTiles(docs, n));
    await pass(n)(); // warm-up
    return {
      name: 'naive',
      timedDocs: n,
      pass: pass(n),
      check: async (ref) => {
        const m = Math.min(ref.length, n);
        return { naive_max_rel_err: relErr(await naive.scoreAll(m), ref, m) };
      },
      dispose: () => naive.destroy(),
    };
  } catch (e) {
    naive.destroy();
    throw e;
  }
}

const ortModules: Partial<Record<OrtVariant, Promise<typeof OrtModule>>> = {};
function loadOrt(variant: OrtVariant): Promise<typeof OrtModule> {
  ortModules[variant] ??= (variant === 'jsep' ? import('onnxruntime-web') : import('onnxruntime-web/webgpu')).then((ort) => {
    // The WASM runtime files (ort-wasm-simd-threaded.{jsep,asyncify}.{mjs,wasm}) are served from the package's dist/.
    ort.env.wasm.wasmPaths = new URL('/node_modules/onnxruntime-web/dist/', location.href).href;
    // One WASM thread: every op runs on the WebGPU EP; the CPU cores belong to the adapter (SwiftShader).
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'warning';
    return ort;
  });
  return ortModules[variant]!;
}

async function prepareOrt(variant: OrtVariant, w: QNetWeights, docs: Docs, c: Required<BenchConfig>): Promise<Prepared> {
  const ort = await loadOrt(variant);
  const d = w.arch.dims[0];
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(buildQNetOnnx(w), {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
    graphOptimizationLevel: 'all',
  });
  const dev = (await ort.env.webgpu.device) as GPUDevice;
  const buffers: GPUBuffer[] = [];
  const dispose = async () => {
    await session.release();
    for (const b of buffers) b.destroy();
  };
  const input = (n: number) => {
    const buf = dev.createBuffer({ label: `ort X ${n}`, size: n * d * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    dev.queue.writeBuffer(buf, 0, prefix(docs, n));
    buffers.push(buf);
    return ort.Tensor.fromGpuBuffer(buf, { dataType: 'float32', dims: [n, d] });
  };
  const last: { scores: Float32Array | null } = { scores: null };
  const pass = (x: OrtModule.Tensor) => async () => {
    const out = await session.run({ [QNET_ONNX_INPUT]: x });
    const y = out[QNET_ONNX_OUTPUT];
    // onnxruntime-web's JSEP submits its commands in groups of 16 dispatches and the rest only when
    // something is downloaded: downloading the [n,1] output (4 bytes per document) is what guarantees that
    // the whole graph ran inside the timed region (for either EP).
    last.scores = (await y.getData()) as Float32Array;
    y.dispose();
  };
  try {
    const probe = probeDocs(w.arch.dims, 0.3, 64, 1024, c.N);
    const xp = input(probe);
    await pass(xp)(); // pipeline compilation
    log(`ort ${variant}: session + first run ${(performance.now() - t0).toFixed(0)} ms`);
    await pass(xp)();
    const [probeMs] = await timePasses(1, pass(xp));
    const n = sizeFor(probe / probeMs, c.baselineSeconds, 64, probe, c.N);
    log(`ort ${variant}: probe ${probe} docs in ${probeMs.toFixed(0)} ms → timing ${n} docs`);
    const x = n === probe ? xp : input(n);
    await pass(x)(); // warm-up at the timed shape
    return {
      name: `ort_${variant}`,
      timedDocs: n,
      pass: pass(x),
      check: async (ref) => ({ [`ort_${variant}_max_rel_err`]: relErr(last.scores!, ref, Math.min(ref.length, n)) }),
      dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** The Float64 reference: its first run (also the JIT warm-up) gives the scores every check compares with. */
function prepareCpu(w: QNetWeights, docs: Docs, c: Required<BenchConfig>): Prepared & { ref: Float64Array } {
  const probe = Math.max(Math.min(c.N, 16), probeDocs(w.arch.dims, 0.1, 1, 4096, c.N));
  referenceScores(w, prefix(docs, probe), probe); // JIT warm-up
  const t0 = performance.now();
  referenceScores(w, prefix(docs, probe), probe);
  const probeMs = Math.max(performance.now() - t0, 0.01);
  const n = sizeFor(probe / probeMs, c.baselineSeconds, 1, Math.min(c.N, 64), c.N);
  log(`cpu: probe ${probe} docs in ${probeMs.toFixed(1)} ms → timing ${n} docs`);
  const x = prefix(docs, n);
  const ref = referenceScores(w, x, n);
  return {
    name: 'cpu',
    onCpu: true,
    timedDocs: n,
    ref,
    pass: async () => {
      referenceScores(w, x, n);
    },
    dispose: () => {},
  };
}

// -------------------------------------------------------------------------------------------------

async function run(cfg: BenchConfig): Promise<BenchLine> {
  const c: Required<BenchConfig> = {
    engines: ['ours', 'ort', 'naive', 'cpu'],
    k: 10,
    reps: 3,
    baselineSeconds: 3,
    seed: 1,
    ortVariants: ['jsep', 'native'],
    oursSeconds: 30,
    tiling: null,
    warmEachPass: null,
    cpuApart: null,
    ...cfg,
  };
  const { dims, N } = c;
  const arch: QNetArchitecture = { dims, activation: 'relu', layerNormEps: 1e-5, residual: paperResidual(dims) };
  const { device: dev, adapterInfo } = await device();
  const line: BenchLine = { N, dims, adapter: adapterInfo, k: c.k, reps: c.reps, storage: 'f16' };
  line.ours_tiling = c.tiling ?? (await tilingFor(dev, dims));
  const flops = flopsPerDoc(dims);
  line.flops_per_doc = flops;
  const w = randomWeights(arch, seededRandom(c.seed));
  const docs = docsFor(dims[0], c.seed + 1);

  const errors: Record<string, string> = {};
  const prepared: Prepared[] = [];
  const attempt = async <T>(name: string, f: () => Promise<T>): Promise<T | null> => {
    try {
      return await f();
    } catch (e) {
      errors[name] = String((e as Error)?.stack ?? e);
      log(`${name} FAILED: ${errors[name]}`);
      return null;
    }
  };

  try {
    // CPU first: its scores are the reference for every check.
    let ref: Float64Array | null = null;
    if (c.engines.includes('cpu')) {
      const p = await attempt('cpu', async () => prepareCpu(w, docs, c));
      if (p) {
        prepared.push(p);
        ref = p.ref;
      }
    }
    if (!ref) {
      const n = Math.min(N, 64);
      ref = referenceScores(w, prefix(docs, n), n);
    }
    const add = async (name: string, f: () => Promise<Prepared>) => {
      const p = await attempt(name, f);
      if (p) prepared.push(p);
    };
    if (c.engines.includes('ours')) await add('ours', () => prepareOurs(dev, arch, w, docs, c));
    if (c.engines.includes('naive')) await add('naive', () => prepareNaive(dev, arch, w, docs, c));
    if (c.engines.includes('ort')) for (const v of c.ortVariants) await add(`ort_${v}`, () => prepareOrt(v, w, docs, c));
    // The GEMM peak's best configuration, re-timed in the same rounds (same machine load as the q-net).
    let gemmFlops = 0;
    if (peak) {
      const pk = peak;
      await add('gemm', async () => {
        const g = await gemmRunner(dev, pk.best.config, pk.M, pk.N, pk.K);
        gemmFlops = g.flops;
        await g.run(); // warm-up
        // A pass of about one second of products (well above timer noise).
        const products = Math.max(1, Math.round(1000 / pk.best.medianMs));
        return {
          name: 'gemm',
          timedDocs: products,
          pass: async () => {
            for (let i = 0; i < products; i++) await g.run();
          },
          dispose: () => g.destroy(),
        };
      });
    }

    // Timed rounds, interleaved.
    const realGpu = !isCpuEmulated(dev.adapterInfo);
    const warmEachPass = c.warmEachPass ?? realGpu;
    line.warm_each_pass = warmEachPass;
    // On a real GPU the CPU reference is timed apart, after the GPU rounds: on an H100 the GPU engine
    // that followed its seconds of main-thread work ran 2–3× slower, even after an untimed pass.
    // On a CPU-emulated adapter every engine shares the CPU, so all of them are interleaved.
    const apart = (c.cpuApart ?? realGpu) ? prepared.filter((p) => p.onCpu) : [];
    const rotating = prepared.filter((p) => !apart.includes(p));
    line.cpu_timed_apart = apart.length > 0;
    const times = new Map<string, number[]>(prepared.map((p) => [p.name, []]));
    const failed = new Set<string>();
    const timeOne = async (p: Prepared) => {
      if (failed.has(p.name)) return;
      const t = await attempt(p.name, async () => {
        if (warmEachPass && !p.onCpu) await p.pass();
        return timePasses(1, p.pass);
      });
      if (t) times.get(p.name)!.push(t[0]);
      else failed.add(p.name);
    };
    for (let r = 0; r < c.reps; r++) {
      for (let i = 0; i < rotating.length; i++) await timeOne(rotating[(i + r) % rotating.length]);
      log(`round ${r + 1}/${c.reps}: ${rotating.map((p) => `${p.name} ${times.get(p.name)!.at(-1)?.toFixed(0) ?? '—'} ms`).join(', ')}`);
    }
    for (const p of apart) for (let r = 0; r < c.reps; r++) await timeOne(p);
    const res = new Map<string, EngineFigures>();
    for (const p of prepared) if (!failed.has(p.name)) res.set(p.name, figures(p.timedDocs, times.get(p.name)!));

    // Checks against the reference.
    for (const p of prepared) {
      if (!p.check || failed.has(p.name)) continue;
      const extra = await attempt(`${p.name}_check`, () => p.check!(ref!));
      if (extra) Object.assign(line, extra);
    }

    // The faster onnxruntime-web EP is the one we compare with.
    const orts = c.ortVariants.filter((v) => res.has(`ort_${v}`));
    if (orts.length) {
      const best = orts.reduce((a, b) => (res.get(`ort_${b}`)!.docs_per_s > res.get(`ort_${a}`)!.docs_per_s ? b : a));
      res.set('ort', res.get(`ort_${best}`)!);
      line.ort_best_ep = best;
    }
    const ours = res.get('ours');
    line.docs_per_s = ours?.docs_per_s ?? null;
    line.gflops = ours ? round((ours.docs_per_s * flops) / 1e9) : null;
    const ratio = (e: string) => (ours && res.has(e) ? round(ours.docs_per_s / res.get(e)!.docs_per_s) : null);
    line.speedup_vs_ort_webgpu = ratio('ort');
    line.speedup_vs_naive = ratio('naive');
    line.speedup_vs_cpu = ratio('cpu');
    // peak_gflops: the best GEMM configuration of the page's sweep, re-timed in the rounds above; the sweep's
    // own figure (measured once, at another moment's load) is peak_sweep_gflops.
    const gemm = res.get('gemm');
    res.delete('gemm');
    if (gemm) {
      line.peak_products_per_pass = gemm.timed_docs;
      line.times_ms_gemm = gemm.times_ms;
    }
    const peakGflops = gemm ? (gemm.docs_per_s * gemmFlops) / 1e9 : peak ? peak.best.gflops : null;
    line.peak_gflops = peakGflops === null ? null : round(peakGflops);
    line.peak_sweep_gflops = peak ? round(peak.best.gflops) : null;
    line.peak_config = peak ? peak.best.label : null;
    line.peak_gemm_shape = peak ? [peak.M, peak.N, peak.K] : null;
    line.peak_share = ours && peakGflops ? round((ours.docs_per_s * flops) / 1e9 / peakGflops) : null;
    for (const [name, f] of res) {
      if (name !== 'ours') line[`${name}_docs_per_s`] = f.docs_per_s;
      line[`timed_docs_${name}`] = f.timed_docs;
      line[`ms_per_pass_${name}`] = f.median_ms;
      if (name !== 'ort') line[`times_ms_${name}`] = f.times_ms;
      if (name !== 'ort') line[`gflops_${name}`] = round((f.docs_per_s * flops) / 1e9);
    }
    if (res.has('ort')) {
      line.ort_version = (await loadOrt(line.ort_best_ep as OrtVariant)).env.versions.web;
      line.ort_eps =
        "jsep: the default bundle's WebGPU EP (TypeScript kernels); native: onnxruntime-web/webgpu (C++ WebGPU EP); " +
        'both with graphOptimizationLevel all and 1 wasm thread; the ratio is against the faster';
      line.ort_io =
        "input on GPU (Tensor.fromGpuBuffer on ORT's device), output preferredOutputLocation gpu-buffer; timed pass ends with output.getData() (4 B/doc)";
    }
    if (res.has('ours')) line.ours_timing = 'search(k): all layers + GPU top-k, k pairs read back';
    if (res.has('naive')) line.naive_timing = 'one dispatch + queue.onSubmittedWorkDone(); scores stay on the GPU';
    if (res.has('cpu')) line.cpu_timing = 'referenceScores (Float64, main thread)';
    line.timing =
      `median of ${c.reps} passes per engine after warm-up, ` +
      `${apart.length ? 'GPU engines (and the peak GEMM) interleaved round by round, the CPU reference after them' : 'engines (and the peak GEMM) interleaved round by round'}` +
      `${warmEachPass ? ', each GPU pass preceded by an untimed one' : ''}`;
  } finally {
    for (const p of prepared) await p.dispose();
  }
  if (Object.keys(errors).length) line.errors = errors;
  return line;
}

declare global {
  interface Window {
    hypBench: { run: typeof run; measurePeak: typeof measurePeak; adapter: () => Promise<string> };
    hypBenchReady: boolean;
  }
}

window.hypBench = { run, measurePeak, adapter: async () => (await device()).adapterInfo };
window.hypBenchReady = true;
document.getElementById('status')!.textContent = 'ready';

/**
 * Self-driven mode for a machine with a browser and Python but no Node (bench/benchStatic.ts builds
 * the page; bench/benchStatic/serve.py serves it and launches the browser): reads bench-config.json
 * ({ peak, peakSize, requireGpu, configs: BenchConfig[] }) at the site's root, POSTs every result line to /bench-line,
 * then /bench-done.
 */
async function autorun(): Promise<void> {
  try {
    const cfg = (await (await fetch('/bench-config.json')).json()) as { peak?: boolean; peakSize?: number; requireGpu?: boolean; configs: BenchConfig[] };
    const { device: dev, adapterInfo } = await device();
    log(`adapter ${adapterInfo}`);
    // On a GPU machine, a browser that fell back to its CPU Vulkan would spend the whole run on the wrong adapter.
    if (cfg.requireGpu && isCpuEmulated(dev.adapterInfo)) throw new Error(`requireGpu: the browser gave a CPU-emulated adapter (${adapterInfo})`);
    if (cfg.peak !== false) await post('/bench-line', { kind: 'peak', ...(await measurePeak({ size: cfg.peakSize })) });
    for (const c of cfg.configs) await post('/bench-line', await run(c));
  } catch (e) {
    await post('/bench-line', { kind: 'error', error: String((e as Error)?.stack ?? e) });
  } finally {
    await post('/bench-done', {});
  }
}
if (auto) void autorun();
