import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseModelJson, qnetWeightsFromOutputs, type ModelBundle, type OutputTensor } from '../core/formats/index.ts';
import { referenceScores, referenceTopK, weightShapes, type QNetWeights } from '../core/qnet.ts';
import { BertWordPieceTokenizer } from '../core/tokenizer.ts';
import { Option, type Command } from 'commander';
import { convert, type Dtype } from './convert.ts';
import { CliError } from './errors.ts';
import { checkPythonTorch, pythonPath, runTrainingScript } from './python.ts';
import { loadOnnxRuntimeNode } from './onnxRuntime.ts';

/**
 * Tolerances, relative to the largest magnitude of the PyTorch values compared (max |Δ| / max |ref|).
 *
 * ONNX (onnxruntime, float32) vs PyTorch (float32): both compute the same graph in float32 and differ
 * only in summation order and fused kernels. Each length-K dot product carries a relative error of
 * about sqrt(K)·2^-24 (≈ 2e-6 for K = 3072); LayerNorm and softmax pass it on with gains of order
 * one to ten (the hyper-head's attention logits reach ~10), so a few 1e-6 up to ~1e-5 is expected and
 * 1e-4 leaves a tenfold margin. A real error (a wrong transpose, mask, scale or epsilon) shows up
 * at 1e-2 or more.
 *
 * Scores: our scorer in Float64 on onnxruntime's q-net vs PyTorch's float32 q-net on PyTorch's q-net,
 * so the q-net difference above plus PyTorch's own float32 rounding over the q-net's depth: the same
 * 1e-4 of the largest |score|.
 */
export const PARITY_TOLERANCE = 1e-4;

export interface FixtureQuery {
  text: string;
  input_ids: number[];
}

export interface Fixture {
  dims: number[];
  residual: boolean[];
  queries: FixtureQuery[];
  docs: number;
  encoded_docs: number;
  doc_batch_rows: number;
  hidden_size: number;
  fp16_reference: boolean;
  torch_query_seconds: number;
}

export interface QueryParity {
  text: string;
  tokensMatch: boolean;
  /** max |W_ort − W_torch| / max |W_torch| over every q-net tensor of this query. */
  qnetRel: number;
  qnetAbs: number;
  /** Same, against the PyTorch model whose weights were rounded to float16 (fp16 bundles only). */
  qnetRelFp16Ref: number | null;
  /** max |score_ours(ORT q-net) − score_torch| / max |score_torch|. */
  scoreRel: number;
  scoreAbs: number;
  maxAbsScore: number;
  top10Identical: boolean;
  top10Overlap: number;
  /** PyTorch's 10th − 11th best score: how far apart the ranking's boundary is. */
  top10Gap: number;
  ortQueryMs: number;
  /** max |W_ort-web − W_torch| / max |W_torch|: onnxruntime-web (wasm backend, in Node). */
  ortWebQnetRel: number | null;
}

export interface ParityReport {
  bundle: string;
  modelId: string;
  dims: number[];
  docs: number;
  queries: QueryParity[];
  clsRel: number;
  clsAbs: number;
  worstQnetRel: number;
  worstScoreRel: number;
  allTop10Identical: boolean;
  minTop10Overlap: number;
  tokensMatch: boolean;
  ortQueryMsMedian: number;
  torchQueryMs: number;
  qnetPerQueryRefMs: number;
  /** Worst ortWebQnetRel, null when onnxruntime-web was not run. */
  worstOrtWebQnetRel: number | null;
}

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function maxRel(a: ArrayLike<number>, ref: ArrayLike<number>): { abs: number; scale: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    abs = Number.isNaN(d) ? Infinity : Math.max(abs, d);
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return { abs, scale: scale || 1 };
}

/** Splits a concatenation of per-query [W_0..W_L, b_0..b_{L-1}] into per-query tensors. */
function splitQnets(flat: Float32Array, dims: number[], queries: number): Float32Array[][] {
  const arch = { dims, activation: 'relu' as const, layerNormEps: 1e-5, residual: dims.slice(1, -1).map(() => false) };
  const { matrices, biases } = weightShapes(arch);
  const sizes = [...matrices.map(([i, o]) => i * o), ...biases];
  const per = sizes.reduce((s, v) => s + v, 0);
  if (flat.length !== per * queries) throw new Error(`q-net fixture holds ${flat.length} floats, expected ${per * queries}`);
  const out: Float32Array[][] = [];
  let off = 0;
  for (let q = 0; q < queries; q++) {
    out.push(
      sizes.map((n) => {
        off += n;
        return flat.subarray(off - n, off);
      }),
    );
  }
  return out;
}

/**
 * onnxruntime-web's wasm backend, in Node: proves the bundle's graph loads and computes the same in
 * onnxruntime-web 1.30 (the browser's WebGPU backend shares its graph loading and optimizations).
 */
