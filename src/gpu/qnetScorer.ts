// Scores every document of an index with a q-net on the GPU and selects the top k there.
// Set up once per (architecture, storage dtype, documents): pipelines, bind groups, activation
// and score buffers. Per query only the weights change (written, or bound from onnxruntime-web's
// own GPU buffers), then one command buffer runs every layer over every batch and the top-k steps;
// k (score, index) pairs come back.
import { checkArchitecture, checkWeights, hiddenOutDims, type QNetArchitecture, type QNetWeights } from '../core/qnet';
import type { EncodedVectors, StorageDtype } from '../core/vectorStorage';
import { rowStrideWords } from '../core/vectorStorage';
import {
  checkTiling,
  createQnetLayerPipelines,
  tilingFor,
  LAYER_PARAMS_BYTES,
  layerBindGroupLayout,
  type LayerTiling,
} from './qnetLayerProgram';
import {
  createTopkPipeline,
  keptPerGroup,
  MAX_K,
  TOPK_CHUNK,
  TOPK_PARAMS_BYTES,
  topkBindGroupLayout,
  topkSteps,
} from './topkProgram';

export interface ScorerOptions {
  dtype: StorageDtype;
  /** Upper bound on the bytes of one activation buffer; batches of documents are sized to fit. */
  activationBytes?: number;
  /** Kernel tile sizes (default: tilingFor(device, dims), chosen by measurement; see docs/SCORER.md). */
  tiling?: LayerTiling;
}

/** The q-net weights as GPU buffers in the scorer's layout (see QNetWeights). */
export interface WeightBuffers {
  matrices: GPUBuffer[];
  biases: GPUBuffer[];
}

export interface SearchResult {
  indices: Uint32Array;
  scores: Float32Array;
}

interface Batch {
  docBuffer: number; // which document buffer
  rows: number;
  firstDoc: number;
}

export class QNetScorer {
  readonly device: GPUDevice;
  readonly arch: QNetArchitecture;
  readonly dtype: StorageDtype;
  private readonly layerLayout: GPUBindGroupLayout;
  private readonly layerPipelines: GPUComputePipeline[];
  private readonly topkLayout: GPUBindGroupLayout;
  private readonly topkFirst: GPUComputePipeline;
  private readonly topkMerge: GPUComputePipeline;
  private readonly activationBytes: number;
  private readonly tiling: LayerTiling;
  private readonly uniformAlign: number;
  private readonly dummy: GPUBuffer;
  private readonly dummyOut: GPUBuffer;

  private ownWeights: WeightBuffers | null = null;
  private weights: WeightBuffers | null = null;
  private docBuffers: GPUBuffer[] = [];
  private absmax: GPUBuffer | null = null;
  private batches: Batch[] = [];
  private batchRows = 0;
  private docCount = 0;
  private acts: GPUBuffer[] = [];
  private scoreBuffer: GPUBuffer | null = null;
  private layerParams: GPUBuffer | null = null;
  private layerGroups: GPUBindGroup[][] = []; // [docBuffer][layer]
  private pairBuffers: GPUBuffer[] = [];
  private topkParams: GPUBuffer | null = null;
  private topkBindGroups: GPUBindGroup[] = [];
  /** The P whose step parameters the top-k uniform buffer holds (0: none yet). */
  private topkParamsFor = 0;
  private readback: GPUBuffer | null = null;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(
    device: GPUDevice,
    arch: QNetArchitecture,
    dtype: StorageDtype,
    layerLayout: GPUBindGroupLayout,
    layerPipelines: GPUComputePipeline[],
    topkLayout: GPUBindGroupLayout,
    topk: [GPUComputePipeline, GPUComputePipeline],
    activationBytes: number,
    tiling: LayerTiling,
  ) {
    this.tiling = tiling;
    this.device = device;
    this.arch = arch;
    this.dtype = dtype;
    this.layerLayout = layerLayout;
    this.layerPipelines = layerPipelines;
    this.topkLayout = topkLayout;
    [this.topkFirst, this.topkMerge] = topk;
    this.activationBytes = activationBytes;
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    this.dummy = this.buffer('dummy', 16, GPUBufferUsage.STORAGE);
    this.dummyOut = this.buffer('dummy-out', 16, GPUBufferUsage.STORAGE);
  }

