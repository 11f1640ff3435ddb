// The engine's neural half (searchEngine.ts imports it dynamically, so a first visit that answers
// lexically never downloads it): the query encoder (onnxruntime-web: WebGPU, or WASM) and the
// scorer (our WGSL q-net scorer on WebGPU, or the CPU scorer, src/core/qnetCpu.ts; with neither asked
// for, the faster on this device, measured once and cached: backendCalibration.ts). On WebGPU both share one
// device, and the q-net goes from encoder to scorer as GPU buffers. A synthetic model has no
// encoder: its q-nets come from a hash of the query (see syntheticQuery).
import type { ScoredDoc } from '../core/fusion.ts';
import type { IndexManifest, ModelBundle } from '../core/formats/index.ts';
import type { QNetWeights } from '../core/qnet.ts';
import { CpuQNetScorer } from '../core/qnetCpu.ts';
import { syntheticQueryWeights } from '../core/syntheticQuery.ts';
import { decodeTiles } from '../core/vectorStorage.ts';
import { defaultAdapterIsCpuEmulated, describeDevice, requestScorerDevice } from '../gpu/device.ts';
import { QNetScorer } from '../gpu/qnetScorer.ts';
import { MAX_K } from '../gpu/topkProgram.ts';
import { chooseScorer } from './backendCalibration.ts';
import type { NeuralPart } from './bundleLoader.ts';
import { QueryEncoder, type EncoderBackend } from './queryEncoder.ts';
import { prefetchOrtWasm } from './ortFiles.ts';

export type ScorerBackend = 'webgpu' | 'cpu';

export interface NeuralOptions {
  /** Default: 'webgpu' when the browser has it, else 'cpu'. */
  scorer?: ScorerBackend;
  /** Default: 'webgpu' with the WebGPU scorer on a real GPU (the q-net stays on the GPU), else 'wasm'. */
  encoder?: EncoderBackend;
  /** WebGPU encoder + WebGPU scorer only: read the q-net back and upload it again instead of binding onnxruntime's buffers. */
  readbackQnet?: boolean;
}

export class NeuralRanker {
  private scorer: QNetScorer | null = null;
  private encoder: QueryEncoder | null = null;
  private cpuVectors: Float32Array | null = null;
  private cpuScorer: CpuQNetScorer | null = null;
  /** Set by the device's lost promise; the next search recovers (recover()). */
  lostDevice: string | null = null;
  backend: ScorerBackend = 'cpu';
  encoderBackend: EncoderBackend | 'synthetic' = 'synthetic';
  adapter = '';

  private constructor(
    private readonly model: ModelBundle,
    /** The passages scored (every bundle's, for several searched as one) and how their vectors are stored. */
    private readonly manifest: Pick<IndexManifest, 'docCount' | 'storage'>,
    private readonly part: NeuralPart,
    private readonly readbackQnet: boolean,
  ) {}

  /** `progress`: told as onnxruntime's wasm arrives (the progress bar's runtime phase), then when the backends start. */
  static async start(
    model: ModelBundle,
    manifest: Pick<IndexManifest, 'docCount' | 'storage'>,
    part: NeuralPart,
    opts: NeuralOptions,
    progress?: { runtime(loaded: number, total: number): void; starting(): void },
  ): Promise<NeuralRanker> {
    const r = new NeuralRanker(model, manifest, part, !!opts.readbackQnet);
    const hasGpu = typeof navigator !== 'undefined' && !!navigator.gpu;
    const scorer: ScorerBackend = opts.scorer ?? (hasGpu ? 'webgpu' : 'cpu');
    // The encoder on WebGPU keeps the q-net on the GPU; but on a CPU-emulated adapter a BERT-base
    // query took 56 s there against 0.64 s on WASM (bench/encoderLatency.ts), so WASM by default.
    const gpuEncoder = scorer === 'webgpu' && !(await defaultAdapterIsCpuEmulated());
    const encoder = part.queryEncoder ? (opts.encoder ?? (gpuEncoder ? 'webgpu' : 'wasm')) : 'synthetic';
    if (encoder !== 'synthetic') await prefetchOrtWasm(encoder, progress?.runtime);
    progress?.starting();
    await r.startBackends(scorer, encoder);
    if (!opts.scorer && r.scorer) await r.calibrate();
    return r;
  }

  /** The most passages one top-k pass returns. */
  get maxK(): number {
    return this.backend === 'webgpu' ? MAX_K : Number.MAX_SAFE_INTEGER;
  }

  /** The encoder's cut of a long query to the model's token limit (none for a synthetic model). */
  get tokenCut(): ((text: string) => ReturnType<QueryEncoder['tokenCut']>) | undefined {
    const encoder = this.encoder;
    return encoder ? (t) => encoder.tokenCut(t) : undefined;
  }

