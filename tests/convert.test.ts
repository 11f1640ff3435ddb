// `hypencoder-web convert` end to end through bin/hypencoder-web.js: its error paths (exit status
// and message) and a small successful conversion whose model.json validates. Needs Debian's PyTorch.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelBundle } from '../src/cli/readBundle.ts';
import { checkPythonTorch, pythonPath, TRAINING_DIR } from '../src/cli/python.ts';

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
}

beforeAll(() => {
  python = checkPythonTorch(pythonPath()).python; // throws "install with apt-get …" when torch is missing
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
