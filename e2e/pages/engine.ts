// Harness: the page's search engine (src/worker/searchEngine.ts) run on this page's main thread,
// so tests and scripts can drive it with any model and index and read exact scores and timings.
import { createStore, keys } from 'idb-keyval';
import { SearchEngine, type EngineOptions, type SearchResponse } from '../../src/worker/searchEngine.ts';

export interface EngineRun {
  info: Awaited<ReturnType<SearchEngine['load']>>;
  loadMs: number;
  results: { query: string; docs: number[]; scores: number[]; timingsMs: SearchResponse['timingsMs'] }[];
}

const engines = new Map<string, SearchEngine>();

/** Loads (once per model, index and options) and runs each query `repeat` times; keeps the last answer. */
async function engineSearch(modelUrl: string, indexUrl: string, opts: EngineOptions, queries: string[], k: number, repeat = 1): Promise<EngineRun> {
  const key = JSON.stringify([modelUrl, indexUrl, opts]);
  let engine = engines.get(key);
  const t0 = performance.now();
  let info: Awaited<ReturnType<SearchEngine['load']>> | undefined;
  if (!engine) {
    engine = new SearchEngine();
    info = await engine.load(modelUrl, indexUrl, undefined, opts);
    engines.set(key, engine);
  }
  info ??= engine.loaded!;
  const loadMs = performance.now() - t0;
  const results: EngineRun['results'] = [];
  for (const q of queries) {
    let r!: SearchResponse;
    for (let i = 0; i < repeat; i++) r = await engine.search(q, k);
    results.push({ query: q, docs: r.hits.map((h) => h.passage), scores: r.hits.map((h) => h.score), timingsMs: r.timingsMs });
  }
  return { info, loadMs, results };
}

/**
 * What keeping the q-net on the GPU saves: the time to read a q-net of these dims back from GPU
 * buffers and upload it again (what the engine would do without binding onnxruntime's buffers),
 * median of `reps`, on a device of its own.
 */
async function measureQnetTransfer(dims: number[], reps = 9): Promise<{ bytes: number; readbackMs: number; uploadMs: number }> {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter!.limits.maxStorageBufferBindingSize, maxBufferSize: adapter!.limits.maxBufferSize },
  });
  const sizes: number[] = [];
  for (let j = 0; j + 1 < dims.length; j++) sizes.push(dims[j] * dims[j + 1] * 4);
  for (let j = 1; j + 1 < dims.length; j++) sizes.push(dims[j] * 4);
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const bufs = sizes.map((n) => device.createBuffer({ size: n, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }));
  const host = sizes.map((n) => new Float32Array(n / 4).fill(0.5));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rb: number[] = [];
  const up: number[] = [];
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    const staging = sizes.map((n) => device.createBuffer({ size: n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    const enc = device.createCommandEncoder();
    for (const [i, b] of bufs.entries()) enc.copyBufferToBuffer(b, 0, staging[i], 0, sizes[i]);
    device.queue.submit([enc.finish()]);
    await Promise.all(staging.map((b) => b.mapAsync(GPUMapMode.READ)));
    for (const [i, b] of staging.entries()) {
      host[i].set(new Float32Array(b.getMappedRange()));
      b.destroy();
    }
    rb.push(performance.now() - t);
    t = performance.now();
    for (const [i, b] of bufs.entries()) device.queue.writeBuffer(b, 0, host[i]);
    await device.queue.onSubmittedWorkDone();
    up.push(performance.now() - t);
  }
  device.destroy();
  return { bytes, readbackMs: median(rb), uploadMs: median(up) };
}

/** The keys of the engine's IndexedDB file cache (src/worker/fileCache.ts). */
async function cacheKeys(): Promise<string[]> {
  return (await keys(createStore('hypencoder-web', 'files'))).map(String);
}

declare global {
  interface Window {
    cacheKeys: typeof cacheKeys;
    measureQnetTransfer: typeof measureQnetTransfer;
    engineSearch: typeof engineSearch;
    SearchEngine: typeof SearchEngine;
    engineHarnessReady: boolean;
  }
}
window.engineSearch = engineSearch;
window.SearchEngine = SearchEngine;
window.cacheKeys = cacheKeys;
window.measureQnetTransfer = measureQnetTransfer;
window.engineHarnessReady = true;
document.getElementById('status')!.textContent = 'ready';
