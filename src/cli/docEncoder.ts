// Document encoding with onnxruntime-node: doc_encoder.onnx ([B, S] int64 ids and mask → [B, H]
// CLS or pooled vectors; each text gets the model's document prefix first), one session using every
// core for its intra-op thread pool. Batches are formed by the caller in a fixed way (see
// encodeTile), so the same input gives the same floats.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { encoderInputText, type EncoderSpec, type ModelBundle } from '../core/formats/index.ts';
import { BertWordPieceTokenizer } from '../core/tokenizer.ts';
import { CliError } from './errors.ts';
import { loadOnnxRuntimeNode } from './onnxRuntime.ts';

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** The model's WordPiece tokenizer: it decides the passages and feeds the encoder. */
export async function openModelTokenizer(modelDir: string, model: ModelBundle): Promise<BertWordPieceTokenizer> {
  const enc = model.encoders!;
  return BertWordPieceTokenizer.fromVocab(await readFile(path.join(modelDir, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
}

export class DocEncoder {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly dim: number,
    readonly maxTokens: number,
    readonly threads: number,
    private readonly enc: EncoderSpec,
  ) {}

  static async open(modelDir: string, model: ModelBundle, threads = availableParallelism()): Promise<DocEncoder> {
    const ort = await loadOnnxRuntimeNode();
    if (!ort) throw new CliError('onnxruntime-node is not installed (npm ci installs it): it encodes the documents', 3);
    const enc = model.encoders!;
    const session = await ort.InferenceSession.create(path.join(modelDir, enc.files.docEncoder.path), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new DocEncoder(ort, session, model.qnet.dims[0], enc.maxDocumentTokens, threads, enc);
  }

  /** The document vectors of the texts, n × dim row-major, in input order. */
  async encode(tokenizer: BertWordPieceTokenizer, texts: string[]): Promise<Float32Array> {
    const b = tokenizer.encodeBatch(
      texts.map((t) => encoderInputText(this.enc, 'document', t)),
      this.maxTokens,
    );
    const shape = [b.rows, b.seqLength];
    const out = await this.session.run({
      input_ids: new this.ort.Tensor('int64', b.inputIds, shape),
      attention_mask: new this.ort.Tensor('int64', b.attentionMask, shape),
    });
    const t = out[this.session.outputNames[0]];
    const data = t.data as Float32Array;
    if (data.length !== b.rows * this.dim) throw new Error(`doc_encoder.onnx returned ${data.length} values for ${b.rows} documents of dim ${this.dim}`);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new Error(`doc_encoder.onnx returned a non-finite value for document ${Math.floor(i / this.dim)} of a batch`);
    }
    return new Float32Array(data);
  }

  /**
   * One tile: passages sorted by token count (less padding), cut into batches of `batchSize`,
   * results put back in passage order. Deterministic for the same texts and batch size.
   */
  async encodeTile(
    tokenizer: BertWordPieceTokenizer,
    texts: string[],
    tokenCounts: number[],
    batchSize: number,
    onBatch?: (done: number) => void,
  ): Promise<Float32Array> {
    const order = texts.map((_, i) => i).sort((a, b) => tokenCounts[a] - tokenCounts[b] || a - b);
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < order.length; s += batchSize) {
      const ids = order.slice(s, s + batchSize);
      const v = await this.encode(
        tokenizer,
        ids.map((i) => texts[i]),
      );
      ids.forEach((doc, r) => {
        out.set(v.subarray(r * this.dim, (r + 1) * this.dim), doc * this.dim);
      });
      onBatch?.(ids.length);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
