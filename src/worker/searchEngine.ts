// The search engine behind the page: loads verified bundles and answers queries. A first visit
// answers from the lexical index as soon as the manifest, the documents map and the query's term
// chunks are in (preload 'lexical', the default for a bundle with a documents part and a lexical
// index); the neural half (neuralRanker.ts: query encoder and q-net scorer, imported only then) loads
// when loadRest() is called, and the engine then reports every mode (onUpgrade).
import type { QNetWeights } from '../core/qnet.ts';
import { cacheSummary, loadNeuralPart, openBundles, openDocumentsPart, readFacetFiles, type OpenedBundles, type LoadProgress } from './bundleLoader.ts';
import { unionLexical } from './unionLexical.ts';
import { DocumentTexts } from './documentTexts.ts';
import { FileCache } from './fileCache.ts';
import { ModeSearch } from './modeSearch.ts';
import { isLexicalScheme } from '../core/lexical.ts';
import { lexicalIndexFile, openLexicalIndex } from '../core/lexicalBundle.ts';
import { SEARCH_DEFAULTS, SEARCH_MODES, searchOptions, type SearchHit, type SearchMode, type SearchOptions } from '../core/search.ts';
import type { NeuralRanker, ScorerBackend } from './neuralRanker.ts';
import { prepareQuery } from './queryBounds.ts';
import type { EngineInfo, EngineOptions, FacetOverview, SearchResponse } from './engineTypes.ts';
import { walksGraph, type ApproximateSetting } from '../core/graphSearch.ts';
import { readLazyLayout } from '../core/formats/chunkHashes.ts';
import type { IndexManifest } from '../core/formats/index.ts';
import type { WalkRanker } from './walkRanker.ts';
import type { FacetCounts } from '../core/facets.ts';

export type { ScorerBackend };

export type { EngineInfo, EngineOptions, FacetOverview, SearchResponse } from './engineTypes.ts';

/** The neural half the engine searches with: every passage scored (neuralRanker.ts), or a graph walk (walkRanker.ts). */
type NeuralHalf = Pick<
  NeuralRanker,
  'topK' | 'qnetFor' | 'tokenCut' | 'maxK' | 'lostDevice' | 'recover' | 'simulateDeviceLoss' | 'stop' | 'backend' | 'encoderBackend' | 'adapter'
>;

export class SearchEngine {
  private bundles: OpenedBundles | null = null;
  private neural: NeuralHalf | null = null;
  /** Set when this load walks the graph (EngineOptions.approximate). */
  private walker: WalkRanker | null = null;
  private info: EngineInfo | null = null;
  private generation = 0;
  private modeSearch: ModeSearch | null = null;

