// `index --dask <scheduler | local:N>`: the encode stage's tiles as Dask tasks. Dask
// (python3-distributed) schedules, retries and reassigns; the encoding itself is this CLI's
// `encode-tile` on the worker, the same DocEncoder the single-machine run uses, so the bundle is
// byte-identical. The driver (daskEncode.py, a Dask client, no PyTorch) runs beside this process:
// it reads the tile specs from the work folder, submits a bounded number at a time, writes each
// finished tile into the work folder (temporary file + rename) and prints one JSON line per tile;
// this process records it in state.json, so an interrupted run resumes from the finished tiles.
import { spawn, spawnSync } from 'node:child_process';
import { readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { writeFileAtomic } from './atomicWrite.ts';
import { DocEncoder, openModelTokenizer } from './docEncoder.ts';
import { CliError } from './errors.ts';
import { loadModelWithEncoders } from './modelDir.ts';
import { pythonPath } from './python.ts';

export const TILE_SPEC_FORMAT = 'hypencoder-encode-tile';
const DRIVER = fileURLToPath(new URL('./daskEncode.py', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/hypencoder-web.js', import.meta.url));
/** Workers `local:N` may start: past the cores they only compete for them. */
export const MAX_LOCAL_WORKERS = 64;
/** A tile spec read from stdin by encode-tile: 4096 passages of a few kB each fit many times over. */
const MAX_SPEC_BYTES = 512 * 1024 * 1024;

/** --dask, checked: `local:N` (a local cluster for this run) or a scheduler address. */
export type DaskTarget = { kind: 'local'; workers: number } | { kind: 'address'; address: string };

export function parseDaskOption(value: string): DaskTarget {
  const local = /^local:(\d+)$/.exec(value);
  if (local) {
    const workers = Number(local[1]);
    if (workers < 1 || workers > MAX_LOCAL_WORKERS) throw new CliError(`--dask ${value}: local:N takes 1 to ${MAX_LOCAL_WORKERS} workers`, 2);
    return { kind: 'local', workers };
  }
  // Dask's own address forms: tcp://host:port (tls://, ucx://, ws://), or host:port.
  if (/^(?:(?:tcp|tls|ucx|ws|wss):\/\/)?[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(value)) return { kind: 'address', address: value };
  throw new CliError(`--dask ${JSON.stringify(value)}: expected local:N or a Dask scheduler address such as tcp://10.0.0.5:8786`, 2);
}

/** What one tile's task needs: everything the worker's encode-tile reads from stdin. */
export interface TileSpec {
  format: typeof TILE_SPEC_FORMAT;
  tile: number;
  modelDir: string;
  modelJsonSha256: string;
  batchSize: number;
  /** onnxruntime threads on the worker. */
  threads: number;
  texts: string[];
  tokenCounts: number[];
}

export function tileSpecFile(workDir: string, t: number): string {
  return path.join(workDir, 'dask', `${String(t).padStart(5, '0')}.json`);
}

/** Python with dask.distributed, or a CliError that says what to install (exit 3). */
function checkDaskPython(python: string): string {
  const r = spawnSync(python, ['-c', 'import distributed; print(distributed.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0)
    throw new CliError(
      `--dask needs Python with dask.distributed at ${python} (\`apt-get install -y python3-distributed\`, or set HYPENCODER_PYTHON): ${r.error?.message ?? (r.stderr ?? '').trim().split('\n').pop()}`,
      3,
    );
  return r.stdout.trim();
}

export interface DaskRun {
  target: DaskTarget;
  distributed: string;
  workers: number;
  seconds: number;
}

/**
 * Encodes `tiles` (their specs already in the work folder) on Dask. `onTile(t, sha256)` runs as each
 * tile file lands in `<workDir>/tiles/`. Rejects with a CliError naming the tile and the cause when
 * a tile fails on every try, the scheduler cannot be reached, or the driver stops.
 */
export async function encodeTilesOnDask(
  target: DaskTarget,
  workDir: string,
  tiles: number[],
  log: (line: string) => void,
  onTile: (t: number, sha256: string) => Promise<void>,
): Promise<DaskRun> {
  const python = pythonPath();
  const distributed = checkDaskPython(python);
  const args = [DRIVER, '--work', workDir, '--tiles', tiles.join(','), '--node', process.execPath, '--cli', CLI];
  if (target.kind === 'local') args.push('--local', String(target.workers));
  else args.push('--scheduler', target.address);
  const started = Date.now();
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // The driver stops when this process does: it exits when its stdin closes.
  const stop = () => child.kill('SIGTERM');
  process.once('exit', stop);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-16_384);
  });
  let workers = 0;
  let failure: string | undefined;
  let tileError: Error | undefined;
  let pending = Promise.resolve();
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let msg: { event?: string; tile?: number; sha256?: string; workers?: number; error?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.event === 'started') {
      workers = msg.workers ?? 0;
      log(
        `dask: ${target.kind === 'local' ? `a local cluster of ${workers} workers` : `${workers} workers at ${target.address}`}; ${tiles.length} tiles to encode`,
      );
    } else if (msg.event === 'tile' && msg.tile !== undefined && msg.sha256) {
      const { tile, sha256 } = msg;
      pending = pending
        .then(() => onTile(tile, sha256))
        .catch((e: Error) => {
          tileError ??= e;
          child.kill('SIGTERM');
        });
    } else if (msg.event === 'error') failure = msg.error;
  });
  const code: number = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  });
  process.off('exit', stop);
  await pending;
  if (tileError) throw tileError;
  if (code !== 0) {
    const last = stderr.trim().split('\n').slice(-5).join('\n');
    throw new CliError(`--dask: ${failure ?? `the Dask driver exited with ${code}${last ? `:\n${last}` : ''}`}`, code === 3 ? 3 : 1);
  }
  return { target, distributed, workers, seconds: (Date.now() - started) / 1000 };
}

