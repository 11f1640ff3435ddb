// Stage 2, encode: passages → float32 vectors with onnxruntime-node, tile by tile, into a work
// folder beside --out. Resumable: finished tiles are kept under a key of the passages, the model
// and the options, so a rerun of an interrupted job reuses them and encodes only the rest.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Passage } from '../../core/ingest/passages.ts';
import { writeFileAtomic } from '../atomicWrite.ts';
import { type DaskTarget, encodeTilesOnDask, threadsPerTask, writeTileSpec } from '../daskEncode.ts';
import { DocEncoder } from '../docEncoder.ts';
import type { Ingested } from './ingest.ts';
import { type IndexJob, type IndexSummary, tileRange } from './job.ts';
import { EncodeProgress } from './progress.ts';

const WORK_FORMAT = 'hypencoder-index-work';

export interface Encoded {
  /** n × dim, in passage order. */
  vectors: Float32Array;
  tiles: number;
  resumedTiles: number;
  encodedPassages: number;
  seconds: number;
  /** The work folder; removed by discardWork once the bundle is in place. */
  workDir: string;
  /** --dask: where the tiles were encoded. */
  dask: IndexSummary['dask'];
}

interface WorkFolder {
  dir: string;
  stateFile: string;
  key: string;
  /** Finished tiles: tile number → SHA-256 of its float32 bytes. */
  finished: Record<string, string>;
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function tileFile(work: WorkFolder, t: number): string {
  return path.join(work.dir, 'tiles', `${String(t).padStart(5, '0')}.f32`);
}

/** The work folder of this job: its state kept when a previous run had the same key, else started over. */
async function openWorkFolder(job: IndexJob, passages: Passage[]): Promise<WorkFolder> {
  const abs = path.resolve(job.out);
  const dir = path.join(path.dirname(abs), `.${path.basename(abs)}.index-work`);
  const keyHash = createHash('sha256');
  keyHash.update(
    JSON.stringify({
      v: 1,
      model: job.modelJsonSha256,
      maxTokens: job.encoders.maxDocumentTokens,
      tileDocs: job.tileDocs,
      batchSize: job.batchSize,
      n: passages.length,
    }),
  );
  for (const p of passages) keyHash.update(`${JSON.stringify([p.id, p.encodeText])}\n`);
  const work: WorkFolder = { dir, stateFile: path.join(dir, 'state.json'), key: keyHash.digest('hex'), finished: {} };
  if (job.opts.resume !== false && existsSync(work.stateFile)) {
    try {
      const st = JSON.parse(await readFile(work.stateFile, 'utf8'));
      if (st.format === WORK_FORMAT && st.key === work.key) work.finished = st.finished ?? {};
      else job.log(`${path.basename(dir)}: left by a run on different input or options; starting over`);
    } catch {
      job.log(`${path.basename(dir)}/state.json: unreadable; starting over`);
    }
  }
  if (Object.keys(work.finished).length === 0) await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'tiles'), { recursive: true });
  return work;
}

/** Copies the finished tiles that are intact into `vectors`; the others are dropped from `finished`. Returns how many. */
async function resumeTiles(job: IndexJob, work: WorkFolder, n: number, tiles: number, vectors: Float32Array): Promise<number> {
  let resumed = 0;
  for (let t = 0; t < tiles; t++) {
    const sha = work.finished[String(t)];
    if (!sha || !existsSync(tileFile(work, t))) continue;
    const bytes = new Uint8Array(await readFile(tileFile(work, t)));
    const [a, b] = tileRange(job, t, n);
    if (bytes.byteLength !== (b - a) * job.dim * 4 || sha256(bytes) !== sha) {
      delete work.finished[String(t)];
      continue;
    }
    vectors.set(new Float32Array(bytes.buffer, bytes.byteOffset, (b - a) * job.dim), a * job.dim);
    resumed++;
  }
  return resumed;
}

