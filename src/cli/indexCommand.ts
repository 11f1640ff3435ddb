// `hypencoder-web index <input> --out <dir>`: documents → an index bundle (docs/FORMATS.md).
//   read + validate every input file (nothing is written before the whole input is known good)
//   → passages (split at headings / by length to the model's document limit)
//   → encode tile by tile with onnxruntime-node into a work folder beside --out (resumable:
//     finished tiles are kept under a key of the passages, the model and the options)
//   → storage dtype, neighbor graph, Lunr lexical index, metadata shards, manifest
//   → written to a temporary folder and renamed into place (writeIndexBundle); work folder removed.
// Same input, model and options → byte-identical bundle.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { makePassages, type Passage, type PassageStats } from '../core/ingest/passages.ts';
import { InputError } from '../core/ingest/utf8.ts';
import { LEXICAL_FIELDS, LEXICAL_FILE, LEXICAL_SCHEME, buildLexicalIndex, documentLexicalDocs, serializeLexicalIndex } from '../core/lexical.ts';
import { documentGroups } from '../core/ranking.ts';
import { BertWordPieceTokenizer } from '../core/tokenizer.ts';
import { decodeVectors, encodeVectors, int8Absmax, type EncodedVectors, type StorageDtype } from '../core/vectorStorage.ts';
import { MAX_TILE_BYTES, type DocMetadata } from '../core/formats/index.ts';
import { chooseEntryPoints, localityLayout, permuteVectors } from '../core/graphBuild.ts';
import { buildNeighborGraph } from './annGraph.ts';
import { DocEncoder } from './docEncoder.ts';
import { CliError } from './errors.ts';
import { loadModelWithEncoders, resolveModelDir } from './modelDir.ts';
import { readInput, type InputSummary } from './readInput.ts';
import { OPTION_RANGES, checkBaseUrl, intOption } from './indexOptions.ts';
import { INDEX_BUNDLE, checkOutputFolder, cleanLeftovers, lockOutput } from './outputPath.ts';
import { writeIndexBundle } from './writeIndex.ts';
import { writeFileAtomic } from './atomicWrite.ts';

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
  lexical?: boolean;
  baseUrl?: string;
  /** Follow symbolic links in a folder input that lead outside it (default: skipped and counted). */
  followExternalLinks?: boolean;
  resume?: boolean;
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
}

export const DEFAULT_TILE_DOCS = 4096;
export const DEFAULT_BATCH = 32;
export const DEFAULT_GRAPH_DEGREE = 16;
/** Metadata shards close at about this many bytes of JSON (a few MB: the first results show quickly). */
const METADATA_SHARD_BYTES = 4 << 20;
const WORK_FORMAT = 'hypencoder-index-work';

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('encode documents (JSONL, or a folder of Markdown / HTML / text files) into an index bundle')
    .argument('<input>', 'a .jsonl file ({"id","title","text","url",...} per line), or a folder of .md/.html/.txt/.jsonl files')
    .requiredOption('-o, --out <dir>', 'the index bundle folder to create')
    .option('-m, --model <dir>', 'model bundle (default: models/default/)')
    .addOption(new Option('--dtype <dtype>', 'vector storage').choices(['f16', 'f32', 'int8']).default('f16'))
    .option('--force', 'replace --out if it already holds something')
    .option('--tile-docs <n>', 'documents per vector tile (also the unit of resumption)', intOption('--tile-docs', OPTION_RANGES.tileDocs), DEFAULT_TILE_DOCS)
    .option('--batch-size <n>', 'documents per encoder call', intOption('--batch-size', OPTION_RANGES.batchSize), DEFAULT_BATCH)
    .addOption(new Option('--long <how>', "documents over the model's token limit: split into passages, or truncate for the encoder").choices(['split', 'truncate']).default('split'))
    .option('--graph-degree <k>', 'neighbors per document in the neighbor graph', intOption('--graph-degree', OPTION_RANGES.graphDegree), DEFAULT_GRAPH_DEGREE)
    .addOption(new Option('--graph-method <m>', 'neighbor graph: exact k-NN, HNSW k-NN lists, or HNSW layer-0 links (degree-bounded, long links; for approximate search); auto = exact up to 1000 passages, else hnsw').choices(['auto', 'exact', 'hnsw', 'hnsw0']).default('auto'))
    .option('--entry-points <n>', 'store about n k-means entry points for approximate graph search in the manifest (graph.entry_points); 0 = none', intOption('--entry-points', OPTION_RANGES.entryPoints), 0)
    .option('--locality', 'store passages in locality order — the k-means entry points first, then each k-means leaf\'s passages together — so an approximate search fetches few chunks of a lazily loaded index (metadata, lexical index and graph follow the order; implies --entry-points, default about sqrt(passages))')
    .option('--chunk-docs <n>', 'write the SHA-256 of every n rows of the vector tiles and graph shards (files[i].chunks) so clients can fetch them lazily with Range requests; needs entry points', intOption('--chunk-docs', OPTION_RANGES.chunkDocs))
    .option('--no-graph', 'write no neighbor graph')
    .option('--no-lexical', 'write no lexical (BM25) index')
    .option('--base-url <url>', 'prefix for page URLs of a folder input: an http(s) URL or a site path such as /docs/ (default: paths relative to the folder)')
    .option('--follow-external-links', 'follow symbolic links in the input folder that lead outside it (default: skipped and counted)')
    .option('--no-resume', 'start over even if an interrupted run left finished tiles')
    .option('--threads <n>', 'onnxruntime threads (default: all cores; more than the cores are capped to them)', intOption('--threads', OPTION_RANGES.threads))
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (input: string, opts: IndexOptions) => {
      const s = await runIndex(input, opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    });
}

