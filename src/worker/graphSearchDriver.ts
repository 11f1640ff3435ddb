// The browser side of approximate search: core's graph walk (src/core/graphSearch.ts) with the GPU
// gather scorer (src/gpu/gatherScorer.ts) as its ScoreBatch. Two ways to hold the index:
//   - eager: every vector tile is resident on the GPU and the graph rows in memory (the index was
//     downloaded whole, as the exhaustive engine does);
//   - lazy: only manifest.json is read up front; the walk's ensureLoaded hook fetches the chunks of
//     vectors and graph rows it is about to use (rangeFetch.ts) and the vectors go straight into
//     the scorer's resident buffers: one row per document, or, with `residentBytes`, a fixed pool of
//     chunk-sized slots (a page table on the CPU maps chunk → slot, least recently used chunks not in
//     the current batch are evicted, ids are translated to slot rows before upload; the gather kernel
//     reads rows through the id list anyway, so nothing on the GPU changes).
import type { QNetArchitecture, QNetWeights } from '../core/qnet.ts';
import type { EncodedVectors } from '../core/vectorStorage.ts';
import { graphSearch, graphViewOf, type GraphSearchOptions, type GraphSearchResult, type GraphView } from '../core/graphSearch.ts';
import { GatherScorer, type GatherScorerOptions } from '../gpu/gatherScorer.ts';
import type { FileCache } from './fileCache.ts';
import { LazyIndex, type FetchCounters } from './rangeFetch.ts';

export type WalkOptions = Omit<GraphSearchOptions, 'ensureLoaded' | 'entryIds'> & { entryIds?: Uint32Array };

export interface WalkResult extends GraphSearchResult {
  timingsMs: { total: number; score: number; fetch: number };
  /** Network and cache bytes of this query alone (lazy indexes). */
  fetched?: FetchCounters;
}

export class GpuGraphSearch {
  readonly scorer: GatherScorer;
  readonly graph: GraphView;
  readonly entryIds: Uint32Array;
  readonly lazy: LazyIndex | null;

  private constructor(scorer: GatherScorer, graph: GraphView, entryIds: Uint32Array, lazy: LazyIndex | null) {
    this.scorer = scorer;
    this.graph = graph;
    this.entryIds = entryIds;
    this.lazy = lazy;
  }

  /** Everything in memory: tiles uploaded now, graph rows n × degree. */
  static async eager(
    device: GPUDevice,
    arch: QNetArchitecture,
    tiles: EncodedVectors[],
    graph: { rows: Uint32Array; degree: number },
    entryIds: Uint32Array,
    options: Partial<GatherScorerOptions> = {},
  ): Promise<GpuGraphSearch> {
    if (tiles.length === 0) throw new Error('graph search: no vector tiles');
    const scorer = await GatherScorer.create(device, arch, { ...options, dtype: tiles[0].dtype });
    scorer.setDocuments(tiles);
    const n = scorer.documentCount;
    return new GpuGraphSearch(scorer, graphViewOf(graph.rows, n, graph.degree), entryIds, null);
  }

  /**
   * Only manifest.json now; chunks as walks need them (the index must carry chunk hashes and entry
   * points). `residentBytes`: GPU memory for document rows, as a pool of chunk slots (default: one
   * row per document of the index).
   */
  static async lazy(
    device: GPUDevice,
    arch: QNetArchitecture,
    indexUrl: string,
    options: Partial<GatherScorerOptions> & { cache?: FileCache; fetch?: typeof fetch; residentBytes?: number } = {},
  ): Promise<GpuGraphSearch> {
    let sink: (first: number, words: Uint32Array, n: number) => void = () => {
      throw new Error('lazy index: rows arrived before the scorer exists');
    };
    const index = await LazyIndex.open(indexUrl, (first, words, n) => sink(first, words, n), { cache: options.cache, fetch: options.fetch });
    const m = index.manifest;
    if (m.dim !== arch.dims[0]) throw new Error(`manifest.json: dim is ${m.dim} but the q-net takes ${arch.dims[0]}`);
    const scorer = await GatherScorer.create(device, arch, { ...options, dtype: m.storage.dtype });
    let pages: PageTable | null = null;
    if (options.residentBytes !== undefined) {
      const chunk = index.vectorChunkDocs;
      const slots = Math.floor(options.residentBytes / (chunk * m.storage.strideWords * 4));
      if (slots < 1) throw new Error(`graph search: residentBytes ${options.residentBytes} cannot hold one chunk of ${chunk} rows`);
      pages = new PageTable(index, Math.min(slots, Math.ceil(m.docCount / chunk)), chunk);
      scorer.allocateDocuments(pages.slots * chunk, m.storage.absmax);
      const p = pages;
      sink = (first, words, n) => scorer.writeRows(p.slotOf(first) * chunk, words, n);
    } else {
      scorer.allocateDocuments(m.docCount, m.storage.absmax);
      sink = (first, words, n) => scorer.writeRows(first, words, n);
    }
    const g = new GpuGraphSearch(scorer, index.graph, index.entryPoints, index);
    g.pages = pages;
    return g;
  }

