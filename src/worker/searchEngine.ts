// The search engine behind the page: loads verified bundles, keeps the documents on the GPU and
// answers queries. Two components, each with its backend:
//   - the query encoder (onnxruntime-web): WebGPU, or WASM;
//   - the scorer: our WGSL q-net scorer on WebGPU, or the CPU reference scorer.
// On WebGPU both share one device, and the q-net goes from encoder to scorer as GPU buffers.
// A synthetic model has no encoder: its q-nets come from a hash of the query (see syntheticQuery).
import type { ScoredDoc } from '../core/fusion.ts';
import { referenceScores, referenceTopK, type QNetWeights } from '../core/qnet.ts';
import { syntheticQueryWeights } from '../core/syntheticQuery.ts';
import { decodeTiles } from '../core/vectorStorage.ts';
import { defaultAdapterIsCpuEmulated, describeDevice, requestScorerDevice } from '../gpu/device.ts';
import { QNetScorer } from '../gpu/qnetScorer.ts';
import { loadBundles, type LoadedBundles, type LoadProgress } from './bundleLoader.ts';
import { FileCache } from './fileCache.ts';
import { ModeSearch } from './modeSearch.ts';
import { isLexicalScheme } from '../core/lexical.ts';
import { lexicalIndexFile, openLexicalIndex } from '../core/lexicalBundle.ts';
import { SEARCH_MODES, searchOptions, type SearchHit, type SearchMode, type SearchOptions } from '../core/search.ts';
import { MAX_K } from '../gpu/topkProgram.ts';
import { QueryEncoder, type EncoderBackend } from './queryEncoder.ts';
import { prepareQuery } from './queryBounds.ts';

export type ScorerBackend = 'webgpu' | 'cpu';

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
  cache: LoadedBundles['cache'];
  /** Set once the GPU device was lost and the engine moved to other backends. */
  recoveredFrom?: string;
  /** 'neural' always; 'lexical' and 'hybrid' when the index has a lexical part. */
  modes: SearchMode[];
}

export interface SearchResponse {
  /** The query as it was asked (the rankers saw it cut to MAX_QUERY_CHARS, src/core/query.ts). */
  query: string;
  /** Set when the query was cut, by characters or by the neural model's token limit: text for the person. */
  notice?: string;
  /** A newer search started before this one finished: its answer was dropped (hits is empty). */
  superseded?: boolean;
  hits: SearchHit[];
  /** qnet: tokenize + query encoder (or the synthetic draw; 0 in lexical mode); score: the rest of the ranking (q-net over all passages, top-k, BM25, fusion). */
  timingsMs: { qnet: number; score: number; total: number };
  backend: ScorerBackend;
}

export class SearchEngine {
  private bundles: LoadedBundles | null = null;
  private scorer: QNetScorer | null = null;
  private encoder: QueryEncoder | null = null;
  private cpuVectors: Float32Array | null = null;
  private info: EngineInfo | null = null;
  private readbackQnet = false;
  private generation = 0;
  private modeSearch: ModeSearch | null = null;
  private lostDevice: string | null = null;

