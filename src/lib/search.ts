// The library API: `createSearch({ model, index })` starts the engine in a module worker and loads
// the two bundles. The page, the <hypencoder-search> element and library users all go through it.
import * as Comlink from 'comlink';
import { SEARCH_MODES, searchOptions, type SearchMode, type SearchOptions } from '../core/search.ts';
import type { LoadProgress } from '../worker/bundleLoader.ts';
import type { EngineInfo, FacetOverview, SearchEngine, SearchResponse } from '../worker/searchEngine.ts';
import workerUrl from '../worker/worker.ts?worker&url';

export { SEARCH_DEFAULTS, SEARCH_MODES } from '../core/search.ts';
export type { SearchHit, SearchMode, SearchOptions } from '../core/search.ts';
export type { TextRange } from '../core/highlight.ts';
export type { LoadProgress } from '../worker/bundleLoader.ts';
export type { EngineInfo, FacetOverview, SearchResponse } from '../worker/searchEngine.ts';
export type { FacetCounts, FilterSelection, SortOrder } from '../core/facets.ts';

export interface CreateSearchOptions {
  /** URL of the model bundle folder (holding model.json); relative URLs resolve against the page. */
  model: string;
  /**
   * URL of the index bundle folder (holding manifest.json), or several searched as one collection:
   * bundle folders of one model, or shard lists (a URL ending in shards.json, `index --shards`).
   * Bundles on another origin need CORS (docs/FORMATS.md, "Searching several bundles as one collection").
   */
  index: string | string[];
  /** Scorer backend; default WebGPU when the browser has it, else the CPU scorer. */
  scorer?: 'webgpu' | 'cpu';
  /** Query encoder backend (trained models only); default WebGPU with the WebGPU scorer, else WASM. */
  encoder?: 'webgpu' | 'wasm';
  /**
   * 'lexical' (default): `ready` resolves once keyword search works (a few kB on a first visit); the
   * query model and the vectors load behind it, and 'upgrade' fires when every mode is searchable.
   * Until then a neural or hybrid search is answered lexically (its response's `mode` says so).
   * 'all': `ready` waits for everything.
   */
  preload?: 'lexical' | 'all';
  /**
   * Approximate search: 'auto' (default) walks the neighbor graph, fetching only the vector and graph
   * chunks the walk visits, for an index of more than 100,000 passages that can be loaded lazily;
   * 'on' always does (refused for an index that cannot); 'off' scores every passage.
   */
  approximate?: 'auto' | 'on' | 'off';
}

export type SearchEvents = {
  progress: LoadProgress;
  ready: EngineInfo;
  /** The neural half has loaded (info.loaded 'all', every mode), or failed (info.neuralError; keyword search goes on). */
  upgrade: EngineInfo;
  error: Error;
};

export interface HypencoderSearch {
  /** Resolves when both bundles are loaded and verified; rejects with the reason they were refused. */
  readonly ready: Promise<EngineInfo>;
  /** What `ready` resolved to, or what 'upgrade' gave since; null before. */
  readonly info: EngineInfo | null;
  search(query: string, opts?: SearchOptions): Promise<SearchResponse>;
  /** The index's filters (each value's page count) and sort keys, for a page to offer before any query; empty where it has none. */
  facets(): Promise<FacetOverview>;
  /** Subscribe to load progress, readiness or a load error; returns the unsubscribe function. */
  on<E extends keyof SearchEvents>(event: E, listener: (value: SearchEvents[E]) => void): () => void;
  /** Stops the worker (and frees its GPU memory). */
  dispose(): void;
}

/** With preload 'lexical': how long after keyword search is ready, without a search, the neural half starts loading anyway. */
const NEURAL_IDLE_MS = 2_000;
/** After the first answer: a few frames, so the page renders it before the neural half's fetches start. */
const AFTER_FIRST_ANSWER_MS = 100;

/** The `approximate` attribute or URL parameter: auto, on or off (anything else: the default). */
export function approximateSetting(v: string | null): CreateSearchOptions['approximate'] {
  return v === 'auto' || v === 'on' || v === 'off' ? v : undefined;
}

