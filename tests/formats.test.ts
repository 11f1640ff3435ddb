import { describe, expect, it } from 'vitest';
import {
  GRAPH_NO_NEIGHBOR,
  MAX_TILE_BYTES,
  buildIndexManifest,
  checkIndexAgainstModel,
  checkVectorTileValues,
  indexManifestObject,
  modelJsonObject,
  parseGraphShard,
  parseIndexManifest,
  parseMetadataShard,
  parseModelJson,
  parseVectorTile,
  qnetWeightsForModel,
  qnetWeightsFromOutputs,
  serializeIndexManifest,
  serializeModelJson,
  sha256Hex,
  validateIndexManifest,
  validateModelJson,
  verifyFile,
  type BundleFileInput,
  type IndexManifest,
  type ShardEntry,
} from '../src/core/formats/index.ts';
import { paperArchitecture, randomVectors, randomWeights, seededRandom } from '../src/core/qnet.ts';
import { decodeVectors, encodeVectors, int8Absmax, type StorageDtype } from '../src/core/vectorStorage.ts';

const HASH = 'a'.repeat(64);
const clone = <T>(v: T): T => structuredClone(v);
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A paper-style model.json: BERT-base sizes, 6 hidden layers of 768. */
function paperModelJson(): Record<string, any> {
  return {
    format: 'hypencoder-model',
    format_version: 1,
    id: 'jfkback/hypencoder.6_layer',
    tokenizer: { kind: 'bert-wordpiece', vocab: 'vocab.txt', lowercase: true, strip_accents: true },
    max_query_tokens: 32,
    max_document_tokens: 512,
    encoder: { hidden_size: 768, layers: 12, heads: 12, intermediate_size: 3072, vocab_size: 30522, max_position_embeddings: 512 },
    qnet: {
      dims: [768, 768, 768, 768, 768, 768, 768, 1],
      activation: 'relu',
      layer_norm: { affine: false, eps: 1e-5 },
      residual: [true, true, true, true, true, false],
    },
    files: {
      query_encoder: { path: 'query_encoder.onnx', bytes: 440_000_000, sha256: HASH },
      doc_encoder: { path: 'doc_encoder.onnx', bytes: 438_000_000, sha256: 'b'.repeat(64) },
      vocab: { path: 'vocab.txt', bytes: 231_508, sha256: 'c'.repeat(64) },
    },
    query_encoder_outputs: ['W_0', 'W_1', 'W_2', 'W_3', 'W_4', 'W_5', 'W_6', 'b_0', 'b_1', 'b_2', 'b_3', 'b_4', 'b_5'],
  };
}

/** A small model.json whose q-net is [d, h, h, 1] with encoder hidden size d. */
function smallModelJson(d = 8, h = 8): Record<string, any> {
  const m = paperModelJson();
  m.id = 'small';
  m.encoder = { hidden_size: d, layers: 2, heads: 2, intermediate_size: 4 * d, vocab_size: 100, max_position_embeddings: 64 };
  m.max_query_tokens = 16;
  m.max_document_tokens = 64;
  m.qnet = { dims: [d, h, h, 1], activation: 'relu', layer_norm: { affine: false, eps: 1e-5 }, residual: [d === h, false] };
  m.query_encoder_outputs = ['W_0', 'W_1', 'W_2', 'b_0', 'b_1'];
  return m;
}

const expectModelError = (json: unknown, message: string) => expect(() => validateModelJson(json)).toThrow(message);
const expectManifestError = (json: unknown, message: string) => expect(() => validateIndexManifest(json)).toThrow(message);

