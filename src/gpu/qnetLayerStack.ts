// The q-net's layers on the GPU, as both scorers run them: the exhaustive one (qnetScorer.ts) over
// batches of the index's document buffers, the gather one (gatherScorer.ts) over rows gathered for a
// graph walk. One place holds the weights (written into buffers of its own, or bound from buffers
// onnxruntime-web left on the device), their checks, the two activation buffers, the per-layer bind
// groups and the dispatch of one batch through every layer. The caller owns its inputs, parameters
// and scores (LayerIO) and which rows a batch covers. A q-net without hidden layers ([d, 1]) is one
// program, the inner product with w_out (dotWgsl.ts), in the same parameter slots and bindings' order.
import { checkArchitecture, checkWeights, hiddenOutDims, type QNetArchitecture, type QNetWeights } from '../core/qnet';
import { rowStrideWords, type StorageDtype } from '../core/vectorStorage';
import { DOT_ROWS, dotProgram } from './dotWgsl';
import { checkTiling, layerTiling, tilingFor, type LayerTiling } from './layerTiling';
import { type LayerShape, layerProgram } from './layerWgsl';
import { type ComputeProgram, createBuffer, PipelineCache } from './pipelineCache';

/** The q-net weights as GPU buffers in the scorer's layout (see QNetWeights). */
export interface WeightBuffers {
  matrices: GPUBuffer[];
  biases: GPUBuffer[];
}

export interface LayerStackOptions {
  dtype: StorageDtype;
  /** Kernel tile sizes (default: tilingFor(device, dims), chosen by measurement; see docs/SCORER.md). */
  tiling?: LayerTiling;
  /** Upper bound on the bytes of one activation buffer; batches are sized to fit (default 64 MiB). */
  activationBytes?: number;
  /** Most rows a batch ever needs (default: as many as the activation buffers hold). */
  maxRows?: number;
}

/** The buffers one batch's layers read and write besides the stack's own weights and activations. */
export interface LayerIO {
  /** Two parameter slots per batch (layerParams), addressed by dynamic offset. */
  params: GPUBuffer;
  /** The documents' rows in their storage format. */
  input: GPUBuffer;
  /** int8 storage: the per-dimension absmax. */
  absmax: GPUBuffer | null;
  /** One score per row; a batch writes from its scoreOffset. */
  scores: GPUBuffer;
}

/** One batch: `rows` rows of the input from row `firstRow`, scored into scores[scoreOffset …]. */
export interface LayerBatch {
  rows: number;
  firstRow: number;
  scoreOffset: number;
}

export class QNetLayerStack {
  /** Words per stored input row. */
  readonly stride: number;
  /** Rows one batch holds at most (a multiple of groupRows). */
  readonly batchRows: number;
  /** Rows one workgroup of the programs takes: the tiling's BM, or DOT_ROWS without hidden layers. */
  readonly groupRows: number;
  readonly acts: GPUBuffer[];
  private readonly uniformAlign: number;
  private readonly dummy: GPUBuffer;
  private readonly dummyOut: GPUBuffer;
  private readonly cache: PipelineCache;
  private ownWeights: WeightBuffers | null = null;
  private weights: WeightBuffers | null = null;
  /** Each input's layer bind groups, and the weights they bind. */
  private groups = new WeakMap<LayerIO, { weights: WeightBuffers; groups: GPUBindGroup[] }>();

  private constructor(
    readonly device: GPUDevice,
    readonly arch: QNetArchitecture,
    readonly dtype: StorageDtype,
    readonly tiling: LayerTiling,
    private readonly name: string,
    private readonly programs: ComputeProgram[],
    private readonly pipelines: GPUComputePipeline[],
    batchRows: number,
  ) {
    this.stride = rowStrideWords(dtype, arch.dims[0]);
    this.batchRows = batchRows;
    this.groupRows = rowsPerGroup(arch, tiling);
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    const actBytes = batchRows * widestHidden(arch) * 4;
    this.acts = [0, 1].map((i) => createBuffer(device, `${name} activations ${i}`, actBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST));
    this.dummy = createBuffer(device, `${name} dummy`, 16, GPUBufferUsage.STORAGE);
    this.dummyOut = createBuffer(device, `${name} dummy out`, 16, GPUBufferUsage.STORAGE);
    this.cache = PipelineCache.of(device);
  }