async function loadOrtWeb(): Promise<typeof import('onnxruntime-web') | null> {
  try {
    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    return ortWeb;
  } catch {
    return null;
  }
}

export async function runParity(bundleDir: string, fixtureDir: string, opts: { ortWeb?: boolean } = {}): Promise<ParityReport> {
  const ort = await loadOnnxRuntimeNode();
  if (!ort) throw new CliError('onnxruntime-node is not installed (npm i -D onnxruntime-node@1.30.0)', 3);
  const model: ModelBundle = parseModelJson(readFileSync(path.join(bundleDir, 'model.json')));
  if (!model.encoders) throw new CliError(`${bundleDir}: model ${model.id} has no encoders`, 2);
  const fx = JSON.parse(readFileSync(path.join(fixtureDir, 'fixture.json'), 'utf8')) as Fixture;
  const dims = model.qnet.dims;
  if (JSON.stringify(dims) !== JSON.stringify(fx.dims)) throw new Error(`fixture dims ${fx.dims} differ from the bundle's ${dims}`);
  const d = dims[0];
  const nq = fx.queries.length;
  const torchQnets = splitQnets(readF32(path.join(fixtureDir, 'qnets.f32')), dims, nq);
  const torchQnets16 = fx.fp16_reference ? splitQnets(readF32(path.join(fixtureDir, 'qnets_fp16w.f32')), dims, nq) : null;
  const docs = readF32(path.join(fixtureDir, 'docs.f32'));
  const torchScores = readF32(path.join(fixtureDir, 'scores.f32'));
  const N = fx.docs;
  if (docs.length !== N * d || torchScores.length !== N * nq) throw new Error('fixture sizes disagree');

  const tok = BertWordPieceTokenizer.fromVocab(readFileSync(path.join(bundleDir, model.encoders.files.vocab.path), 'utf8'), {
    lowercase: model.encoders.tokenizer.lowercase,
    stripAccents: model.encoders.tokenizer.stripAccents,
  });
  const queryEncoderPath = path.join(bundleDir, model.encoders.files.queryEncoder.path);
  const session = await ort.InferenceSession.create(queryEncoderPath);
  const ortWeb = opts.ortWeb ? await loadOrtWeb() : null;
  if (opts.ortWeb && !ortWeb) throw new CliError('onnxruntime-web cannot be loaded', 1);
  const webSession = ortWeb ? await ortWeb.InferenceSession.create(readFileSync(queryEncoderPath), { executionProviders: ['wasm'] }) : null;
  const queries: QueryParity[] = [];
  let refMs = 0;
  for (let q = 0; q < nq; q++) {
    const fq = fx.queries[q];
    const ids = tok.encode(fq.text, model.encoders.maxQueryTokens).ids;
    const tokensMatch = JSON.stringify(ids) === JSON.stringify(fq.input_ids);
    const S = ids.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, S]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
    };
    await session.run(feeds); // warm-up (first run allocates)
    const t0 = performance.now();
    const out = await session.run(feeds);
    const ortQueryMs = performance.now() - t0;
    const w: QNetWeights = qnetWeightsFromOutputs(model, out as unknown as Record<string, OutputTensor>);
    const ortTensors = [...w.matrices, ...w.biases];
    let qnetAbs = 0;
    let qnetScale = 0;
    let qnetRel = 0;
    let qnetRelFp16Ref: number | null = null;
    ortTensors.forEach((t, j) => {
      const r = maxRel(t, torchQnets[q][j]);
      qnetAbs = Math.max(qnetAbs, r.abs);
      qnetScale = Math.max(qnetScale, r.scale);
      qnetRel = Math.max(qnetRel, r.abs / r.scale);
      if (torchQnets16) {
        const r16 = maxRel(t, torchQnets16[q][j]);
        qnetRelFp16Ref = Math.max(qnetRelFp16Ref ?? 0, r16.abs / r16.scale);
      }
    });
    let ortWebQnetRel: number | null = null;
    if (ortWeb && webSession) {
      const wo = await webSession.run({
        input_ids: new ortWeb.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, S]),
        attention_mask: new ortWeb.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
      });
      const ww = qnetWeightsFromOutputs(model, wo as unknown as Record<string, OutputTensor>, 'query_encoder.onnx (onnxruntime-web)');
      ortWebQnetRel = 0;
      [...ww.matrices, ...ww.biases].forEach((t, j) => {
        const r = maxRel(t, torchQnets[q][j]);
        ortWebQnetRel = Math.max(ortWebQnetRel!, r.abs / r.scale);
      });
    }
    const t1 = performance.now();
    const ours = referenceScores(w, docs, N);
    refMs += performance.now() - t1;
    const ts = torchScores.subarray(q * N, (q + 1) * N);
    const s = maxRel(ours, ts);
    const topOurs = referenceTopK(ours, 10);
    const topTorch = referenceTopK(ts, 11);
    const a = Array.from(topOurs.indices);
    const b = Array.from(topTorch.indices.subarray(0, 10));
    const overlap = a.filter((i) => b.includes(i)).length;
    queries.push({
      text: fq.text,
      tokensMatch,
      qnetRel,
      qnetAbs,
      qnetRelFp16Ref,
      scoreRel: s.abs / s.scale,
      scoreAbs: s.abs,
      maxAbsScore: s.scale,
      top10Identical: a.length === b.length && a.every((v, i) => v === b[i]),
      top10Overlap: overlap,
      top10Gap: topTorch.scores[9] - topTorch.scores[10],
      ortQueryMs,
      ortWebQnetRel,
    });
  }
  await session.release();
  await webSession?.release();

  // document encoder on a padded batch
  const batch = JSON.parse(readFileSync(path.join(fixtureDir, 'doc_batch.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][] };
  let clsAbs = 0;
  let clsRel = 0;
  if (batch.input_ids.length > 0) {
    const B = batch.input_ids.length;
    const S = batch.input_ids[0].length;
    const ds = await ort.InferenceSession.create(path.join(bundleDir, model.encoders.files.docEncoder.path));
    const o = await ds.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(batch.input_ids.flat().map(BigInt)), [B, S]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(batch.attention_mask.flat().map(BigInt)), [B, S]),
    });
    const r = maxRel(o[ds.outputNames[0]].data as Float32Array, readF32(path.join(fixtureDir, 'cls.f32'))); // the one output: "cls", or a dense model's "embedding"
    clsAbs = r.abs;
    clsRel = r.abs / r.scale;
    await ds.release();
  }
  const ms = queries.map((q) => q.ortQueryMs).sort((x, y) => x - y);
  return {
    bundle: bundleDir,
    modelId: model.id,
    dims,
    docs: N,
    queries,
    clsRel,
    clsAbs,
    worstQnetRel: Math.max(...queries.map((q) => q.qnetRel)),
    worstScoreRel: Math.max(...queries.map((q) => q.scoreRel)),
    allTop10Identical: queries.every((q) => q.top10Identical),
    minTop10Overlap: Math.min(...queries.map((q) => q.top10Overlap)),
    tokensMatch: queries.every((q) => q.tokensMatch),
    ortQueryMsMedian: ms[Math.floor(ms.length / 2)],
    torchQueryMs: fx.torch_query_seconds * 1000,
    qnetPerQueryRefMs: refMs / nq,
    worstOrtWebQnetRel: ortWeb ? Math.max(...queries.map((q) => q.ortWebQnetRel ?? Infinity)) : null,
  };
}

