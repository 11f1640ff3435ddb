// Finding the Python that has PyTorch: Debian's /usr/bin/python3 with python3-torch and python3-onnx
// (pip cannot reach PyPI on our machines, and a pyenv `python3` on PATH lacks them).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const INSTALL_HINT = 'apt-get install -y python3-torch python3-onnx';

/** The training/ folder of this repository (export_onnx.py and friends). */
export const TRAINING_DIR = fileURLToPath(new URL('../../training/', import.meta.url));

/** --python, else $HYPENCODER_PYTHON, else /usr/bin/python3. */
export function pythonPath(option?: string): string {
  return option || process.env.HYPENCODER_PYTHON || DEFAULT_PYTHON;
}

export interface PythonInfo {
  python: string;
  torch: string;
  onnx: string;
}

/** Throws a CliError (exit 3) that says what to install when Python, torch or onnx is missing. */
export function checkPythonTorch(python: string): PythonInfo {
  const r = spawnSync(python, ['-c', 'import torch, onnx; print(torch.__version__, onnx.__version__)'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError(`Python not found at ${python}: install it with \`${INSTALL_HINT}\` or pass --python PATH (or set HYPENCODER_PYTHON)`, 3);
    }
    throw new CliError(`cannot run ${python}: ${r.error.message}`, 3);
  }
  if (r.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(r.stderr ?? '')?.[1];
    if (missing) {
      throw new CliError(
        `${python} has no \`${missing}\` module: PyTorch and ONNX are needed for conversion; install them with \`${INSTALL_HINT}\` (or pass --python PATH)`,
        3,
      );
    }
    throw new CliError(`${python} cannot import torch and onnx:\n${(r.stderr ?? '').trim()}`, 3);
  }
  const [torch, onnx] = r.stdout.trim().split(/\s+/);
  return { python, torch, onnx };
}

/** Runs a Python script from training/ and resolves with its stdout; rejects with its stderr. */
export function runTrainingScript(python: string, script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(TRAINING_DIR, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new CliError(`${script} exited with status ${code}:\n${err.trim()}`, code === 2 ? 2 : 1));
    });
  });
}
