// model.json: the model bundle's descriptor (see docs/FORMATS.md, "Model bundle").
import { checkArchitecture, checkWeights, hiddenLayerCount, type QNetArchitecture, type QNetWeights } from '../qnet.ts';
import { checkInt, fail, parseJsonText, readDescriptor, show, type ObjectReader } from './fields.ts';
import { readFileRef, type FileRef } from './fileRef.ts';

export const MODEL_FORMAT = 'hypencoder-model';
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FILE_NAME = 'model.json';

export interface TokenizerSpec {
  kind: 'bert-wordpiece';
  /** Path of vocab.txt inside the bundle; equals files.vocab.path. */
  vocab: string;
  lowercase: boolean;
  stripAccents: boolean;
}

export interface EncoderSizes {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
}

/** Everything a client needs to turn text into vectors and q-nets. Absent only in synthetic models. */
export interface EncoderSpec {
  tokenizer: TokenizerSpec;
  maxQueryTokens: number;
  maxDocumentTokens: number;
  encoder: EncoderSizes;
  files: { queryEncoder: FileRef; docEncoder: FileRef; vocab: FileRef };
  /** ONNX output names of query_encoder.onnx: W_0..W_L, then b_0..b_{L-1} (only W_0 when L = 0). */
  queryEncoderOutputs: string[];
  /** Text put before every query / document before tokenizing (e5's "query: ", "passage: "); absent = none. */
  queryPrefix?: string;
  documentPrefix?: string;
}

/**
 * The text an encoder reads for `text`: the model's query or document prefix, then the text.
 * Every place that tokenizes for an encoder (page, Node search, indexing) goes through this.
 */
export function encoderInputText(enc: Pick<EncoderSpec, 'queryPrefix' | 'documentPrefix'>, side: 'query' | 'document', text: string): string {
  const prefix = side === 'query' ? enc.queryPrefix : enc.documentPrefix;
  return prefix ? prefix + text : text;
}

export interface ModelBundle {
  formatVersion: number;
  id: string;
  /** True for a stand-in model without trained encoders (the demo says so on the page). */
  synthetic: boolean;
  qnet: QNetArchitecture;
  /** null only when synthetic. */
  encoders: EncoderSpec | null;
}

/** The keys that carry the encoders: all present, or (synthetic models only) all absent. */
const ENCODER_KEYS = ['tokenizer', 'max_query_tokens', 'max_document_tokens', 'encoder', 'files', 'query_encoder_outputs'] as const;

const MODEL_DESCRIPTOR = { tag: MODEL_FORMAT, supported: MODEL_FORMAT_VERSION, hint: { 'hypencoder-index': 'this is an index manifest, not a model.json' } };

export const parseModelJson = (input: string | Uint8Array, file = MODEL_FILE_NAME): ModelBundle => validateModelJson(parseJsonText(input, file), file);

export function validateModelJson(json: unknown, file = MODEL_FILE_NAME): ModelBundle {
  const { r, formatVersion } = readDescriptor(json, file, MODEL_DESCRIPTOR);
  const id = r.string('id', { nonEmpty: true });
  const synthetic = r.optionalBool('synthetic') ?? false;
  const qnet = readQNet(r.object('qnet'));

  const present = ENCODER_KEYS.filter((k) => r.has(k));
  let encoders: EncoderSpec | null = null;
  if (present.length === 0) {
    if (!synthetic) fail(file, ENCODER_KEYS[0], 'is missing (only a model marked "synthetic": true may omit its encoders)');
    for (const k of ['query_prefix', 'document_prefix']) if (r.has(k)) fail(file, k, 'needs the encoders (a synthetic model without them has no text input)');
  } else {
    const missing = ENCODER_KEYS.find((k) => !r.has(k));
    if (missing) r.raw(missing); // throws "<file>: <key> is missing"
    encoders = readEncoders(r, qnet);
  }
  return { formatVersion, id, synthetic, qnet, encoders };
}