export async function encodePassages(job: IndexJob, { passages, tokenizer }: Ingested): Promise<Encoded> {
  const { dim, model, encoders: enc } = job;
  const n = passages.length;
  const tiles = Math.ceil(n / job.tileDocs);
  const work = await openWorkFolder(job, passages);
  const vectors = new Float32Array(n * dim);
  const resumedTiles = await resumeTiles(job, work, n, tiles, vectors);
  const todo = Array.from({ length: tiles }, (_, t) => t).filter((t) => !(String(t) in work.finished));
  const todoPassages = todo.reduce((s, t) => s + tileRange(job, t, n)[1] - tileRange(job, t, n)[0], 0);
  if (resumedTiles > 0) job.log(`resuming: ${resumedTiles} of ${tiles} tiles already encoded by an interrupted run (${n - todoPassages} passages)`);

  const startedAt = performance.now();
  let encodedPassages = 0;
  let dask: Encoded['dask'] = null;
  if (todo.length > 0 && job.dask) {
    dask = await encodeOnDask(job, job.dask, work, { passages, tokenizer }, todo, vectors, startedAt);
    encodedPassages = todoPassages;
  } else if (todo.length > 0) {
    const encoder = await DocEncoder.open(job.modelDir, model, job.threads);
    job.log(
      `encoding ${todoPassages} passages with ${model.id} (dim ${dim}, ≤ ${enc.maxDocumentTokens} tokens) on ${encoder.threads} onnxruntime threads, batches of ${job.batchSize}`,
    );
    const progress = new EncodeProgress(job.log, todoPassages, startedAt, job.opts.quiet ?? false);
    const onSigint = () => {
      progress.stop();
      process.stderr.write(
        `\ninterrupted: ${Object.keys(work.finished).length} of ${tiles} tiles are kept in ${work.dir}; run the same command again to resume\n`,
      );
      process.exit(130);
    };
    process.once('SIGINT', onSigint);
    try {
      for (const t of todo) {
        const [a, b] = tileRange(job, t, n);
        const slice = passages.slice(a, b);
        const tileTexts = slice.map((p) => p.encodeText);
        const v = await encoder.encodeTile(
          tokenizer,
          tileTexts,
          slice.map((p) => p.tokens),
          job.batchSize,
          (k) => progress.advance(k),
        );
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        await writeFileAtomic(tileFile(work, t), bytes);
        await recordTile(work, t, sha256(bytes), tiles);
        vectors.set(v, a * dim);
        progress.tileFinished(t, tiles);
      }
    } finally {
      encodedPassages = progress.encoded;
      progress.stop();
      process.off('SIGINT', onSigint);
      await encoder.close();
    }
  }
  return { vectors, tiles, resumedTiles, encodedPassages, seconds: (performance.now() - startedAt) / 1000, workDir: work.dir, dask };
}

/** A finished tile recorded in state.json (one writer: this process), so a rerun resumes from it. */
async function recordTile(work: WorkFolder, t: number, sha: string, tiles: number): Promise<void> {
  work.finished[String(t)] = sha;
  await writeFileAtomic(work.stateFile, JSON.stringify({ format: WORK_FORMAT, key: work.key, tiles, finished: work.finished }));
}

/**
 * The tiles in `todo` as Dask tasks: each tile's spec (its passages' texts and token counts, the
 * model and batch size) into the work folder, the driver started, each tile the driver reports
 * checked (size and SHA-256), recorded and copied into `vectors`.
 */
async function encodeOnDask(
  job: IndexJob,
  target: DaskTarget,
  work: WorkFolder,
  { passages }: Pick<Ingested, 'passages' | 'tokenizer'>,
  todo: number[],
  vectors: Float32Array,
  startedAt: number,
): Promise<NonNullable<Encoded['dask']>> {
  const n = passages.length;
  const tiles = Math.ceil(n / job.tileDocs);
  const threads = threadsPerTask(target, job.threads);
  await mkdir(path.join(work.dir, 'dask'), { recursive: true });
  for (const t of todo) {
    const [a, b] = tileRange(job, t, n);
    const slice = passages.slice(a, b);
    await writeTileSpec(work.dir, {
      format: 'hypencoder-encode-tile',
      tile: t,
      modelDir: path.resolve(job.modelDir),
      modelJsonSha256: job.modelJsonSha256,
      batchSize: job.batchSize,
      threads,
      texts: slice.map((p) => p.encodeText),
      tokenCounts: slice.map((p) => p.tokens),
    });
  }
  const todoPassages = todo.reduce((s, t) => s + tileRange(job, t, n)[1] - tileRange(job, t, n)[0], 0);
  const progress = new EncodeProgress(job.log, todoPassages, startedAt, job.opts.quiet ?? false);
  try {
    const run = await encodeTilesOnDask(target, work.dir, todo, job.log, async (t, sha) => {
      const file = tileFile(work, t);
      const [a, b] = tileRange(job, t, n);
      const bytes = new Uint8Array(await readFile(file));
      if (bytes.byteLength !== (b - a) * job.dim * 4 || sha256(bytes) !== sha)
        throw new Error(`--dask: tile ${t} in ${file} is not what the driver reported (${bytes.byteLength} bytes, expected ${(b - a) * job.dim * 4})`);
      vectors.set(new Float32Array(bytes.buffer, bytes.byteOffset, (b - a) * job.dim), a * job.dim);
      await recordTile(work, t, sha, tiles);
      progress.advance(b - a);
      progress.tileFinished(t, tiles);
    });
    const missing = todo.filter((t) => !(String(t) in work.finished));
    if (missing.length > 0) throw new Error(`--dask: the driver ended without tiles ${missing.join(', ')}`);
    return {
      scheduler: target.kind === 'local' ? `local:${target.workers}` : target.address,
      workers: run.workers,
      distributed: run.distributed,
      seconds: run.seconds,
    };
  } finally {
    progress.stop();
  }
}

/** The work folder is no longer needed once the bundle is in place. */
export async function discardWork(encoded: Encoded): Promise<void> {
  await rm(encoded.workDir, { recursive: true, force: true });
}