  async load(modelUrl: string, indexUrl: string, onProgress?: (p: LoadProgress) => void, opts: EngineOptions = {}): Promise<EngineInfo> {
    this.release();
    const bundles = await loadBundles(modelUrl, indexUrl, onProgress, new FileCache(undefined, opts.cache ?? true));
    onProgress?.({ phase: 'gpu', loadedBytes: 0, totalBytes: 0 });
    const hasGpu = typeof navigator !== 'undefined' && !!navigator.gpu;
    const scorerBackend: ScorerBackend = opts.scorer ?? (hasGpu ? 'webgpu' : 'cpu');
    // The encoder on WebGPU keeps the q-net on the GPU; but on a CPU-emulated adapter a BERT-base
    // query took 56 s there against 0.64 s on WASM (bench/encoderLatency.ts), so WASM by default.
    const gpuEncoder = scorerBackend === 'webgpu' && !(await defaultAdapterIsCpuEmulated());
    const encoder: EngineInfo['encoder'] = bundles.queryEncoder ? (opts.encoder ?? (gpuEncoder ? 'webgpu' : 'wasm')) : 'synthetic';
    this.readbackQnet = !!opts.readbackQnet;
    this.bundles = bundles;
    const adapter = await this.startBackends(scorerBackend, encoder);
    // The lexical index is fetched, verified and parsed at the first lexical or hybrid search (a chunked one: its dictionary, then each query's chunks).
    const { readLexical, manifest } = bundles;
    const scheme = manifest.lexical?.scheme;
    const lexical =
      readLexical && isLexicalScheme(scheme)
        ? { scheme, file: lexicalIndexFile(manifest), index: async () => (await openLexicalIndex(manifest, readLexical)).index }
        : null;
    // Every mode ranks by the Node engine's steps (modeSearch.ts); neural passages come from neuralTopK.
    this.modeSearch = new ModeSearch(
      (q, depth) => this.rankNeural(q, depth),
      bundles.docs,
      lexical,
      scorerBackend === 'webgpu' ? MAX_K : Number.MAX_SAFE_INTEGER,
    );
    const modes: SearchMode[] = lexical ? [...SEARCH_MODES] : ['neural'];
    this.info = {
      docCount: bundles.manifest.docCount,
      modelId: bundles.model.id,
      synthetic: bundles.model.synthetic,
      backend: scorerBackend,
      encoder,
      startEncoder: encoder,
      adapter,
      cache: bundles.cache,
      modes,
    };
    onProgress?.({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
    return this.info;
  }

  /** Builds the encoder and the scorer for the loaded bundles; returns a description of the scorer. */
  private async startBackends(scorerBackend: ScorerBackend, encoder: EngineInfo['encoder']): Promise<string> {
    const bundles = this.bundles!;
    if (bundles.queryEncoder && encoder !== 'synthetic') {
      const { onnx, vocabText } = bundles.queryEncoder;
      this.encoder = await QueryEncoder.create(bundles.model, onnx, vocabText, encoder);
    }
    if (scorerBackend === 'cpu') {
      this.cpuVectors = decodeTiles(bundles.tiles);
      return 'CPU reference scorer';
    }
    // With a WebGPU encoder the scorer joins onnxruntime's device, so q-nets pass as buffers.
    let device = this.encoder?.device ?? null;
    let adapter: string;
    if (device) adapter = describeDevice(device);
    else ({ device, adapterInfo: adapter } = await requestScorerDevice());
    const scorer = await QNetScorer.create(device, bundles.model.qnet, { dtype: bundles.manifest.storage.dtype });
    scorer.setDocuments(bundles.tiles);
    this.scorer = scorer;
    void device.lost.then((lost) => {
      if (this.scorer === scorer) this.lostDevice = `${lost.reason}: ${lost.message || 'device lost'}`;
    });
    return adapter;
  }

  /**
   * After a device loss: onnxruntime's WebGPU backend cannot take a new device, so the encoder moves
   * to WASM; the scorer moves to a fresh WebGPU device, or to the CPU when none can be had.
   */
  private async recover(): Promise<void> {
    const why = this.lostDevice!;
    this.lostDevice = null;
    this.stopBackends(false); // the scorer's buffers went with the device
    const encoder: EngineInfo['encoder'] = this.bundles!.queryEncoder ? 'wasm' : 'synthetic';
    let backend: ScorerBackend = 'webgpu';
    let adapter: string;
    try {
      adapter = await this.startBackends('webgpu', encoder);
    } catch {
      backend = 'cpu';
      adapter = await this.startBackends('cpu', encoder);
    }
    this.info = { ...this.info!, backend, encoder, adapter, recoveredFrom: why };
  }

  /** Test hook: loses the scorer's GPU device as a driver reset would. */
  simulateDeviceLoss(): void {
    this.scorer?.device.destroy();
  }

  /** What load() returned, or null before a load. */
  get loaded(): EngineInfo | null {
    return this.info;
  }

  /** `opts` may be k alone (neural mode). Every mode returns one hit per document (its best passage). */
  async search(query: string, opts: number | SearchOptions = {}): Promise<SearchResponse> {
    const { k, mode } = searchOptions(typeof opts === 'number' ? { k: opts } : opts);
    if (!this.bundles || !this.info) throw new Error('search: no index loaded');
    if (!this.info.modes.includes(mode)) throw new Error(`search: mode ${mode} needs an index with a lexical part`);
    const generation = ++this.generation;
    // One search at a time: onnxruntime-web refuses to run a session that is running ("Session
    // already started"), and the scorer's weight buffers serve one q-net at a time. A search that
    // waited its turn while a newer one arrived is dropped without running.
    const turn = this.turn.then(() => this.searchInTurn(query, k, mode, generation));
    this.turn = turn.catch(() => undefined);
    return turn;
  }

  private turn: Promise<unknown> = Promise.resolve();

  private async searchInTurn(query: string, k: number, mode: SearchMode, generation: number): Promise<SearchResponse> {
    if (!this.bundles || !this.info) throw new Error('search: no index loaded');
    const superseded = () => generation !== this.generation; // a newer query wins
    const dropped = (): SearchResponse => ({ query, superseded: true, hits: [], backend: this.info!.backend, timingsMs: { qnet: 0, score: 0, total: 0 } });
    if (superseded()) return dropped();
    if (this.lostDevice) await this.recover();
    // Bounded before it is tokenized or searched: a pasted book costs what 2,048 characters do.
    const encoder = this.encoder;
    const { text, notice } = prepareQuery(query, mode !== 'lexical' && encoder ? (t) => encoder.tokenCut(t) : undefined);
    const t0 = performance.now();
    let qnetMs = 0;
    const hits = await this.modeSearch!.search(text, mode, k, async (q, depth) => {
      const r = await this.neuralTopK(q, depth, superseded);
      qnetMs = r?.encodeMs ?? 0;
      return r?.passages ?? null;
    });
    if (!hits || superseded()) return dropped();
    const total = performance.now() - t0;
    return { query, ...(notice ? { notice } : {}), hits, backend: this.info.backend, timingsMs: { qnet: qnetMs, score: total - qnetMs, total } };
  }

  /** Encode the query, score every passage, keep the best `depth`; null when `superseded` turns true. */
  private async neuralTopK(query: string, depth: number, superseded: () => boolean): Promise<{ passages: ScoredDoc[]; encodeMs: number } | null> {
    const t0 = performance.now();
    let indices: ArrayLike<number>;
    let scores: ArrayLike<number>;
    let t1: number;
    if (this.encoder?.backend === 'webgpu' && this.scorer && !this.readbackQnet) {
      const qnet = await this.encoder.encodeToGpu(query);
      t1 = performance.now();
      try {
        if (superseded()) return null; // skip the scoring
        this.scorer.useWeightBuffers(qnet.buffers);
        ({ indices, scores } = await this.scorer.search(depth));
      } finally {
        qnet.release();
      }
    } else {
      const weights: QNetWeights = this.encoder ? await this.encoder.encodeToCpu(query) : syntheticQueryWeights(this.bundles!.model.qnet, query);
      t1 = performance.now();
      if (superseded()) return null;
      if (this.scorer) {
        this.scorer.setWeights(weights);
        ({ indices, scores } = await this.scorer.search(depth));
      } else {
        ({ indices, scores } = referenceTopK(referenceScores(weights, this.cpuVectors!, this.info!.docCount), depth));
      }
    }
    if (superseded()) return null;
    return { passages: Array.from(indices, (doc, i) => ({ doc, score: scores[i] })), encodeMs: t1 - t0 };
  }

  /** The neural ranking of `depth` passages, never given up (rankForEval). */
  private async rankNeural(query: string, depth: number): Promise<ScoredDoc[]> {
    return (await this.neuralTopK(query, depth, () => false))!.passages;
  }

  /** Lexical, neural or hybrid hits as search() gives them, outside the one-search-at-a-time turn (the eval page). */
  async rankForEval(query: string, mode: SearchMode, k: number): Promise<SearchHit[]> {
    if (!this.modeSearch) throw new Error('rankForEval: no index loaded');
    return (await this.modeSearch.search(prepareQuery(query).text, mode, k))!;
  }

  /** The q-net of a query as plain arrays (for parity checks against other engines). */
  async qnetFor(query: string): Promise<QNetWeights> {
    if (!this.bundles) throw new Error('qnetFor: no index loaded');
    const { text } = prepareQuery(query);
    return this.encoder ? this.encoder.encodeToCpu(text) : syntheticQueryWeights(this.bundles.model.qnet, text);
  }

  /** Frees the encoder and the scorer (`destroyScorer`: its GPU buffers too, unless they went with a lost device). */
  private stopBackends(destroyScorer: boolean): void {
    if (destroyScorer) this.scorer?.destroy();
    this.encoder?.dispose();
    this.scorer = null;
    this.encoder = null;
    this.cpuVectors = null;
  }

  private release(): void {
    this.stopBackends(true);
    this.bundles = null;
    this.info = null;
    this.lostDevice = null;
    this.modeSearch = null;
  }
}