function readQNet(q: ObjectReader): QNetArchitecture {
  const dimsRaw = q.array('dims');
  const dims = dimsRaw.map((v, i) => checkInt(v, q.file, `${q.where('dims')}[${i}]`, 1));
  const activation = q.literal('activation', ['relu'] as const);
  const ln = q.object('layer_norm');
  if (ln.bool('affine') !== false) fail(q.file, ln.where('affine'), 'must be false (the q-net LayerNorm has no learned scale or shift)');
  const layerNormEps = ln.number('eps', { positive: true });
  const residualRaw = q.array('residual');
  residualRaw.forEach((v, j) => {
    if (typeof v !== 'boolean') fail(q.file, `qnet.residual[${j}]`, `must be true or false, got ${show(v)}`);
  });
  const arch: QNetArchitecture = { dims, activation, layerNormEps, residual: residualRaw as boolean[] };
  try {
    checkArchitecture(arch, 'qnet');
  } catch (e) {
    fail(q.file, '', (e as Error).message);
  }
  return arch;
}

function readEncoders(r: ObjectReader, qnet: QNetArchitecture): EncoderSpec {
  const t = r.object('tokenizer');
  const tokenizer: TokenizerSpec = {
    kind: t.literal('kind', ['bert-wordpiece'] as const),
    vocab: t.relPath('vocab'),
    lowercase: t.bool('lowercase'),
    stripAccents: t.bool('strip_accents'),
  };
  const e = r.object('encoder');
  const encoder: EncoderSizes = {
    hiddenSize: e.int('hidden_size', 1),
    layers: e.int('layers', 1),
    heads: e.int('heads', 1),
    intermediateSize: e.int('intermediate_size', 1),
    vocabSize: e.int('vocab_size', 1),
    maxPositionEmbeddings: e.int('max_position_embeddings', 2),
  };
  if (encoder.hiddenSize % encoder.heads !== 0) {
    fail(r.file, 'encoder.heads', `must divide encoder.hidden_size (${encoder.hiddenSize}), got ${encoder.heads}`);
  }
  if (qnet.dims[0] !== encoder.hiddenSize) {
    fail(r.file, 'qnet.dims[0]', `must equal encoder.hidden_size (${encoder.hiddenSize}): document vectors are the encoder's CLS vectors, got ${qnet.dims[0]}`);
  }
  // [CLS] and [SEP] take two positions, so 2 is the least that holds any text.
  const maxQueryTokens = r.int('max_query_tokens', 2);
  const maxDocumentTokens = r.int('max_document_tokens', 2);
  for (const [key, v] of [
    ['max_query_tokens', maxQueryTokens],
    ['max_document_tokens', maxDocumentTokens],
  ] as const) {
    if (v > encoder.maxPositionEmbeddings) {
      fail(r.file, key, `must be <= encoder.max_position_embeddings (${encoder.maxPositionEmbeddings}), got ${v}`);
    }
  }
  const f = r.object('files');
  const files = {
    queryEncoder: readFileRef(f.object('query_encoder')),
    docEncoder: readFileRef(f.object('doc_encoder')),
    vocab: readFileRef(f.object('vocab')),
  };
  const paths = [files.queryEncoder.path, files.docEncoder.path, files.vocab.path];
  if (new Set(paths).size !== paths.length) fail(r.file, 'files', `must name three different paths, got ${show(paths)}`);
  if (tokenizer.vocab !== files.vocab.path) {
    fail(r.file, 'tokenizer.vocab', `must equal files.vocab.path (${show(files.vocab.path)}), got ${show(tokenizer.vocab)}`);
  }
  const L = hiddenLayerCount(qnet);
  const outs = r.array('query_encoder_outputs');
  if (outs.length !== 2 * L + 1) {
    const names = L === 0 ? 'W_0 only: the query embedding' : `W_0..W_${L}, then b_0..b_${L - 1}`;
    fail(
      r.file,
      'query_encoder_outputs',
      `must list ${2 * L + 1} name${L === 0 ? '' : 's'} for a q-net with ${L} hidden layers (${names}), got ${outs.length}`,
    );
  }
  outs.forEach((v, i) => {
    if (typeof v !== 'string' || v.length === 0) fail(r.file, `query_encoder_outputs[${i}]`, `must be a non-empty string, got ${show(v)}`);
  });
  if (new Set(outs).size !== outs.length) fail(r.file, 'query_encoder_outputs', `must not repeat a name, got ${show(outs)}`);
  const spec: EncoderSpec = { tokenizer, maxQueryTokens, maxDocumentTokens, encoder, files, queryEncoderOutputs: outs as string[] };
  // Optional: older clients ignore these fields, so a bundle that needs a prefix searches worse there, not wrongly shaped.
  if (r.has('query_prefix')) spec.queryPrefix = r.string('query_prefix');
  if (r.has('document_prefix')) spec.documentPrefix = r.string('document_prefix');
  return spec;
}