  static async create(device: GPUDevice, arch: QNetArchitecture, options: ScorerOptions): Promise<QNetScorer> {
    checkArchitecture(arch);
    const { dims } = arch;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const activationBytes = Math.min(options.activationBytes ?? 64 << 20, limit);
    const tiling = options.tiling ?? (await tilingFor(device, dims));
    await checkTiling(tiling, device, dims);
    // One batch holds at least one workgroup's BM rows of activations.
    const hmax = Math.max(...hiddenOutDims(dims));
    if (hmax * 4 * tiling.BM > activationBytes) throw new Error(`q-net hidden size ${hmax} is too large for this device's buffers`);
    const layerLayout = layerBindGroupLayout(device);
    const layerPipelines = await createQnetLayerPipelines(device, layerLayout, arch, options.dtype, rowStrideWords(options.dtype, dims[0]), tiling);
    const topkLayout = topkBindGroupLayout(device);
    const topk = await Promise.all([createTopkPipeline(device, topkLayout, true), createTopkPipeline(device, topkLayout, false)]);
    return new QNetScorer(device, arch, options.dtype, layerLayout, layerPipelines, topkLayout, [topk[0], topk[1]], activationBytes, tiling);
  }

  /** The tile sizes this scorer's kernels were built with (tilingFor(device, dims) unless given). */
  get kernelTiling(): LayerTiling {
    return this.tiling;
  }

  get documentCount(): number {
    return this.docCount;
  }

