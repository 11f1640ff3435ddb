// `hypencoder-web convert` end to end through bin/hypencoder-web.js: its error paths (exit status
// and message) and a small successful conversion whose model.json validates. Needs Debian's PyTorch.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelBundle } from '../src/cli/readBundle.ts';
import { checkPythonTorch, pythonPath, TRAINING_DIR } from '../src/cli/python.ts';
import { VERIFY_TOLERANCE, verifyBundleAgainstTorch } from '../src/cli/verifyBundle.ts';

const BIN = fileURLToPath(new URL('../bin/hypencoder-web.js', import.meta.url));
let work: string;
let python: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function py(script: string, ...args: string[]) {
  const r = spawnSync(python, [path.join(TRAINING_DIR, script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r;
}

type Ort = typeof ortNode | typeof ortWeb;

/** The query encoder's outputs for one query, as plain arrays. */
async function queryOutputs(ort: Ort, file: string, q: { input_ids: number[]; attention_mask: number[] }): Promise<Record<string, number[]>> {
  const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)));
  const out = await session.run({ input_ids: t(q.input_ids), attention_mask: t(q.attention_mask) });
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

/** What an ONNX file stores: op counts, and the element types of its weight matrices (≥ 2 axes > 1, ≥ 1024 values). */
function describeOnnx(file: string): { ops: Record<string, number>; matrices: Record<string, number>; int8Gathers: number } {
  const script = `
import collections, json, sys
import numpy as np
import onnx
m = onnx.load(sys.argv[1])
inits = {i.name: i for i in m.graph.initializer}
big = lambda i: sum(d > 1 for d in i.dims) >= 2 and np.prod(i.dims) >= 1024
print(json.dumps({
  "ops": collections.Counter(n.op_type for n in m.graph.node),
  "matrices": collections.Counter(onnx.TensorProto.DataType.Name(i.data_type) for i in inits.values() if big(i)),
  "int8Gathers": sum(1 for n in m.graph.node if n.op_type == "Gather" and n.input[0] in inits
                     and inits[n.input[0]].data_type == onnx.TensorProto.INT8),
}))`;
  const r = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`describe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  python = checkPythonTorch(pythonPath()).python; // throws "install with apt-get …" when torch is missing
  ortWeb.env.wasm.numThreads = 1; // in Node, as src/cli/parity.ts runs it
  work = mkdtempSync(path.join(tmpdir(), 'hypencoder-convert-test-'));
  // a pytorch_model.bin checkpoint storing the shared BERT once (the other layout the loader takes)
  py('make_random_checkpoint.py', path.join(work, 'ckpt'), ...'--hidden 32 --layers 1 --heads 2 --qnet-layers 1 --format bin --passage once'.split(' '));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('hypencoder-web convert', () => {
  it('converts a checkpoint into a bundle that validates, with nothing left behind', async () => {
    const out = path.join(work, 'model');
    const r = cli('convert', path.join(work, 'ckpt'), '--out', out, '--id', 'tiny');
    expect(r.stderr).toContain('onnxruntime-node vs PyTorch');
    expect(r.code).toBe(0);
    const { model } = await readModelBundle(out);
    expect(model.id).toBe('tiny');
    expect(model.qnet.dims).toEqual([32, 32, 1]);
    expect(model.qnet.residual).toEqual([false]);
    expect(model.encoders!.queryEncoderOutputs).toEqual(['W_0', 'W_1', 'b_0']);
    expect(readdirSync(out).sort()).toEqual(['conversion.json', 'doc_encoder.onnx', 'model.json', 'query_encoder.onnx', 'vocab.txt']);
    expect(readdirSync(work).filter((n) => n.includes('.tmp-'))).toEqual([]);
    // refuses to overwrite without --force
    const again = cli('convert', path.join(work, 'ckpt'), '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists.*--force/);
  }, 120_000);

  it('takes a checkpoint whose shared BERT is stored only under passage_encoder.transformer.*', async () => {
    const ckpt = path.join(work, 'ckpt-passage-only');
    py('make_random_checkpoint.py', ckpt, '--hidden', '32', '--layers', '1', '--heads', '2', '--qnet-layers', '1', '--passage', 'passage-only');
    const out = path.join(work, 'model-passage-only');
    const r = cli('convert', ckpt, '--out', out, '--dtype', 'fp16');
    expect(r.stderr).toMatch(/onnxruntime-node vs PyTorch: q-net max/);
    expect(r.code).toBe(0);
    const { model } = await readModelBundle(out);
    expect(model.id).toBe('ckpt-passage-only-fp16');
  }, 120_000);

  it('int8: weight matrices stored as int8 (embeddings gathered as int8 rows), within the int8 tolerance of PyTorch', async () => {
    const out = path.join(work, 'model-int8');
    const r = cli('convert', path.join(work, 'ckpt'), '--out', out, '--dtype', 'int8');
    expect(r.code).toBe(0);
    // the converter's own check against PyTorch (float32 weights): it printed the int8 tolerance and passed
    const m = /q-net max \|Δ\| \S+ \((\S+) of max \|W\|\), CLS max \|Δ\| \S+ \((\S+)\); tolerance (\S+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![3])).toBe(VERIFY_TOLERANCE.int8);
    // weight rounding shows (above fp32's float-order noise) and stays within the tolerance
    for (const rel of [Number(m![1]), Number(m![2])]) {
      expect(rel).toBeGreaterThan(VERIFY_TOLERANCE.fp32 / 100);
      expect(rel).toBeLessThanOrEqual(VERIFY_TOLERANCE.int8);
    }
    const { model } = await readModelBundle(out);
    expect(model.id).toBe('ckpt-int8');
    for (const f of ['query_encoder.onnx', 'doc_encoder.onnx']) {
      const d = describeOnnx(path.join(out, f));
      expect(d.matrices).toEqual({ INT8: d.matrices.INT8 }); // no float matrix left
      expect(d.matrices.INT8).toBeGreaterThan(4);
      expect(d.int8Gathers).toBe(1); // the word embeddings: only the query's rows are dequantized
      expect(d.ops.DequantizeLinear).toBe(d.matrices.INT8 - 1);
    }
    const conversion = JSON.parse(readFileSync(path.join(out, 'conversion.json'), 'utf8'));
    expect(conversion.dtype).toBe('int8');
    expect(conversion.int8_initializers.query_encoder.gather).toBe(1);
    expect(conversion.int8_initializers.query_encoder.max_rel_error).toBeLessThanOrEqual(1 / 254 + 1e-7);
  }, 120_000);

  for (const form of ['linear', 'cast-mul']) {
    it(`quantize_onnx.py --dequantize ${form} turns an fp16 bundle (Cast-to-float weights) into int8, close to PyTorch`, async () => {
      const out = path.join(work, `model-fp16-to-int8-${form}`);
      const check = path.join(work, `check-fp16-${form}.json`);
      py('export_onnx.py', path.join(work, 'ckpt'), '--out', out, '--dtype', 'fp16', '--check-out', check);
      const before = describeOnnx(path.join(out, 'query_encoder.onnx'));
      expect(before.matrices.FLOAT16).toBeGreaterThan(4);
      for (const f of ['query_encoder.onnx', 'doc_encoder.onnx']) py('quantize_onnx.py', path.join(out, f), path.join(out, f), '--dequantize', form);
      const after = describeOnnx(path.join(out, 'query_encoder.onnx'));
      const n = before.matrices.FLOAT16;
      expect(after.matrices).toEqual({ INT8: n });
      expect(after.int8Gathers).toBe(1);
      // the matrices' fp16 casts are gone; the gathered rows get one cast, and cast-mul one per dequantized matrix
      expect(after.ops.Cast).toBe(before.ops.Cast - n + 1 + (form === 'cast-mul' ? n - 1 : 0));
      expect(after.ops.DequantizeLinear ?? 0).toBe(form === 'linear' ? n - 1 : 0);
      expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
      const report = await verifyBundleAgainstTorch(out, JSON.parse(readFileSync(check, 'utf8')), 'int8');
      expect(report, 'onnxruntime-node is a dependency').not.toBeNull();
      expect(report!.qnetMaxRel).toBeLessThanOrEqual(VERIFY_TOLERANCE.int8);
      expect(report!.clsMaxRel).toBeLessThanOrEqual(VERIFY_TOLERANCE.int8);
      expect(report!.ok).toBe(true);
      if (form === 'cast-mul') {
        // folded at session creation in both runtimes: onnxruntime-node computes what the page's wasm computes
        const q = JSON.parse(readFileSync(check, 'utf8')).query as { input_ids: number[]; attention_mask: number[] };
        const [node, web] = await Promise.all([
          queryOutputs(ortNode, path.join(out, 'query_encoder.onnx'), q),
          queryOutputs(ortWeb, path.join(out, 'query_encoder.onnx'), q),
        ]);
        for (const name of Object.keys(node)) {
          const scale = Math.max(...node[name].map(Math.abs));
          expect(Math.max(...node[name].map((v, i) => Math.abs(v - web[name][i]))) / scale, name).toBeLessThanOrEqual(1e-5);
        }
      }
    }, 120_000);
  }

  it('quantize_onnx.py refuses a file that is not ONNX (exit 2) and writes nothing', () => {
    const dir = path.join(work, 'quantize-refuse');
    mkdirSync(dir);
    const notOnnx = path.join(dir, 'vocab.onnx');
    writeFileSync(notOnnx, '[PAD]\n[UNK]\nhello\n');
    for (const input of [notOnnx, path.join(dir, 'missing.onnx')]) {
      const r = spawnSync(python, [path.join(TRAINING_DIR, 'quantize_onnx.py'), input, path.join(dir, 'out.onnx')], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error: .*(is not an ONNX file|does not exist)/m);
    }
    expect(readdirSync(dir)).toEqual(['vocab.onnx']);
  });

  it('says clearly when the folder is not a Hypencoder checkpoint', () => {
    const dir = path.join(work, 'not-a-checkpoint');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.json'), '{}');
    const r = cli('convert', dir, '--out', path.join(work, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a Hypencoder checkpoint/);
    const missing = cli('convert', path.join(work, 'nope'), '--out', path.join(work, 'x'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });

  it('says clearly when a safetensors file holds some other model', () => {
    const dir = path.join(work, 'bert-only');
    mkdirSync(dir);
    // a valid safetensors file without the hyper-head: {"x": F32 [1]}
    const header = Buffer.from(JSON.stringify({ 'bert.embeddings.word_embeddings.weight': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, header, Buffer.alloc(4)]));
    const r = cli('convert', dir, '--out', path.join(work, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Hypencoder checkpoint: no tensor named query_encoder.hyper_base_matrices.0/);
  });

  it('says clearly when config.json and the tensors disagree on shapes', () => {
    const dir = path.join(work, 'mismatch');
    mkdirSync(dir);
    copyFileSync(path.join(work, 'ckpt', 'pytorch_model.bin'), path.join(dir, 'pytorch_model.bin'));
    const cfg = JSON.parse(readFileSync(path.join(work, 'ckpt', 'config.json'), 'utf8'));
    cfg.query_encoder_kwargs.converter_kwargs.vector_dimensions = [32, 32, 32, 1];
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    const r = cli('convert', dir, '--out', path.join(work, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/vector_dimensions = \[32, 32, 32, 1\] but the tensors have q-net dims \[32, 32, 1\]/);
  });

  it('says what to install when Python or torch is missing', () => {
    const r = cli('convert', path.join(work, 'ckpt'), '--out', path.join(work, 'y'), '--python', path.join(work, 'no-such-python'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Python not found.*apt-get install -y python3-torch python3-onnx/);
  });
});