export function formatParityReport(r: ParityReport): string {
  const e = (v: number) => v.toExponential(2);
  const lines = [
    `${r.modelId}: q-net dims ${r.dims.length > 6 ? `[${r.dims[0]}×${r.dims.length - 2} hidden, 1]` : JSON.stringify(r.dims)}, ${r.docs} documents, ${r.queries.length} queries`,
    `  q-net tensors, onnxruntime-node vs PyTorch: worst max|Δ|/max|W| = ${e(r.worstQnetRel)}`,
    `  scores, referenceScores(ORT q-net) vs PyTorch q-net: worst max|Δ|/max|score| = ${e(r.worstScoreRel)}`,
    ...(r.worstOrtWebQnetRel !== null ? [`  q-net tensors, onnxruntime-web (wasm) vs PyTorch: worst max|Δ|/max|W| = ${e(r.worstOrtWebQnetRel)}`] : []),
    `  top-10 identical for all queries: ${r.allTop10Identical} (min overlap ${r.minTop10Overlap}/10)`,
    `  document encoder CLS: max|Δ| = ${e(r.clsAbs)} (${e(r.clsRel)} of max|CLS|)`,
    `  tokenizer ids (TS vs Python) equal for all queries: ${r.tokensMatch}`,
    `  query encoding: onnxruntime-node ${r.ortQueryMsMedian.toFixed(1)} ms (median), PyTorch ${r.torchQueryMs.toFixed(1)} ms (mean); reference scorer ${r.qnetPerQueryRefMs.toFixed(0)} ms per query over ${r.docs} docs`,
  ];
  for (const q of r.queries) {
    lines.push(
      `    ${JSON.stringify(q.text).padEnd(52)} W ${e(q.qnetRel)}${q.qnetRelFp16Ref !== null ? ` (vs fp16-rounded torch ${e(q.qnetRelFp16Ref)})` : ''}  score ${e(q.scoreRel)} of ${q.maxAbsScore.toFixed(2)}  top10 ${q.top10Identical ? 'same' : `${q.top10Overlap}/10`} (gap ${e(q.top10Gap)})`,
    );
  }
  return lines.join('\n');
}