describe('model.json', () => {
  it('parses the paper model and round-trips through serializeModelJson', () => {
    const m = parseModelJson(JSON.stringify(paperModelJson()));
    expect(m.qnet).toEqual(paperArchitecture(768, 768, 6));
    expect(m.encoders!.files.queryEncoder).toEqual({ path: 'query_encoder.onnx', bytes: 440_000_000, sha256: HASH });
    expect(m.encoders!.tokenizer.stripAccents).toBe(true);
    expect(m.synthetic).toBe(false);
    expect(parseModelJson(serializeModelJson(m))).toEqual(m);
    expect(modelJsonObject(m)).toEqual(paperModelJson());
  });

  it('parses from UTF-8 bytes', () => {
    expect(parseModelJson(utf8(JSON.stringify(paperModelJson()))).id).toBe('jfkback/hypencoder.6_layer');
  });

  it('lets only a synthetic model omit its encoders', () => {
    const j = { format: 'hypencoder-model', format_version: 1, id: 'synthetic-qnet', synthetic: true, qnet: smallModelJson().qnet };
    const m = validateModelJson(j);
    expect(m.encoders).toBeNull();
    expect(parseModelJson(serializeModelJson(m))).toEqual(m);
    expectModelError({ ...j, synthetic: false }, 'model.json: tokenizer is missing (only a model marked "synthetic": true may omit its encoders)');
    expectModelError({ ...j, encoder: paperModelJson().encoder }, 'model.json: tokenizer is missing');
  });

  it('refuses a newer format_version with an upgrade message', () => {
    const j = paperModelJson();
    j.format_version = 2;
    expectModelError(j, 'model.json: format_version 2 is newer than this client supports (1); upgrade hypencoder-web');
  });

  it('refuses a wrong format tag, an index manifest and bad JSON', () => {
    expectModelError({ ...paperModelJson(), format: 'onnx' }, 'model.json: format must be "hypencoder-model", got "onnx"');
    expectModelError({ ...paperModelJson(), format: 'hypencoder-index' }, 'this is an index manifest, not a model.json');
    expect(() => parseModelJson('{"format": ')).toThrow('model.json: is not valid JSON');
    expect(() => parseModelJson(new Uint8Array([0xff, 0xfe]))).toThrow('model.json: is not valid UTF-8');
    expectModelError([1], 'model.json: must be an object, got [1]');
  });

  it('names missing and mistyped fields', () => {
    const a = paperModelJson();
    delete a.encoder.heads;
    expectModelError(a, 'model.json: encoder.heads is missing');
    const b = paperModelJson();
    b.max_query_tokens = '32';
    expectModelError(b, 'model.json: max_query_tokens must be an integer >= 2, got "32"');
    const c = paperModelJson();
    c.files.vocab.sha256 = 'XYZ';
    expectModelError(c, 'model.json: files.vocab.sha256 must be 64 lowercase hex digits (SHA-256), got "XYZ"');
    const d = paperModelJson();
    d.files.doc_encoder.path = '../doc.onnx';
    expectModelError(d, 'model.json: files.doc_encoder.path must be a relative path');
    const e = paperModelJson();
    e.tokenizer.kind = 'sentencepiece';
    expectModelError(e, 'model.json: tokenizer.kind must be one of bert-wordpiece, got "sentencepiece"');
    const f = paperModelJson();
    f.qnet.dims[3] = 0;
    expectModelError(f, 'model.json: qnet.dims[3] must be an integer >= 1, got 0');
  });

  it('refuses bad residual flags', () => {
    const a = paperModelJson();
    a.qnet.residual = [true, true, true, true, false];
    expectModelError(a, 'model.json: qnet.residual: need one flag per hidden layer (6), got [true,true,true,true,false]');
    const b = paperModelJson();
    b.qnet.residual[2] = 1;
    expectModelError(b, 'model.json: qnet.residual[2] must be true or false, got 1');
    const c = smallModelJson(8, 16);
    c.qnet.residual = [true, false];
    expectModelError(c, 'model.json: qnet.residual[0]: a residual layer needs equal in and out sizes, got 8 → 16');
  });

  it('checks the q-net against the encoder and the outputs list', () => {
    const a = paperModelJson();
    a.qnet.dims[0] = 384;
    a.qnet.residual[0] = false;
    expectModelError(a, 'model.json: qnet.dims[0] must equal encoder.hidden_size (768)');
    const b = paperModelJson();
    b.qnet.dims[7] = 2;
    expectModelError(b, 'model.json: qnet.dims: the last entry must be 1 (one score), got 2');
    const c = paperModelJson();
    c.qnet.layer_norm.affine = true;
    expectModelError(c, 'model.json: qnet.layer_norm.affine must be false');
    const d = paperModelJson();
    d.query_encoder_outputs.pop();
    expectModelError(d, 'model.json: query_encoder_outputs must list 13 names for a q-net with 6 hidden layers (W_0..W_6, then b_0..b_5), got 12');
    const e = paperModelJson();
    e.query_encoder_outputs[12] = 'W_0';
    expectModelError(e, 'model.json: query_encoder_outputs must not repeat a name');
    const f = paperModelJson();
    f.tokenizer.vocab = 'other.txt';
    expectModelError(f, 'model.json: tokenizer.vocab must equal files.vocab.path ("vocab.txt"), got "other.txt"');
    const g = paperModelJson();
    g.max_document_tokens = 1024;
    expectModelError(g, 'model.json: max_document_tokens must be <= encoder.max_position_embeddings (512), got 1024');
    const h = paperModelJson();
    h.encoder.heads = 7;
    expectModelError(h, 'model.json: encoder.heads must divide encoder.hidden_size (768), got 7');
  });

  it('checks q-net weight arrays against the model dims', () => {
    const model = validateModelJson(smallModelJson(8, 8));
    const w = randomWeights(model.qnet, seededRandom(1));
    expect(qnetWeightsForModel(model, w.matrices, w.biases).matrices[1]).toBe(w.matrices[1]);
    const plain = qnetWeightsForModel(
      model,
      w.matrices.map((m) => Array.from(m)),
      w.biases.map((b) => Array.from(b)),
    );
    expect(plain.matrices[0]).toEqual(w.matrices[0]);
    expect(() => qnetWeightsForModel(model, [w.matrices[0], w.matrices[1].subarray(1), w.matrices[2]], w.biases)).toThrow(
      'q-net weights: q-net weights: matrix 1 should have 8×8=64 values, got 63 (model "small"',
    );
    expect(() => qnetWeightsForModel(model, w.matrices, [w.biases[0]], 'query_encoder.onnx')).toThrow(
      'query_encoder.onnx: q-net weights: expected 2 biases, got 1',
    );
  });

  it('maps query_encoder.onnx outputs to q-net weights by name and shape', () => {
    const model = validateModelJson(smallModelJson(8, 8));
    const w = randomWeights(model.qnet, seededRandom(2));
    const outputs: Record<string, { dims: number[]; data: unknown }> = {
      W_0: { dims: [1, 8, 8], data: w.matrices[0] },
      W_1: { dims: [1, 8, 8], data: w.matrices[1] },
      W_2: { dims: [1, 8, 1], data: w.matrices[2] },
      b_0: { dims: [1, 8], data: w.biases[0] },
      b_1: { dims: [1, 8], data: w.biases[1] },
    };
    const got = qnetWeightsFromOutputs(model, outputs);
    expect(got.matrices).toEqual(w.matrices);
    expect(got.biases).toEqual(w.biases);
    expect(() => qnetWeightsFromOutputs(model, { ...outputs, W_2: { dims: [1, 1, 8], data: w.matrices[2] } })).toThrow(
      'query_encoder.onnx: output "W_2" must have shape [1, 8, 1], got [1, 1, 8]',
    );
    const { b_1: _, ...missing } = outputs;
    expect(() => qnetWeightsFromOutputs(model, missing)).toThrow('query_encoder.onnx: output "b_1" is missing');
    expect(() => qnetWeightsFromOutputs(model, { ...outputs, b_0: { dims: [1, 8], data: new Float64Array(8) } })).toThrow(
      'query_encoder.onnx: output "b_0" must be float32',
    );
  });

  it('accepts a zero-layer q-net [d, 1] (an inner product): one output, the query embedding W_0', () => {
    const j = smallModelJson(8, 8);
    j.qnet.dims = [8, 1];
    j.qnet.residual = [];
    j.query_encoder_outputs = ['embedding'];
    const model = validateModelJson(j);
    expect(model.qnet.dims).toEqual([8, 1]);
    expect(validateModelJson(JSON.parse(serializeModelJson(model)))).toEqual(model);
    const w = Float32Array.from({ length: 8 }, (_, i) => i - 3.5);
    const got = qnetWeightsFromOutputs(model, { embedding: { dims: [1, 8, 1], data: w } });
    expect(got.matrices).toEqual([w]);
    expect(got.biases).toEqual([]);
    expect(() => qnetWeightsFromOutputs(model, { embedding: { dims: [1, 8], data: w } })).toThrow(
      'query_encoder.onnx: output "embedding" must have shape [1, 8, 1], got [1, 8]',
    );
    expect(() => qnetWeightsForModel(model, [w], [new Float32Array(8)])).toThrow('q-net weights: expected 0 biases, got 1');
    expectModelError(
      { ...j, query_encoder_outputs: ['embedding', 'b_0'] },
      'model.json: query_encoder_outputs must list 1 name for a q-net with 0 hidden layers (W_0 only: the query embedding), got 2',
    );
    expectModelError({ ...j, qnet: { ...j.qnet, residual: [false] } }, 'model.json: qnet.residual: need one flag per hidden layer (0), got [false]');
    expectModelError(
      { ...j, qnet: { ...j.qnet, dims: [1] } },
      'model.json: qnet.dims: need [d, h_1, ..., h_L, 1] (L ≥ 0 hidden layers; [d, 1] is an inner product), got [1]',
    );
  });
});

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vectors', async () => {
    expect(await sha256Hex(utf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new ArrayBuffer(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

interface Built {
  manifest: IndexManifest;
  files: BundleFileInput[];
  vectors: Float32Array;
}

/** An index of n random docs of size d, tiled by tileDocs, metadata in shards of shardDocs. */
async function buildIndex(n: number, d: number, dtype: StorageDtype, tileDocs: number, shardDocs = 50): Promise<Built> {
  const vectors = randomVectors(n, d, seededRandom(7));
  const absmax = dtype === 'int8' ? int8Absmax(vectors, n, d) : undefined;
  const files: BundleFileInput[] = [];
  for (let t = 0, first = 0; first < n; t++, first += tileDocs) {
    const m = Math.min(tileDocs, n - first);
    const enc = encodeVectors(vectors.subarray(first * d, (first + m) * d), m, d, dtype, absmax);
    files.push({ path: `vectors/${t}.bin`, kind: 'vectors', data: new Uint8Array(enc.words.buffer), firstDoc: first, docCount: m });
  }
  for (let s = 0, first = 0; first < n; s++, first += shardDocs) {
    const m = Math.min(shardDocs, n - first);
    const docs = Array.from({ length: m }, (_, k) => ({ id: `d${first + k}`, title: `Doc ${first + k}`, url: '', text: 'hello' }));
    files.push({ path: `metadata/${s}.json`, kind: 'metadata', data: utf8(JSON.stringify(docs)), firstDoc: first, docCount: m });
  }
  const manifest = await buildIndexManifest({ model: { id: 'small', sha256: HASH }, dim: d, dtype, absmax, tileDocs }, files);
  return { manifest, files, vectors };
}

describe('manifest.json', () => {
  for (const dtype of ['f32', 'f16', 'int8'] as const) {
    it(`builds, serializes and parses back (${dtype})`, async () => {
      const { manifest, files, vectors } = await buildIndex(300, 10, dtype, 128);
      expect(manifest.docCount).toBe(300);
      expect(manifest.vectorTiles.map((e) => [e.firstDoc, e.docCount])).toEqual([
        [0, 128],
        [128, 128],
        [256, 44],
      ]);
      expect(manifest.storage.strideWords).toBe({ f32: 10, f16: 5, int8: 3 }[dtype]);
      expect(parseIndexManifest(serializeIndexManifest(manifest))).toEqual(manifest);
      expect(parseIndexManifest(utf8(serializeIndexManifest(manifest)))).toEqual(manifest);
      // Every file verifies, and the tiles decode to what was encoded.
      const decoded: number[] = [];
      for (const e of manifest.files) {
        const f = files.find((x) => x.path === e.path)!;
        await verifyFile(e, f.data);
        if (e.kind === 'vectors') decoded.push(...decodeVectors(parseVectorTile(e, f.data, manifest)));
      }
      const tol = { f32: 0, f16: 2e-3, int8: 0.03 }[dtype];
      decoded.forEach((v, i) => {
        expect(Math.abs(v - vectors[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(vectors[i])));
      });
    });
  }

  async function goodJson(dtype: StorageDtype = 'f16'): Promise<Record<string, any>> {
    return clone(indexManifestObject((await buildIndex(300, 10, dtype, 128)).manifest));
  }

  it('refuses a newer format_version with an upgrade message', async () => {
    const j = await goodJson();
    j.format_version = 2;
    j.storage = 'something v1 cannot read';
    expectManifestError(j, 'manifest.json: format_version 2 is newer than this client supports (1); upgrade hypencoder-web');
    expect(() => parseIndexManifest(JSON.stringify(j), 'https://x/manifest.json')).toThrow('https://x/manifest.json: format_version 2 is newer');
  });

  it('refuses a wrong format tag and a bad format_version', async () => {
    const j = await goodJson();
    expectManifestError(
      { ...j, format: 'hypencoder-model' },
      'manifest.json: format must be "hypencoder-index", got "hypencoder-model" (this is a model.json, not an index manifest)',
    );
    expectManifestError({ ...j, format_version: 0 }, 'manifest.json: format_version must be an integer >= 1, got 0');
    expectManifestError({ ...j, format_version: '1' }, 'manifest.json: format_version must be an integer >= 1, got "1"');
  });

  it('refuses a bad dtype, a wrong stride and bad absmax', async () => {
    const j = await goodJson();
    j.storage.dtype = 'bf16';
    expectManifestError(j, 'manifest.json: storage.dtype must be one of f32, f16, int8, got "bf16"');
    const k = await goodJson();
    k.storage.stride_words = 10;
    expectManifestError(k, 'manifest.json: storage.stride_words must be 5 for dtype f16 and dim 10 (ceil(dim / 2)), got 10');
    const a = await goodJson('int8');
    a.storage.absmax.pop();
    expectManifestError(a, 'manifest.json: storage.absmax must have dim (10) values, got 9');
    const b = await goodJson('int8');
    b.storage.absmax[4] = 0;
    expectManifestError(b, 'manifest.json: storage.absmax[4] must be a finite number > 0, got 0');
    const c = await goodJson('int8');
    delete c.storage.absmax;
    expectManifestError(c, 'manifest.json: storage.absmax is missing');
    const d = await goodJson('f32');
    d.storage.absmax = [1];
    expectManifestError(d, 'manifest.json: storage.absmax is only for int8 storage, but storage.dtype is f32');
  });

  it('names missing and mistyped fields', async () => {
    const j = await goodJson();
    delete j.doc_count;
    expectManifestError(j, 'manifest.json: doc_count is missing');
    const k = await goodJson();
    k.dim = '10';
    expectManifestError(k, 'manifest.json: dim must be an integer >= 1, got "10"');
    const m = await goodJson();
    delete m.model.sha256;
    expectManifestError(m, 'manifest.json: model.sha256 is missing');
    const f = await goodJson();
    f.files[1].kind = 'vector';
    expectManifestError(f, 'manifest.json: files[1].kind must be one of vectors, metadata, graph, lexical, documents, got "vector"');
    const g = await goodJson();
    delete g.files[0].first_doc;
    expectManifestError(g, 'manifest.json: files[0].first_doc is missing');
  });

  it('refuses tile doc counts that do not add up to doc_count', async () => {
    const j = await goodJson();
    j.doc_count = 320;
    expectManifestError(j, 'manifest.json: vector tiles cover 300 documents (doc counts add up to 300), but doc_count is 320');
    const k = await goodJson();
    k.files.splice(2, 1); // drop the last tile; metadata would still cover 300
    k.doc_count = 300;
    expectManifestError(k, 'manifest.json: vector tiles cover 256 documents');
  });

  it('refuses overlapping, gapped and unevenly sized tiles', async () => {
    const j = await goodJson();
    j.files[1].first_doc = 100;
    expectManifestError(j, 'manifest.json: files[1] (vectors/1.bin) first_doc 100 overlaps the previous vector tile, which ends before doc 128');
    const k = await goodJson();
    k.files[2].first_doc = 260;
    expectManifestError(k, 'manifest.json: files[2] (vectors/2.bin) first_doc 260 leaves docs 256..259 in no vector tile');
    const s = await goodJson();
    s.files[0].doc_count = 100;
    s.files[0].bytes = 100 * 5 * 4;
    s.files[1].first_doc = 100;
    expectManifestError(s, 'manifest.json: files[0] (vectors/0.bin) doc_count must be tile_docs (128), got 100: only the last vector tile may be shorter');
    const b = await goodJson();
    b.files[2].bytes += 4;
    expectManifestError(b, 'manifest.json: files[2] (vectors/2.bin) bytes must be 880 for 44 documents, got 884');
    const m = await goodJson();
    m.files[4].first_doc = 40;
    expectManifestError(m, 'manifest.json: files[4] (metadata/1.json) first_doc 40 overlaps the previous metadata shard, which ends before doc 50');
  });

  it('requires metadata for every document, unique safe paths and bindable tiles', async () => {
    const j = await goodJson();
    j.files = j.files.filter((e: any) => e.kind !== 'metadata');
    expectManifestError(j, 'manifest.json: files lists no metadata shards; they must cover all 300 documents');
    const k = await goodJson();
    k.files[4].path = k.files[3].path;
    expectManifestError(k, 'manifest.json: files[4].path "metadata/0.json" is already listed as files[3]');
    const p = await goodJson();
    p.files[0].path = '/etc/passwd';
    expectManifestError(p, 'manifest.json: files[0].path must be a relative path');
    const t = await goodJson('f32');
    t.tile_docs = Math.floor(MAX_TILE_BYTES / 40) + 1;
    expectManifestError(t, `manifest.json: tile_docs × stride_words × 4 = ${t.tile_docs * 40} bytes exceeds 134217728`);
  });

  it('pairs graph and lexical files with their descriptors', async () => {
    const j = await goodJson();
    j.graph = { degree: 4, metric: 'l2' };
    expectManifestError(j, 'manifest.json: graph is given but no file has kind "graph"');
    j.graph.metric = 'cosine';
    expectManifestError(j, 'manifest.json: graph.metric must be one of l2, got "cosine"');
    const k = await goodJson();
    k.files.push({ path: 'lexical/bm25.bin', kind: 'lexical', bytes: 3, sha256: HASH });
    expectManifestError(k, 'manifest.json: files[9] (lexical/bm25.bin) has kind "lexical" but the manifest has no lexical descriptor');
    k.lexical = { scheme: 'bm25-v0', k1: 0.9 };
    const m = validateIndexManifest(k);
    expect(m.lexical).toEqual({ scheme: 'bm25-v0', raw: { scheme: 'bm25-v0', k1: 0.9 } });
    expect(validateIndexManifest(indexManifestObject(m))).toEqual(m);
  });

  it('checks the index against the loaded model: id, model.json hash, dims', async () => {
    const { manifest } = await buildIndex(300, 8, 'f16', 128);
    const model = validateModelJson(smallModelJson(8, 8));
    expect(() => checkIndexAgainstModel(manifest, model, HASH)).not.toThrow();
    expect(() => checkIndexAgainstModel(manifest, validateModelJson(smallModelJson(16, 16)), HASH)).toThrow(
      "manifest.json: dim is 8 but model.json qnet.dims[0] is 16; document vectors must have the q-net's input size",
    );
    expect(() => checkIndexAgainstModel(manifest, model, 'b'.repeat(64))).toThrow(
      `manifest.json: model.sha256 is ${HASH} but the loaded model.json hashes to ${'b'.repeat(64)}; the index was built for a different model file`,
    );
    expect(() => checkIndexAgainstModel(manifest, { ...model, id: 'other' }, HASH)).toThrow(
      'manifest.json: model.id is "small" but the loaded model.json has id "other"',
    );
  });
});

describe('index files', () => {
  it('verifyFile refuses truncated, oversized and tampered files, naming them', async () => {
    const { manifest, files } = await buildIndex(300, 10, 'f16', 128);
    const e = manifest.vectorTiles[0];
    const data = files[0].data;
    await expect(verifyFile(e, data)).resolves.toBeUndefined();
    await expect(verifyFile(e, data.subarray(0, data.length - 1))).rejects.toThrow(
      `vectors/0.bin: truncated: expected ${data.length} bytes, got ${data.length - 1}`,
    );
    const longer = new Uint8Array(data.length + 4);
    longer.set(data);
    await expect(verifyFile(e, longer)).rejects.toThrow(`vectors/0.bin: oversized: expected ${data.length} bytes, got ${data.length + 4}`);
    const tampered = data.slice();
    tampered[17] ^= 1;
    await expect(verifyFile(e, tampered)).rejects.toThrow(`vectors/0.bin: SHA-256 mismatch: the bundle lists ${e.sha256}, the file has `);
  });

  it('parseVectorTile checks the size and handles unaligned bytes', async () => {
    const { manifest, files } = await buildIndex(300, 10, 'int8', 128);
    const e = manifest.vectorTiles[2];
    const data = files[2].data;
    const tile = parseVectorTile(e, data, manifest);
    expect(tile).toMatchObject({ dtype: 'int8', d: 10, n: 44, strideWords: 3 });
    expect(tile.absmax).toBe(manifest.storage.absmax);
    const shifted = new Uint8Array(data.length + 1).subarray(1);
    shifted.set(data);
    expect(decodeVectors(parseVectorTile(e, shifted, manifest))).toEqual(decodeVectors(tile));
    expect(() => parseVectorTile(e, data.subarray(4), manifest)).toThrow('vectors/2.bin: truncated: expected 528 bytes (44 documents × 3 words × 4), got 524');
    expect(() => parseVectorTile(manifest.metadataShards[0], data, manifest)).toThrow('metadata/0.json: is listed with kind "metadata", not "vectors"');
  });

  it('checkVectorTileValues refuses non-finite values, int8 -128 and dirty padding', () => {
    const v = new Float32Array([1, 2, 3, 4, 5, 6]);
    const f32 = encodeVectors(v, 2, 3, 'f32');
    checkVectorTileValues('t.bin', f32, 10);
    new Float32Array(f32.words.buffer)[4] = NaN;
    expect(() => checkVectorTileValues('t.bin', f32, 10)).toThrow('t.bin: doc 11 dimension 1 is NaN or infinite');
    const f16 = encodeVectors(v, 2, 3, 'f16');
    checkVectorTileValues('t.bin', f16);
    f16.words[1] |= 0x1 << 16;
    expect(() => checkVectorTileValues('t.bin', f16)).toThrow('t.bin: doc 0: padding half after dimension 2 must be 0');
    f16.words[1] &= 0xffff;
    checkVectorTileValues('t.bin', f16);
    f16.words[2] = 0x7c00;
    expect(() => checkVectorTileValues('t.bin', f16)).toThrow('t.bin: doc 1 dimension 0 is NaN or infinite');
    const i8 = encodeVectors(v, 2, 3, 'int8');
    checkVectorTileValues('t.bin', i8);
    const orig = i8.words[1];
    i8.words[1] = (orig & ~0xff00) | 0x8000;
    expect(() => checkVectorTileValues('t.bin', i8)).toThrow('t.bin: doc 1 dimension 1 is the int8 code -128');
    i8.words[1] = (orig & 0x00ffffff) | (1 << 24);
    expect(() => checkVectorTileValues('t.bin', i8)).toThrow('t.bin: doc 1: padding byte 3 must be 0');
  });

  const shard = (docCount: number, firstDoc = 0): ShardEntry => ({ path: 'metadata/0.json', kind: 'metadata', bytes: 0, sha256: HASH, firstDoc, docCount });

  it('parseMetadataShard reads records and refuses bad ones', () => {
    const docs = [
      { id: 'a', title: 'A', url: 'https://a', text: 'x' },
      { id: 'b', title: 'B', url: '', text: 'y', fields: { lang: 'en' } },
    ];
    expect(parseMetadataShard(shard(2), JSON.stringify(docs))).toEqual(docs);
    expect(() => parseMetadataShard(shard(3), JSON.stringify(docs))).toThrow('metadata/0.json: must hold doc_count (3) records, got 2');
    expect(() => parseMetadataShard(shard(1), '{"id": "a"}')).toThrow('metadata/0.json: must be a JSON array of document records');
    expect(() => parseMetadataShard(shard(2), JSON.stringify([docs[0], { ...docs[1], title: 5 }]))).toThrow(
      'metadata/0.json: [1].title must be a string, got 5',
    );
    expect(() => parseMetadataShard(shard(2), JSON.stringify([docs[0], { id: 'b', title: 'B', text: '' }]))).toThrow('metadata/0.json: [1].url is missing');
    expect(() => parseMetadataShard(shard(2), JSON.stringify([docs[0], { ...docs[1], body: '' }]))).toThrow(
      'metadata/0.json: [1] has unknown key "body"; put extra fields under "fields"',
    );
    expect(() => parseMetadataShard(shard(2), JSON.stringify([docs[0], { ...docs[1], id: 'a' }]))).toThrow('metadata/0.json: [1].id "a" repeats [0].id');
    expect(() => parseMetadataShard(shard(2), JSON.stringify([docs[0], { ...docs[1], fields: [] }]))).toThrow(
      'metadata/0.json: [1].fields must be an object, got []',
    );
    expect(() => parseMetadataShard(shard(2), '[{')).toThrow('metadata/0.json: is not valid JSON');
  });

  it('parseGraphShard checks size, range and padding', async () => {
    const { manifest } = await buildIndex(300, 10, 'f16', 128);
    const g: IndexManifest = { ...manifest, graph: { degree: 3, metric: 'l2' } };
    const e: ShardEntry = { path: 'graph/0.bin', kind: 'graph', bytes: 24, sha256: HASH, firstDoc: 0, docCount: 2 };
    const rows = new Uint32Array([5, 299, GRAPH_NO_NEIGHBOR, 0, 1, 2]);
    expect(parseGraphShard(e, new Uint8Array(rows.buffer), g)).toEqual(rows);
    expect(() => parseGraphShard(e, new Uint8Array(rows.buffer, 0, 20), g)).toThrow('graph/0.bin: truncated: expected 24 bytes');
    expect(() => parseGraphShard(e, new Uint8Array(new Uint32Array([5, 300, 1, 0, 1, 2]).buffer), g)).toThrow(
      'graph/0.bin: doc 0: neighbor 1 is 300, beyond doc_count 300',
    );
    expect(() => parseGraphShard(e, new Uint8Array(new Uint32Array([GRAPH_NO_NEIGHBOR, 1, 2, 0, 1, 2]).buffer), g)).toThrow(
      'graph/0.bin: doc 0: neighbor 1 follows padding',
    );
    expect(() => parseGraphShard(e, new Uint8Array(rows.buffer), manifest)).toThrow('graph/0.bin: is a graph shard but the manifest has no graph descriptor');
  });
});
