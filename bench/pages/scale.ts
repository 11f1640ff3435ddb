// The approximate-search benchmark page (driven by bench/benchScaleBrowser.ts, not a test).
// On one adapter it times, for the same random q-nets over one index bundle (bench/scaleIndex.ts):
//   exhaustive — QNetScorer scores every document and selects the top k on the GPU;
//   approximate — the graph walk (src/core/graphSearch.ts) scoring candidate batches with the
//                 gather scorer (src/gpu/gatherScorer.ts), everything resident (eager);
//   cold       — the same walk on a lazily loaded copy (src/worker/rangeFetch.ts): a fresh
//                 IndexedDB store per query, so every chunk it needs comes over HTTP Range requests.
// Recall is against the exhaustive GPU top k of the same q-net.
import { readLazyLayout } from '../../src/core/formats/chunkHashes.ts';
import { joinGraphShards, openIndexBundle, openModelBundle, readIndexFiles, type IndexManifest } from '../../src/core/formats/index.ts';
import { randomWeights, seededRandom, type QNetArchitecture } from '../../src/core/qnet';
import { requestScorerDevice, type ScorerDevice } from '../../src/gpu/device';
import { QNetScorer } from '../../src/gpu/qnetScorer';
import { MAX_K, TOPK_CHUNK } from '../../src/gpu/topkProgram';
import { FileCache } from '../../src/worker/fileCache';
import { GpuGraphSearch } from '../../src/worker/graphSearchDriver';
import { HttpSource } from '../../src/worker/httpSource';

export interface WalkParams {
  k: number;
  beam: number;
  maxIterations: number;
  maxScored?: number;
  adaptive?: boolean;
  strategy?: 'paper' | 'best-first';
  pool?: number;
  earlyStop?: boolean;
}

export interface LoadInfo {
  adapter: string;
  n: number;
  dims: number[];
  degree: number;
  entry_points: number;
  vector_bytes: number;
  graph_bytes: number;
  manifest_bytes: number;
  load_ms: number;
  max_storage_buffer_binding_size: number;
  max_buffer_size: number;
  exhaustive_gpu_bytes: number;
  gather_gpu_bytes: number;
}

export interface ExhaustiveRow {
  ids: number[];
  ms: number;
}

export interface ApproxRow {
  ids: number[];
  ms: number;
  score_ms: number;
  scored: number;
  iterations: number;
}

export interface ColdRow {
  seed: number;
  network_bytes: number;
  requests: number;
  cold_ms: number;
  fetch_ms: number;
  scored: number;
  ids: number[];
  /** GPU memory of the lazy scorer (documents: all rows, or the paged pool), and chunks evicted. */
  gpu_bytes: number;
  evictions: number;
}

let gpu: ScorerDevice | null = null;
let state: { base: string; manifest: IndexManifest; arch: QNetArchitecture; exhaustive: QNetScorer; approx: GpuGraphSearch } | null = null;

