// The search engine behind the page: loads verified bundles, keeps the documents on the GPU and
// answers queries. Two components, each with its backend:
//   - the query encoder (onnxruntime-web): WebGPU, or WASM;
//   - the scorer: our WGSL q-net scorer on WebGPU, or the CPU reference scorer.
// On WebGPU both share one device, and the q-net goes from encoder to scorer as GPU buffers.
// A synthetic model has no encoder: its q-nets come from a hash of the query (see syntheticQuery).
import type { DocMetadata } from '../core/formats/index.ts';
import { referenceScores, referenceTopK, type QNetWeights } from '../core/qnet.ts';
import { syntheticQueryWeights } from '../core/syntheticQuery.ts';
import { decodeVectors } from '../core/vectorStorage.ts';
import { describeDevice, requestScorerDevice } from '../gpu/device.ts';
import { QNetScorer } from '../gpu/qnetScorer.ts';
import { loadBundles, type LoadedBundles, type LoadProgress } from './bundleLoader.ts';
import { QueryEncoder, type EncoderBackend } from './queryEncoder.ts';

export type ScorerBackend = 'webgpu' | 'cpu';

export interface EngineOptions {
  /** Default: 'webgpu' when the browser has it, else 'cpu'. */
  scorer?: ScorerBackend;
  /** Default: 'webgpu' with the WebGPU scorer (the q-net stays on the GPU), else 'wasm'. */
  encoder?: EncoderBackend;
  /**
   * WebGPU encoder + WebGPU scorer only: read the q-net back to the CPU and upload it again
   * instead of binding onnxruntime's buffers. Slower; exists to measure what binding saves.
   */
  readbackQnet?: boolean;
}

export interface EngineInfo {
  docCount: number;
  modelId: string;
  synthetic: boolean;
  backend: ScorerBackend;
  encoder: EncoderBackend | 'synthetic';
  adapter: string;
}

export interface SearchHit {
  rank: number;
  /** Position of the document in the index. */
  doc: number;
  id: string;
  title: string;
  url: string;
  snippet: string;
  score: number;
}

export interface SearchResponse {
  query: string;
  hits: SearchHit[];
  /** qnet: tokenize + query encoder (or the synthetic draw); score: q-net over all documents + top-k. */
  timingsMs: { qnet: number; score: number; total: number };
  backend: ScorerBackend;
}

const SNIPPET_CHARS = 240;

export class SearchEngine {
  private bundles: LoadedBundles | null = null;
  private scorer: QNetScorer | null = null;
  private encoder: QueryEncoder | null = null;
  private cpuVectors: Float32Array | null = null;
  private info: EngineInfo | null = null;
  private readbackQnet = false;

  async load(modelUrl: string, indexUrl: string, onProgress?: (p: LoadProgress) => void, opts: EngineOptions = {}): Promise<EngineInfo> {
    this.release();
    const bundles = await loadBundles(modelUrl, indexUrl, onProgress);
    onProgress?.({ phase: 'gpu', loadedBytes: 0, totalBytes: 0 });
    const hasGpu = typeof navigator !== 'undefined' && !!navigator.gpu;
    const scorerBackend: ScorerBackend = opts.scorer ?? (hasGpu ? 'webgpu' : 'cpu');
    let encoder: EngineInfo['encoder'] = 'synthetic';
    if (bundles.queryEncoder) {
      encoder = opts.encoder ?? (scorerBackend === 'webgpu' ? 'webgpu' : 'wasm');
      const { onnx, vocabText } = bundles.queryEncoder;
      this.encoder = await QueryEncoder.create(bundles.model, onnx, vocabText, encoder);
    }
    let adapter = 'CPU reference scorer';
    if (scorerBackend === 'webgpu') {
      // With a WebGPU encoder the scorer joins onnxruntime's device, so q-nets pass as buffers.
      let device = this.encoder?.device ?? null;
      if (device) adapter = describeDevice(device);
      else ({ device, adapterInfo: adapter } = await requestScorerDevice());
      this.scorer = await QNetScorer.create(device, bundles.model.qnet, { dtype: bundles.manifest.storage.dtype });
      this.scorer.setDocuments(bundles.tiles);
    } else {
      this.cpuVectors = concatDecoded(bundles);
    }
    this.readbackQnet = !!opts.readbackQnet;
    this.bundles = bundles;
    this.info = { docCount: bundles.manifest.docCount, modelId: bundles.model.id, synthetic: bundles.model.synthetic, backend: scorerBackend, encoder, adapter };
    onProgress?.({ phase: 'ready', loadedBytes: 0, totalBytes: 0 });
    return this.info;
  }

  /** What load() returned, or null before a load. */
  get loaded(): EngineInfo | null {
    return this.info;
  }

  async search(query: string, k = 10): Promise<SearchResponse> {
    if (!this.bundles || !this.info) throw new Error('search: no index loaded');
    const t0 = performance.now();
    let indices: ArrayLike<number>;
    let scores: ArrayLike<number>;
    let t1: number;
    if (this.encoder?.backend === 'webgpu' && this.scorer && !this.readbackQnet) {
      const qnet = await this.encoder.encodeToGpu(query);
      t1 = performance.now();
      try {
        this.scorer.useWeightBuffers(qnet.buffers);
        ({ indices, scores } = await this.scorer.search(k));
      } finally {
        qnet.release();
      }
    } else {
      const weights: QNetWeights = this.encoder ? await this.encoder.encodeToCpu(query) : syntheticQueryWeights(this.bundles.model.qnet, query);
      t1 = performance.now();
      if (this.scorer) {
        this.scorer.setWeights(weights);
        ({ indices, scores } = await this.scorer.search(k));
      } else {
        ({ indices, scores } = referenceTopK(referenceScores(weights, this.cpuVectors!, this.info.docCount), k));
      }
    }
    const t2 = performance.now();
    const hits = Array.from(indices, (doc, i) => toHit(this.bundles!.docs[doc], doc, i + 1, scores[i]));
    return { query, hits, backend: this.info.backend, timingsMs: { qnet: t1 - t0, score: t2 - t1, total: performance.now() - t0 } };
  }

  /** The q-net of a query as plain arrays (for parity checks against other engines). */
  async qnetFor(query: string): Promise<QNetWeights> {
    if (!this.bundles) throw new Error('qnetFor: no index loaded');
    return this.encoder ? this.encoder.encodeToCpu(query) : syntheticQueryWeights(this.bundles.model.qnet, query);
  }

  private release(): void {
    this.scorer?.destroy();
    this.encoder?.dispose();
    this.scorer = null;
    this.encoder = null;
    this.cpuVectors = null;
    this.bundles = null;
    this.info = null;
  }
}

function toHit(d: DocMetadata, doc: number, rank: number, score: number): SearchHit {
  const snippet = d.text.length > SNIPPET_CHARS ? `${d.text.slice(0, SNIPPET_CHARS).trimEnd()}…` : d.text;
  return { rank, doc, id: d.id, title: d.title, url: d.url, snippet, score };
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
