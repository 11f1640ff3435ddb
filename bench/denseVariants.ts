// Sizes and parity of a dense encoder's fp32 / fp16 / int8 bundles (issue 19 item 2), on a
// randomly initialized encoder of a real model's shape (no weights can be downloaded here):
//   npx tsx bench/denseVariants.ts [--shape minilm-l6|bert-base|small] [--docs 1000] [--queries 8]
// Writes the folder with training/make_random_dense.py, converts it per dtype with `convert`
// (which checks each against PyTorch), encodes synthetic documents and queries with onnxruntime-node
// per bundle, and prints one JSON object: file sizes, the converter's PyTorch check, PyTorch's own
// scores of every query and document (the same ids, training/dense_encoder.py) against the fp32
// bundle's (max |Δ score|, identical top 10), and against fp32: max |Δ score| (the cosine, for a
// normalized model), the scores' spread for scale, and the top-10 overlap per query. Needs
// /usr/bin/python3 with torch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { convert, DTYPES, type Dtype } from '../src/cli/convert.ts';
import { pythonPath, runTrainingScript, TRAINING_DIR } from '../src/cli/python.ts';
import { readModelBundle } from '../src/cli/readBundle.ts';
import { encoderInputText } from '../src/core/formats/index.ts';
import { BertWordPieceTokenizer } from '../src/core/tokenizer.ts';

const { values: o } = parseArgs({
  options: {
    shape: { type: 'string', default: 'minilm-l6' },
    docs: { type: 'string', default: '1000' },
    queries: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'string' },
  },
});

const WORDS = (
  'wing lift drag flow heat boundary layer shock pressure mach supersonic laminar turbulent nozzle panel flutter buckling cylinder shell plate ' +
  'river stone bridge tower garden window music paper energy signal engine fuel orbit rocket thermal stress vortex wake jet blade'
).split(' ');

