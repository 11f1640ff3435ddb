// The naive WebGPU q-net scorer: a benchmark baseline (bench/shaders/qnet_naive.wgsl), one invocation per
// document, every score written to a buffer. No top-k: the benchmark times the scoring dispatch only,
// and reads the scores back (outside the timed region) to check them against the reference.
import { checkArchitecture, checkWeights, type QNetArchitecture, type QNetWeights } from '../src/core/qnet';
import type { EncodedVectors } from '../src/core/vectorStorage';
import naiveSource from './shaders/qnet_naive.wgsl?raw';
import { fillWgsl } from '../src/gpu/wgslTemplate';

const WG = 64;
const PARAMS_BYTES = 32 + 48;
const MAX_LAYERS = 10;

export class NaiveScorer {
  readonly device: GPUDevice;
  readonly arch: QNetArchitecture;
  readonly dtype: 'f32' | 'f16';
  private readonly pipeline: GPUComputePipeline;
  private readonly params: GPUBuffer;
  private weights: GPUBuffer | null = null;
  private biasBase = 0;
  private docs: GPUBuffer | null = null;
  private scores: GPUBuffer | null = null;
  private strideWords = 0;
  private docCount = 0;
  private group: GPUBindGroup | null = null;

  private constructor(device: GPUDevice, arch: QNetArchitecture, dtype: 'f32' | 'f16', pipeline: GPUComputePipeline) {
    this.device = device;
    this.arch = arch;
    this.dtype = dtype;
    this.pipeline = pipeline;
    this.params = device.createBuffer({ label: 'naive params', size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  static async create(device: GPUDevice, arch: QNetArchitecture, dtype: 'f32' | 'f16' = 'f16'): Promise<NaiveScorer> {
    checkArchitecture(arch);
    if (arch.dims.length - 2 > MAX_LAYERS) throw new Error(`naive scorer: at most ${MAX_LAYERS} hidden layers`);
    const maxH = Math.max(...arch.dims.slice(0, -1));
    const code = fillWgsl(naiveSource, { MAX_H: maxH, DOC_F16: dtype === 'f16' }, 'qnet_naive.wgsl');
    const module = device.createShaderModule({ label: 'qnet naive', code });
    const pipeline = await device.createComputePipelineAsync({ label: 'qnet naive', layout: 'auto', compute: { module, entryPoint: 'main' } });
    return new NaiveScorer(device, arch, dtype, pipeline);
  }

  get documentCount(): number {
    return this.docCount;
  }

  setWeights(w: QNetWeights): void {
    checkWeights(w);
    const total = w.matrices.reduce((s, m) => s + m.length, 0) + w.biases.reduce((s, b) => s + b.length, 0);
    const all = new Float32Array(total);
    let o = 0;
    for (const m of w.matrices) {
      all.set(m, o);
      o += m.length;
    }
    this.biasBase = o;
    for (const b of w.biases) {
      all.set(b, o);
      o += b.length;
    }
    this.weights?.destroy();
    this.weights = this.upload('naive weights', all);
    this.group = null;
  }

  /** The documents as one buffer (tiles concatenated in order). */
  setDocuments(tiles: EncodedVectors[]): void {
    const d = this.arch.dims[0];
    let n = 0;
    for (const t of tiles) {
      if (t.dtype !== this.dtype || t.d !== d) throw new Error(`naive scorer: tiles must be ${this.dtype} with d = ${d}`);
      n += t.n;
    }
    this.strideWords = tiles[0].strideWords;
    const words = new Uint32Array(n * this.strideWords);
    let o = 0;
    for (const t of tiles) {
      words.set(t.words.subarray(0, t.n * t.strideWords), o);
      o += t.n * t.strideWords;
    }
    this.docs?.destroy();
    this.scores?.destroy();
    this.docs = this.upload('naive docs', words);
    this.scores = this.device.createBuffer({ label: 'naive scores', size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    this.docCount = n;
    this.group = null;
  }

  /** Submits the scoring of the first `n` documents (all by default); await device.queue.onSubmittedWorkDone() to finish. */
  dispatch(n = this.docCount): void {
    if (!this.weights || !this.docs || !this.scores) throw new Error('naive scorer: set weights and documents first');
    n = Math.min(n, this.docCount);
    const { dims, residual, layerNormEps } = this.arch;
    const L = dims.length - 2;
    const groups = Math.ceil(n / WG);
    const gx = Math.min(groups, this.device.limits.maxComputeWorkgroupsPerDimension);
    const gy = Math.ceil(groups / gx);
    const p = new ArrayBuffer(PARAMS_BYTES);
    const u = new Uint32Array(p);
    u.set([n, L, this.strideWords, 0, residual.reduce((m, r, j) => (r ? m | (1 << j) : m), 0), this.biasBase, gx, 0]);
    new Float32Array(p, 12, 1)[0] = layerNormEps;
    u.set(dims, 8);
    this.device.queue.writeBuffer(this.params, 0, p);
    if (!this.group) {
      this.group = this.device.createBindGroup({
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.params } },
          { binding: 1, resource: { buffer: this.docs } },
          { binding: 2, resource: { buffer: this.weights } },
          { binding: 3, resource: { buffer: this.scores } },
        ],
      });
    }
    const enc = this.device.createCommandEncoder({ label: 'qnet naive' });
    const pass = enc.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.group);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Scores of the first `n` documents (all by default), computed and read back. */
  async scoreAll(n = this.docCount): Promise<Float32Array> {
    n = Math.min(n, this.docCount);
    this.dispatch(n);
    const staging = this.device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.scores!, 0, staging, 0, n * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0, n * 4));
    staging.destroy();
    return out;
  }

  destroy(): void {
    for (const b of [this.params, this.weights, this.docs, this.scores]) b?.destroy();
  }

  private upload(label: string, data: Float32Array | Uint32Array): GPUBuffer {
    const buf = this.device.createBuffer({ label, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }
}