  /** Checks the architecture and the tiling on this device, then builds one pipeline per layer shape. `name` starts its errors. */
  static async create(device: GPUDevice, arch: QNetArchitecture, options: LayerStackOptions, name: string): Promise<QNetLayerStack> {
    checkArchitecture(arch);
    const { dims } = arch;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const activationBytes = Math.min(options.activationBytes ?? 64 << 20, limit);
    const tiling = options.tiling ?? (await tilingFor(device, dims));
    await checkTiling(tiling, device, dims);
    // One batch holds at least one workgroup's BM rows of activations (none without hidden layers).
    const hmax = widestHidden(arch);
    if (hmax * 4 * tiling.BM > activationBytes) throw new Error(`q-net hidden size ${hmax} is too large for this device's buffers`);
    const bm = rowsPerGroup(arch, tiling);
    // Capped so one layer dispatch stays within the device's workgroups per dimension (small BM, narrow layers).
    const groups = hmax === 0 ? Infinity : Math.floor(activationBytes / (hmax * 4) / bm);
    const fit = Math.max(bm, Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension) * bm);
    const batchRows = options.maxRows === undefined ? fit : Math.min(fit, Math.ceil(options.maxRows / bm) * bm);
    const stride = rowStrideWords(options.dtype, dims[0]);
    const programs =
      dims.length === 2
        ? [dotProgram(dims[0], stride, options.dtype)]
        : layerShapes(arch, options.dtype).map((s) => layerProgram(s, layerTiling(tiling, s.outDim)));
    const cache = PipelineCache.of(device);
    const pipelines = await Promise.all(programs.map((p) => cache.pipeline(p)));
    return new QNetLayerStack(device, arch, options.dtype, tiling, name, programs, pipelines, batchRows);
  }

  /** Bytes of GPU memory the stack holds (activations and its own weights). */
  get gpuBytes(): number {
    const own = this.ownWeights ? [...this.ownWeights.matrices, ...this.ownWeights.biases] : [];
    return [...this.acts, ...own].reduce((s, b) => s + b.size, 0);
  }

  /** Writes the q-net weights into buffers the stack owns (reused from query to query). */
  setWeights(w: QNetWeights): void {
    checkWeights(w);
    const a = w.arch;
    const b = this.arch;
    const same =
      a.dims.length === b.dims.length &&
      a.dims.every((v, i) => v === b.dims[i]) &&
      a.residual.every((v, i) => v === b.residual[i]) &&
      a.layerNormEps === b.layerNormEps;
    if (!same) throw new Error(`q-net weights are for dims ${JSON.stringify(a.dims)}, the ${this.name} was built for ${JSON.stringify(b.dims)}`);
    if (!this.ownWeights) {
      const buffer = (label: string, bytes: number) =>
        createBuffer(this.device, `${this.name} ${label}`, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      this.ownWeights = { matrices: w.matrices.map((m, j) => buffer(`W${j}`, m.byteLength)), biases: w.biases.map((v, j) => buffer(`b${j}`, v.byteLength)) };
    }
    const own = this.ownWeights;
    w.matrices.forEach((m, j) => {
      this.device.queue.writeBuffer(own.matrices[j], 0, m.buffer, m.byteOffset, m.byteLength);
    });
    w.biases.forEach((v, j) => {
      this.device.queue.writeBuffer(own.biases[j], 0, v.buffer, v.byteOffset, v.byteLength);
    });
    this.weights = own;
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
    const old = this.weights ? [...this.weights.matrices, ...this.weights.biases] : [];
    // onnxruntime often hands back the same buffers: keep the bind groups made for them.
    if (old.length === 0 || [...w.matrices, ...w.biases].some((b, i) => b !== old[i])) this.weights = w;
  }

  /** Throws unless weights were set. */
  requireWeights(): void {
    if (!this.weights) throw new Error(`${this.name}: no weights (call setWeights or useWeightBuffers first)`);
  }

  /** Bytes of the parameter buffer for `batches` batches. */
  paramsBytes(batches: number): number {
    return 2 * batches * this.uniformAlign;
  }

  /**
   * The parameter slots of the batches, for LayerIO.params: the first layer reads the batch's rows
   * inside the input, later layers read activations from row 0.
   */
  layerParams(batches: readonly LayerBatch[]): Uint32Array<ArrayBuffer> {
    const params = new Uint32Array(this.paramsBytes(batches.length) / 4);
    batches.forEach((b, i) => {
      params.set([b.rows, b.firstRow * this.stride, b.scoreOffset, 0], (2 * i * this.uniformAlign) / 4);
      params.set([b.rows, 0, b.scoreOffset, 0], ((2 * i + 1) * this.uniformAlign) / 4);
    });
    return params;
  }

  /** Records batch `slot` (its parameters) of `rows` rows through every layer into `pass`. */
  dispatch(pass: GPUComputePassEncoder, io: LayerIO, slot: number, rows: number): void {
    const groups = this.layerGroups(io);
    for (let j = 0; j < this.pipelines.length; j++) {
      pass.setPipeline(this.pipelines[j]);
      pass.setBindGroup(0, groups[j], [(2 * slot + (j === 0 ? 0 : 1)) * this.uniformAlign]);
      pass.dispatchWorkgroups(Math.ceil(rows / this.groupRows));
    }
  }

  /** Fills the activations with NaN (tests: no unwritten activation is ever read). */
  poisonActivations(): void {
    for (const b of this.acts) this.device.queue.writeBuffer(b, 0, new Uint32Array(b.size / 4).fill(0x7fc00000));
  }

  destroy(): void {
    const own = this.ownWeights ? [...this.ownWeights.matrices, ...this.ownWeights.biases] : [];
    for (const b of [...this.acts, this.dummy, this.dummyOut, ...own]) b.destroy();
  }

  private layerGroups(io: LayerIO): GPUBindGroup[] {
    this.requireWeights();
    const w = this.weights!;
    const made = this.groups.get(io);
    if (made?.weights === w) return made.groups;
    const L = this.arch.dims.length - 2;
    if (L === 0) {
      const group = this.cache.bindGroup(this.programs[0], [io.params, io.input, io.absmax ?? this.dummy, w.matrices[0], io.scores]);
      this.groups.set(io, { weights: w, groups: [group] });
      return [group];
    }
    const groups = this.programs.map((program, j) => {
      const last = j === L - 1;
      return this.cache.bindGroup(program, [
        io.params,
        j === 0 ? io.input : this.acts[(j - 1) % 2],
        w.matrices[j],
        w.biases[j],
        this.acts[j % 2],
        j === 0 && io.absmax ? io.absmax : this.dummy,
        last ? w.matrices[L] : this.dummy,
        last ? io.scores : this.dummyOut,
      ]);
    });
    this.groups.set(io, { weights: w, groups });
    return groups;
  }
}

/** The widest hidden layer's outputs: an activation row; 0 without hidden layers. */
function widestHidden(arch: QNetArchitecture): number {
  return Math.max(0, ...hiddenOutDims(arch.dims));
}

/** Rows one workgroup takes: the layer tiling's BM, or one thread per row of the dot program. */
function rowsPerGroup(arch: QNetArchitecture, tiling: LayerTiling): number {
  return arch.dims.length === 2 ? DOT_ROWS : tiling.BM;
}

/**
 * The shapes of the hidden layers for documents stored as `dtype`: the first reads the stored rows,
 * the others f32 activations; the last folds in the output dot product.
 */
function layerShapes(arch: QNetArchitecture, dtype: StorageDtype): LayerShape[] {
  const { dims } = arch;
  return Array.from({ length: dims.length - 2 }, (_, j) => ({
    inDim: dims[j],
    outDim: dims[j + 1],
    strideWords: j === 0 ? rowStrideWords(dtype, dims[0]) : dims[j],
    format: j === 0 ? dtype : 'f32',
    residual: arch.residual[j],
    last: j === dims.length - 3,
    eps: arch.layerNormEps,
  }));
}
