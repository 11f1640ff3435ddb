// What the search engine (searchEngine.ts) takes and answers: its options, what it reports once
// loaded, a search's response, and the facet overview a page shows before any query.
import type { FacetCounts } from '../core/facets.ts';
import type { ApproximateSetting } from '../core/graphSearch.ts';
import type { TermCorrection } from '../core/lexical.ts';
import type { SearchHit, SearchMode } from '../core/search.ts';
import type { cacheSummary } from './bundleLoader.ts';
import type { ScorerBackend } from './neuralRanker.ts';
import type { EncoderBackend } from './queryEncoder.ts';
import type { WalkStats } from './walkRanker.ts';

export interface EngineOptions {
  /** Default: 'webgpu' when the browser has it, else 'cpu'. */
  scorer?: ScorerBackend;
  /** Default: 'webgpu' with the WebGPU scorer on a real GPU (the q-net stays on the GPU), else 'wasm'. */
  encoder?: EncoderBackend;
  /**
   * WebGPU encoder + WebGPU scorer only: read the q-net back to the CPU and upload it again
   * instead of binding onnxruntime's buffers. Slower; exists to measure what binding saves.
   */
  readbackQnet?: boolean;
  /** Keep verified files in IndexedDB for the next visit (default true). */
  cache?: boolean;
  /**
   * 'auto' (default): walk the neighbor graph, fetching only what the walk visits, for an index of
   * more than WALK_DEFAULTS.autoAbovePassages passages that can be loaded lazily; 'on': always
   * (refused for an index that cannot); 'off': score every passage (all vectors downloaded).
   */
  approximate?: ApproximateSetting;
  /**
   * 'lexical' (the library's default): answer lexical searches once the lexical part is in, the
   * neural half loaded at loadRest(); 'all' (the engine's default): load everything before the
   * first answer. A bundle without a documents part or a lexical index always loads all.
   */
  preload?: 'lexical' | 'all';
}

export interface EngineInfo {
  docCount: number;
  modelId: string;
  synthetic: boolean;
  backend: ScorerBackend;
  encoder: EncoderBackend | 'synthetic';
  /**
   * The encoder this browser starts with (kept after a device loss moves `encoder` to WASM): the
   * onnxruntime-web build a later visit loads, so the one to keep for offline use.
   */
  startEncoder: EncoderBackend | 'synthetic';
  adapter: string;
  /** The IndexedDB file cache: 'on', or 'off' with the reason; bytes this load took from each source. */
  cache: ReturnType<typeof cacheSummary>;
  /** Set once the GPU device was lost and the engine moved to other backends. */
  recoveredFrom?: string;
  /** 'neural'; 'lexical' and 'hybrid' when the index has a lexical part. */
  modes: SearchMode[];
  /**
   * 'all': everything is in. 'lexical': only the lexical part is, the neural half is loading (or
   * failed: neuralError), and every search is answered lexically until it is in.
   */
  loaded: 'lexical' | 'all';
  /** Why the neural half could not be loaded (lexical search goes on). */
  neuralError?: string;
  /** Source documents (pages), where the index has a documents part; docCount counts their passages. */
  pages?: number;
  /** Set when neural passages come from a graph walk over a lazily loaded index (EngineOptions.approximate). */
  approximate?: boolean;
}

export interface SearchResponse {
  /** The query as it was asked (the rankers saw it cut to MAX_QUERY_CHARS, src/core/query.ts). */
  query: string;
  /** Set when the query was cut, by characters or by the neural model's token limit: text for the person. */
  notice?: string;
  /** Query words no document holds, and the corpus words searched in their place (typo tolerance, SearchOptions.typos). */
  corrections?: TermCorrection[];
  /** Where the index has filters: per key and value, the pages among the query's matches (src/core/facets.ts). */
  facets?: FacetCounts;
  /** The mode that ranked these hits: the one asked for, or 'lexical' while the neural half is still loading. */
  mode: SearchMode;
  /** A newer search started before this one finished: its answer was dropped (hits is empty). */
  superseded?: boolean;
  hits: SearchHit[];
  /** Approximate search: the walk's passages scored, and the bytes it fetched (network) and read back (IndexedDB). */
  approximate?: WalkStats;
  /** qnet: tokenize + query encoder (or the synthetic draw; 0 in lexical mode); score: the rest of the ranking (q-net over all passages, top-k, BM25, fusion). */
  timingsMs: { qnet: number; score: number; total: number };
  backend: ScorerBackend;
}

/** What a page can offer before any query: each filter's values with their page counts, the sort keys. */
export interface FacetOverview {
  filters: FacetCounts;
  sortKeys: string[];
}
