// `hypencoder-web convert --kind dense`: a sentence-transformers style BERT folder (randomly
// initialized by training/make_random_dense.py: no weights can be downloaded here) becomes a bundle
// with a zero-layer q-net. Checked: PyTorch = onnxruntime-node on real tokenized text (padding
// masked, vectors normalized where the model says so), the e5-style prefixes reach both encoders,
// the CLI's index + search top 10 = a brute-force Float64 inner product, and bad folders refused
// with the file and the problem named, exit 2, nothing written. Needs Debian's PyTorch.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIndexBundle, readModelBundle } from '../src/cli/readBundle.ts';
import { checkPythonTorch, pythonPath, TRAINING_DIR } from '../src/cli/python.ts';
import { VERIFY_TOLERANCE } from '../src/cli/verifyBundle.ts';
import { encoderInputText, parseModelJson, serializeModelJson, validateModelJson, type ModelBundle } from '../src/core/formats/index.ts';
import { BertWordPieceTokenizer } from '../src/core/tokenizer.ts';
import { decodeVectors } from '../src/core/vectorStorage.ts';
import { BIN, cli } from './helpers/smallModel.ts';
import { wordDrawer } from './helpers/wordCorpus.ts';

/**
 * onnxruntime-node vs PyTorch on the same ids, max |Δ| / max |value|: both float32, differing only
 * in summation order (measured up to 3.2e-7 on these shapes); a graph error (padding not masked, a missing
 * normalization) is O(1e-1) or more.
 */
const TORCH_ORT_TOLERANCE = 1e-5;

let work: string;
let python: string;