/** onnxruntime threads per task: --threads, else the cores shared among the local workers, else 1 (one Dask worker per core). */
export function threadsPerTask(target: DaskTarget, threads: number | undefined): number {
  if (threads !== undefined) return threads;
  return target.kind === 'local' ? Math.max(1, Math.floor(availableParallelism() / target.workers)) : 1;
}

/** The worker's side: `encode-tile` reads a TileSpec on stdin and writes the tile's float32 rows to stdout. */
export function registerEncodeTile(program: Command): void {
  program
    .command('encode-tile', { hidden: true })
    .description('(used by index --dask) encode one tile spec from stdin; float32 rows on stdout')
    .action(async () => {
      const spec = readTileSpec(readStdin());
      const { model, modelJsonSha256 } = await loadModelWithEncoders(spec.modelDir);
      if (modelJsonSha256 !== spec.modelJsonSha256)
        throw new CliError(
          `tile ${spec.tile}: the model at ${spec.modelDir} on this worker is not the job's (model.json SHA-256 ${modelJsonSha256}, the job's ${spec.modelJsonSha256}); give every worker the same model`,
          2,
        );
      const tokenizer = await openModelTokenizer(spec.modelDir, model);
      const encoder = await DocEncoder.open(spec.modelDir, model, spec.threads);
      try {
        const v = await encoder.encodeTile(tokenizer, spec.texts, spec.tokenCounts, spec.batchSize);
        process.stdout.write(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      } finally {
        await encoder.close();
      }
    });
}

/** All of stdin, refused past MAX_SPEC_BYTES. */
function readStdin(): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(1 << 20);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_SPEC_BYTES) throw new CliError(`encode-tile: stdin holds more than ${MAX_SPEC_BYTES} bytes`, 2);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

function readTileSpec(bytes: Buffer): TileSpec {
  let s: TileSpec;
  try {
    s = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new CliError(`encode-tile: stdin is not a tile spec: ${(e as Error).message}`, 2);
  }
  const ok =
    s?.format === TILE_SPEC_FORMAT &&
    Number.isInteger(s.tile) &&
    typeof s.modelDir === 'string' &&
    typeof s.modelJsonSha256 === 'string' &&
    Number.isInteger(s.batchSize) &&
    s.batchSize > 0 &&
    Number.isInteger(s.threads) &&
    s.threads > 0 &&
    Array.isArray(s.texts) &&
    Array.isArray(s.tokenCounts) &&
    s.texts.length === s.tokenCounts.length &&
    s.texts.every((t) => typeof t === 'string') &&
    s.tokenCounts.every((n) => Number.isInteger(n));
  if (!ok)
    throw new CliError(
      `encode-tile: stdin is not a ${TILE_SPEC_FORMAT} spec (format, tile, modelDir, modelJsonSha256, batchSize, threads, texts, tokenCounts)`,
      2,
    );
  return s;
}

/** Writes one tile's spec into the work folder (atomically, so the driver never reads half a file). */
export async function writeTileSpec(workDir: string, spec: TileSpec): Promise<void> {
  await writeFileAtomic(tileSpecFile(workDir, spec.tile), JSON.stringify(spec));
}