  /** Builds the encoder and the scorer. */
  private async startBackends(scorerBackend: ScorerBackend, encoder: EncoderBackend | 'synthetic'): Promise<void> {
    if (this.part.queryEncoder && encoder !== 'synthetic') {
      const { onnx, vocabText } = this.part.queryEncoder;
      this.encoder = await QueryEncoder.create(this.model, onnx, vocabText, encoder);
    }
    this.encoderBackend = encoder;
    this.backend = scorerBackend;
    if (scorerBackend === 'cpu') {
      this.startCpuScorer();
      this.adapter = `CPU scorer (${this.cpuScorer!.kernel})`;
      return;
    }
    // With a WebGPU encoder the scorer joins onnxruntime's device, so q-nets pass as buffers.
    let device = this.encoder?.device ?? null;
    if (device) this.adapter = describeDevice(device);
    else ({ device, adapterInfo: this.adapter } = await requestScorerDevice());
    const scorer = await QNetScorer.create(device, this.model.qnet, { dtype: this.manifest.storage.dtype });
    scorer.setDocuments(this.part.tiles);
    this.scorer = scorer;
    void device.lost.then((lost) => {
      if (this.scorer === scorer) this.lostDevice = `${lost.reason}: ${lost.message || 'device lost'}`;
    });
  }

  private startCpuScorer(): void {
    this.cpuVectors ??= decodeTiles(this.part.tiles);
    this.cpuScorer ??= new CpuQNetScorer();
  }

  /** WebGPU started and no scorer asked for: keep the faster one here (measured once per adapter, index size and q-net; cached in IndexedDB). */
  private async calibrate(): Promise<void> {
    this.startCpuScorer();
    const { backend } = await chooseScorer(this.scorer!, this.cpuScorer!, this.cpuVectors!, this.model.qnet, this.adapter);
    if (backend === 'cpu') {
      this.scorer!.destroy();
      this.scorer = null;
      this.backend = 'cpu';
      this.adapter = `CPU scorer (${this.cpuScorer!.kernel}), faster than ${this.adapter}`;
    } else {
      this.cpuScorer = null;
      this.cpuVectors = null;
    }
  }

  /**
   * After a device loss: onnxruntime's WebGPU backend cannot take a new device, so the encoder moves
   * to WASM; the scorer moves to a fresh WebGPU device, or to the CPU when none can be had.
   */
  async recover(): Promise<string> {
    const why = this.lostDevice!;
    this.lostDevice = null;
    this.stop(false); // the scorer's buffers went with the device
    const encoder = this.part.queryEncoder ? 'wasm' : 'synthetic';
    try {
      await this.startBackends('webgpu', encoder);
    } catch {
      await this.startBackends('cpu', encoder);
    }
    return why;
  }

  /** Test hook: loses the scorer's GPU device as a driver reset would. */
  simulateDeviceLoss(): void {
    this.scorer?.device.destroy();
  }

  /** Encode the query, score every passage, keep the best `depth` (among `mask`'s passages, where given); null when `superseded` turns true. */
  async topK(query: string, depth: number, superseded: () => boolean, mask?: Uint32Array): Promise<{ passages: ScoredDoc[]; encodeMs: number } | null> {
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
        ({ indices, scores } = await this.scorer.search(depth, mask));
      } finally {
        qnet.release();
      }
    } else {
      const weights = await this.qnetFor(query);
      t1 = performance.now();
      if (superseded()) return null;
      if (this.scorer) {
        this.scorer.setWeights(weights);
        ({ indices, scores } = await this.scorer.search(depth, mask));
      } else {
        ({ indices, scores } = this.cpuScorer!.topK(weights, this.cpuVectors!, this.manifest.docCount, depth, mask));
      }
    }
    if (superseded()) return null;
    return { passages: Array.from(indices, (doc, i) => ({ doc, score: scores[i] })), encodeMs: t1 - t0 };
  }

  /** The q-net of a query as plain arrays. */
  qnetFor(text: string): Promise<QNetWeights> {
    return this.encoder ? this.encoder.encodeToCpu(text) : Promise.resolve(syntheticQueryWeights(this.model.qnet, text));
  }

  /** Frees the encoder and the scorer (`destroyScorer`: its GPU buffers too, unless they went with a lost device). */
  stop(destroyScorer = true): void {
    if (destroyScorer) this.scorer?.destroy();
    this.encoder?.dispose();
    this.scorer = null;
    this.encoder = null;
    this.cpuVectors = null;
    this.cpuScorer = null;
  }
}
