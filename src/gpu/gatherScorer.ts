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
import { checkArchitecture, type QNetArchitecture, type QNetWeights } from '../core/qnet';
import { rowStrideWords, type EncodedVectors, type StorageDtype } from '../core/vectorStorage';
import { type ComputeProgram, createBuffer, PipelineCache } from './pipelineCache';
import { type LayerBatch, type LayerIO, type LayerStackOptions, QNetLayerStack, type WeightBuffers } from './qnetLayerStack';
import { fillWgsl } from './wgslTemplate';

/** The layer stack's options (dtype, tiling, activationBytes), and the gather's own. */
export interface GatherScorerOptions extends Omit<LayerStackOptions, 'maxRows'> {
  /** Most candidate ids one score() call takes (default 8192); the layers' batches need no more rows. */
  maxBatch?: number;
  /** Cap on the documents per resident buffer (default: the device's binding limit); tests use it to spread documents over several buffers. */
  maxBufferRows?: number;
}

const GATHER_THREADS = 64;
/** Workgroups per row of a 2-D gather dispatch (WebGPU guarantees 65535 per dimension). */
const GATHER_GROUPS_X = 32768;
const GATHER_PARAMS_BYTES = 16;

/** Copies candidate rows of `stride` words out of one resident document buffer: params, ids, docs, gathered. */
function gatherProgram(stride: number): ComputeProgram {
  return {
    label: 'qnet-gather',
    code: fillWgsl(gatherSource, { STRIDE: stride, THREADS: GATHER_THREADS, ROW_SPAN: GATHER_GROUPS_X * GATHER_THREADS }, 'qnet_gather.wgsl'),
    bindings: [{ uniform: GATHER_PARAMS_BYTES }, 'read', 'read', 'write'],
  };
}

interface DocBuffer {
  buffer: GPUBuffer;
  firstDoc: number;
  rows: number;
}

export class GatherScorer {
  private readonly stride: number;
  private readonly uniformAlign: number;
  private readonly gather: ComputeProgram;
  private readonly idBuffer: GPUBuffer;
  private readonly gathered: GPUBuffer;
  private readonly scoreBuffer: GPUBuffer;
  private readonly readback: GPUBuffer;
  private readonly gatherParams: GPUBuffer;
  private readonly maxBufferRows: number;
  /** The gathered rows as the layers' input (absmax set with the documents). */
  private layerIO: LayerIO;

  private docs: DocBuffer[] = [];
  private docCount = 0;
  private absmax: GPUBuffer | null = null;
  private gatherGroups: GPUBindGroup[] = [];
  /** The candidate count the layer parameters were last written for (0: none). */
  private paramsFor = 0;
  private busy: Promise<unknown> = Promise.resolve();
  /** Ids scored since creation (all calls), for scored-share figures. */
  scoredTotal = 0;