export interface ParityRunOptions {
  python?: string;
  checkpoint?: string;
  config: 'small' | 'base';
  hidden: number;
  layers: number;
  heads: number;
  qnetLayers: number;
  dtypes: Dtype[];
  docs: number;
  queries: number;
  seed: number;
  keep?: string;
  quiet?: boolean;
  /** Also run the query encoder in onnxruntime-web (wasm backend). */
  ortWeb?: boolean;
}

/** Random checkpoint (unless given) → convert per dtype → PyTorch fixture → parity of each bundle. */
export async function parityRun(o: ParityRunOptions): Promise<ParityReport[]> {
  const log = (s: string) => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  const py = checkPythonTorch(pythonPath(o.python));
  const work = o.keep ? path.resolve(o.keep) : mkdtempSync(path.join(tmpdir(), 'hypencoder-parity-'));
  mkdirSync(work, { recursive: true });
  try {
    let ckpt = o.checkpoint ? path.resolve(o.checkpoint) : path.join(work, 'checkpoint');
    if (!o.checkpoint) {
      const t0 = performance.now();
      const args = [ckpt, '--config', o.config, '--qnet-layers', String(o.qnetLayers), '--seed', String(o.seed)];
      if (o.config === 'small') args.push('--hidden', String(o.hidden), '--layers', String(o.layers), '--heads', String(o.heads));
      await runTrainingScript(py.python, 'make_random_checkpoint.py', args);
      log(`random ${o.config} checkpoint with ${o.qnetLayers} q-net hidden layers: ${ckpt} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    ckpt = path.resolve(ckpt);
    const bundles: string[] = [];
    for (const dtype of o.dtypes) {
      const out = path.join(work, `bundle-${dtype}`);
      const t0 = performance.now();
      await convert(ckpt, { out, dtype, force: true, python: py.python, quiet: o.quiet, verify: true, maxQueryTokens: 32 });
      log(`converted (${dtype}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      bundles.push(out);
    }
    const fixture = path.join(work, 'fixture');
    const t0 = performance.now();
    const fargs = [
      ckpt,
      '--out',
      fixture,
      '--vocab',
      path.join(bundles[0], 'vocab.txt'),
      '--docs',
      String(o.docs),
      '--queries',
      String(o.queries),
      '--seed',
      String(o.seed),
    ];
    if (o.dtypes.includes('fp16')) fargs.push('--fp16-reference');
    await runTrainingScript(py.python, 'parity_fixture.py', fargs);
    log(`PyTorch fixture in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const reports: ParityReport[] = [];
    for (const b of bundles) reports.push(await runParity(b, fixture, { ortWeb: o.ortWeb }));
    return reports;
  } finally {
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  }
}

export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('export a (random or given) Hypencoder checkpoint and compare onnxruntime-node + our reference scorer with PyTorch')
    .option('--checkpoint <dir>', 'use this checkpoint instead of a randomly initialized one')
    .addOption(
      new Option('--config <name>', 'random model size: small (see --hidden/--layers/--heads) or base (BERT-base)').choices(['small', 'base']).default('small'),
    )
    .option('--hidden <n>', 'small config: hidden size', Number, 64)
    .option('--layers <n>', 'small config: BERT layers', Number, 2)
    .option('--heads <n>', 'small config: attention heads', Number, 4)
    .option('--qnet-layers <n>', 'q-net hidden layers of the random model', Number, 2)
    .option('--dtype <list>', 'comma-separated: fp32,fp16', 'fp32,fp16')
    .option('--docs <n>', 'documents to score', Number, 3000)
    .option('--queries <n>', 'queries (at most 8)', Number, 8)
    .option('--seed <n>', 'random seed', Number, 1)
    .option('--keep <dir>', 'work in this folder and keep it (checkpoint, bundles, fixture)')
    .option('--json <file>', 'also write the reports as JSON')
    .option('--python <path>', 'the Python with PyTorch')
    .option('--no-ort-web', 'skip the onnxruntime-web (wasm) run of the query encoder')
    .action(async (opts) => {
      const dtypes = String(opts.dtype)
        .split(',')
        .map((s) => s.trim());
      for (const d of dtypes) if (d !== 'fp32' && d !== 'fp16') throw new CliError(`--dtype: unknown ${JSON.stringify(d)}`, 2);
      const reports = await parityRun({ ...opts, dtypes: dtypes as Dtype[] });
      for (const r of reports) process.stdout.write(`${formatParityReport(r)}\n`);
      if (opts.json) writeFileSync(opts.json, JSON.stringify(reports, null, 2));
    });
}