/** The model.json object for a bundle (snake_case, as docs/FORMATS.md). Serialize with JSON.stringify. */
export function modelJsonObject(m: ModelBundle): Record<string, unknown> {
  const out: Record<string, unknown> = { format: MODEL_FORMAT, format_version: m.formatVersion, id: m.id };
  if (m.synthetic) out.synthetic = true;
  if (m.encoders) {
    const e = m.encoders;
    out.tokenizer = { kind: e.tokenizer.kind, vocab: e.tokenizer.vocab, lowercase: e.tokenizer.lowercase, strip_accents: e.tokenizer.stripAccents };
    out.max_query_tokens = e.maxQueryTokens;
    out.max_document_tokens = e.maxDocumentTokens;
    out.encoder = {
      hidden_size: e.encoder.hiddenSize,
      layers: e.encoder.layers,
      heads: e.encoder.heads,
      intermediate_size: e.encoder.intermediateSize,
      vocab_size: e.encoder.vocabSize,
      max_position_embeddings: e.encoder.maxPositionEmbeddings,
    };
  }
  out.qnet = {
    dims: [...m.qnet.dims],
    activation: m.qnet.activation,
    layer_norm: { affine: false, eps: m.qnet.layerNormEps },
    residual: [...m.qnet.residual],
  };
  if (m.encoders) {
    const f = m.encoders.files;
    out.files = { query_encoder: { ...f.queryEncoder }, doc_encoder: { ...f.docEncoder }, vocab: { ...f.vocab } };
    out.query_encoder_outputs = [...m.encoders.queryEncoderOutputs];
    if (m.encoders.queryPrefix !== undefined) out.query_prefix = m.encoders.queryPrefix;
    if (m.encoders.documentPrefix !== undefined) out.document_prefix = m.encoders.documentPrefix;
  }
  return out;
}

/** model.json text: two-space indented JSON with a final newline. */
export function serializeModelJson(m: ModelBundle): string {
  return `${JSON.stringify(modelJsonObject(m), null, 2)}\n`;
}

/**
 * Q-net weights given as plain arrays, checked against the model's dims (through qnet.ts's
 * checkWeights). `source` names where they came from in the error message.
 */
export function qnetWeightsForModel(model: ModelBundle, matrices: ArrayLike<number>[], biases: ArrayLike<number>[], source = 'q-net weights'): QNetWeights {
  const w: QNetWeights = {
    arch: model.qnet,
    matrices: matrices.map((m) => (m instanceof Float32Array ? m : Float32Array.from(m))),
    biases: biases.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b))),
  };
  try {
    checkWeights(w);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message} (model ${show(model.id)}, qnet.dims ${show(model.qnet.dims)})`);
  }
  return w;
}

/** One output tensor of query_encoder.onnx, as onnxruntime returns it. */
export interface OutputTensor {
  dims: readonly number[];
  data: unknown;
}

/**
 * The q-net from query_encoder.onnx's outputs (name → tensor), by the names and order in
 * model.json: W_j of shape [1, in_j, out_j] row-major (y = x·W), b_j of shape [1, out_j], float32.
 */
export function qnetWeightsFromOutputs(model: ModelBundle, outputs: Record<string, OutputTensor>, source = 'query_encoder.onnx'): QNetWeights {
  if (!model.encoders) throw new Error(`${source}: model ${show(model.id)} is synthetic and has no query encoder`);
  const names = model.encoders.queryEncoderOutputs;
  const { dims } = model.qnet;
  const L = hiddenLayerCount(model.qnet);
  const take = (name: string, shape: number[]): Float32Array => {
    const t = outputs[name];
    if (!t) throw new Error(`${source}: output ${show(name)} is missing`);
    if (t.dims.length !== shape.length || t.dims.some((v, i) => v !== shape[i])) {
      throw new Error(`${source}: output ${show(name)} must have shape [${shape.join(', ')}], got [${t.dims.join(', ')}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new Error(`${source}: output ${show(name)} must be float32`);
    return t.data;
  };
  const matrices = Array.from({ length: L + 1 }, (_, j) => take(names[j], [1, dims[j], dims[j + 1]]));
  const biases = Array.from({ length: L }, (_, j) => take(names[L + 1 + j], [1, dims[j + 1]]));
  return qnetWeightsForModel(model, matrices, biases, source);
}
