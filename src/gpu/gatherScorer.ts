// Scores a list of candidate document ids (not the whole index) with a q-net on the GPU: the
// scoring step of a graph walk (src/core/graphSearch.ts). The documents stay resident on the GPU in
// their storage format; per call the ids are uploaded, a gather kernel (shaders/qnet_gather.wgsl)
// copies their rows into one compact buffer, and the very same fused layer kernels the exhaustive
// scorer runs (qnet_layer.wgsl, one pipeline per layer shape) score that buffer. The scores of
// the ids come back in call order (4 bytes per id); the walk keeps its top-k on the CPU.
//
// Everything is allocated once: pipelines at create(), document buffers at allocateDocuments(),
// the id / gathered / activation / score / readback buffers for `maxBatch` candidates. A call
// writes the ids and (when the count changed) the per-batch parameters; no pipeline or bind group
// is made per query. Documents may be written in any order and at any time (writeRows): a lazily
// loaded index uploads the chunks a walk needs as they arrive.
import gatherSource from '../../shaders/qnet_gather.wgsl?raw';
import { checkArchitecture, checkWeights, hiddenOutDims, type QNetArchitecture, type QNetWeights } from '../core/qnet';
import { rowStrideWords, type EncodedVectors, type StorageDtype } from '../core/vectorStorage';
import {
  checkTiling,
  createQnetLayerPipelines,
  LAYER_PARAMS_BYTES,
  layerBindGroupLayout,
  tilingFor,
  type LayerTiling,
} from './qnetLayerProgram';
import { fillWgsl } from './wgslTemplate';

export interface GatherScorerOptions {
  dtype: StorageDtype;
  /** Most candidate ids one score() call takes (default 8192). */
  maxBatch?: number;
  /** Upper bound on the bytes of one activation buffer (default 64 MiB). */
  activationBytes?: number;
  tiling?: LayerTiling;
  /** Cap on the documents per resident buffer (default: the device's binding limit); tests use it to spread documents over several buffers. */
  maxBufferRows?: number;
}

const GATHER_THREADS = 64;
/** Workgroups per row of a 2-D gather dispatch (WebGPU guarantees 65535 per dimension). */
const GATHER_GROUPS_X = 32768;
const GATHER_PARAMS_BYTES = 16;

interface DocBuffer {
  buffer: GPUBuffer;
  firstDoc: number;
  rows: number;
}

export class GatherScorer {
  readonly device: GPUDevice;
  readonly arch: QNetArchitecture;
  readonly dtype: StorageDtype;
  readonly maxBatch: number;
  private readonly stride: number;
  private readonly tiling: LayerTiling;
  private readonly uniformAlign: number;
  private readonly layerLayout: GPUBindGroupLayout;
  private readonly layerPipelines: GPUComputePipeline[];
  private readonly gatherLayout: GPUBindGroupLayout;
  private readonly gatherPipeline: GPUComputePipeline;
  private readonly batchRows: number;
  private readonly idBuffer: GPUBuffer;
  private readonly gathered: GPUBuffer;
  private readonly acts: GPUBuffer[];
  private readonly scoreBuffer: GPUBuffer;
  private readonly readback: GPUBuffer;
  private readonly layerParams: GPUBuffer;
  private readonly gatherParams: GPUBuffer;
  private readonly dummy: GPUBuffer;
  private readonly dummyOut: GPUBuffer;
  private readonly maxBufferRows: number;

  private docs: DocBuffer[] = [];
  private docCount = 0;
  private absmax: GPUBuffer | null = null;
  private ownWeights: { matrices: GPUBuffer[]; biases: GPUBuffer[] } | null = null;
  private weights: { matrices: GPUBuffer[]; biases: GPUBuffer[] } | null = null;
  private layerGroups: GPUBindGroup[] = [];
  private gatherGroups: GPUBindGroup[] = [];
  /** The candidate count the layer parameters were last written for (0: none). */
  private paramsFor = 0;
  private busy: Promise<unknown> = Promise.resolve();
  /** Ids scored since creation (all calls), for scored-share figures. */
  scoredTotal = 0;

