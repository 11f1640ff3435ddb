// The engine's neural half for approximate search (searchEngine.ts, `approximate` on): the query
// encoder as the exhaustive half has it (queryEncoder.ts), and core's graph walk over a lazily loaded
// index (rangeFetch.ts: only manifest.json up front, then the vector and graph chunks the walk visits,
// verified and kept in IndexedDB). Scored by the GPU gather scorer (graphSearchDriver.ts) on WebGPU,
// or by the CPU scorer over the chunks' decoded rows; a lost device moves the walk to the CPU. A
// synthetic model's q-nets come from the query's hash, as in neuralRanker.ts.
import type { ScoredDoc } from '../core/fusion.ts';
import { maskKeeps } from '../core/facets.ts';
import type { IndexManifest, ModelBundle } from '../core/formats/index.ts';
import { graphSearch, productWalkOptions, type GraphSearchResult } from '../core/graphSearch.ts';
import type { QNetWeights } from '../core/qnet.ts';
import { CpuQNetScorer } from '../core/qnetCpu.ts';
import { syntheticQueryWeights } from '../core/syntheticQuery.ts';
import { decodeVectors } from '../core/vectorStorage.ts';
import { describeDevice, requestScorerDevice } from '../gpu/device.ts';
import type { FileCache } from './fileCache.ts';
import { GpuGraphSearch } from './graphSearchDriver.ts';
import { prefetchOrtWasm } from './ortFiles.ts';
import { QueryEncoder, type EncoderBackend } from './queryEncoder.ts';
import { LazyIndex, type FetchCounters } from './rangeFetch.ts';
import type { ScorerBackend } from './neuralRanker.ts';

/** What the last walk did: documents scored, and bytes it fetched (network) or read back (IndexedDB). */
export interface WalkStats {
  scored: number;
  fetched: FetchCounters;
}

/** The CPU walk: the lazy index's vector chunks decoded as they arrive, scored in batches by the CPU scorer. */
class CpuLazyWalk {
  private readonly rows = new Map<number, Float32Array>();
  private readonly scorer = new CpuQNetScorer();
  private constructor(
    readonly index: LazyIndex,
    private readonly d: number,
  ) {}

  static async open(indexUrl: string, cache: FileCache): Promise<CpuLazyWalk> {
    let walk: CpuLazyWalk | null = null;
    const index = await LazyIndex.open(
      indexUrl,
      (first, words, n) => {
        const m = index.manifest;
        const s = m.storage;
        walk!.rows.set(first, decodeVectors({ words, n, d: m.dim, dtype: s.dtype, strideWords: s.strideWords, ...(s.absmax ? { absmax: s.absmax } : {}) }));
      },
      { cache },
    );
    walk = new CpuLazyWalk(index, index.manifest.dim);
    return walk;
  }

  get kernel(): string {
    return this.scorer.kernel;
  }

  async search(weights: QNetWeights, depth: number, keep?: (id: number) => boolean): Promise<GraphSearchResult> {
    const { index, d } = this;
    const block = (ids: Uint32Array) => {
      const x = new Float32Array(ids.length * d);
      ids.forEach((id, i) => {
        const { firstDoc } = index.vectorChunkOf(id);
        x.set(this.rows.get(firstDoc)!.subarray((id - firstDoc) * d, (id - firstDoc + 1) * d), i * d);
      });
      return x;
    };
    const opts = productWalkOptions(index.manifest.docCount, depth, index.entryPoints);
    return graphSearch(index.graph, (ids) => this.scorer.scores(weights, block(ids), ids.length), {
      ...opts,
      keep,
      ensureLoaded: (ids, what) => index.ensure(ids, what),
    });
  }
}

export class WalkRanker {
  private encoder: QueryEncoder | null = null;
  private gpu: GpuGraphSearch | null = null;
  private cpu: CpuLazyWalk | null = null;
  lostDevice: string | null = null;
  backend: ScorerBackend = 'cpu';
  encoderBackend: EncoderBackend | 'synthetic' = 'synthetic';
  adapter = '';
  /** The last walk's figures (the response reports them). */
  last: WalkStats | null = null;

  private constructor(
    private readonly model: ModelBundle,
    private readonly manifest: IndexManifest,
    private readonly indexUrl: string,
    private readonly cache: FileCache,
  ) {}

