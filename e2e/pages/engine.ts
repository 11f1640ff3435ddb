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
  let info;
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
    results.push({ query: q, docs: r.hits.map((h) => h.doc), scores: r.hits.map((h) => h.score), timingsMs: r.timingsMs });
  }
  return { info, loadMs, results };
}

/** The keys of the engine's IndexedDB file cache (src/worker/fileCache.ts). */
async function cacheKeys(): Promise<string[]> {
  return (await keys(createStore('hypencoder-web', 'files'))).map(String);
}

declare global {
  interface Window {
    cacheKeys: typeof cacheKeys;
    engineSearch: typeof engineSearch;
    SearchEngine: typeof SearchEngine;
    engineHarnessReady: boolean;
  }
}
window.engineSearch = engineSearch;
window.SearchEngine = SearchEngine;
window.cacheKeys = cacheKeys;
window.engineHarnessReady = true;
document.getElementById('status')!.textContent = 'ready';