  /** Uploads the documents (tiles of one storage format) and sizes every per-query buffer for them. */
  setDocuments(tiles: EncodedVectors[]): void {
    const d = this.arch.dims[0];
    const stride = rowStrideWords(this.dtype, d);
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
    // Activation rows per batch: as many as the activation budget allows, a multiple of the tiling's BM.
    const hmax = Math.max(...hiddenOutDims(this.arch.dims));
    const bm = this.tiling.BM;
    // Capped so one layer dispatch stays within the device's workgroups per dimension (small BM, narrow layers).
    const fit = Math.min(Math.floor(this.activationBytes / (hmax * 4) / bm), this.device.limits.maxComputeWorkgroupsPerDimension);
    this.batchRows = Math.max(bm, fit * bm);
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
      for (let r = 0; r < pendingRows; r += this.batchRows) {
        batches.push({ docBuffer: this.docBuffers.length, rows: Math.min(this.batchRows, pendingRows - r), firstDoc: firstDoc + r });
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
    this.absmax = absmax ? this.upload('absmax', absmax) : null;

    const actBytes = this.batchRows * hmax * 4;
    this.acts = [0, 1].map((i) => this.buffer(`activations ${i}`, actBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST));
    this.scoreBuffer = this.buffer('scores', Math.max(16, total * 4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    // Two aligned param slots per batch, picked by dynamic offset: the first layer reads the batch
    // inside its document buffer, later layers read activations from row 0.
    const params = new Uint32Array((2 * batches.length * this.uniformAlign) / 4);
    batches.forEach((b, i) => {
      const firstRowInBuffer = b.firstDoc - batches.find((x) => x.docBuffer === b.docBuffer)!.firstDoc;
      params.set([b.rows, firstRowInBuffer * stride, b.firstDoc, 0], (2 * i * this.uniformAlign) / 4);
      params.set([b.rows, 0, b.firstDoc, 0], ((2 * i + 1) * this.uniformAlign) / 4);
    });
    this.layerParams = this.upload('layer params', params, GPUBufferUsage.UNIFORM);
    // Candidate lists for the top-k steps, sized for the largest k.
    const pairs = Math.max(1, Math.ceil(total / TOPK_CHUNK) * MAX_K);
    this.pairBuffers = [0, 1].map((i) => this.buffer(`topk pairs ${i}`, pairs * 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC));
    this.topkParams = this.buffer('topk params', 16 * this.uniformAlign, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.readback = this.buffer('readback', Math.max(MAX_K * 8, 16), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.layerGroups = [];
    if (this.weights) this.buildLayerGroups();
  }

  /** Writes the q-net weights into buffers the scorer owns (reused from query to query). */
  setWeights(w: QNetWeights): void {
    checkWeights(w);
    this.assertSameArchitecture(w.arch);
    if (!this.ownWeights) {
      this.ownWeights = {
        matrices: w.matrices.map((m, j) => this.buffer(`W${j}`, m.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST)),
        biases: w.biases.map((b, j) => this.buffer(`b${j}`, b.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST)),
      };
    }
    w.matrices.forEach((m, j) => this.device.queue.writeBuffer(this.ownWeights!.matrices[j], 0, m.buffer, m.byteOffset, m.byteLength));
    w.biases.forEach((b, j) => this.device.queue.writeBuffer(this.ownWeights!.biases[j], 0, b.buffer, b.byteOffset, b.byteLength));
    if (this.weights !== this.ownWeights) {
      this.weights = this.ownWeights;
      this.buildLayerGroups();
    }
  }

  /**
   * Binds weight buffers that live on this device already, e.g. onnxruntime-web's outputs kept as
   * GPU buffers: the q-net never leaves the GPU. Only bind groups are rebuilt, no pipelines.
   */
  useWeightBuffers(w: WeightBuffers): void {
    const { dims } = this.arch;
    const L = dims.length - 2;
    if (w.matrices.length !== L + 1 || w.biases.length !== L) {
      throw new Error(`weight buffers: expected ${L + 1} matrices and ${L} biases, got ${w.matrices.length} and ${w.biases.length}`);
    }
    w.matrices.forEach((b, j) => {
      if (b.size < dims[j] * dims[j + 1] * 4) throw new Error(`weight buffer W${j}: ${b.size} bytes, need ${dims[j] * dims[j + 1] * 4}`);
    });
    w.biases.forEach((b, j) => {
      if (b.size < dims[j + 1] * 4) throw new Error(`weight buffer b${j}: ${b.size} bytes, need ${dims[j + 1] * 4}`);
    });
    const same = this.weights && [...w.matrices, ...w.biases].every((b, i) => b === [...this.weights!.matrices, ...this.weights!.biases][i]);
    this.weights = w;
    if (!same) this.buildLayerGroups(); // onnxruntime often hands back the same buffers: keep the bind groups
  }

  /** Scores every document and returns the best k, best first (ties: lower index first). */
  search(k: number): Promise<SearchResult> {
    const run = this.busy.then(() => this.runSearch(k));
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
    for (const b of [this.scoreBuffer!, ...this.acts]) {
      const nan = new Uint32Array(b.size / 4).fill(0x7fc00000);
      this.device.queue.writeBuffer(b, 0, nan);
    }
  }

  /** Records every layer over every batch into `enc`; scores land in the score buffer. */
  encodeScoring(enc: GPUCommandEncoder): void {
    if (!this.weights) throw new Error('q-net scorer: no weights (call setWeights or useWeightBuffers first)');
    if (this.batches.length === 0) throw new Error('q-net scorer: no documents (call setDocuments first)');
    const pass = enc.beginComputePass({ label: 'qnet layers' });
    this.batches.forEach((b, i) => {
      const groups = this.layerGroups[b.docBuffer];
      for (let j = 0; j < this.layerPipelines.length; j++) {
        pass.setPipeline(this.layerPipelines[j]);
        pass.setBindGroup(0, groups[j], [(2 * i + (j === 0 ? 0 : 1)) * this.uniformAlign]);
        pass.dispatchWorkgroups(Math.ceil(b.rows / this.tiling.BM));
      }
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
      steps.forEach((s, i) => params.set([s.count, p], (i * this.uniformAlign) / 4));
      this.device.queue.writeBuffer(this.topkParams!, 0, params);
      this.topkParamsFor = p;
    }
    const pass = enc.beginComputePass({ label: 'topk' });
    const groups = this.topkGroups(steps.length);
    steps.forEach((s, i) => {
      pass.setPipeline(i === 0 ? this.topkFirst : this.topkMerge);
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
    const indices = new Uint32Array(m);
    const scores = new Float32Array(m);
    const bits = new Float32Array(words.buffer);
    for (let i = 0; i < m; i++) {
      scores[i] = bits[2 * i];
      indices[i] = words[2 * i + 1];
    }
    return { indices, scores };
  }

  /** Bind groups of the top-k steps: step 0 reads the scores, step i reads pairs (i-1) % 2 and writes i % 2. */
  private topkGroups(count: number): GPUBindGroup[] {
    while (this.topkBindGroups.length < count) {
      const i = this.topkBindGroups.length;
      this.topkBindGroups.push(
        this.device.createBindGroup({
          layout: this.topkLayout,
          entries: [
            { binding: 0, resource: { buffer: this.topkParams!, size: TOPK_PARAMS_BYTES } },
            { binding: 1, resource: { buffer: i === 0 ? this.scoreBuffer! : this.dummy } },
            { binding: 2, resource: { buffer: i === 0 ? this.dummy : this.pairBuffers[(i - 1) % 2] } },
            { binding: 3, resource: { buffer: this.pairBuffers[i % 2] } },
          ],
        }),
      );
    }
    return this.topkBindGroups;
  }

  private buildLayerGroups(): void {
    if (!this.weights || this.docBuffers.length === 0) return;
    const L = this.layerPipelines.length;
    const w = this.weights;
    this.layerGroups = this.docBuffers.map((docs) =>
      Array.from({ length: L }, (_, j) => {
        const last = j === L - 1;
        return this.device.createBindGroup({
          layout: this.layerLayout,
          entries: [
            { binding: 0, resource: { buffer: this.layerParams!, size: LAYER_PARAMS_BYTES } },
            { binding: 1, resource: { buffer: j === 0 ? docs : this.acts[(j - 1) % 2] } },
            { binding: 2, resource: { buffer: w.matrices[j] } },
            { binding: 3, resource: { buffer: w.biases[j] } },
            { binding: 4, resource: { buffer: this.acts[j % 2] } },
            { binding: 5, resource: { buffer: j === 0 && this.absmax ? this.absmax : this.dummy } },
            { binding: 6, resource: { buffer: last ? w.matrices[L] : this.dummy } },
            { binding: 7, resource: { buffer: last ? this.scoreBuffer! : this.dummyOut } },
          ],
        });
      }),
    );
  }

  private assertSameArchitecture(a: QNetArchitecture): void {
    const b = this.arch;
    const same =
      a.dims.length === b.dims.length &&
      a.dims.every((v, i) => v === b.dims[i]) &&
      a.residual.every((v, i) => v === b.residual[i]) &&
      a.layerNormEps === b.layerNormEps;
    if (!same) throw new Error(`q-net weights are for dims ${JSON.stringify(a.dims)}, the scorer was built for ${JSON.stringify(b.dims)}`);
  }

  private buffer(label: string, size: number, usage: number): GPUBuffer {
    return this.device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
  }

  private upload(label: string, data: ArrayBufferView, usage = GPUBufferUsage.STORAGE): GPUBuffer {
    const buf = this.buffer(label, data.byteLength, usage | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  private releaseDocuments(): void {
    for (const b of [...this.docBuffers, ...this.acts, ...this.pairBuffers]) b.destroy();
    for (const b of [this.absmax, this.scoreBuffer, this.layerParams, this.topkParams, this.readback]) b?.destroy();
    this.docBuffers = [];
    this.acts = [];
    this.pairBuffers = [];
    this.topkBindGroups = [];
    this.topkParamsFor = 0;
    this.batches = [];
  }

  destroy(): void {
    this.releaseDocuments();
    for (const b of [...(this.ownWeights?.matrices ?? []), ...(this.ownWeights?.biases ?? [])]) b.destroy();
    this.dummy.destroy();
    this.dummyOut.destroy();
  }
}

function sliceRows(t: EncodedVectors, start: number, n: number): EncodedVectors {
  return { ...t, n, words: t.words.subarray(start * t.strideWords, (start + n) * t.strideWords) };
}