  /** Paged lazy mode: the chunk → slot table (null otherwise). */
  private pages: PageTable | null = null;

  /** Chunks evicted from the resident pool so far (paged lazy mode). */
  get evictions(): number {
    return this.pages?.evictions ?? 0;
  }

  /** One query: the walk with this q-net, scored on the GPU. Queries run one at a time. */
  async search(weights: QNetWeights, opts: WalkOptions): Promise<WalkResult> {
    this.scorer.setWeights(weights);
    let scoreMs = 0;
    let fetchMs = 0;
    const before = this.lazy ? { ...this.lazy.counters } : null;
    const t0 = performance.now();
    const pages = this.pages;
    const score = async (ids: Uint32Array) => {
      const t = performance.now();
      const s = await this.scorer.score(pages ? pages.rowsOf(ids) : ids);
      scoreMs += performance.now() - t;
      return s;
    };
    const lazy = this.lazy;
    const ensureLoaded = lazy
      ? async (ids: Uint32Array, what: 'graph' | 'vectors') => {
          const t = performance.now();
          if (what === 'vectors' && pages) pages.pin(ids);
          await lazy.ensure(ids, what);
          fetchMs += performance.now() - t;
        }
      : undefined;
    const r = await graphSearch(this.graph, score, { ...opts, entryIds: opts.entryIds ?? this.entryIds, ensureLoaded });
    const out: WalkResult = { ...r, timingsMs: { total: performance.now() - t0, score: scoreMs, fetch: fetchMs } };
    if (lazy && before) {
      const c = lazy.counters;
      out.fetched = {
        networkBytes: c.networkBytes - before.networkBytes,
        requests: c.requests - before.requests,
        cachedBytes: c.cachedBytes - before.cachedBytes,
      };
    }
    return out;
  }

  destroy(): void {
    this.scorer.destroy();
  }
}

/**
 * Chunk → slot table of a paged resident pool. Before a batch is loaded its chunks are pinned (and
 * become the most recently used); a chunk that arrives takes a free slot, or the slot of the least
 * recently used chunk that is not pinned, which the lazy index then forgets (a later batch loads it
 * again, from IndexedDB).
 */
class PageTable {
  readonly slots: number;
  evictions = 0;
  private readonly chunk: number;
  private readonly index: LazyIndex;
  /** chunk first doc → slot, in least-recently-used-first order. */
  private readonly lru = new Map<number, number>();
  private readonly free: number[];
  private pinned = new Set<number>();

  constructor(index: LazyIndex, slots: number, chunk: number) {
    this.index = index;
    this.slots = slots;
    this.chunk = chunk;
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** The chunks of this batch: kept resident until the next pin. */
  pin(ids: Uint32Array): void {
    const pinned = new Set<number>();
    for (let i = 0; i < ids.length; i++) pinned.add(this.index.vectorChunkOf(ids[i]).firstDoc);
    if (pinned.size > this.slots)
      throw new Error(`graph search: one batch touches ${pinned.size} chunks but the resident pool holds ${this.slots}; raise residentBytes`);
    this.pinned = pinned;
    for (const c of pinned) {
      const slot = this.lru.get(c);
      if (slot !== undefined) {
        this.lru.delete(c);
        this.lru.set(c, slot);
      }
    }
  }

  /** The slot for an arriving chunk (assigned now when it has none). */
  slotOf(firstDoc: number): number {
    const have = this.lru.get(firstDoc);
    if (have !== undefined) return have;
    let slot = this.free.pop();
    if (slot === undefined) {
      for (const [c, s] of this.lru) {
        if (this.pinned.has(c)) continue;
        this.lru.delete(c);
        this.index.forgetVectorChunk(c);
        this.evictions++;
        slot = s;
        break;
      }
    }
    if (slot === undefined) throw new Error('graph search: no free slot for a chunk (every resident chunk is in the current batch)');
    this.lru.set(firstDoc, slot);
    return slot;
  }

  /** Slot rows of documents whose chunks are resident. */
  rowsOf(ids: Uint32Array): Uint32Array {
    const out = new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const { firstDoc } = this.index.vectorChunkOf(ids[i]);
      const slot = this.lru.get(firstDoc);
      if (slot === undefined) throw new Error(`graph search: document ${ids[i]} is scored but its chunk is not resident`);
      out[i] = slot * this.chunk + (ids[i] - firstDoc);
    }
    return out;
  }
}
