// Harness for `hypencoder-web eval --engine browser`: the page's search engine (WebGPU scorer,
// onnxruntime-web query encoder) plus ModeSearch for lexical / hybrid, run on this page's main thread.
import type { SearchMode } from '../../src/core/ranking.ts';
import type { ModeHit } from '../../src/worker/modeSearch.ts';
import { SearchEngine } from '../../src/worker/searchEngine.ts';

const loaded = new Map<string, Promise<{ info: Awaited<ReturnType<SearchEngine['load']>>; engine: SearchEngine }>>();

async function open(modelUrl: string, indexUrl: string) {
  const engine = new SearchEngine();
  const info = await engine.load(modelUrl, indexUrl);
  return { info, engine };
}

/** Loads the engine once per model and index on this page, then runs every query. */
async function evalSearch(modelUrl: string, indexUrl: string, queries: { id: string; text: string }[], mode: SearchMode, k: number) {
  const key = JSON.stringify([modelUrl, indexUrl]);
  if (!loaded.has(key)) loaded.set(key, open(modelUrl, indexUrl));
  const { info, engine } = await loaded.get(key)!;
  const results: Record<string, ModeHit[]> = {};
  const t0 = performance.now();
  for (const q of queries) results[q.id] = await engine.rankForEval(q.text, mode, k);
  return { info, results, ms: performance.now() - t0 };
}

declare global {
  interface Window {
    evalSearch: typeof evalSearch;
    evalHarnessReady: boolean;
  }
}
window.evalSearch = evalSearch;
window.evalHarnessReady = true;
document.getElementById('status')!.textContent = 'ready';
