// The index command's job: the options as given, what the checks before any work settled (the
// output folder, checked and locked; the model; the sizes every stage uses), and the summary the
// last stage returns. Everything that can be refused is refused here, before anything is written.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MAX_TILE_BYTES, type ModelBundle } from '../../core/formats/index.ts';
import type { PassageStats } from '../../core/ingest/passages.ts';
import { DEFAULT_STORAGE_DTYPE, rowStrideWords, type StorageDtype } from '../../core/vectorStorage.ts';
import { type DaskTarget, parseDaskOption } from '../daskEncode.ts';
import { CliError } from '../errors.ts';
import { checkBaseUrl, checkSelector, type LexicalIndexKind } from '../indexOptions.ts';
import { loadModelWithEncoders, resolveModelDir } from '../modelDir.ts';
import { lockOutput } from '../outputLock.ts';
import { INDEX_BUNDLE, SHARD_SET, checkOutputFolder, cleanLeftovers } from '../outputPath.ts';
import type { InputSummary } from '../readInput.ts';

export interface IndexOptions {
  out: string;
  model?: string;
  dtype?: StorageDtype;
  force?: boolean;
  tileDocs?: number;
  batchSize?: number;
  long?: 'split' | 'truncate';
  graph?: boolean;
  graphDegree?: number;
  graphMethod?: 'auto' | 'exact' | 'hnsw' | 'hnsw0';
  entryPoints?: number;
  /** Store passages in locality order (entry points first, then k-means leaves) for lazy loading. */
  locality?: boolean;
  /** Write per-chunk SHA-256 (files[i].chunks) of this many rows on vector tiles and graph shards. */
  chunkDocs?: number;
  /** The lexical index: term chunks (bm25-chunked-v2, the default), Lunr's one JSON (lunr-doc-1), or none (false). */
  lexical?: boolean | LexicalIndexKind;
  baseUrl?: string;
  /** Follow symbolic links in a folder input that lead outside it (default: skipped and counted). */
  followExternalLinks?: boolean;
  /** HTML pages: the content's root (CSS selector; a page without a match is not indexed). */
  rootSelector?: string;
  /** HTML pages: elements left out (CSS selectors). */
  excludeSelectors?: string[];
  /** A folder's files to index (globs over their paths relative to it; default all it can read). */
  glob?: string[];
  excludeGlob?: string[];
  /** JSONL record keys whose values become filter values, and sort values (--filter-field, --sort-field; repeatable). */
  filterField?: string[];
  sortField?: string[];
  resume?: boolean;
  /** Encode the tiles as Dask tasks: `local:N` or a scheduler address (src/cli/daskEncode.ts). */
  dask?: string;
  /** Write the collection as this many shard bundles and a shard list (src/cli/indexStages/shards.ts). */
  shards?: number;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

export interface IndexSummary {
  out: string;
  model: string;
  input: InputSummary;
  passages: PassageStats;
  dtype: StorageDtype;
  dim: number;
  tiles: number;
  resumedTiles: number;
  encodedPassages: number;
  encodeSeconds: number;
  passagesPerSecond: number;
  totalSeconds: number;
  graph: { degree: number; method: string; seconds: number; entryPoints?: number } | null;
  /** --locality: the k-means leaves the passages were grouped by, and the time it took. */
  locality: { leaves: number; entryPoints: number; seconds: number } | null;
  /** --chunk-docs: rows per hashed chunk. */
  chunkDocs: number | null;
  lexical: { scheme: string; bytes: number } | null;
  bundleBytes: number;
  bytesPerPassage: number;
  threads: number;
  /** --dask: where the tiles were encoded, the workers and the stage's wall time. */
  dask: { scheduler: string; workers: number; distributed: string; seconds: number } | null;
  /** --shards: each shard's folder, documents, passages and bytes. */
  shards?: { path: string; documents: number; passages: number; bytes: number }[];
}

export const DEFAULT_TILE_DOCS = 4096;
export const DEFAULT_BATCH = 32;
export const DEFAULT_GRAPH_DEGREE = 16;

export interface IndexJob {
  input: string;
  opts: IndexOptions;
  /** --out, checked and locked. */
  out: string;
  log: (line: string) => void;
  /** performance.now() when the command started (the summary's totalSeconds). */
  startedAt: number;
  dtype: StorageDtype;
  tileDocs: number;
  batchSize: number;
  graphDegree: number;
  /** --threads capped to the cores; undefined: the encoder's default (all of them). */
  threads: number | undefined;
  /** --dask, checked. */
  dask: DaskTarget | undefined;
  modelDir: string;
  model: ModelBundle;
  encoders: NonNullable<ModelBundle['encoders']>;
  modelJsonSha256: string;
  dim: number;
}

/** Rows [from, to) of vector tile t of n passages. */
export function tileRange(job: IndexJob, t: number, n: number): readonly [number, number] {
  return [t * job.tileDocs, Math.min(n, (t + 1) * job.tileDocs)];
}

/** The output folder first (checked, locked, leftovers of interrupted runs cleaned), then the options and the model. */
export async function prepareJob(input: string, opts: IndexOptions): Promise<IndexJob> {
  const startedAt = performance.now();
  const log = (line: string) => {
    if (!opts.quiet) process.stderr.write(`${line}\n`);
  };
  const dtype = opts.dtype ?? DEFAULT_STORAGE_DTYPE;
  const tileDocs = opts.tileDocs ?? DEFAULT_TILE_DOCS;
  const recognizer = opts.shards === undefined ? INDEX_BUNDLE : SHARD_SET;
  const output = { flag: '--out', force: opts.force, inputs: [input], recognizer };
  const out = checkOutputFolder(opts.out, output);
  lockOutput(out, '--out');
  const cleaned = cleanLeftovers(out, recognizer);
  for (const line of cleaned) log(`--out ${opts.out}: ${line}`);
  // A bundle put back from an interrupted run is an existing index again: the same rules apply.
  if (cleaned.length > 0) checkOutputFolder(opts.out, output);
  let threads: number | undefined;
  if (opts.threads !== undefined) {
    threads = Math.min(opts.threads, availableParallelism());
    if (threads < opts.threads) log(`--threads ${opts.threads}: this machine has ${threads} cores; using ${threads}`);
  }
  const modelDir = resolveModelDir(opts.model);
  const { model, modelJsonSha256 } = await loadModelWithEncoders(modelDir);
  const dim = model.qnet.dims[0];
  const strideBytes = rowStrideWords(dtype, dim) * 4;
  if (tileDocs * strideBytes > MAX_TILE_BYTES)
    throw new CliError(`--tile-docs ${tileDocs}: a tile would exceed ${MAX_TILE_BYTES} bytes; use at most ${Math.floor(MAX_TILE_BYTES / strideBytes)}`, 2);
  if (opts.graph === false && (opts.locality || opts.entryPoints || opts.chunkDocs)) {
    const flag = opts.locality ? '--locality' : opts.entryPoints ? '--entry-points' : '--chunk-docs';
    throw new CliError(`${flag} needs the neighbor graph; drop --no-graph`, 2);
  }
  if (opts.chunkDocs && !opts.locality && !opts.entryPoints)
    throw new CliError('--chunk-docs: a lazily loaded index needs graph entry points; add --entry-points N or --locality', 2);
  const dask = opts.dask === undefined ? undefined : parseDaskOption(opts.dask);
  if (opts.baseUrl !== undefined) checkBaseUrl(opts.baseUrl);
  if (opts.rootSelector !== undefined) checkSelector('--root-selector', opts.rootSelector);
  for (const s of opts.excludeSelectors ?? []) checkSelector('--exclude-selectors', s);
  return {
    input,
    opts,
    out,
    log,
    startedAt,
    dtype,
    tileDocs,
    batchSize: opts.batchSize ?? DEFAULT_BATCH,
    graphDegree: opts.graphDegree ?? DEFAULT_GRAPH_DEGREE,
    threads,
    dask,
    modelDir,
    model,
    encoders: model.encoders!,
    modelJsonSha256,
    dim,
  };
}