  /** The encoder (WASM; WebGPU when asked) and the walk: on WebGPU unless `scorer` is 'cpu' or the browser has none. */
  static async start(
    model: ModelBundle,
    manifest: IndexManifest,
    indexUrl: string,
    cache: FileCache,
    queryEncoder: { onnx: Uint8Array; vocabText: string } | undefined,
    opts: { scorer?: ScorerBackend; encoder?: EncoderBackend },
    progress?: { runtime(loaded: number, total: number): void; starting(): void },
  ): Promise<WalkRanker> {
    const r = new WalkRanker(model, manifest, indexUrl, cache);
    if (queryEncoder) {
      const backend = opts.encoder ?? 'wasm';
      await prefetchOrtWasm(backend, progress?.runtime);
      r.encoder = await QueryEncoder.create(model, queryEncoder.onnx, queryEncoder.vocabText, backend);
      r.encoderBackend = backend;
    }
    progress?.starting();
    const gpu = opts.scorer !== 'cpu' && typeof navigator !== 'undefined' && !!navigator.gpu;
    if (gpu) await r.startGpu();
    else await r.startCpu();
    return r;
  }

  private async startGpu(): Promise<void> {
    let device = this.encoder?.device ?? null;
    if (device) this.adapter = describeDevice(device);
    else ({ device, adapterInfo: this.adapter } = await requestScorerDevice());
    const gpu = await GpuGraphSearch.lazy(device, this.model.qnet, this.indexUrl, { cache: this.cache });
    this.gpu = gpu;
    this.backend = 'webgpu';
    this.adapter = `graph walk on ${this.adapter}`;
    void device.lost.then((lost) => {
      if (this.gpu === gpu) this.lostDevice = `${lost.reason}: ${lost.message || 'device lost'}`;
    });
  }

  private async startCpu(): Promise<void> {
    this.cpu = await CpuLazyWalk.open(this.indexUrl, this.cache);
    this.backend = 'cpu';
    this.adapter = `graph walk on the CPU scorer (${this.cpu.kernel})`;
  }

  /** No top-k pass limit: the walk's pool grows with the depth asked. */
  get maxK(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  get tokenCut(): ((text: string) => ReturnType<QueryEncoder['tokenCut']>) | undefined {
    const encoder = this.encoder;
    return encoder ? (t) => encoder.tokenCut(t) : undefined;
  }

  /** After a device loss: the walk goes on on the CPU (its chunks are read again, from IndexedDB). */
  async recover(): Promise<string> {
    const why = this.lostDevice!;
    this.lostDevice = null;
    this.gpu = null;
    await this.startCpu();
    return why;
  }

  simulateDeviceLoss(): void {
    this.gpu?.scorer.device.destroy();
  }

  qnetFor(text: string): Promise<QNetWeights> {
    return this.encoder ? this.encoder.encodeToCpu(text) : Promise.resolve(syntheticQueryWeights(this.model.qnet, text));
  }

  /**
   * The walk's best `depth` passages for the query among those `mask` keeps (the filter applies to
   * every passage the walk scores; a narrow one far from the query's region may leave fewer); null
   * when `superseded` turns true.
   */
  async topK(query: string, depth: number, superseded: () => boolean, mask?: Uint32Array): Promise<{ passages: ScoredDoc[]; encodeMs: number } | null> {
    const t0 = performance.now();
    const weights = await this.qnetFor(query);
    const encodeMs = performance.now() - t0;
    const keep = mask ? (id: number) => maskKeeps(mask, id) : undefined;
    if (superseded()) return null;
    let r: GraphSearchResult;
    let fetched: FetchCounters;
    if (this.gpu) {
      const w = await this.gpu.search(weights, { ...productWalkOptions(this.manifest.docCount, depth, this.gpu.entryIds), keep });
      r = w;
      fetched = w.fetched ?? { networkBytes: 0, requests: 0, cachedBytes: 0 };
    } else {
      const cpu = this.cpu!;
      const before = { ...cpu.index.counters };
      r = await cpu.search(weights, depth, keep);
      const c = cpu.index.counters;
      fetched = { networkBytes: c.networkBytes - before.networkBytes, requests: c.requests - before.requests, cachedBytes: c.cachedBytes - before.cachedBytes };
    }
    this.last = { scored: r.scored, fetched };
    if (superseded()) return null;
    const passages: ScoredDoc[] = [];
    for (let i = 0; i < r.ids.length; i++) passages.push({ doc: r.ids[i], score: r.scores[i] });
    return { passages, encodeMs };
  }

  stop(): void {
    this.gpu?.destroy();
    this.encoder?.dispose();
    this.gpu = null;
    this.cpu = null;
    this.encoder = null;
  }
}
