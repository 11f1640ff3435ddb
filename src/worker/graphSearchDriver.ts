// The browser side of approximate search: core's graph walk (src/core/graphSearch.ts) with the GPU
// gather scorer (src/gpu/gatherScorer.ts) as its ScoreBatch. Two ways to hold the index:
//   - eager: every vector tile is resident on the GPU and the graph rows in memory (the index was
//     downloaded whole, as the exhaustive engine does);
//   - lazy: only manifest.json is read up front; the walk's ensureLoaded hook fetches the chunks of
//     vectors and graph rows it is about to use (rangeFetch.ts) and the vectors go straight into
//     the scorer's resident buffers.
import type { QNetArchitecture, QNetWeights } from '../core/qnet.ts';
import type { EncodedVectors } from '../core/vectorStorage.ts';
import { graphSearch, graphViewOf, type GraphSearchOptions, type GraphSearchResult, type GraphView } from '../core/graphSearch.ts';
import { GatherScorer, type GatherScorerOptions } from '../gpu/gatherScorer.ts';
import { FileCache } from './fileCache.ts';
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

  /** Only manifest.json now; chunks as walks need them (the index must carry chunk hashes and entry points). */
  static async lazy(
    device: GPUDevice,
    arch: QNetArchitecture,
    indexUrl: string,
    options: Partial<GatherScorerOptions> & { cache?: FileCache; fetch?: typeof fetch } = {},
  ): Promise<GpuGraphSearch> {
    let scorer: GatherScorer | null = null;
    const index = await LazyIndex.open(indexUrl, (first, words, n) => scorer!.writeRows(first, words, n), { cache: options.cache, fetch: options.fetch });
    const m = index.manifest;
    if (m.dim !== arch.dims[0]) throw new Error(`manifest.json: dim is ${m.dim} but the q-net takes ${arch.dims[0]}`);
    scorer = await GatherScorer.create(device, arch, { ...options, dtype: m.storage.dtype });
    scorer.allocateDocuments(m.docCount, m.storage.absmax);
    return new GpuGraphSearch(scorer, index.graph, index.entryPoints, index);
  }

  /** One query: the walk with this q-net, scored on the GPU. Queries run one at a time. */
  async search(weights: QNetWeights, opts: WalkOptions): Promise<WalkResult> {
    this.scorer.setWeights(weights);
    let scoreMs = 0;
    let fetchMs = 0;
    const before = this.lazy ? { ...this.lazy.counters } : null;
    const t0 = performance.now();
    const score = async (ids: Uint32Array) => {
      const t = performance.now();
      const s = await this.scorer.score(ids);
      scoreMs += performance.now() - t;
      return s;
    };
    const lazy = this.lazy;
    const ensureLoaded = lazy
      ? async (ids: Uint32Array, what: 'graph' | 'vectors') => {
          const t = performance.now();
          await lazy.ensure(ids, what);
          fetchMs += performance.now() - t;
        }
      : undefined;
    const r = await graphSearch(this.graph, score, { ...opts, entryIds: opts.entryIds ?? this.entryIds, ensureLoaded });
    const out: WalkResult = { ...r, timingsMs: { total: performance.now() - t0, score: scoreMs, fetch: fetchMs } };
    if (lazy && before) {
      const c = lazy.counters;
      out.fetched = { networkBytes: c.networkBytes - before.networkBytes, requests: c.requests - before.requests, cachedBytes: c.cachedBytes - before.cachedBytes };
    }
    return out;
  }

  destroy(): void {
    this.scorer.destroy();
  }
}