function drawer(seed: number) {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return (k: number) => Array.from({ length: k }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
}

/** The ids each encoder reads (prefix included), as encodeAll feeds them. */
async function tokenIds(dir: string, texts: string[], side: 'query' | 'document'): Promise<number[][]> {
  const { model } = await readModelBundle(dir);
  const enc = model.encoders!;
  const tok = BertWordPieceTokenizer.fromVocab(readFileSync(path.join(dir, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
  return texts.map((t) => tok.encode(encoderInputText(enc, side, t), side === 'query' ? enc.maxQueryTokens : enc.maxDocumentTokens).ids);
}

/** PyTorch's scores (queries × documents), each text encoded alone, float32 model, Float64 dot. */
function torchScores(folder: string, queries: number[][], docs: number[][], work: string): number[][] {
  const input = path.join(work, 'torch-input.json');
  writeFileSync(input, JSON.stringify({ queries, docs }));
  const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from dense_encoder import load_dense
m = load_dense(sys.argv[2])
x = json.load(open(sys.argv[3]))
torch.set_num_threads(2)
enc = lambda f, ids: f(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.int64)).reshape(-1).double()
with torch.no_grad():
    q = torch.stack([enc(lambda a, b: m.query_encoder(a, b)[0][0], i) for i in x["queries"]])
    d = torch.stack([enc(m.passage_encoder, i) for i in x["docs"]])
print(json.dumps((q @ d.T).tolist()))`;
  const r = spawnSync(pythonPath(), ['-c', script, TRAINING_DIR, folder, input], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`PyTorch scores: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function encodeAll(dir: string, texts: string[], side: 'query' | 'document'): Promise<Float32Array[]> {
  const { model } = await readModelBundle(dir);
  const enc = model.encoders!;
  const tok = BertWordPieceTokenizer.fromVocab(readFileSync(path.join(dir, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
  const file = side === 'query' ? enc.files.queryEncoder.path : enc.files.docEncoder.path;
  const session = await ort.InferenceSession.create(path.join(dir, file), { graphOptimizationLevel: 'all' });
  const H = model.qnet.dims[0];
  const out: Float32Array[] = [];
  const batch = side === 'query' ? 1 : 32;
  for (let a = 0; a < texts.length; a += batch) {
    const b = tok.encodeBatch(
      texts.slice(a, a + batch).map((t) => encoderInputText(enc, side, t)),
      side === 'query' ? enc.maxQueryTokens : enc.maxDocumentTokens,
    );
    const shape = [b.rows, b.seqLength];
    const r = await session.run({ input_ids: new ort.Tensor('int64', b.inputIds, shape), attention_mask: new ort.Tensor('int64', b.attentionMask, shape) });
    const data = r[session.outputNames[0]].data as Float32Array;
    for (let i = 0; i < b.rows; i++) out.push(data.slice(i * H, (i + 1) * H));
  }
  await session.release();
  return out;
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const top10 = (s: number[]) =>
  s
    .map((_, i) => i)
    .sort((x, y) => s[y] - s[x] || x - y)
    .slice(0, 10);

async function main() {
  const work = o.keep ?? mkdtempSync(path.join(tmpdir(), 'dense-variants-'));
  const folder = path.join(work, o.shape!);
  const python = pythonPath();
  await runTrainingScript(python, 'make_random_dense.py', [folder, '--shape', o.shape!, '--seed', o.seed!]);
  const draw = drawer(Number(o.seed));
  const docs = Array.from({ length: Number(o.docs) }, (_, i) => draw(10 + (i % 40)));
  const queries = Array.from({ length: Number(o.queries) }, (_, i) => draw(2 + (i % 4)));
  const result: Record<string, unknown> = { shape: o.shape, docs: docs.length, queries: queries.length };
  const scores: Partial<Record<Dtype, number[][]>> = {};
  for (const dtype of DTYPES) {
    const out = path.join(work, `bundle-${dtype}`);
    const t0 = performance.now();
    const r = await convert(folder, { out, dtype, force: true, quiet: true });
    const convertS = (performance.now() - t0) / 1000;
    const { model } = await readModelBundle(out);
    const f = model.encoders!.files;
    const bytes = (p: string) => statSync(path.join(out, p)).size;
    const t1 = performance.now();
    const dv = await encodeAll(out, docs, 'document');
    const encodeDocsS = (performance.now() - t1) / 1000;
    const qv = await encodeAll(out, queries, 'query');
    scores[dtype] = qv.map((q) => dv.map((d) => dot(q, d)));
    result[dtype] = {
      query_encoder_bytes: bytes(f.queryEncoder.path),
      doc_encoder_bytes: bytes(f.docEncoder.path),
      vocab_bytes: bytes(f.vocab.path),
      convert_s: Number(convertS.toFixed(1)),
      encode_docs_s: Number(encodeDocsS.toFixed(1)),
      torch_check: r.verify && {
        query_rel: Number(r.verify.qnetMaxRel.toExponential(2)),
        doc_rel: Number(r.verify.clsMaxRel.toExponential(2)),
        tolerance: r.verify.tolerance,
      },
    };
  }
  const ref = scores.fp32!;
  const t2 = performance.now();
  const fp32Dir = path.join(work, 'bundle-fp32');
  const pt = torchScores(folder, await tokenIds(fp32Dir, queries, 'query'), await tokenIds(fp32Dir, docs, 'document'), work);
  let ptMax = 0;
  for (let q = 0; q < ref.length; q++) for (let d = 0; d < ref[q].length; d++) ptMax = Math.max(ptMax, Math.abs(pt[q][d] - ref[q][d]));
  result.pytorch_vs_fp32 = {
    max_abs_score_diff: Number(ptMax.toExponential(2)),
    identical_top10: ref.map((r, q) => JSON.stringify(top10(r)) === JSON.stringify(top10(pt[q]))),
    seconds: Number(((performance.now() - t2) / 1000).toFixed(1)),
  };
  const all = ref.flat();
  const mean = all.reduce((s, x) => s + x, 0) / all.length;
  result.fp32_scores = {
    min: Math.min(...all),
    max: Math.max(...all),
    std: Math.sqrt(all.reduce((s, x) => s + (x - mean) ** 2, 0) / all.length),
  };
  for (const dtype of ['fp16', 'int8'] as const) {
    const s = scores[dtype]!;
    let maxAbs = 0;
    const overlap: number[] = [];
    for (let q = 0; q < ref.length; q++) {
      for (let d = 0; d < ref[q].length; d++) maxAbs = Math.max(maxAbs, Math.abs(s[q][d] - ref[q][d]));
      const a = new Set(top10(ref[q]));
      overlap.push(top10(s[q]).filter((i) => a.has(i)).length);
    }
    (result[dtype] as Record<string, unknown>).vs_fp32 = { max_abs_score_diff: Number(maxAbs.toExponential(2)), top10_overlap: overlap };
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!o.keep) rmSync(work, { recursive: true, force: true });
}

await main();