  /**
   * Loads the bundles. Resolves when the engine can answer: with preload 'lexical' (and a bundle that
   * allows it) after the lexical part, with `modes` ['lexical'] and `loaded` 'lexical'; the neural half
   * then loads behind it and `onUpgrade` hears the new info (every mode, `loaded` 'all'; or
   * `neuralError`). Otherwise after everything.
   */
  async load(
    modelUrl: string,
    /** One index bundle folder, or several (a URL ending in shards.json: a shard list's shards) searched as one collection. */
    indexUrl: string | string[],
    onProgress: (p: LoadProgress) => void = () => {},
    opts: EngineOptions = {},
    onUpgrade?: (info: EngineInfo) => void,
  ): Promise<EngineInfo> {
    this.release();
    const bundles = await openBundles(modelUrl, indexUrl, onProgress, new FileCache(undefined, opts.cache ?? true));
    this.bundles = bundles;
    const { readLexical, manifest } = bundles;
    const scheme = manifest.lexical?.scheme;
    // The lexical index is fetched, verified and parsed at the first lexical or hybrid search (a chunked one: its dictionary, then each query's chunks).
    const lexical = bundles.union
      ? unionLexical(bundles)
      : readLexical && isLexicalScheme(scheme)
        ? { scheme, file: lexicalIndexFile(manifest), index: async () => (await openLexicalIndex(manifest, readLexical, bundles.readMember)).index }
        : null;
    const load = this.generationOfLoad;
    if (bundles.union && opts.approximate === 'on')
      throw new Error(`approximate search walks one bundle's neighbor graph; ${bundles.parts.length} bundles were given`);
    if (!bundles.union && this.walks(manifest, opts.approximate ?? 'auto'))
      return this.loadApproximate(bundles, bundles.parts[0].url, lexical, onProgress, opts, onUpgrade);
    if (lexical && manifest.documents && opts.preload === 'lexical') {
      const { groups, fetchDocument, fetchWhole } = await openDocumentsPart(bundles, onProgress);
      const texts = DocumentTexts.perDocument(groups, groups.docOf.length, fetchDocument, fetchWhole);
      this.modeSearch = new ModeSearch(null, texts, lexical, Number.MAX_SAFE_INTEGER, () => readFacetFiles(bundles));
      // Fetched now, so the first query needs only its chunks.
      await this.modeSearch.prepareLexical();
      this.info = this.describe(bundles, { modes: [...SEARCH_MODES], loaded: 'lexical' });
      onProgress({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
      // Started by loadRest(): after the first result or on idle (the library decides), so its bytes never delay the first answer.
      this.rest = () =>
        this.loadNeural(bundles, opts, onProgress, false).then(
          (info) => {
            if (load === this.generationOfLoad) onUpgrade?.(info);
          },
          (e: unknown) => {
            if (load !== this.generationOfLoad || !this.info) return;
            this.info = { ...this.info, neuralError: (e as Error).message ?? String(e) };
            onUpgrade?.(this.info);
          },
        );
      return this.info;
    }
    const info = await this.loadNeural(bundles, opts, onProgress, true, lexical);
    onProgress({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
    return info;
  }

  /**
   * Whether this load walks the graph: 'on', or 'auto' over WALK_DEFAULTS.autoAbovePassages passages,
   * for an index that can be loaded lazily ('on' refuses one that cannot, naming what it lacks).
   */
  private walks(manifest: IndexManifest, setting: ApproximateSetting): boolean {
    if (!walksGraph(setting, manifest.docCount)) return false;
    const { layout, reason } = readLazyLayout(manifest);
    const lacks = !layout ? reason : manifest.documents ? null : 'it has no documents part (written before 2026-12-03); rebuild it';
    if (lacks && setting === 'on') throw new Error(`manifest.json: approximate search needs an index that can be loaded lazily: ${lacks}`);
    return lacks === null;
  }

  /**
   * An approximate load: the manifest, the documents map (and the lexical part's dictionary, where
   * there is one), then the query encoder; vectors and graph rows come chunk by chunk as walks visit
   * them (walkRanker.ts). Lexical search answers as soon as its part is in, as with preload 'lexical'.
   */
  private async loadApproximate(
    bundles: OpenedBundles,
    indexUrl: string,
    lexical: ConstructorParameters<typeof ModeSearch>[2],
    onProgress: (p: LoadProgress) => void,
    opts: EngineOptions,
    onUpgrade?: (info: EngineInfo) => void,
  ): Promise<EngineInfo> {
    const load = this.generationOfLoad;
    const { manifest } = bundles;
    const { groups, fetchDocument, fetchWhole } = await openDocumentsPart(bundles, onProgress);
    const texts = DocumentTexts.perDocument(groups, manifest.docCount, fetchDocument, fetchWhole);
    this.modeSearch = new ModeSearch(null, texts, lexical, Number.MAX_SAFE_INTEGER, () => readFacetFiles(bundles));
    const startWalk = async (): Promise<EngineInfo> => {
      const part = await loadNeuralPart(bundles, onProgress, { metadata: false, vectors: false });
      if (load !== this.generationOfLoad) throw new Error('superseded by another load');
      const { WalkRanker } = await import('./walkRanker.ts');
      const walker = await WalkRanker.start(bundles.model, manifest, indexUrl, bundles.cache, part.queryEncoder, opts, {
        runtime: (loadedBytes, totalBytes) => onProgress({ phase: 'runtime', loadedBytes, totalBytes }),
        starting: () => onProgress({ phase: 'gpu', loadedBytes: 0, totalBytes: 0 }),
      });
      if (load !== this.generationOfLoad) {
        walker.stop();
        throw new Error('superseded by another load');
      }
      this.neural = walker;
      this.walker = walker;
      this.modeSearch!.setNeural(async (q, depth, mask) => (await walker.topK(q, depth, () => false, mask))!.passages, walker.maxK);
      const modes: SearchMode[] = this.modeSearch!.hasLexical ? [...SEARCH_MODES] : ['neural'];
      const { backend, encoderBackend: encoder, adapter } = walker;
      this.info = this.describe(bundles, { modes, loaded: 'all', backend, encoder, startEncoder: encoder, adapter, approximate: true });
      return this.info;
    };
    if (!lexical) {
      const info = await startWalk();
      onProgress({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
      return info;
    }
    await this.modeSearch.prepareLexical();
    this.info = this.describe(bundles, { modes: [...SEARCH_MODES], loaded: 'lexical', approximate: true });
    onProgress({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
    this.rest = () =>
      startWalk().then(
        (info) => {
          if (load === this.generationOfLoad) onUpgrade?.(info);
        },
        (e: unknown) => {
          if (load !== this.generationOfLoad || !this.info) return;
          this.info = { ...this.info, neuralError: (e as Error).message ?? String(e) };
          onUpgrade?.(this.info);
        },
      );
    return this.info;
  }

  /** Bumped by each load and release, so a neural half loading for an earlier load is dropped. */
  private generationOfLoad = 0;
  /** The neural half's load, not started yet (preload 'lexical'). */
  private rest: (() => Promise<void>) | null = null;

  /** Starts loading the neural half after a preload-'lexical' load (once; later calls do nothing). The load's onUpgrade hears when it is in. */
  loadRest(): void {
    const rest = this.rest;
    this.rest = null;
    void rest?.();
  }

  private describe(bundles: OpenedBundles, part: Pick<EngineInfo, 'modes' | 'loaded'> & Partial<EngineInfo>): EngineInfo {
    const union = bundles.union;
    return {
      docCount: union ? union.groups.docOf.length : bundles.manifest.docCount,
      modelId: bundles.model.id,
      synthetic: bundles.model.synthetic,
      backend: 'cpu',
      encoder: bundles.model.encoders ? 'wasm' : 'synthetic',
      startEncoder: bundles.model.encoders ? 'wasm' : 'synthetic',
      adapter: '',
      cache: cacheSummary(bundles),
      ...(union ? { pages: union.groups.passages.length } : bundles.manifest.documents ? { pages: bundles.manifest.documents.count } : {}),
      ...part,
    };
  }

  /**
   * The neural half: query encoder and vectors fetched and verified, backends started. `whole`: also
   * every record from the metadata shards, and the ModeSearch made here (a load of everything at once).
   */
  private async loadNeural(
    bundles: OpenedBundles,
    opts: EngineOptions,
    onProgress: (p: LoadProgress) => void,
    whole: boolean,
    lexical: ConstructorParameters<typeof ModeSearch>[2] = null,
  ): Promise<EngineInfo> {
    const load = this.generationOfLoad;
    const part = await loadNeuralPart(bundles, onProgress, { metadata: whole });
    if (load !== this.generationOfLoad) throw new Error('superseded by another load');
    const { NeuralRanker } = await import('./neuralRanker.ts');
    const scored = bundles.union ? { docCount: bundles.union.groups.docOf.length, storage: bundles.manifest.storage } : bundles.manifest;
    const neural = await NeuralRanker.start(bundles.model, scored, part, opts, {
      runtime: (loadedBytes, totalBytes) => onProgress({ phase: 'runtime', loadedBytes, totalBytes }),
      starting: () => onProgress({ phase: 'gpu', loadedBytes: 0, totalBytes: 0 }),
    });
    if (load !== this.generationOfLoad) {
      neural.stop();
      throw new Error('superseded by another load');
    }
    this.neural = neural;
    // Every mode ranks by the Node engine's steps (modeSearch.ts); neural passages come from the neural ranker's top-k.
    const rank = async (q: string, depth: number, mask?: Uint32Array) => (await neural.topK(q, depth, () => false, mask))!.passages;
    const texts = bundles.union ? DocumentTexts.whole(part.docs, bundles.union.groups) : part.docs;
    if (whole) this.modeSearch = new ModeSearch(rank, texts, lexical, neural.maxK, () => readFacetFiles(bundles));
    else this.modeSearch!.setNeural(rank, neural.maxK);
    const modes: SearchMode[] = this.modeSearch!.hasLexical ? [...SEARCH_MODES] : ['neural'];
    const { backend, encoderBackend: encoder, adapter } = neural;
    this.info = this.describe(bundles, { modes, loaded: 'all', backend, encoder, startEncoder: encoder, adapter });
    return this.info;
  }

  /** After a device loss (noticed at the next search): the neural ranker moves to other backends. */
  private async recover(): Promise<void> {
    const n = this.neural!;
    const why = await n.recover();
    this.modeSearch?.setNeural(async (q, depth, mask) => (await n.topK(q, depth, () => false, mask))!.passages, n.maxK);
    this.info = { ...this.info!, backend: n.backend, encoder: n.encoderBackend, adapter: n.adapter, recoveredFrom: why };
  }

  /** Test hook: loses the scorer's GPU device as a driver reset would. */
  simulateDeviceLoss(): void {
    this.neural?.simulateDeviceLoss();
  }

  /** What load() returned, or null before a load. */
  get loaded(): EngineInfo | null {
    return this.info;
  }

  /** `opts` may be k alone (neural mode). Every mode returns one hit per document (its best passage). */
  async search(query: string, opts: number | SearchOptions = {}): Promise<SearchResponse> {
    if (!this.bundles || !this.info) throw new Error('search: no index loaded');
    // k alone: neural mode. No mode: the default (hybrid) where the index has a lexical part, else neural.
    const o = typeof opts === 'number' ? { k: opts, mode: 'neural' as const } : opts;
    const asked = searchOptions(o.mode === undefined && !this.info.modes.includes(SEARCH_DEFAULTS.mode) ? { ...o, mode: 'neural' } : o);
    if (!this.info.modes.includes(asked.mode)) throw new Error(`search: mode ${asked.mode} needs an index with a lexical part`);
    // While the neural half loads, neural and hybrid searches are answered lexically (response.mode says so).
    const mode: SearchMode = this.info.loaded === 'lexical' ? 'lexical' : asked.mode;
    const generation = ++this.generation;
    // One search at a time: onnxruntime-web refuses to run a session that is running ("Session
    // already started"), and the scorer's weight buffers serve one q-net at a time. A search that
    // waited its turn while a newer one arrived is dropped without running.
    const turn = this.turn.then(() => this.searchInTurn(query, { ...asked, mode }, generation));
    this.turn = turn.catch(() => undefined);
    return turn;
  }

  private turn: Promise<unknown> = Promise.resolve();

  private async searchInTurn(query: string, { k, mode, typos, filters, sort }: Required<SearchOptions>, generation: number): Promise<SearchResponse> {
    if (!this.bundles || !this.info) throw new Error('search: no index loaded');
    const superseded = () => generation !== this.generation; // a newer query wins
    const dropped = (): SearchResponse => ({
      query,
      mode,
      superseded: true,
      hits: [],
      backend: this.info!.backend,
      timingsMs: { qnet: 0, score: 0, total: 0 },
    });
    if (superseded()) return dropped();
    if (this.neural?.lostDevice) await this.recover();
    // Bounded before it is tokenized or searched: a pasted book costs what 2,048 characters do.
    const { text, notice } = prepareQuery(query, mode !== 'lexical' ? this.neural?.tokenCut : undefined);
    const t0 = performance.now();
    let qnetMs = 0;
    const ranking = await this.modeSearch!.search(text, mode, k, {
      typos,
      filters,
      sort,
      neural: async (q, depth, mask) => {
        const r = await this.neural!.topK(q, depth, superseded, mask);
        qnetMs = r?.encodeMs ?? 0;
        return r?.passages ?? null;
      },
    });
    if (!ranking || superseded()) return dropped();
    const total = performance.now() - t0;
    const { hits, corrections, facets } = ranking;
    const walk = mode !== 'lexical' && this.walker?.last;
    return {
      query,
      mode,
      ...(walk ? { approximate: walk } : {}),
      ...(notice ? { notice } : {}),
      ...(corrections ? { corrections } : {}),
      ...(facets ? { facets } : {}),
      hits,
      backend: this.info.backend,
      timingsMs: { qnet: qnetMs, score: total - qnetMs, total },
    };
  }

  /** Lexical, neural or hybrid hits as search() gives them, outside the one-search-at-a-time turn (the eval page). */
  async rankForEval(query: string, mode: SearchMode, k: number, typos: boolean = SEARCH_DEFAULTS.typos): Promise<SearchHit[]> {
    if (!this.modeSearch) throw new Error('rankForEval: no index loaded');
    return (await this.modeSearch.search(prepareQuery(query).text, mode, k, { typos }))!.hits;
  }

  /**
   * The index's filters with each value's page count, and its sort keys, for a page to offer before
   * any query (fetched and verified once; empty for an index without them).
   */
  async facetOverview(): Promise<FacetOverview> {
    if (!this.modeSearch) throw new Error('facetOverview: no index loaded');
    const { filters, sort } = await this.modeSearch.facetFiles();
    const counts: FacetCounts = {};
    for (const [key, values] of filters ?? []) counts[key] = Object.fromEntries([...values].map(([v, docs]) => [v, docs.length]));
    return { filters: counts, sortKeys: [...(sort?.keys() ?? [])] };
  }

  /** The q-net of a query as plain arrays (for parity checks against other engines). */
  async qnetFor(query: string): Promise<QNetWeights> {
    if (!this.neural) throw new Error('qnetFor: the neural half is not loaded');
    return this.neural.qnetFor(prepareQuery(query).text);
  }

  private release(): void {
    this.generationOfLoad++;
    this.rest = null;
    this.neural?.stop();
    this.neural = null;
    this.walker = null;
    this.bundles = null;
    this.info = null;
    this.modeSearch = null;
  }
}
