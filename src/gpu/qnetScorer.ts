// Scores every document of an index with a q-net on the GPU and selects the top k there.
// Set up once per (architecture, storage dtype, documents): the layer stack (qnetLayerStack.ts:
// weights, activations, layer pipelines), document, score and top-k buffers. Per query only the weights change (written, or bound from onnxruntime-web's
// own GPU buffers), then one command buffer runs every layer over every batch and the top-k steps;
// k (score, index) pairs come back.
import type { QNetArchitecture, QNetWeights } from '../core/qnet';
import type { EncodedVectors, StorageDtype } from '../core/vectorStorage';
import type { LayerTiling } from './layerTiling';
import { type LayerBatch, type LayerIO, type LayerStackOptions, QNetLayerStack, type WeightBuffers } from './qnetLayerStack';
import { createBuffer, PipelineCache, uploadBuffer } from './pipelineCache';
import { keptPerGroup, MAX_K, TOPK_CHUNK, TOPK_NONE, topkProgram, topkSteps } from './topkProgram';

export type { WeightBuffers } from './qnetLayerStack';

/** The layer stack's: dtype, tiling, activationBytes (batches of documents are sized to fit). */
export type ScorerOptions = Omit<LayerStackOptions, 'maxRows'>;

export interface SearchResult {
  indices: Uint32Array;
  scores: Float32Array;
}

interface Batch extends LayerBatch {
  docBuffer: number; // which document buffer
}

export class QNetScorer {
  private readonly uniformAlign: number;
  private readonly dummy: GPUBuffer;