function workDirFor(out: string): string {
  const abs = path.resolve(out);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.index-work`);
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function dirSize(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return n;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export async function runIndex(input: string, opts: IndexOptions): Promise<IndexSummary> {
  const t0 = performance.now();
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`${s}\n`);
  };
  const dtype = opts.dtype ?? 'f16';
  const tileDocs = opts.tileDocs ?? DEFAULT_TILE_DOCS;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  const graphDegree = opts.graphDegree ?? DEFAULT_GRAPH_DEGREE;

  // 1. Everything that can be refused is refused before anything is written: the output folder
  // first (checked, locked, leftovers of interrupted runs cleaned), then the options and the input.
  const out = checkOutputFolder(opts.out, { flag: '--out', force: opts.force, inputs: [input], recognizer: INDEX_BUNDLE });
  lockOutput(out, '--out');
  const cleaned = cleanLeftovers(out, INDEX_BUNDLE);
  for (const line of cleaned) log(`--out ${opts.out}: ${line}`);
  // A bundle put back from an interrupted run is an existing index again: the same rules apply.
  if (cleaned.length > 0) checkOutputFolder(opts.out, { flag: '--out', force: opts.force, inputs: [input], recognizer: INDEX_BUNDLE });
  const threads = opts.threads === undefined ? undefined : Math.min(opts.threads, availableParallelism());
  if (threads !== undefined && threads < opts.threads!) log(`--threads ${opts.threads}: this machine has ${threads} cores; using ${threads}`);
  const modelDir = resolveModelDir(opts.model);
  const { model, modelJsonSha256 } = await loadModelWithEncoders(modelDir);
  const enc = model.encoders!;
  const dim = model.qnet.dims[0];
  const strideBytes = (dtype === 'f32' ? dim : dtype === 'f16' ? Math.ceil(dim / 2) : Math.ceil(dim / 4)) * 4;
  if (tileDocs * strideBytes > MAX_TILE_BYTES) throw new CliError(`--tile-docs ${tileDocs}: a tile would exceed ${MAX_TILE_BYTES} bytes; use at most ${Math.floor(MAX_TILE_BYTES / strideBytes)}`, 2);
  if (opts.graph === false && (opts.locality || opts.entryPoints || opts.chunkDocs)) {
    const flag = opts.locality ? '--locality' : opts.entryPoints ? '--entry-points' : '--chunk-docs';
    throw new CliError(`${flag} needs the neighbor graph; drop --no-graph`, 2);
  }
  if (opts.chunkDocs && !opts.locality && !opts.entryPoints) throw new CliError('--chunk-docs: a lazily loaded index needs graph entry points; add --entry-points N or --locality', 2);
  if (opts.baseUrl !== undefined) checkBaseUrl(opts.baseUrl);

  let docs, inputSummary;
  try {
    ({ docs, summary: inputSummary } = await readInput(input, { urlBase: opts.baseUrl, followExternalLinks: opts.followExternalLinks }));
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, 2);
    throw e;
  }
  const tokenizer = BertWordPieceTokenizer.fromVocab(await readFile(path.join(modelDir, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
  const made = makePassages(docs, {
    maxTokens: enc.maxDocumentTokens,
    long: opts.long ?? 'split',
    countTokens: (w) => tokenizer.pieceIds(w).length,
  });
  const stats = made.stats;
  let passages = made.passages;
  const ids = new Map<string, number>();
  passages.forEach((p, i) => {
    if (ids.has(p.id)) throw new CliError(`passage id ${JSON.stringify(p.id)} (a part of document ${JSON.stringify(p.docId)}) collides with a document id; rename that document`, 2);
    ids.set(p.id, i);
  });
  const n = passages.length;
  log(
    `${inputSummary.files} file(s)${inputSummary.skippedFiles ? ` (+${inputSummary.skippedFiles} of other types skipped)` : ''}${linksSkipped(inputSummary)}: ${stats.documents} documents → ${n} passages` +
      `${stats.longDocuments ? `; ${stats.longDocuments} longer than the model's ${enc.maxDocumentTokens} tokens (${opts.long === 'truncate' ? 'truncated for the encoder' : 'split into passages'})` : ''}` +
      `${stats.emptyDocuments ? `; ${stats.emptyDocuments} with no text` : ''}`,
  );

  // 2. Encode tile by tile into the work folder; reuse tiles a previous run of the same job finished.
  const tiles = Math.ceil(n / tileDocs);
  const keyHash = createHash('sha256');
  keyHash.update(JSON.stringify({ v: 1, model: modelJsonSha256, maxTokens: enc.maxDocumentTokens, tileDocs, batchSize, n }));
  for (const p of passages) keyHash.update(`${JSON.stringify([p.id, p.encodeText])}\n`);
  const key = keyHash.digest('hex');
  const work = workDirFor(out);
  const stateFile = path.join(work, 'state.json');
  let finished: Record<string, string> = {};
  if (opts.resume !== false && existsSync(stateFile)) {
    try {
      const st = JSON.parse(await readFile(stateFile, 'utf8'));
      if (st.format === WORK_FORMAT && st.key === key) finished = st.finished ?? {};
      else log(`${path.basename(work)}: left by a run on different input or options; starting over`);
    } catch {
      log(`${path.basename(work)}/state.json: unreadable; starting over`);
    }
  }
  if (Object.keys(finished).length === 0) await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'tiles'), { recursive: true });
  const tileFile = (t: number) => path.join(work, 'tiles', `${String(t).padStart(5, '0')}.f32`);
  const tileRange = (t: number) => [t * tileDocs, Math.min(n, (t + 1) * tileDocs)] as const;
  const encodedVectors = new Float32Array(n * dim);
  let resumedTiles = 0;
  for (let t = 0; t < tiles; t++) {
    const sha = finished[String(t)];
    if (!sha || !existsSync(tileFile(t))) continue;
    const bytes = new Uint8Array(await readFile(tileFile(t)));
    const [a, b] = tileRange(t);
    if (bytes.byteLength !== (b - a) * dim * 4 || sha256(bytes) !== sha) {
      delete finished[String(t)];
      continue;
    }
    encodedVectors.set(new Float32Array(bytes.buffer, bytes.byteOffset, (b - a) * dim), a * dim);
    resumedTiles++;
  }
  const todo = Array.from({ length: tiles }, (_, t) => t).filter((t) => !(String(t) in finished));
  const todoPassages = todo.reduce((s, t) => s + tileRange(t)[1] - tileRange(t)[0], 0);
  if (resumedTiles > 0) log(`resuming: ${resumedTiles} of ${tiles} tiles already encoded by an interrupted run (${n - todoPassages} passages)`);

  const encodeStart = performance.now();
  let encoded = 0;
  if (todo.length > 0) {
    const encoder = await DocEncoder.open(modelDir, model, threads);
    log(`encoding ${todoPassages} passages with ${model.id} (dim ${dim}, ≤ ${enc.maxDocumentTokens} tokens) on ${encoder.threads} onnxruntime threads, batches of ${batchSize}`);
    const bar =
      !opts.quiet && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: 'encoding |{bar}| {percentage}% | {value}/{total} passages | {rate} passages/s | ETA {eta_formatted}', etaBuffer: 200, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : null;
    bar?.start(todoPassages, 0, { rate: '0.0' });
    const onSigint = () => {
      bar?.stop();
      process.stderr.write(`\ninterrupted: ${Object.keys(finished).length} of ${tiles} tiles are kept in ${work}; run the same command again to resume\n`);
      process.exit(130);
    };
    process.once('SIGINT', onSigint);
    let lastLine = performance.now();
    try {
      for (const t of todo) {
        const [a, b] = tileRange(t);
        const slice = passages.slice(a, b);
        const v = await encoder.encodeTile(
          tokenizer,
          slice.map((p) => p.encodeText),
          slice.map((p) => p.tokens),
          batchSize,
          (k) => {
            encoded += k;
            const secs = (performance.now() - encodeStart) / 1000;
            bar?.update(encoded, { rate: (encoded / secs).toFixed(1) });
            // Without a terminal (CI logs, pipes): a plain progress line every 10 s within a tile.
            if (!bar && performance.now() - lastLine > 10_000) {
              lastLine = performance.now();
              log(`encoding: ${encoded}/${todoPassages} passages, ${(encoded / secs).toFixed(1)} passages/s, ETA ${fmtSeconds((todoPassages - encoded) / (encoded / secs))}`);
            }
          },
        );
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        await writeFileAtomic(tileFile(t), bytes);
        finished[String(t)] = sha256(bytes);
        await writeFileAtomic(stateFile, JSON.stringify({ format: WORK_FORMAT, key, tiles, finished }));
        encodedVectors.set(v, a * dim);
        if (!bar) {
          const secs = (performance.now() - encodeStart) / 1000;
          const rate = encoded / secs;
          log(`tile ${t + 1}/${tiles} finished: ${encoded}/${todoPassages} passages, ${rate.toFixed(1)} passages/s, ETA ${fmtSeconds((todoPassages - encoded) / rate)}`);
        }
      }
    } finally {
      bar?.stop();
      process.off('SIGINT', onSigint);
      await encoder.close();
    }
  }
  const encodeSeconds = (performance.now() - encodeStart) / 1000;

  // 3. Locality order, storage, graph, lexical index, metadata; then the atomic write.
  let vectors: Float32Array = encodedVectors;
  let locality: IndexSummary['locality'] = null;
  let layoutEntries: Uint32Array | undefined;
  if (opts.locality) {
    // Everything below (vectors, graph, lexical refs, metadata) is built from the reordered
    // passages, so the bundle is an ordinary bundle whose document numbers follow the layout.
    const l0 = performance.now();
    const layout = localityLayout(vectors, n, dim, opts.entryPoints || defaultEntryPoints(n), 1);
    vectors = permuteVectors(vectors, n, dim, layout.order);
    passages = Array.from(layout.order, (i) => passages[i]);
    layoutEntries = layout.entryPoints;
    locality = { leaves: layout.leaves, entryPoints: layout.entryPoints.length, seconds: (performance.now() - l0) / 1000 };
    log(`locality order: ${layout.entryPoints.length} entry points first, then ${layout.leaves} k-means leaves, ${locality.seconds.toFixed(1)} s`);
  }
  const absmax = dtype === 'int8' ? int8Absmax(vectors, n, dim) : undefined;
  const encodedTiles: EncodedVectors[] = [];
  for (let t = 0; t < tiles; t++) {
    const [a, b] = tileRange(t);
    encodedTiles.push(encodeVectors(vectors.subarray(a * dim, b * dim), b - a, dim, dtype, absmax));
  }
  let graph: { degree: number; shards: Uint32Array[]; entryPoints?: Uint32Array } | undefined;
  let graphInfo: IndexSummary['graph'] = null;
  if (opts.graph !== false) {
    const g0 = performance.now();
    // The graph is over the vectors as stored (what a client decodes), not the float32 originals.
    const stored = new Float32Array(n * dim);
    let row = 0;
    for (const tile of encodedTiles) {
      stored.set(decodeVectors(tile), row * dim);
      row += tile.n;
    }
    const g = buildNeighborGraph(stored, n, dim, graphDegree, opts.graphMethod ?? 'auto');
    graph = { degree: g.degree, shards: [g.rows] };
    if (layoutEntries) graph.entryPoints = layoutEntries;
    else if (opts.entryPoints) graph.entryPoints = chooseEntryPoints(stored, n, dim, opts.entryPoints);
    graphInfo = { degree: g.degree, method: g.method, seconds: (performance.now() - g0) / 1000 };
    if (graph.entryPoints) graphInfo.entryPoints = graph.entryPoints.length;
    log(`neighbor graph: ${g.degree} neighbors per passage, ${g.method}, ${graphInfo.seconds.toFixed(1)} s${graph.entryPoints ? `, ${graph.entryPoints.length} entry points` : ''}`);
  }
  const metadata = shardMetadata(passages);
  let lexical: { descriptor: { scheme: string; fields: string[] }; files: { path: string; data: Uint8Array }[] } | undefined;
  if (opts.lexical !== false) {
    // One Lunr record per source document (scheme lunr-doc-1), grouped from the very metadata records
    // written, as the engines group them.
    const groups = documentGroups(metadata.flat() as DocMetadata[]);
    const data = serializeLexicalIndex(buildLexicalIndex(documentLexicalDocs(passages, groups)));
    lexical = { descriptor: { scheme: LEXICAL_SCHEME, fields: [...LEXICAL_FIELDS] }, files: [{ path: LEXICAL_FILE, data }] };
  }

  await writeIndexBundle(out, {
    manifestFields: { model: { id: model.id, sha256: modelJsonSha256 }, tileDocs },
    tiles: encodedTiles,
    metadata,
    graph,
    lexical,
    force: opts.force,
    output: { flag: '--out', inputs: [input], log },
    ...(opts.chunkDocs ? { chunkDocs: opts.chunkDocs } : {}),
  });
  await rm(work, { recursive: true, force: true });

  const bundleBytes = dirSize(out);
  const summary: IndexSummary = {
    out,
    model: model.id,
    input: inputSummary,
    passages: stats,
    dtype,
    dim,
    tiles,
    resumedTiles,
    encodedPassages: encoded,
    encodeSeconds,
    passagesPerSecond: encoded > 0 ? encoded / encodeSeconds : 0,
    totalSeconds: (performance.now() - t0) / 1000,
    graph: graphInfo,
    locality,
    chunkDocs: opts.chunkDocs ?? null,
    lexical: lexical ? { scheme: LEXICAL_SCHEME, bytes: lexical.files[0].data.byteLength } : null,
    bundleBytes,
    bytesPerPassage: bundleBytes / n,
    threads: threads ?? 0,
  };
  log(
    `wrote ${opts.out}: ${n} passages of ${stats.documents} documents, ${dtype}, ${tiles} tile(s), ${(bundleBytes / 1e6).toFixed(2)} MB (${Math.round(bundleBytes / n)} bytes/passage); ` +
      `encoded ${encoded} passages in ${encodeSeconds.toFixed(1)} s (${summary.passagesPerSecond.toFixed(1)}/s); total ${summary.totalSeconds.toFixed(1)} s` +
      `${stats.longDocuments ? `; ${stats.longDocuments} long documents ${opts.long === 'truncate' ? 'truncated' : 'split'}` : ''}`,
  );
  return summary;
}

function linksSkipped(s: InputSummary): string {
  const { broken, outside } = s.skippedLinks;
  const parts = [broken ? `${broken} broken or looping` : '', outside ? `${outside} leading outside the input folder (--follow-external-links follows them)` : ''].filter(Boolean);
  return parts.length ? ` (symbolic links skipped: ${parts.join(', ')})` : '';
}

/** Entry points when --locality is given without --entry-points: about sqrt(n), 16 … 4096. */
export function defaultEntryPoints(n: number): number {
  return Math.min(4096, Math.max(16, Math.round(Math.sqrt(n))));
}

function shardMetadata(passages: Passage[]): object[][] {
  const shards: object[][] = [];
  let cur: object[] = [];
  let bytes = 0;
  for (const p of passages) {
    const rec: Record<string, unknown> = { id: p.id, title: p.title, url: p.url, text: p.text };
    if (p.fields) rec.fields = p.fields;
    const size = JSON.stringify(rec).length + 1;
    if (cur.length > 0 && bytes + size > METADATA_SHARD_BYTES) {
      shards.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(rec);
    bytes += size;
  }
  shards.push(cur);
  return shards;
}