function py(script: string, ...args: string[]) {
  const r = spawnSync(python, [path.join(TRAINING_DIR, script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
}

/** PyTorch's query vector and document vectors (dense_encoder.py, float32) for the given ids. */
function torchVectors(folder: string, q: number[], docs: { ids: number[][]; mask: number[][] }): { q: number[]; d: number[][] } {
  const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from dense_encoder import load_dense
m = load_dense(sys.argv[2])
x = json.load(sys.stdin)
with torch.no_grad():
    (w,), b = m.query_encoder(torch.tensor([x["q"]]), torch.ones(1, len(x["q"]), dtype=torch.int64))
    d = m.passage_encoder(torch.tensor(x["ids"]), torch.tensor(x["mask"]))
assert b == [] and tuple(w.shape) == (1, d.shape[1], 1)
print(json.dumps({"q": w.reshape(-1).tolist(), "d": d.tolist()}))`;
  const r = spawnSync(python, ['-c', script, TRAINING_DIR, folder], { input: JSON.stringify({ q, ...docs }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch vectors: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

interface Bundle {
  dir: string;
  model: ModelBundle;
  tok: BertWordPieceTokenizer;
  q: ort.InferenceSession;
  d: ort.InferenceSession;
}

async function openBundle(dir: string): Promise<Bundle> {
  const { model } = await readModelBundle(dir);
  const enc = model.encoders!;
  const tok = BertWordPieceTokenizer.fromVocab(readFileSync(path.join(dir, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
  const [q, d] = await Promise.all([
    ort.InferenceSession.create(path.join(dir, enc.files.queryEncoder.path)),
    ort.InferenceSession.create(path.join(dir, enc.files.docEncoder.path)),
  ]);
  return { dir, model, tok, q, d };
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

/** query_encoder.onnx's W_0 for already-prefixed text (or raw ids). */
async function ortQuery(b: Bundle, ids: number[]): Promise<Float32Array> {
  const out = await b.q.run({ input_ids: int64([ids]), attention_mask: int64([ids.map(() => 1)]) });
  expect(b.q.outputNames).toEqual(['W_0']);
  expect(out.W_0.dims).toEqual([1, b.model.qnet.dims[0], 1]);
  return out.W_0.data as Float32Array;
}

async function ortDocs(b: Bundle, ids: number[][], mask: number[][]): Promise<Float32Array> {
  const out = await b.d.run({ input_ids: int64(ids), attention_mask: int64(mask) });
  return out[b.d.outputNames[0]].data as Float32Array;
}

/** Rows padded to one length with [PAD], and their attention masks. */
function padded(tok: BertWordPieceTokenizer, rows: number[][]): { ids: number[][]; mask: number[][] } {
  const S = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...r, ...Array(S - r.length).fill(tok.padId)]),
    mask: rows.map((r) => [...r.map(() => 1), ...Array(S - r.length).fill(0)]),
  };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

const WORDS = (
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate ' +
  'river stone bridge tower garden window music paper energy signal'
).split(' ');

function corpus(n: number, seed: number): { id: string; text: string }[] {
  const { rnd, draw } = wordDrawer(WORDS, seed);
  return Array.from({ length: n }, (_, i) => ({ id: `d${i}`, text: draw(6 + Math.floor(rnd() * 30)) }));
}

/**
 * Index `docs` with the bundle through the CLI (float32 vectors, one passage per document) and search
 * each query. The stored vectors must be doc_encoder.onnx's for each document encoded alone, prefix
 * included; the CLI's Float64 scorer must return exactly the brute-force Float64 top 10 of those
 * vectors with query_encoder.onnx's W_0 (prefixed query), and its float32 scorer the same scores
 * within float32 rounding (it may order near-ties differently).
 */
async function checkSearchAgainstBruteForce(b: Bundle, docs: { id: string; text: string }[], queries: string[]) {
  const jsonl = path.join(work, `${path.basename(b.dir)}-docs.jsonl`);
  writeFileSync(jsonl, docs.map((d) => JSON.stringify(d)).join('\n'));
  const idx = path.join(work, `${path.basename(b.dir)}-index`);
  const r = cli(['index', jsonl, '--model', b.dir, '--out', idx, '--dtype', 'f32', '--no-graph', '--no-lexical', '--long', 'truncate', '-q']);
  expect(r.code, r.stderr).toBe(0);

  const enc = b.model.encoders!;
  const H = b.model.qnet.dims[0];
  const index = await readIndexBundle(idx);
  expect(index.manifest.docCount).toBe(docs.length);
  const stored = new Float32Array(docs.length * H);
  let row = 0;
  for (const t of index.tiles) {
    stored.set(decodeVectors(t), row * H);
    row += t.n;
  }
  for (const [i, d] of docs.entries()) {
    const ids = b.tok.encode(encoderInputText(enc, 'document', d.text), enc.maxDocumentTokens).ids;
    // encoded alone here, in sorted padded batches by the indexer: float32 summation order only
    expect(maxRel(stored.subarray(i * H, (i + 1) * H), await ortDocs(b, [ids], [ids.map(() => 1)])), d.id).toBeLessThan(1e-5);
  }
  for (const [qi, query] of queries.entries()) {
    const w = await ortQuery(b, b.tok.encode(encoderInputText(enc, 'query', query), enc.maxQueryTokens).ids);
    const scores = docs.map((_, r) => {
      let s = 0;
      for (let i = 0; i < H; i++) s += stored[r * H + i] * w[i];
      return s;
    });
    const order = scores.map((_, i) => i).sort((x, y) => scores[y] - scores[x] || x - y);
    const top = order.slice(0, 10);
    const scale = Math.max(...scores.map(Math.abs));
    const search = (scorer: string) => {
      const s = cli(['search', query, '--index', idx, '--model', b.dir, '--mode', 'neural', '--k', '10', '--scorer', scorer, '--json']);
      expect(s.code, s.stderr).toBe(0);
      return JSON.parse(s.stdout).hits as { docId: string; score: number }[];
    };
    const exact = search('reference');
    expect(
      exact.map((h) => h.docId),
      query,
    ).toEqual(top.map((i) => docs[i].id));
    for (const [k, h] of exact.entries()) expect(Math.abs(h.score - scores[top[k]])).toBeLessThanOrEqual(1e-12 * scale);
    if (qi > 0) continue; // the default float32 scorer once per model (each CLI run costs a second)
    // float32 scores: within 1e-6 of the largest |score| (measured 1.7e-7); a hit outside the brute-force
    // top 10 only where it ties the 10th within that
    const eps = 1e-6 * scale;
    const byId = new Map(docs.map((d, i) => [d.id, scores[i]]));
    const fast = search('onnx');
    expect(fast).toHaveLength(10);
    for (const h of fast) {
      expect(Math.abs(h.score - byId.get(h.docId)!), h.docId).toBeLessThan(eps);
      expect(byId.get(h.docId)!).toBeGreaterThanOrEqual(scores[top[9]] - eps);
    }
  }
}

beforeAll(() => {
  python = checkPythonTorch(pythonPath()).python;
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-dense-test-'));
  // all-MiniLM-L6-v2's layout (mean pooling, Normalize) at 2 layers x 64, with e5's prompts
  py('make_random_dense.py', path.join(work, 'mean'), '--shape', 'small', '--query-prompt', 'query: ', '--document-prompt', 'passage: ', '--seed', '3');
  // BERT-base's layout (CLS, not normalized) at 2 layers x 64, stored as pytorch_model.bin, cased tokenizer
  py('make_random_dense.py', path.join(work, 'cls'), '--shape', 'small', '--pooling', 'cls', '--no-normalize', '--format', 'bin', '--cased', '--seed', '4');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('convert --kind dense: mean pooling, normalized, with query/document prefixes', () => {
  let b: Bundle;
  let stderr: string;
  beforeAll(async () => {
    const r = cli(['convert', path.join(work, 'mean'), '--kind', 'dense', '--out', path.join(work, 'mean-bundle')]);
    stderr = r.stderr;
    expect(r.code, r.stderr).toBe(0);
    b = await openBundle(path.join(work, 'mean-bundle'));
  }, 120_000);

  it('writes a standard bundle with a zero-layer q-net and the prefixes in model.json', () => {
    const m = /query vector max \|Δ\| \S+ \((\S+) of max \|W\|\), document vector max \|Δ\| \S+ \((\S+)\); tolerance (\S+)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(Number(m![3])).toBe(VERIFY_TOLERANCE.fp32);
    expect(Math.max(Number(m![1]), Number(m![2]))).toBeLessThanOrEqual(TORCH_ORT_TOLERANCE);
    expect(b.model.qnet.dims).toEqual([64, 1]);
    expect(b.model.qnet.residual).toEqual([]);
    expect(b.model.encoders!.queryEncoderOutputs).toEqual(['W_0']);
    expect(b.model.encoders!.queryPrefix).toBe('query: ');
    expect(b.model.encoders!.documentPrefix).toBe('passage: ');
    expect(b.model.encoders!.maxDocumentTokens).toBe(128); // sentence_bert_config.json's max_seq_length
    const conversion = JSON.parse(readFileSync(path.join(b.dir, 'conversion.json'), 'utf8'));
    expect(conversion.dense).toMatchObject({ pooling: 'mean', normalize: true });
    expect(readdirSync(work).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('model.json query_prefix / document_prefix: read, written back, refused when not text or without encoders', () => {
    const text = readFileSync(path.join(b.dir, 'model.json'), 'utf8');
    const m = parseModelJson(text);
    expect(parseModelJson(serializeModelJson(m))).toEqual(m);
    expect(encoderInputText(m.encoders!, 'query', 'lift')).toBe('query: lift');
    expect(encoderInputText(m.encoders!, 'document', 'lift')).toBe('passage: lift');
    const json = JSON.parse(text);
    expect(() => validateModelJson({ ...json, query_prefix: 3 })).toThrow('model.json: query_prefix must be a string, got 3');
    const synthetic = { format: json.format, format_version: 1, id: 'x', synthetic: true, qnet: json.qnet, document_prefix: 'passage: ' };
    expect(() => validateModelJson(synthetic)).toThrow('model.json: document_prefix needs the encoders');
    const { query_prefix, document_prefix, ...plain } = json;
    expect([query_prefix, document_prefix]).toEqual(['query: ', 'passage: ']);
    expect(encoderInputText(validateModelJson(plain).encoders!, 'query', 'lift')).toBe('lift');
  });

  it('onnxruntime-node = PyTorch = onnxruntime-web on tokenized text; padding is masked out; vectors have length 1', async () => {
    const enc = b.model.encoders!;
    const texts = ['boundary layer flow over a flat plate', 'shock', 'supersonic nozzle flutter of a thin cylinder shell under heat'];
    const rows = texts.map((t) => b.tok.encode(encoderInputText(enc, 'document', t), enc.maxDocumentTokens).ids);
    const batch = padded(b.tok, rows);
    const qIds = b.tok.encode(encoderInputText(enc, 'query', 'heat transfer in a laminar boundary layer'), enc.maxQueryTokens).ids;
    expect(qIds.slice(1, 3)).toEqual(b.tok.pieceIds('query:')); // the prefix is in the ids
    const torch = torchVectors(path.join(work, 'mean'), qIds, batch);
    const q = await ortQuery(b, qIds);
    const d = await ortDocs(b, batch.ids, batch.mask);
    expect(maxRel(q, torch.q)).toBeLessThanOrEqual(TORCH_ORT_TOLERANCE);
    expect(maxRel(d, torch.d.flat())).toBeLessThanOrEqual(TORCH_ORT_TOLERANCE);
    const H = 64;
    for (let i = 0; i < texts.length; i++) {
      const row = d.subarray(i * H, (i + 1) * H);
      expect(Math.abs(norm(row) - 1)).toBeLessThan(1e-5);
      // the same text alone (no padding) gives the same vector
      const alone = await ortDocs(b, [rows[i]], [rows[i].map(() => 1)]);
      expect(maxRel(row, alone)).toBeLessThan(1e-5);
    }
    expect(Math.abs(norm(q) - 1)).toBeLessThan(1e-5);
    // the page's runtime (onnxruntime-web, wasm) computes the same query vector from the same ids
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(new Uint8Array(readFileSync(path.join(b.dir, enc.files.queryEncoder.path))));
    const wq = await web.run({
      input_ids: new ortWeb.Tensor('int64', BigInt64Array.from(qIds, BigInt), [1, qIds.length]),
      attention_mask: new ortWeb.Tensor('int64', new BigInt64Array(qIds.length).fill(1n), [1, qIds.length]),
    });
    expect(maxRel(wq.W_0.data as Float32Array, q)).toBeLessThanOrEqual(TORCH_ORT_TOLERANCE);
    await web.release();
    // a test that would see a missing prefix: without it the query vector moves well beyond the tolerance
    const bare = await ortQuery(b, b.tok.encode('heat transfer in a laminar boundary layer', enc.maxQueryTokens).ids);
    expect(maxRel(bare, q)).toBeGreaterThan(1e-2);
  }, 60_000);

  it('index + search through the CLI: the top 10 is the brute-force inner product (prefixes on both sides)', async () => {
    await checkSearchAgainstBruteForce(b, corpus(300, 11), ['boundary layer heat', 'river bridge stone tower', 'music signal energy paper']);
  }, 120_000);
});

describe('convert (kind auto-detected): CLS pooling, not normalized, pytorch_model.bin, cased', () => {
  let b: Bundle;
  beforeAll(async () => {
    const r = cli(['convert', path.join(work, 'cls'), '--out', path.join(work, 'cls-bundle'), '--id', 'tiny-cls']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dense BERT 2x64 \(4 heads\), cls pooling, not normalized/);
    b = await openBundle(path.join(work, 'cls-bundle'));
  }, 120_000);

  it('PyTorch = onnxruntime-node, the vector is the first token, and no prefix is applied', async () => {
    expect(b.model.id).toBe('tiny-cls');
    expect(b.model.encoders!.queryPrefix).toBeUndefined();
    // tokenizer_config.json's do_lower_case false: no lowercasing, and (strip_accents unset) no accent stripping
    expect(b.model.encoders!.tokenizer).toMatchObject({ lowercase: false, stripAccents: false });
    const enc = b.model.encoders!;
    const rows = ['wing lift and drag', 'mach'].map((t) => b.tok.encode(encoderInputText(enc, 'document', t), enc.maxDocumentTokens).ids);
    const batch = padded(b.tok, rows);
    const torch = torchVectors(path.join(work, 'cls'), rows[0], batch);
    const d = await ortDocs(b, batch.ids, batch.mask);
    expect(maxRel(d, torch.d.flat())).toBeLessThanOrEqual(TORCH_ORT_TOLERANCE);
    expect(maxRel(await ortQuery(b, rows[0]), torch.q)).toBeLessThanOrEqual(TORCH_ORT_TOLERANCE);
    expect(Math.abs(norm(d.subarray(0, 64)) - 1)).toBeGreaterThan(0.1); // not normalized
  }, 60_000);

  it('index + search through the CLI: the top 10 is the brute-force inner product', async () => {
    await checkSearchAgainstBruteForce(b, corpus(150, 12), ['flutter of a panel', 'garden window']);
  }, 120_000);
});

/** The CLI, asynchronously, so that refusals (each mostly Python importing torch) run side by side. */
function cliAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe.concurrent('convert --kind dense refuses bad folders: the file and problem named, exit 2, nothing written', () => {
  const edits: [string, (dir: string) => void, RegExp][] = [
    [
      'roberta',
      (dir) => editJson(path.join(dir, 'config.json'), (c) => ({ ...c, model_type: 'roberta' })),
      /config\.json: model_type 'roberta' is not supported: only BERT-family encoders/,
    ],
    [
      'max-pooling',
      (dir) => editJson(path.join(dir, '1_Pooling', 'config.json'), (c) => ({ ...c, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: true })),
      /1_Pooling\/config\.json: pooling mode max is not supported/,
    ],
    [
      'dense-module',
      (dir) =>
        editJson<unknown[]>(path.join(dir, 'modules.json'), (m) => [...m, { idx: 3, name: '3', path: '3_Dense', type: 'sentence_transformers.models.Dense' }]),
      /modules\.json: module 3 has type 'sentence_transformers\.models\.Dense', which is not supported/,
    ],
    [
      'short-vocab',
      (dir) => writeFileSync(path.join(dir, 'vocab.txt'), readFileSync(path.join(dir, 'vocab.txt'), 'utf8').split('\n').slice(0, 1000).join('\n')),
      /vocab\.txt has 1000 entries but .*config\.json says vocab_size 30522: the tokenizer does not match the model/,
    ],
    [
      'intermediate-size',
      (dir) => editJson(path.join(dir, 'config.json'), (c) => ({ ...c, intermediate_size: 128 })),
      /model\.safetensors: encoder\.layer\.0\.intermediate\.dense\.weight has shape \(256, 64\) but config\.json implies \(128, 64\)/,
    ],
    [
      'no-pooling-said',
      (dir) => rmSync(path.join(dir, 'modules.json')),
      /modules\.json: missing, so the folder does not say how token vectors are pooled: pass --pooling/,
    ],
  ];
  for (const [name, edit, err] of edits) {
    it(name, async ({ expect }) => {
      const dir = path.join(work, `bad-${name}`);
      cpSync(path.join(work, 'mean'), dir, { recursive: true });
      edit(dir);
      const out = path.join(work, `out-${name}`);
      const r = await cliAsync(['convert', dir, '--kind', 'dense', '--out', out]);
      expect(r.stderr).toMatch(err);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(work).filter((n) => n.startsWith(`.out-${name}`))).toEqual([]);
    }, 60_000);
  }

  it('a folder that is neither a Hypencoder checkpoint nor a dense model', ({ expect }) => {
    const dir = path.join(work, 'neither');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'README.md'), '# a model card without weights\n');
    const r = cli(['convert', dir, '--out', path.join(work, 'out-neither')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/neither.* is not a Hypencoder checkpoint nor a dense encoder folder: it has none of model\.safetensors/);
  });
});

function editJson<T = Record<string, unknown>>(file: string, f: (v: T) => unknown) {
  writeFileSync(file, JSON.stringify(f(JSON.parse(readFileSync(file, 'utf8')))));
}