  private docBuffers: GPUBuffer[] = [];
  private absmax: GPUBuffer | null = null;
  private batches: Batch[] = [];
  private docCount = 0;
  private scoreBuffer: GPUBuffer | null = null;
  private layerIO: LayerIO[] = []; // one per document buffer
  private pairBuffers: GPUBuffer[] = [];
  private topkParams: GPUBuffer | null = null;
  private topkBindGroups: GPUBindGroup[] = [];
  /** The P whose step parameters the top-k uniform buffer holds (0: none yet). */
  private topkParamsFor = 0;
  private readback: GPUBuffer | null = null;
  /** The top-k's keep mask (a bit per document), and the mask it holds now (null: all ones). */
  private keepBuffer: GPUBuffer | null = null;
  private keepHolds: Uint32Array | null = null;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly device: GPUDevice,
    readonly arch: QNetArchitecture,
    readonly dtype: StorageDtype,
    private readonly layers: QNetLayerStack,
    private readonly topk: [GPUComputePipeline, GPUComputePipeline],
  ) {
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    this.dummy = this.buffer('dummy', 16, GPUBufferUsage.STORAGE);
  }

  static async create(device: GPUDevice, arch: QNetArchitecture, options: ScorerOptions): Promise<QNetScorer> {
    const layers = await QNetLayerStack.create(device, arch, options, 'q-net scorer');
    const cache = PipelineCache.of(device);
    const topk = await Promise.all([cache.pipeline(topkProgram(true)), cache.pipeline(topkProgram(false))]);
    return new QNetScorer(device, arch, options.dtype, layers, [topk[0], topk[1]]);
  }

  /** The tile sizes this scorer's kernels were built with (tilingFor(device, dims) unless given). */
  get kernelTiling(): LayerTiling {
    return this.layers.tiling;
  }

  get documentCount(): number {
    return this.docCount;
  }

  /** Uploads the documents (tiles of one storage format) and sizes every per-query buffer for them. */
  setDocuments(tiles: EncodedVectors[]): void {
    const d = this.arch.dims[0];
    const stride = this.layers.stride;
    const maxBinding = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    const rowsPerBuffer = Math.floor(maxBinding / (stride * 4));
    if (rowsPerBuffer < 1) throw new Error(`a document row of ${stride * 4} bytes exceeds this device's buffer limit`);
    this.releaseDocuments();
    let absmax: Float32Array | undefined;
    let total = 0;
    tiles.forEach((t, i) => {
      if (t.dtype !== this.dtype) throw new Error(`document tile ${i}: storage ${t.dtype}, but the scorer was built for ${this.dtype}`);
      if (t.d !== d) throw new Error(`document tile ${i}: dimension ${t.d}, but the q-net takes ${d}`);
      if (t.strideWords !== stride) throw new Error(`document tile ${i}: row stride ${t.strideWords} words, expected ${stride}`);
      if (t.words.length < t.n * stride) throw new Error(`document tile ${i}: ${t.words.length} words for ${t.n} rows of ${stride}`);
      if (this.dtype === 'int8') {
        if (!t.absmax || t.absmax.length !== d) throw new Error(`document tile ${i}: int8 storage needs ${d} absmax values`);
        if (absmax && t.absmax.some((v, k) => v !== absmax![k])) throw new Error(`document tile ${i}: int8 absmax differs from tile 0`);
        absmax = t.absmax;
      }
      total += t.n;
    });
    if (total < 1) throw new Error('setDocuments: no documents');
    const batchRows = this.layers.batchRows;
    // Pack tiles into GPU buffers up to the binding limit, then cut each buffer into batches.
    const batches: Batch[] = [];
    let pending: EncodedVectors[] = [];
    let pendingRows = 0;
    let firstDoc = 0;
    const flush = () => {
      if (pendingRows === 0) return;
      const buf = this.buffer(`docs ${this.docBuffers.length}`, pendingRows * stride * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      let off = 0;
      for (const t of pending) {
        this.device.queue.writeBuffer(buf, off, t.words.buffer, t.words.byteOffset, t.n * stride * 4);
        off += t.n * stride * 4;
      }
      for (let r = 0; r < pendingRows; r += batchRows) {
        batches.push({ docBuffer: this.docBuffers.length, rows: Math.min(batchRows, pendingRows - r), firstRow: r, scoreOffset: firstDoc + r });
      }
      this.docBuffers.push(buf);
      firstDoc += pendingRows;
      pending = [];
      pendingRows = 0;
    };
    for (const t of tiles) {
      let start = 0;
      while (start < t.n) {
        const take = Math.min(t.n - start, rowsPerBuffer - pendingRows);
        pending.push(start === 0 && take === t.n ? t : sliceRows(t, start, take));
        pendingRows += take;
        start += take;
        if (pendingRows === rowsPerBuffer) flush();
      }
    }
    flush();
    this.batches = batches;
    this.docCount = total;
    this.absmax = absmax ? uploadBuffer(this.device, 'absmax', absmax, GPUBufferUsage.STORAGE) : null;
    this.scoreBuffer = this.buffer('scores', Math.max(16, total * 4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    const params = uploadBuffer(this.device, 'layer params', this.layers.layerParams(batches), GPUBufferUsage.UNIFORM);
    const scores = this.scoreBuffer;
    this.layerIO = this.docBuffers.map((input) => ({ params, input, absmax: this.absmax, scores }));
    // Candidate lists for the top-k steps, sized for the largest k.
    const pairs = Math.max(1, Math.ceil(total / TOPK_CHUNK) * MAX_K);
    this.pairBuffers = [0, 1].map((i) => this.buffer(`topk pairs ${i}`, pairs * 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC));
    this.topkParams = this.buffer('topk params', 16 * this.uniformAlign, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.readback = this.buffer('readback', Math.max(MAX_K * 8, 16), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.keepBuffer = this.buffer('topk keep mask', Math.max(16, Math.ceil(total / 32) * 4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(this.keepBuffer, 0, new Uint32Array(this.keepBuffer.size / 4).fill(0xffff_ffff));
    this.keepHolds = null;
  }

  /** The documents the next searches keep (a bit per document, facets.ts passageMask; null: all). Written only when it changes. */
  private setKeep(mask: Uint32Array | null): void {
    if (mask === this.keepHolds) return;
    const words = Math.ceil(this.docCount / 32);
    if (mask && mask.length !== words) throw new Error(`q-net scorer: a keep mask of ${mask.length} words for ${this.docCount} documents (${words} words)`);
    const bits = mask ?? new Uint32Array(words).fill(0xffff_ffff);
    this.device.queue.writeBuffer(this.keepBuffer!, 0, bits.buffer, bits.byteOffset, bits.byteLength);
    this.keepHolds = mask;
  }

  /** Writes the q-net weights into buffers the scorer owns (reused from query to query). */
  setWeights(w: QNetWeights): void {
    this.layers.setWeights(w);
  }

  /**
   * Binds weight buffers that live on this device already, e.g. onnxruntime-web's outputs kept as
   * GPU buffers: the q-net never leaves the GPU. Only bind groups are rebuilt, no pipelines.
   */
  useWeightBuffers(w: WeightBuffers): void {
    this.layers.useWeightBuffers(w);
  }

  /**
   * Scores every document and returns the best k, best first (ties: lower index first); with `keep`,
   * the best k of the documents whose bit is set (fewer when fewer are kept).
   */
  search(k: number, keep?: Uint32Array): Promise<SearchResult> {
    const run = this.busy.then(() => {
      this.setKeep(keep ?? null);
      return this.runSearch(k);
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Every document's score, read back (for tests and diagnostics; search() reads only k). */
  scoreAll(): Promise<Float32Array> {
    const run = this.busy.then(async () => {
      const enc = this.device.createCommandEncoder({ label: 'qnet score-all' });
      this.encodeScoring(enc);
      const bytes = this.docCount * 4;
      const staging = this.buffer('score readback', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      enc.copyBufferToBuffer(this.scoreBuffer!, 0, staging, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.destroy();
      return out;
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Fills the score and activation buffers with NaN. Tests call it before scoring to prove that
   * every score is written and no unwritten activation is ever read.
   */
  poisonBuffers(): void {
    this.device.queue.writeBuffer(this.scoreBuffer!, 0, new Uint32Array(this.scoreBuffer!.size / 4).fill(0x7fc00000));
    this.layers.poisonActivations();
  }

  /** Records every layer over every batch into `enc`; scores land in the score buffer. */
  encodeScoring(enc: GPUCommandEncoder): void {
    this.layers.requireWeights();
    if (this.batches.length === 0) throw new Error('q-net scorer: no documents (call setDocuments first)');
    const pass = enc.beginComputePass({ label: 'qnet layers' });
    this.batches.forEach((b, i) => {
      this.layers.dispatch(pass, this.layerIO[b.docBuffer], i, b.rows);
    });
    pass.end();
  }

  private async runSearch(k: number): Promise<SearchResult> {
    const p = keptPerGroup(k);
    const enc = this.device.createCommandEncoder({ label: 'qnet search' });
    this.encodeScoring(enc);
    const steps = topkSteps(this.docCount, p);
    if (steps.length > 16) throw new Error('top-k: too many steps');
    if (p !== this.topkParamsFor) {
      // The steps depend only on N and P: written again only when a query's k needs another P.
      const params = new Uint32Array((steps.length * this.uniformAlign) / 4);
      steps.forEach((s, i) => {
        params.set([s.count, p], (i * this.uniformAlign) / 4);
      });
      this.device.queue.writeBuffer(this.topkParams!, 0, params);
      this.topkParamsFor = p;
    }
    const pass = enc.beginComputePass({ label: 'topk' });
    const groups = this.topkGroups(steps.length);
    steps.forEach((s, i) => {
      pass.setPipeline(this.topk[i === 0 ? 0 : 1]);
      pass.setBindGroup(0, groups[i], [i * this.uniformAlign]);
      pass.dispatchWorkgroups(s.groups);
    });
    pass.end();
    const last = steps.length % 2 === 1 ? 0 : 1; // step i writes pairBuffers[i % 2]
    const m = Math.min(k, this.docCount);
    enc.copyBufferToBuffer(this.pairBuffers[last], 0, this.readback!, 0, m * 8);
    this.device.queue.submit([enc.finish()]);
    await this.readback!.mapAsync(GPUMapMode.READ, 0, m * 8);
    const words = new Uint32Array(this.readback!.getMappedRange(0, m * 8).slice(0));
    this.readback!.unmap();
    // Places no kept document took come last (index NONE): cut there.
    let found = 0;
    while (found < m && words[2 * found + 1] !== TOPK_NONE) found++;
    const indices = new Uint32Array(found);
    const scores = new Float32Array(found);
    const bits = new Float32Array(words.buffer);
    for (let i = 0; i < found; i++) {
      scores[i] = bits[2 * i];
      indices[i] = words[2 * i + 1];
    }
    return { indices, scores };
  }

  /** Bind groups of the top-k steps: step 0 reads the scores, step i reads pairs (i-1) % 2 and writes i % 2. */
  private topkGroups(count: number): GPUBindGroup[] {
    const cache = PipelineCache.of(this.device);
    while (this.topkBindGroups.length < count) {
      const i = this.topkBindGroups.length;
      const input = i === 0 ? [this.scoreBuffer!, this.dummy] : [this.dummy, this.pairBuffers[(i - 1) % 2]];
      this.topkBindGroups.push(
        cache.bindGroup(topkProgram(i === 0), [this.topkParams!, ...input, this.pairBuffers[i % 2], i === 0 ? this.keepBuffer! : this.dummy]),
      );
    }
    return this.topkBindGroups;
  }

  private buffer(label: string, size: number, usage: number): GPUBuffer {
    return createBuffer(this.device, label, size, usage);
  }

  private releaseDocuments(): void {
    for (const b of [...this.docBuffers, ...this.pairBuffers]) b.destroy();
    for (const b of [this.absmax, this.scoreBuffer, this.layerIO[0]?.params, this.topkParams, this.readback, this.keepBuffer]) b?.destroy();
    this.keepBuffer = null;
    this.keepHolds = null;
    this.docBuffers = [];
    this.layerIO = [];
    this.pairBuffers = [];
    this.topkBindGroups = [];
    this.topkParamsFor = 0;
    this.batches = [];
  }

  destroy(): void {
    this.releaseDocuments();
    this.layers.destroy();
    this.dummy.destroy();
  }
}

function sliceRows(t: EncodedVectors, start: number, n: number): EncodedVectors {
  return { ...t, n, words: t.words.subarray(start * t.strideWords, (start + n) * t.strideWords) };
}