async function load(base: string, maxBatch = 8192): Promise<LoadInfo> {
  gpu ??= await requestScorerDevice();
  state?.exhaustive.destroy();
  state?.approx.destroy();
  state = null;
  const t0 = performance.now();
  const { model } = await openModelBundle(new HttpSource(`${base}/model/`));
  const source = new HttpSource(`${base}/index/`);
  const { manifest, jsonBytes } = await openIndexBundle(source);
  const { layout, reason } = readLazyLayout(manifest);
  if (!layout) throw new Error(`manifest.json: ${reason}`);
  const { tiles, graph } = await readIndexFiles(source, manifest, { kinds: ['vectors', 'graph'] });
  const degree = manifest.graph!.degree;
  const rows = joinGraphShards(manifest, graph);
  const arch = model.qnet;
  const exhaustive = await QNetScorer.create(gpu.device, arch, { dtype: manifest.storage.dtype });
  exhaustive.setDocuments(tiles);
  const approx = await GpuGraphSearch.eager(gpu.device, arch, tiles, { rows, degree }, layout.entryPoints, { maxBatch });
  await gpu.device.queue.onSubmittedWorkDone();
  state = { base, manifest, arch, exhaustive, approx };
  const n = manifest.docCount;
  const stride = manifest.storage.strideWords;
  const hmax = Math.max(...arch.dims.slice(1, -1));
  // QNetScorer's buffers (qnetScorer.ts setDocuments): documents, scores, two activation buffers of
  // batchRows × hmax (64 MiB budget), two top-k pair lists of ceil(N / 1024) × MAX_K pairs.
  const batchRows = Math.max(64, Math.floor((64 << 20) / (hmax * 4) / 64) * 64);
  const exhaustiveBytes = n * stride * 4 + n * 4 + 2 * batchRows * hmax * 4 + 2 * Math.ceil(n / TOPK_CHUNK) * MAX_K * 8;
  return {
    adapter: gpu.adapterInfo,
    n,
    dims: arch.dims,
    degree,
    entry_points: layout.entryPoints.length,
    vector_bytes: manifest.vectorTiles.reduce((s, e) => s + e.bytes, 0),
    graph_bytes: manifest.graphShards.reduce((s, e) => s + e.bytes, 0),
    manifest_bytes: jsonBytes,
    load_ms: performance.now() - t0,
    max_storage_buffer_binding_size: gpu.device.limits.maxStorageBufferBindingSize,
    max_buffer_size: gpu.device.limits.maxBufferSize,
    exhaustive_gpu_bytes: exhaustiveBytes,
    gather_gpu_bytes: approx.scorer.gpuBytes,
  };
}

/** The q-net of a seed (the Node benchmark draws the same ones: randomWeights(arch, seededRandom(seed))). */
const weightsOf = (seed: number) => randomWeights(state!.arch, seededRandom(seed));

async function exhaustive(seed: number, k: number): Promise<ExhaustiveRow> {
  if (!state) throw new Error('load first');
  state.exhaustive.setWeights(weightsOf(seed));
  const t = performance.now();
  const r = await state.exhaustive.search(k);
  return { ids: [...r.indices], ms: performance.now() - t };
}

async function approximate(seed: number, p: WalkParams): Promise<ApproxRow> {
  if (!state) throw new Error('load first');
  const r = await state.approx.search(weightsOf(seed), p);
  return { ids: [...r.ids], ms: r.timingsMs.total, score_ms: r.timingsMs.score, scored: r.scored, iterations: r.iterations };
}

let coldRun = 0;

/** One query on a fresh lazy copy with an empty IndexedDB store: what a first visit fetches. */
async function coldQuery(seed: number, p: WalkParams, maxBatch = 8192, residentBytes?: number): Promise<ColdRow> {
  if (!state) throw new Error('load first');
  gpu ??= await requestScorerDevice();
  const dbName = `hypencoder-scale-cold-${Date.now()}-${coldRun++}`;
  const t0 = performance.now();
  const lazy = await GpuGraphSearch.lazy(gpu.device, state.arch, `${state.base}/index/`, { maxBatch, cache: new FileCache(dbName), residentBytes });
  try {
    const r = await lazy.search(weightsOf(seed), p);
    const c = lazy.lazy!.counters;
    return {
      seed,
      network_bytes: c.networkBytes, // manifest included
      requests: c.requests,
      cold_ms: performance.now() - t0,
      fetch_ms: r.timingsMs.fetch,
      scored: r.scored,
      ids: [...r.ids],
      gpu_bytes: lazy.scorer.gpuBytes,
      evictions: lazy.evictions,
    };
  } finally {
    lazy.destroy();
    indexedDB.deleteDatabase(dbName);
  }
}

declare global {
  interface Window {
    hypScaleReady: boolean;
    hypScale: { load: typeof load; exhaustive: typeof exhaustive; approximate: typeof approximate; coldQuery: typeof coldQuery };
  }
}

window.hypScale = { load, exhaustive, approximate, coldQuery };
window.hypScaleReady = true;
document.getElementById('status')!.textContent = 'ready';
