// The search engine behind the page: loads verified bundles, keeps the documents on the GPU and
// answers queries. WebGPU (our WGSL scorer) when the browser has it; otherwise the CPU reference
// scorer, which gives the same ranking, only slower.
import type { DocMetadata } from '../core/formats/index.ts';
import { referenceScores, referenceTopK, type QNetWeights } from '../core/qnet.ts';
import { syntheticQueryWeights } from '../core/syntheticQuery.ts';
import { decodeVectors } from '../core/vectorStorage.ts';
import { requestScorerDevice } from '../gpu/device.ts';
import { QNetScorer } from '../gpu/qnetScorer.ts';
import { loadBundles, type LoadedBundles, type LoadProgress } from './bundleLoader.ts';

export interface EngineInfo {
  docCount: number;
  modelId: string;
  synthetic: boolean;
  backend: 'webgpu' | 'cpu';
  adapter: string;
}

export interface SearchHit {
  rank: number;
  id: string;
  title: string;
  url: string;
  snippet: string;
  score: number;
}

export interface SearchResponse {
  query: string;
  hits: SearchHit[];
  timingsMs: { qnet: number; score: number; total: number };
  backend: EngineInfo['backend'];
}

const SNIPPET_CHARS = 240;

export class SearchEngine {
  private bundles: LoadedBundles | null = null;
  private scorer: QNetScorer | null = null;
  private cpuVectors: Float32Array | null = null;
  private info: EngineInfo | null = null;

  async load(modelUrl: string, indexUrl: string, onProgress?: (p: LoadProgress) => void, opts: { forceCpu?: boolean } = {}): Promise<EngineInfo> {
    this.scorer?.destroy();
    this.scorer = null;
    const bundles = await loadBundles(modelUrl, indexUrl, onProgress);
    if (!bundles.model.synthetic) {
      throw new Error(`model ${bundles.model.id}: query encoding with onnxruntime-web is not wired into the page yet; only synthetic models load`);
    }
    onProgress?.({ phase: 'gpu', loadedBytes: 0, totalBytes: 0 });
    let backend: EngineInfo['backend'] = 'cpu';
    let adapter = 'CPU reference scorer';
    if (!opts.forceCpu && typeof navigator !== 'undefined' && navigator.gpu) {
      const { device, adapterInfo } = await requestScorerDevice();
      this.scorer = await QNetScorer.create(device, bundles.model.qnet, { dtype: bundles.manifest.storage.dtype });
      this.scorer.setDocuments(bundles.tiles);
      backend = 'webgpu';
      adapter = adapterInfo;
    } else {
      this.cpuVectors = concatDecoded(bundles);
    }
    this.bundles = bundles;
    this.info = {
      docCount: bundles.manifest.docCount,
      modelId: bundles.model.id,
      synthetic: bundles.model.synthetic,
      backend,
      adapter,
    };
    onProgress?.({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
    return this.info;
  }

  async search(query: string, k = 10): Promise<SearchResponse> {
    if (!this.bundles || !this.info) throw new Error('search: no index loaded');
    const t0 = performance.now();
    const weights: QNetWeights = syntheticQueryWeights(this.bundles.model.qnet, query);
    const t1 = performance.now();
    let indices: ArrayLike<number>;
    let scores: ArrayLike<number>;
    if (this.scorer) {
      this.scorer.setWeights(weights);
      ({ indices, scores } = await this.scorer.search(k));
    } else {
      const all = referenceScores(weights, this.cpuVectors!, this.info.docCount);
      ({ indices, scores } = referenceTopK(all, k));
    }
    const t2 = performance.now();
    const hits = Array.from(indices, (doc, i) => toHit(this.bundles!.docs[doc], i + 1, scores[i]));
    return { query, hits, backend: this.info.backend, timingsMs: { qnet: t1 - t0, score: t2 - t1, total: performance.now() - t0 } };
  }
}

function toHit(d: DocMetadata, rank: number, score: number): SearchHit {
  const snippet = d.text.length > SNIPPET_CHARS ? `${d.text.slice(0, SNIPPET_CHARS).trimEnd()}…` : d.text;
  return { rank, id: d.id, title: d.title, url: d.url, snippet, score };
}

function concatDecoded(b: LoadedBundles): Float32Array {
  const d = b.manifest.dim;
  const out = new Float32Array(b.manifest.docCount * d);
  let row = 0;
  for (const t of b.tiles) {
    out.set(decodeVectors(t), row * d);
    row += t.n;
  }
  return out;
}
