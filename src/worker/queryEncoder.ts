// Turns a query into its q-net with onnxruntime-web: tokenize, run query_encoder.onnx.
// On WebGPU the q-net matrices stay on the GPU as onnxruntime's own output buffers and are bound
// to the scorer directly; the scorer must therefore live on onnxruntime's device (`device` below:
// onnxruntime-web 1.30's WebGPU backend creates its own device and ignores one set beforehand). One small output (the final w_out
// vector) is fetched to the CPU on purpose: onnxruntime-web's WebGPU backend submits its last
// commands only when something is read back, and that read guarantees that every weight buffer
// is written before the scorer's commands are queued. On WASM every output comes to the CPU.
import type * as Ort from 'onnxruntime-web';
import type { ModelBundle } from '../core/formats/index.ts';
import { encoderInputText, qnetWeightsFromOutputs } from '../core/formats/index.ts';
import { hiddenLayerCount, type QNetWeights } from '../core/qnet.ts';
import { BertWordPieceTokenizer } from '../core/tokenizer.ts';
import type { WeightBuffers } from '../gpu/qnetScorer.ts';
import { retryingOnce } from '../core/retryingOnce.ts';
import { ortWasmUrl, prefetchOrtWasm, type EncoderBackend } from './ortFiles.ts';
import { neuralTokenCut, type TokenCut } from './queryBounds.ts';

export type { EncoderBackend };

/** A q-net whose matrices are GPU buffers; release() once the scorer's work is queued. */
export interface GpuQNet {
  buffers: WeightBuffers;
  release(): void;
}

type OrtModule = typeof Ort;
/** Set once the WebGPU build has loaded: WASM sessions then run in it too. */
let webgpuBuildLoaded = false;

/** Each build loaded and configured once (a failed load is retried by the next encoder). */
const ortBuilds: Record<EncoderBackend, () => Promise<OrtModule>> = {
  webgpu: retryingOnce(async () => {
    const ort = await configureOrt(await import('onnxruntime-web'), 'webgpu');
    ort.env.webgpu.powerPreference = 'high-performance';
    webgpuBuildLoaded = true;
    return ort;
  }),
  wasm: retryingOnce(async () => configureOrt(await import('onnxruntime-web/wasm'), 'wasm')),
};

async function configureOrt(ort: OrtModule, build: EncoderBackend): Promise<OrtModule> {
  ort.env.wasm.wasmPaths = { wasm: ortWasmUrl(build) };
  const binary = await prefetchOrtWasm(build);
  if (binary) ort.env.wasm.wasmBinary = binary;
  // Threads need a cross-origin-isolated page; elsewhere onnxruntime falls back to one.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.logLevel = 'error';
  return ort;
}

/**
 * The onnxruntime-web build for `backend` (src/worker/ortFiles.ts). A WASM session also runs in the
 * WebGPU build, so once that has loaded (a WebGPU encoder moved to WASM after a device loss) it serves
 * WASM too instead of a second download.
 */
function loadOrt(backend: EncoderBackend): Promise<OrtModule> {
  return ortBuilds[backend === 'wasm' && webgpuBuildLoaded ? 'webgpu' : backend]();
}

export class QueryEncoder {
  private readonly names: string[];
  private readonly finalName: string;
  /** WordPiece pieces of the model's query prefix: they take some of max_query_tokens. */
  private readonly prefixPieces: number;
  private finalBuffer: GPUBuffer | null = null;

  private constructor(
    private readonly ort: OrtModule,
    private readonly model: ModelBundle,
    private readonly session: Ort.InferenceSession,
    private readonly tokenizer: BertWordPieceTokenizer,
    readonly backend: EncoderBackend,
    /** onnxruntime's GPUDevice (WebGPU backend): build the scorer on it. */
    readonly device: GPUDevice | null,
  ) {
    this.names = model.encoders!.queryEncoderOutputs;
    this.finalName = this.names[hiddenLayerCount(model.qnet)];
    this.prefixPieces = tokenizer.pieceIds(encoderInputText(model.encoders!, 'query', '')).length;
  }