  private constructor(
    device: GPUDevice,
    arch: QNetArchitecture,
    options: GatherScorerOptions,
    tiling: LayerTiling,
    layerLayout: GPUBindGroupLayout,
    layerPipelines: GPUComputePipeline[],
    gatherLayout: GPUBindGroupLayout,
    gatherPipeline: GPUComputePipeline,
    batchRows: number,
    maxBatch: number,
  ) {
    this.device = device;
    this.arch = arch;
    this.dtype = options.dtype;
    this.stride = rowStrideWords(options.dtype, arch.dims[0]);
    this.tiling = tiling;
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    this.layerLayout = layerLayout;
    this.layerPipelines = layerPipelines;
    this.gatherLayout = gatherLayout;
    this.gatherPipeline = gatherPipeline;
    this.batchRows = batchRows;
    this.maxBatch = maxBatch;
    this.maxBufferRows = options.maxBufferRows ?? Infinity;
    const hmax = Math.max(...hiddenOutDims(arch.dims));
    const batches = Math.ceil(maxBatch / batchRows);
    this.idBuffer = this.buffer('gather ids', maxBatch * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.gathered = this.buffer('gathered rows', maxBatch * this.stride * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.acts = [0, 1].map((i) => this.buffer(`gather activations ${i}`, batchRows * hmax * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST));
    this.scoreBuffer = this.buffer('gather scores', maxBatch * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.readback = this.buffer('gather readback', maxBatch * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    // Two parameter slots per batch (first layer: rows inside the gathered buffer; later layers:
    // activations from row 0), addressed with dynamic offsets, as in QNetScorer.
    this.layerParams = this.buffer('gather layer params', 2 * batches * this.uniformAlign, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.gatherParams = this.buffer('gather params', 64 * this.uniformAlign, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.dummy = this.buffer('gather dummy', 16, GPUBufferUsage.STORAGE);
    this.dummyOut = this.buffer('gather dummy out', 16, GPUBufferUsage.STORAGE);
  }

  static async create(device: GPUDevice, arch: QNetArchitecture, options: GatherScorerOptions): Promise<GatherScorer> {
    checkArchitecture(arch);
    const { dims } = arch;
    const maxBatch = options.maxBatch ?? 8192;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`gather scorer: maxBatch must be an integer ≥ 1, got ${maxBatch}`);
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const stride = rowStrideWords(options.dtype, dims[0]);
    if (maxBatch * stride * 4 > limit) throw new Error(`gather scorer: maxBatch ${maxBatch} rows of ${stride * 4} bytes exceed this device's buffer limit ${limit}`);
    const tiling = options.tiling ?? (await tilingFor(device, dims));
    await checkTiling(tiling, device, dims);
    const hmax = Math.max(...hiddenOutDims(dims));
    const activationBytes = Math.min(options.activationBytes ?? 64 << 20, limit);
    if (hmax * 4 * tiling.BM > activationBytes) throw new Error(`q-net hidden size ${hmax} is too large for this device's buffers`);
    const bm = tiling.BM;
    // Capped so one layer dispatch stays within the device's workgroups per dimension (small BM, narrow layers).
    const fit = Math.min(Math.floor(activationBytes / (hmax * 4) / bm), device.limits.maxComputeWorkgroupsPerDimension) * bm;
    const batchRows = Math.max(bm, Math.min(fit, Math.ceil(maxBatch / bm) * bm));
    const layerLayout = layerBindGroupLayout(device);
    const layerPipelines = await createQnetLayerPipelines(device, layerLayout, arch, options.dtype, stride, tiling);
    const c = GPUShaderStage.COMPUTE;
    const gatherLayout = device.createBindGroupLayout({
      label: 'qnet-gather',
      entries: [
        { binding: 0, visibility: c, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: GATHER_PARAMS_BYTES } },
        { binding: 1, visibility: c, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: c, buffer: { type: 'read-only-storage' } },
        { binding: 3, visibility: c, buffer: { type: 'storage' } },
      ],
    });
    const code = fillWgsl(gatherSource, { STRIDE: stride, THREADS: GATHER_THREADS, ROW_SPAN: GATHER_GROUPS_X * GATHER_THREADS }, 'qnet_gather.wgsl');
    const gatherPipeline = await device.createComputePipelineAsync({
      label: 'qnet-gather',
      layout: device.createPipelineLayout({ bindGroupLayouts: [gatherLayout] }),
      compute: { module: device.createShaderModule({ label: 'qnet-gather', code }), entryPoint: 'main' },
    });
    return new GatherScorer(device, arch, options, tiling, layerLayout, layerPipelines, gatherLayout, gatherPipeline, batchRows, maxBatch);
  }

  get documentCount(): number {
    return this.docCount;
  }

  /** Bytes of GPU memory this scorer holds (documents + per-call buffers + its own weights). */
  get gpuBytes(): number {
    const own = this.ownWeights ? [...this.ownWeights.matrices, ...this.ownWeights.biases] : [];
    const fixed = [this.idBuffer, this.gathered, ...this.acts, this.scoreBuffer, this.readback, this.layerParams, this.gatherParams, ...own];
    return [...this.docs.map((d) => d.buffer), ...fixed, ...(this.absmax ? [this.absmax] : [])].reduce((s, b) => s + b.size, 0);
  }

  /**
   * Allocates resident buffers for documents 0 … n−1 (contents written later with writeRows),
   * packed into as few buffers as the device's binding limit allows. int8 storage needs its absmax.
   */
  allocateDocuments(n: number, absmax?: Float32Array): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`gather scorer: document count must be an integer ≥ 1, got ${n}`);
    const d = this.arch.dims[0];
    if (this.dtype === 'int8' && (!absmax || absmax.length !== d)) throw new Error(`gather scorer: int8 storage needs ${d} absmax values`);
    this.releaseDocuments();
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    const rowsPerBuffer = Math.min(this.maxBufferRows, Math.floor(limit / (this.stride * 4)));
    if (rowsPerBuffer < 1) throw new Error(`a document row of ${this.stride * 4} bytes exceeds this device's buffer limit`);
    for (let first = 0; first < n; first += rowsPerBuffer) {
      const rows = Math.min(rowsPerBuffer, n - first);
      const buffer = this.buffer(`resident docs ${this.docs.length}`, rows * this.stride * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      this.docs.push({ buffer, firstDoc: first, rows });
    }
    if (this.docs.length > 64) throw new Error(`gather scorer: ${this.docs.length} document buffers exceed the 64 this scorer addresses`);
    this.docCount = n;
    if (absmax) {
      this.absmax = this.buffer('gather absmax', absmax.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      this.device.queue.writeBuffer(this.absmax, 0, absmax.buffer, absmax.byteOffset, absmax.byteLength);
    }
    const params = new Uint32Array((this.docs.length * this.uniformAlign) / 4);
    this.docs.forEach((b, i) => params.set([0, b.firstDoc, b.rows, 0], (i * this.uniformAlign) / 4));
    this.device.queue.writeBuffer(this.gatherParams, 0, params);
    this.gatherGroups = this.docs.map((b) =>
      this.device.createBindGroup({
        layout: this.gatherLayout,
        entries: [
          { binding: 0, resource: { buffer: this.gatherParams, size: GATHER_PARAMS_BYTES } },
          { binding: 1, resource: { buffer: this.idBuffer } },
          { binding: 2, resource: { buffer: b.buffer } },
          { binding: 3, resource: { buffer: this.gathered } },
        ],
      }),
    );
    this.paramsFor = 0;
    if (this.weights) this.buildLayerGroups();
  }

  /** Writes rows firstDoc … firstDoc + n − 1 (storage words, n × stride) into the resident buffers. */
  writeRows(firstDoc: number, words: Uint32Array, n = words.length / this.stride): void {
    if (!Number.isInteger(n) || words.length < n * this.stride) throw new Error(`gather scorer: ${words.length} words do not hold ${n} rows of ${this.stride}`);
    if (firstDoc < 0 || firstDoc + n > this.docCount) throw new Error(`gather scorer: rows ${firstDoc}…${firstDoc + n - 1} are outside the ${this.docCount} allocated documents`);
    let r = 0;
    while (r < n) {
      const doc = firstDoc + r;
      const b = this.docs.find((x) => doc >= x.firstDoc && doc < x.firstDoc + x.rows)!;
      const take = Math.min(n - r, b.firstDoc + b.rows - doc);
      this.device.queue.writeBuffer(b.buffer, (doc - b.firstDoc) * this.stride * 4, words.buffer, words.byteOffset + r * this.stride * 4, take * this.stride * 4);
      r += take;
    }
  }

  /** Allocates and uploads whole tiles of one storage format, in document order. */
  setDocuments(tiles: EncodedVectors[]): void {
    const total = tiles.reduce((s, t) => s + t.n, 0);
    tiles.forEach((t, i) => {
      if (t.dtype !== this.dtype) throw new Error(`document tile ${i}: storage ${t.dtype}, but the scorer was built for ${this.dtype}`);
      if (t.strideWords !== this.stride) throw new Error(`document tile ${i}: row stride ${t.strideWords} words, expected ${this.stride}`);
    });
    this.allocateDocuments(total, tiles[0]?.absmax);
    let first = 0;
    for (const t of tiles) {
      this.writeRows(first, t.words, t.n);
      first += t.n;
    }
  }

  setWeights(w: QNetWeights): void {
    checkWeights(w);
    const a = w.arch;
    const b = this.arch;
    if (a.dims.length !== b.dims.length || a.dims.some((v, i) => v !== b.dims[i]) || a.residual.some((v, i) => v !== b.residual[i]) || a.layerNormEps !== b.layerNormEps) {
      throw new Error(`q-net weights are for dims ${JSON.stringify(a.dims)}, the gather scorer was built for ${JSON.stringify(b.dims)}`);
    }
    if (!this.ownWeights) {
      this.ownWeights = {
        matrices: w.matrices.map((m, j) => this.buffer(`gather W${j}`, m.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST)),
        biases: w.biases.map((v, j) => this.buffer(`gather b${j}`, v.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST)),
      };
    }
    w.matrices.forEach((m, j) => this.device.queue.writeBuffer(this.ownWeights!.matrices[j], 0, m.buffer, m.byteOffset, m.byteLength));
    w.biases.forEach((v, j) => this.device.queue.writeBuffer(this.ownWeights!.biases[j], 0, v.buffer, v.byteOffset, v.byteLength));
    if (this.weights !== this.ownWeights) {
      this.weights = this.ownWeights;
      this.buildLayerGroups();
    }
  }

  /** Binds q-net weight buffers that live on this device already (onnxruntime-web's outputs). */
  useWeightBuffers(w: { matrices: GPUBuffer[]; biases: GPUBuffer[] }): void {
    const { dims } = this.arch;
    const L = dims.length - 2;
    if (w.matrices.length !== L + 1 || w.biases.length !== L) throw new Error(`weight buffers: expected ${L + 1} matrices and ${L} biases, got ${w.matrices.length} and ${w.biases.length}`);
    w.matrices.forEach((m, j) => {
      if (m.size < dims[j] * dims[j + 1] * 4) throw new Error(`weight buffer W${j}: ${m.size} bytes, need ${dims[j] * dims[j + 1] * 4}`);
    });
    const old = this.weights ? [...this.weights.matrices, ...this.weights.biases] : [];
    const same = old.length > 0 && [...w.matrices, ...w.biases].every((b, i) => b === old[i]);
    this.weights = w;
    if (!same) this.buildLayerGroups();
  }

  /**
   * Scores the documents `ids` (each < documentCount; repeats allowed) and returns their scores in
   * the same order. Calls run one after another. Any length is taken, in slices of maxBatch.
   */
  score(ids: Uint32Array): Promise<Float32Array> {
    const run = this.busy.then(async () => {
      const out = new Float32Array(ids.length);
      for (let s = 0; s < ids.length; s += this.maxBatch) {
        const part = ids.subarray(s, Math.min(ids.length, s + this.maxBatch));
        out.set(await this.scoreSlice(part), s);
      }
      return out;
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Fills the gathered rows, activations and scores with NaN (tests: every value used must be written). */
  poisonBuffers(): void {
    for (const b of [this.gathered, this.scoreBuffer, ...this.acts]) this.device.queue.writeBuffer(b, 0, new Uint32Array(b.size / 4).fill(0x7fc00000));
  }

  private async scoreSlice(ids: Uint32Array): Promise<Float32Array> {
    const m = ids.length;
    if (m === 0) return new Float32Array(0);
    if (!this.weights) throw new Error('gather scorer: no weights (call setWeights or useWeightBuffers first)');
    if (this.docs.length === 0) throw new Error('gather scorer: no documents (call allocateDocuments or setDocuments first)');
    for (let i = 0; i < m; i++) {
      if (ids[i] >= this.docCount) throw new Error(`gather scorer: id ${ids[i]} at position ${i} is not a document (the index has ${this.docCount})`);
    }
    this.device.queue.writeBuffer(this.idBuffer, 0, ids.buffer, ids.byteOffset, m * 4);
    const batches = Math.ceil(m / this.batchRows);
    if (m !== this.paramsFor) {
      const p = new Uint32Array((2 * batches * this.uniformAlign) / 4);
      for (let i = 0; i < batches; i++) {
        const rows = Math.min(this.batchRows, m - i * this.batchRows);
        p.set([rows, i * this.batchRows * this.stride, i * this.batchRows, 0], (2 * i * this.uniformAlign) / 4);
        p.set([rows, 0, i * this.batchRows, 0], ((2 * i + 1) * this.uniformAlign) / 4);
      }
      this.device.queue.writeBuffer(this.layerParams, 0, p);
      const g = new Uint32Array((this.docs.length * this.uniformAlign) / 4);
      this.docs.forEach((b, i) => g.set([m, b.firstDoc, b.rows, 0], (i * this.uniformAlign) / 4));
      this.device.queue.writeBuffer(this.gatherParams, 0, g);
      this.paramsFor = m;
    }
    const enc = this.device.createCommandEncoder({ label: 'qnet gather-score' });
    const pass = enc.beginComputePass({ label: 'gather + layers' });
    const groups = Math.ceil((m * this.stride) / GATHER_THREADS);
    pass.setPipeline(this.gatherPipeline);
    this.docs.forEach((_, i) => {
      pass.setBindGroup(0, this.gatherGroups[i], [i * this.uniformAlign]);
      pass.dispatchWorkgroups(Math.min(groups, GATHER_GROUPS_X), Math.ceil(groups / GATHER_GROUPS_X));
    });
    for (let i = 0; i < batches; i++) {
      const rows = Math.min(this.batchRows, m - i * this.batchRows);
      for (let j = 0; j < this.layerPipelines.length; j++) {
        pass.setPipeline(this.layerPipelines[j]);
        pass.setBindGroup(0, this.layerGroups[j], [(2 * i + (j === 0 ? 0 : 1)) * this.uniformAlign]);
        pass.dispatchWorkgroups(Math.ceil(rows / this.tiling.BM));
      }
    }
    pass.end();
    enc.copyBufferToBuffer(this.scoreBuffer, 0, this.readback, 0, m * 4);
    this.device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ, 0, m * 4);
    const out = new Float32Array(this.readback.getMappedRange(0, m * 4).slice(0));
    this.readback.unmap();
    this.scoredTotal += m;
    return out;
  }

  private buildLayerGroups(): void {
    if (!this.weights) return;
    const L = this.layerPipelines.length;
    const w = this.weights;
    this.layerGroups = Array.from({ length: L }, (_, j) => {
      const last = j === L - 1;
      return this.device.createBindGroup({
        layout: this.layerLayout,
        entries: [
          { binding: 0, resource: { buffer: this.layerParams, size: LAYER_PARAMS_BYTES } },
          { binding: 1, resource: { buffer: j === 0 ? this.gathered : this.acts[(j - 1) % 2] } },
          { binding: 2, resource: { buffer: w.matrices[j] } },
          { binding: 3, resource: { buffer: w.biases[j] } },
          { binding: 4, resource: { buffer: this.acts[j % 2] } },
          { binding: 5, resource: { buffer: j === 0 && this.absmax ? this.absmax : this.dummy } },
          { binding: 6, resource: { buffer: last ? w.matrices[L] : this.dummy } },
          { binding: 7, resource: { buffer: last ? this.scoreBuffer : this.dummyOut } },
        ],
      });
    });
  }

  private buffer(label: string, size: number, usage: number): GPUBuffer {
    return this.device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
  }

  private releaseDocuments(): void {
    for (const d of this.docs) d.buffer.destroy();
    this.absmax?.destroy();
    this.absmax = null;
    this.docs = [];
    this.gatherGroups = [];
    this.docCount = 0;
  }

  destroy(): void {
    this.releaseDocuments();
    const own = this.ownWeights ? [...this.ownWeights.matrices, ...this.ownWeights.biases] : [];
    for (const b of [this.idBuffer, this.gathered, ...this.acts, this.scoreBuffer, this.readback, this.layerParams, this.gatherParams, this.dummy, this.dummyOut, ...own]) b.destroy();
  }
}
