// The page `hypencoder-web eval --engine browser` drives (src/cli/browserEngine.ts; served by Vite
// from the repository): the browser's search engine (WebGPU scorer, onnxruntime-web query encoder,
// lexical and hybrid modes) run on this page's main thread, one call for a whole query set.
// e2e/evalEngines.spec.ts checks it ranks as the Node engine does.
import { SearchEngine } from './searchEngine.ts';

type Mode = Parameters<SearchEngine['rankForEval']>[1];
type Hits = Awaited<ReturnType<SearchEngine['rankForEval']>>;

const loaded = new Map<string, Promise<{ info: Awaited<ReturnType<SearchEngine['load']>>; engine: SearchEngine }>>();

async function open(modelUrl: string, indexUrl: string) {
  const engine = new SearchEngine();
  const info = await engine.load(modelUrl, indexUrl);
  return { info, engine };
}

/** Loads the engine once per model and index on this page, then runs every query. */
async function evalSearch(modelUrl: string, indexUrl: string, queries: { id: string; text: string }[], mode: Mode, k: number) {
  const key = JSON.stringify([modelUrl, indexUrl]);
  if (!loaded.has(key)) loaded.set(key, open(modelUrl, indexUrl));
  const { info, engine } = await loaded.get(key)!;
  const results: Record<string, Hits> = {};
  const t0 = performance.now();
  for (const q of queries) results[q.id] = await engine.rankForEval(q.text, mode, k);
  return { info, results, ms: performance.now() - t0 };
}

declare global {
  interface Window {
    evalSearch: typeof evalSearch;
    evalPageReady: boolean;
  }
}
window.evalSearch = evalSearch;
window.evalPageReady = true;
document.getElementById('status')!.textContent = 'ready';