  static async create(model: ModelBundle, onnx: Uint8Array, vocabText: string, backend: EncoderBackend): Promise<QueryEncoder> {
    const enc = model.encoders;
    if (!enc) throw new Error(`model ${model.id} is synthetic: it has no query encoder`);
    const ort = await loadOrt(backend);
    const tokenizer = BertWordPieceTokenizer.fromVocab(vocabText, { lowercase: enc.tokenizer.lowercase, stripAccents: enc.tokenizer.stripAccents });
    const L = hiddenLayerCount(model.qnet);
    const location: Record<string, Ort.Tensor.DataLocation> = {};
    enc.queryEncoderOutputs.forEach((name, i) => {
      location[name] = backend === 'webgpu' && i !== L ? 'gpu-buffer' : 'cpu';
    });
    const session = await ort.InferenceSession.create(onnx, {
      executionProviders: [backend],
      graphOptimizationLevel: 'all',
      preferredOutputLocation: location,
    });
    const device = backend === 'webgpu' ? ((await ort.env.webgpu.device) as GPUDevice) : null;
    return new QueryEncoder(ort, model, session, tokenizer, backend, device);
  }

  /** How many WordPiece pieces the query has and how many of them the encoder reads. */
  tokenCut(query: string): TokenCut {
    return neuralTokenCut(this.tokenizer, this.model.encoders!.maxQueryTokens - this.prefixPieces, query);
  }

  private feeds(query: string): Record<string, Ort.Tensor> {
    const enc = this.model.encoders!;
    const max = enc.maxQueryTokens;
    const { ids } = this.tokenizer.encode(encoderInputText(enc, 'query', query), max);
    // On WebGPU every query is padded to the model's maximum length: one input shape means
    // onnxruntime compiles its shaders once, not once per query length (seconds each on a slow
    // adapter). Padding is masked out, so the q-net is the same. WASM runs the exact length.
    const n = this.backend === 'webgpu' ? max : ids.length;
    const inputIds = new BigInt64Array(n).fill(BigInt(this.tokenizer.padId));
    inputIds.set(ids.map(BigInt));
    const mask = new BigInt64Array(n);
    mask.fill(1n, 0, ids.length);
    return {
      input_ids: new this.ort.Tensor('int64', inputIds, [1, n]),
      attention_mask: new this.ort.Tensor('int64', mask, [1, n]),
    };
  }

  /** The q-net as plain arrays (WASM backend, or a readback for comparison). */
  async encodeToCpu(query: string): Promise<QNetWeights> {
    const out = await this.session.run(this.feeds(query));
    try {
      const tensors: Record<string, { dims: readonly number[]; data: unknown }> = {};
      for (const name of this.names) {
        const t = out[name];
        tensors[name] = { dims: t.dims, data: t.location === 'cpu' ? t.data : await t.getData() };
      }
      return qnetWeightsFromOutputs(this.model, tensors as never);
    } finally {
      for (const name of this.names) out[name].dispose();
    }
  }

  /** WebGPU backend: the q-net as onnxruntime's GPU buffers (plus w_out, uploaded: 4·h bytes). */
  async encodeToGpu(query: string): Promise<GpuQNet> {
    if (this.backend !== 'webgpu' || !this.device) throw new Error('query encoder: encodeToGpu needs the WebGPU backend');
    const out = await this.session.run(this.feeds(query));
    const { dims } = this.model.qnet;
    const L = hiddenLayerCount(this.model.qnet);
    const check = (name: string, shape: number[]) => {
      const t = out[name];
      if (!t) throw new Error(`query_encoder.onnx: output "${name}" is missing`);
      if (t.type !== 'float32' || t.dims.length !== shape.length || t.dims.some((v, i) => v !== shape[i])) {
        throw new Error(`query_encoder.onnx: output "${name}" must be float32 [${shape.join(', ')}], got ${t.type} [${t.dims.join(', ')}]`);
      }
      return t;
    };
    const matrices = Array.from({ length: L }, (_, j) => check(this.names[j], [1, dims[j], dims[j + 1]]).gpuBuffer as GPUBuffer);
    const biases = Array.from({ length: L }, (_, j) => check(this.names[L + 1 + j], [1, dims[j + 1]]).gpuBuffer as GPUBuffer);
    const final = check(this.finalName, [1, dims[L], 1]).data as Float32Array;
    this.finalBuffer ??= this.device.createBuffer({
      label: 'w_out',
      size: Math.max(16, final.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(this.finalBuffer, 0, final.buffer, final.byteOffset, final.byteLength);
    return {
      buffers: { matrices: [...matrices, this.finalBuffer], biases },
      release: () => {
        for (const name of this.names) out[name].dispose();
      },
    };
  }

  dispose(): void {
    void this.session.release();
    this.finalBuffer?.destroy();
  }
}