export function engineModes(info: EngineInfo | null): SearchMode[] {
  const extra = info as (EngineInfo & { lexical?: boolean; modes?: SearchMode[] }) | null;
  if (!extra) return ['neural'];
  if (Array.isArray(extra.modes)) return SEARCH_MODES.filter((m) => extra.modes!.includes(m));
  return extra.lexical ? [...SEARCH_MODES] : ['neural'];
}

/**
 * A module worker from the bundled worker file. Browsers refuse a worker script from another
 * origin (a library served from a CDN), so then a same-origin blob module imports it instead.
 */
function startWorker(): Worker {
  const url = new URL(workerUrl, import.meta.url);
  if (url.origin === location.origin) return new Worker(url, { type: 'module', name: 'hypencoder-engine' });
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
  return new Worker(shim, { type: 'module', name: 'hypencoder-engine' });
}

export function createSearch(opts: CreateSearchOptions): HypencoderSearch {
  const indexes = typeof opts?.index === 'string' ? [opts.index] : opts?.index;
  if (!opts || typeof opts.model !== 'string' || !Array.isArray(indexes) || indexes.length === 0 || indexes.some((i) => typeof i !== 'string')) {
    throw new TypeError('createSearch: pass { model, index }, the URLs of the model and index bundle folders (index: one URL or an array of them)');
  }
  const listeners: { [E in keyof SearchEvents]: Set<(v: SearchEvents[E]) => void> } = {
    progress: new Set(),
    ready: new Set(),
    upgrade: new Set(),
    error: new Set(),
  };
  const emit = <E extends keyof SearchEvents>(event: E, value: SearchEvents[E]): void => {
    for (const l of listeners[event]) l(value);
  };
  const worker = startWorker();
  const engine = Comlink.wrap<SearchEngine>(worker);
  // The worker resolves URLs against its own location, so make them absolute against the page here.
  const base = typeof document !== 'undefined' ? document.baseURI : location.href;
  const modelUrl = new URL(opts.model, base).href;
  const indexUrls = indexes.map((i) => new URL(i, base).href);
  const indexUrl = indexUrls.length === 1 ? indexUrls[0] : indexUrls;
  let info: EngineInfo | null = null;
  const ready = engine
    .load(
      modelUrl,
      indexUrl,
      Comlink.proxy((p: LoadProgress) => emit('progress', p)),
      { scorer: opts.scorer, encoder: opts.encoder, preload: opts.preload ?? 'lexical', approximate: opts.approximate ?? 'auto' },
      Comlink.proxy((i: EngineInfo) => {
        info = i;
        emit('upgrade', i);
      }),
    )
    .then(
      (i) => {
        info = i;
        emit('ready', i);
        return i;
      },
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        emit('error', err);
        throw err;
      },
    );
  ready.catch(() => {}); // the rejection is reported through `ready` and 'error'; not an unhandled one here
  // The neural half (preload 'lexical') loads after the first answer, or once the page has been idle
  // that long after keyword search became ready: its megabytes never compete with the first result.
  let restTimer: ReturnType<typeof setTimeout> | undefined;
  const loadRest = () => {
    clearTimeout(restTimer);
    void engine.loadRest();
  };
  ready.then(
    (i) => {
      if (i.loaded === 'lexical') restTimer = setTimeout(loadRest, NEURAL_IDLE_MS);
    },
    () => {},
  );
  return {
    ready,
    get info() {
      return info;
    },
    async search(query, opts) {
      const { k, mode, typos, filters, sort } = searchOptions(opts);
      await ready;
      clearTimeout(restTimer); // a search has come: the neural half waits for its answer, not the idle timer
      const modes = engineModes(info);
      // The default mode is hybrid where the index has a lexical part, else neural.
      const m = opts?.mode === undefined && !modes.includes(mode) ? 'neural' : mode;
      if (!modes.includes(m)) throw new Error(`search: mode ${m} is not available for this index`);
      // While the neural half loads (info.loaded 'lexical') the engine answers lexically; the response's mode says so.
      const r = await engine.search(query, { k, mode: m, typos, filters, sort });
      if (info?.loaded === 'lexical') setTimeout(loadRest, AFTER_FIRST_ANSWER_MS); // once this answer is on screen
      return r;
    },
    async facets() {
      await ready;
      return engine.facetOverview();
    },
    on(event, listener) {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    dispose() {
      clearTimeout(restTimer);
      engine[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
