// A small random-weight model bundle for tests, made at test time with the project's own tools
// (training/make_random_checkpoint.py → `hypencoder-web convert`): BERT hidden 32, 1 layer, 2 heads,
// q-net with 2 hidden layers, 128 document tokens. No weights are committed. Needs Debian's PyTorch.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPythonTorch, pythonPath, TRAINING_DIR } from '../../src/cli/python.ts';

export const BIN = fileURLToPath(new URL('../../bin/hypencoder-web.js', import.meta.url));

export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000, cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** Writes `<dir>/ckpt` and the bundle `<dir>/model`; returns the bundle folder. */
export function makeSmallModel(dir: string, seed = 1): string {
  const python = checkPythonTorch(pythonPath()).python; // throws "apt-get install …" without torch
  const ckpt = path.join(dir, 'ckpt');
  const r = spawnSync(
    python,
    [
      path.join(TRAINING_DIR, 'make_random_checkpoint.py'),
      ckpt,
      '--hidden',
      '32',
      '--layers',
      '1',
      '--heads',
      '2',
      '--qnet-layers',
      '2',
      '--seed',
      String(seed),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`make_random_checkpoint.py: ${r.stderr}`);
  const model = path.join(dir, 'model');
  const c = cli(['convert', ckpt, '--out', model, '--id', 'test-small', '--no-verify']);
  if (c.code !== 0) throw new Error(`convert: ${c.stderr}`);
  return model;
}