  private constructor(
    readonly device: GPUDevice,
    readonly arch: QNetArchitecture,
    readonly dtype: StorageDtype,
    readonly maxBatch: number,
    private readonly layers: QNetLayerStack,
    private readonly gatherPipeline: GPUComputePipeline,
    options: GatherScorerOptions,
  ) {
    this.stride = layers.stride;
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    this.gather = gatherProgram(this.stride);
    this.maxBufferRows = options.maxBufferRows ?? Infinity;
    this.idBuffer = this.buffer('gather ids', maxBatch * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.gathered = this.buffer('gathered rows', maxBatch * this.stride * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.scoreBuffer = this.buffer('gather scores', maxBatch * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.readback = this.buffer('gather readback', maxBatch * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const params = this.buffer(
      'gather layer params',
      layers.paramsBytes(Math.ceil(maxBatch / layers.batchRows)),
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
    this.layerIO = { params, input: this.gathered, absmax: null, scores: this.scoreBuffer };
    this.gatherParams = this.buffer('gather params', 64 * this.uniformAlign, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  }

  static async create(device: GPUDevice, arch: QNetArchitecture, options: GatherScorerOptions): Promise<GatherScorer> {
    checkArchitecture(arch);
    const maxBatch = options.maxBatch ?? 8192;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`gather scorer: maxBatch must be an integer ≥ 1, got ${maxBatch}`);
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const stride = rowStrideWords(options.dtype, arch.dims[0]);
    if (maxBatch * stride * 4 > limit)
      throw new Error(`gather scorer: maxBatch ${maxBatch} rows of ${stride * 4} bytes exceed this device's buffer limit ${limit}`);
    const layers = await QNetLayerStack.create(device, arch, { ...options, maxRows: maxBatch }, 'gather scorer');
    const gatherPipeline = await PipelineCache.of(device).pipeline(gatherProgram(stride));
    return new GatherScorer(device, arch, options.dtype, maxBatch, layers, gatherPipeline, options);
  }

  get documentCount(): number {
    return this.docCount;
  }

  /** Bytes of GPU memory this scorer holds (documents + per-call buffers + its own weights). */
  get gpuBytes(): number {
    const fixed = [this.idBuffer, this.gathered, this.scoreBuffer, this.readback, this.layerIO.params, this.gatherParams];
    return [...this.docs.map((d) => d.buffer), ...fixed, ...(this.absmax ? [this.absmax] : [])].reduce((s, b) => s + b.size, 0) + this.layers.gpuBytes;
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
    this.layerIO = { ...this.layerIO, absmax: this.absmax };
    const params = new Uint32Array((this.docs.length * this.uniformAlign) / 4);
    this.docs.forEach((b, i) => {
      params.set([0, b.firstDoc, b.rows, 0], (i * this.uniformAlign) / 4);
    });
    this.device.queue.writeBuffer(this.gatherParams, 0, params);
    const cache = PipelineCache.of(this.device);
    this.gatherGroups = this.docs.map((b) => cache.bindGroup(this.gather, [this.gatherParams, this.idBuffer, b.buffer, this.gathered]));
    this.paramsFor = 0;
  }

  /** Writes rows firstDoc … firstDoc + n − 1 (storage words, n × stride) into the resident buffers. */
  writeRows(firstDoc: number, words: Uint32Array, n = words.length / this.stride): void {
    if (!Number.isInteger(n) || words.length < n * this.stride) throw new Error(`gather scorer: ${words.length} words do not hold ${n} rows of ${this.stride}`);
    if (firstDoc < 0 || firstDoc + n > this.docCount)
      throw new Error(`gather scorer: rows ${firstDoc}…${firstDoc + n - 1} are outside the ${this.docCount} allocated documents`);
    let r = 0;
    while (r < n) {
      const doc = firstDoc + r;
      const b = this.docs.find((x) => doc >= x.firstDoc && doc < x.firstDoc + x.rows)!;
      const take = Math.min(n - r, b.firstDoc + b.rows - doc);
      this.device.queue.writeBuffer(
        b.buffer,
        (doc - b.firstDoc) * this.stride * 4,
        words.buffer,
        words.byteOffset + r * this.stride * 4,
        take * this.stride * 4,
      );
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

  /** Writes the q-net weights into buffers the scorer owns (reused from call to call). */
  setWeights(w: QNetWeights): void {
    this.layers.setWeights(w);
  }

  /** Binds q-net weight buffers that live on this device already (onnxruntime-web's outputs). */
  useWeightBuffers(w: WeightBuffers): void {
    this.layers.useWeightBuffers(w);
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
    for (const b of [this.gathered, this.scoreBuffer]) this.device.queue.writeBuffer(b, 0, new Uint32Array(b.size / 4).fill(0x7fc00000));
    this.layers.poisonActivations();
  }

  private async scoreSlice(ids: Uint32Array): Promise<Float32Array> {
    const m = ids.length;
    if (m === 0) return new Float32Array(0);
    this.layers.requireWeights();
    if (this.docs.length === 0) throw new Error('gather scorer: no documents (call allocateDocuments or setDocuments first)');
    for (let i = 0; i < m; i++) {
      if (ids[i] >= this.docCount) throw new Error(`gather scorer: id ${ids[i]} at position ${i} is not a document (the index has ${this.docCount})`);
    }
    this.device.queue.writeBuffer(this.idBuffer, 0, ids.buffer, ids.byteOffset, m * 4);
    const batchRows = this.layers.batchRows;
    const batches: LayerBatch[] = [];
    for (let first = 0; first < m; first += batchRows) batches.push({ rows: Math.min(batchRows, m - first), firstRow: first, scoreOffset: first });
    if (m !== this.paramsFor) {
      this.device.queue.writeBuffer(this.layerIO.params, 0, this.layers.layerParams(batches));
      const g = new Uint32Array((this.docs.length * this.uniformAlign) / 4);
      this.docs.forEach((b, i) => {
        g.set([m, b.firstDoc, b.rows, 0], (i * this.uniformAlign) / 4);
      });
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
    batches.forEach((b, i) => {
      this.layers.dispatch(pass, this.layerIO, i, b.rows);
    });
    pass.end();
    enc.copyBufferToBuffer(this.scoreBuffer, 0, this.readback, 0, m * 4);
    this.device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ, 0, m * 4);
    const out = new Float32Array(this.readback.getMappedRange(0, m * 4).slice(0));
    this.readback.unmap();
    this.scoredTotal += m;
    return out;
  }

  private buffer(label: string, size: number, usage: number): GPUBuffer {
    return createBuffer(this.device, label, size, usage);
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
    for (const b of [this.idBuffer, this.gathered, this.scoreBuffer, this.readback, this.layerIO.params, this.gatherParams]) b.destroy();
    this.layers.destroy();
  }
}
