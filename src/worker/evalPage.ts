// The page `hypencoder-web eval --engine browser` drives (src/cli/browserEngine.ts; served by Vite
// from the repository): the browser's search engine (WebGPU scorer, onnxruntime-web query encoder,
// lexical and hybrid modes) run on this page's main thread, one call for a whole query set.
// e2e/evalEngines.spec.ts checks it ranks as the Node engine does.
import { SEARCH_DEFAULTS } from '../core/search.ts';
import { SearchEngine } from './searchEngine.ts';

type Mode = Parameters<SearchEngine['rankForEval']>[1];
type Hits = Awaited<ReturnType<SearchEngine['rankForEval']>>;

const loaded = new Map<string, Promise<{ info: Awaited<ReturnType<SearchEngine['load']>>; engine: SearchEngine }>>();

/** Loads as the page does (lexical part first, records per hit), and waits for the neural half. */
async function open(modelUrl: string, indexUrl: string | string[]) {
  const engine = new SearchEngine();
  let upgraded: (info: Awaited<ReturnType<SearchEngine['load']>>) => void = () => {};
  const upgrade = new Promise<Awaited<ReturnType<SearchEngine['load']>>>((resolve) => (upgraded = resolve));
  // The WGSL scorer always (not the calibrated choice): this page is the WebGPU engine that `eval --engine browser` measures.
  const first = await engine.load(modelUrl, indexUrl, undefined, { preload: 'lexical', scorer: 'webgpu' }, (i) => upgraded(i));
  engine.loadRest();
  const info = first.loaded === 'all' ? first : await upgrade;
  if (info.neuralError) throw new Error(`the neural half did not load: ${info.neuralError}`);
  return { info, engine };
}

/** Loads the engine once per model and index on this page, then runs every query (typo tolerance on, as the page's default). */
async function evalSearch(
  modelUrl: string,
  indexUrl: string | string[],
  queries: { id: string; text: string }[],
  mode: Mode,
  k: number,
  typos: boolean = SEARCH_DEFAULTS.typos,
) {
  const key = JSON.stringify([modelUrl, indexUrl]);
  if (!loaded.has(key)) loaded.set(key, open(modelUrl, indexUrl));
  const { info, engine } = await loaded.get(key)!;
  const results: Record<string, Hits> = {};
  const t0 = performance.now();
  for (const q of queries) results[q.id] = await engine.rankForEval(q.text, mode, k, typos);
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
