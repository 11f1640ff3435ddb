// `hypencoder-web verify`, `search` and `eval` (Node engine; `eval --engine browser` runs the same
// queries through the browser engine in headless Chromium, see browserEngine.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { sha256Hex } from '../core/formats/index.ts';
import { openLexicalRanker, readsLexical } from '../core/lexicalBundle.ts';
import { METRIC_NAMES, evaluate, parseQrels, trecRunLines, type EvalResult, type Qrels } from '../core/metrics.ts';
import { documentGroups } from '../core/ranking.ts';
import { SEARCH_DEFAULTS, SEARCH_MODES, type SearchMode } from '../core/search.ts';
import { parseFilterSpec, parseSortSpec, type FilterSelection } from '../core/facets.ts';
import { InputError, decodeUtf8Strict } from '../core/ingest/utf8.ts';
import { displayUrl, terminalText } from '../core/displayText.ts';
import { CliError } from './errors.ts';
import { writeStreamAtomic } from './atomicWrite.ts';
import { checkOutputFile } from './outputPath.ts';
import { DEFAULT_MODEL_DIR, loadModelWithEncoders, resolveModelDir } from './modelDir.ts';
import { NodeSearchEngine, type NodeScorer, type SearchResult } from './nodeEngine.ts';
import { lexicalFiles, readBundleFile, readIndexBundle, setMembers, verifyDocumentsPart } from './readBundle.ts';
import { isShardListFolder, readIndexSet } from './indexSet.ts';
import { SHARD_LIST_FILE } from '../core/formats/shardList.ts';

function kOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new CliError(`--k must be an integer from 1 to 10000, got ${JSON.stringify(v)}`, 2);
  return n;
}

const APPROXIMATE_HELP =
  "neural passages from a walk of the index's neighbor graph (best-first from its entry points, the page's approximate search with its defaults) instead of scoring every passage";

const INDEX_HELP = 'index bundle folder, or a folder with a shard list (index --shards); repeat it to search several bundles of one model as one collection';

/** --index, repeatable: the folders in the order given. */
function collectIndex(dir: string, previous: string[]): string[] {
  return [...previous, dir];
}

function needIndex(dirs: string[]): void {
  if (dirs.length === 0) throw new CliError("required option '-i, --index <dir>' not specified", 2);
}

/** --filter key:value, repeatable: the values per key. */
function collectFilters(spec: string, previous: FilterSelection): FilterSelection {
  const [key, value] = cliArg(() => parseFilterSpec(spec));
  return { ...previous, [key]: [...(previous[key] ?? []), value] };
}

/** A malformed option as a usage error (exit 2). */
function cliArg<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

export function registerSearchCommands(program: Command): void {
  program
    .command('verify')
    .description('check an index bundle: every file length and SHA-256, format versions, structure, and (with --model) that it was built with that model')
    .argument('<index>', 'index bundle folder')
    .option('-m, --model <dir>', 'model bundle the index must have been built with')
    .option('--json', 'print the result as JSON')
    .action(async (indexDir: string, opts: { model?: string; json?: boolean }) => {
      const r = await verifyIndex(indexDir, opts.model);
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${r.message}\n`);
    });

  program
    .command('search')
    .description('search an index from the command line')
    .option('-i, --index <dir>', INDEX_HELP, collectIndex, [])
    .argument('<query>', 'the query, or - to read it from standard input (long queries are cut to the first 2,048 characters, with a notice)')
    .option('-m, --model <dir>', 'model bundle the index was built with (neural and hybrid modes; default: models/default/)')
    .option('-k, --k <n>', 'number of results (one per document)', kOption, SEARCH_DEFAULTS.k)
    .addOption(new Option('--mode <mode>', 'ranking: neural (Hypencoder q-net), lexical (BM25) or hybrid (both fused)').choices(SEARCH_MODES))
    .addOption(
      new Option('--scorer <scorer>', 'neural scorer: onnx (onnxruntime-node, float32) or reference (Float64 oracle, slow)')
        .choices(['onnx', 'reference'])
        .default('onnx'),
    )
    .option('--no-typos', 'no typo tolerance: a query word no document holds matches nothing (default: it also matches the nearest corpus words)')
    .option(
      '--filter <key:value>',
      'keep pages with this filter value (repeatable: values of one key are alternatives, different keys must all match); the results then show facet counts',
      collectFilters,
      {},
    )
    .option('--sort <key[:asc|desc]>', "order the best 100 pages by a sort key's value (ascending unless :desc), then show k")
    .option('--approximate', APPROXIMATE_HELP)
    .option('--json', 'print the results as JSON')
    .action(
      async (
        query: string,
        opts: {
          index: string[];
          model?: string;
          k: number;
          mode?: SearchMode;
          scorer: NodeScorer;
          typos: boolean;
          filter: FilterSelection;
          sort?: string;
          approximate?: boolean;
          json?: boolean;
        },
      ) => {
        needIndex(opts.index);
        const sort = opts.sort === undefined ? null : cliArg(() => parseSortSpec(opts.sort!));
        // Without --mode: hybrid when a model is at hand, else BM25 alone (said on stderr).
        let mode = opts.mode;
        if (!mode && !opts.model && !existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'))) {
          mode = 'lexical';
          process.stderr.write('no model given and no default model: lexical (BM25) ranking; pass --model <dir> for neural and hybrid\n');
        } else if (!mode && !opts.model && !(await builtWithDefaultModel(opts.index[0]))) {
          // The default model cannot score an index another model built; BM25 still can.
          mode = 'lexical';
          process.stderr.write(
            `the index was built with another model than the default (${DEFAULT_MODEL_DIR}): lexical (BM25) ranking; pass --model <dir> for neural and hybrid\n`,
          );
        }
        if (query === '-') query = await readStdinQuery();
        const engine = await openEngine(opts.index, opts.model, mode, opts.scorer);
        mode ??= engine.hasLexical() ? 'hybrid' : 'neural';
        const r = await engine.search(query, mode, opts.k, { typos: opts.typos, filters: opts.filter, sort, approximate: opts.approximate });
        await engine.close();
        if (r.notice) process.stderr.write(`note: ${r.notice}\n`);
        for (const c of r.corrections ?? [])
          process.stderr.write(`note: no document has ${JSON.stringify(c.word)}; also searched ${c.to.map((w) => JSON.stringify(w)).join(', ')}\n`);
        process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : formatResults(r));
      },
    );

  program
    .command('eval')
    .description('evaluate an index on judged queries: nDCG@10, MRR@10, recall@100 and MAP as trec_eval defines them')
    .option('-i, --index <dir>', INDEX_HELP, collectIndex, [])
    .requiredOption('--queries <file>', 'queries, JSONL {"id", "text"} per line')
    .requiredOption('--qrels <file>', 'judgments: TREC "qid 0 docid rel" or BEIR "qid docid rel" lines')
    .option('-m, --model <dir>', 'model bundle the index was built with (neural and hybrid; default: models/default/)')
    .addOption(new Option('--mode <mode>', 'ranking').choices(SEARCH_MODES).default(SEARCH_DEFAULTS.mode))
    .addOption(
      new Option('--engine <engine>', 'node (onnxruntime-node, or --scorer reference) or browser (headless Chromium, WebGPU)')
        .choices(['node', 'browser'])
        .default('node'),
    )
    .option('-k, --k <n>', 'documents ranked per query', kOption, 100)
    .addOption(
      new Option('--scorer <scorer>', 'node engine: onnx (onnxruntime-node, float32) or reference (Float64 oracle, slow)')
        .choices(['onnx', 'reference'])
        .default('onnx'),
    )
    .option('--run <file>', 'also write the ranking as a TREC run file (qid Q0 docid rank score tag)')
    .option('--no-typos', 'no typo tolerance (as search --no-typos)')
    .option('--approximate', APPROXIMATE_HELP)
    .option('--json', 'print one JSON object (metrics, per_query)')
    .action(async (opts: EvalOptions) => {
      const r = await runEval(opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(`${r.mode} (${r.engine}) on ${r.queries} queries:\n`);
        for (const k of METRIC_NAMES) process.stdout.write(`  ${k.padEnd(11)} ${r[k].toFixed(4)}\n`);
      }
    });
}

export async function verifyIndex(indexDir: string, modelDir?: string): Promise<{ ok: true; message: string; docCount: number; modelChecked: boolean }> {
  if (isShardListFolder(indexDir)) return verifyShardList(indexDir, modelDir);
  const model = modelDir ? await loadModelWithEncoders(modelDir) : undefined;
  let idx: Awaited<ReturnType<typeof readIndexBundle>>;
  try {
    idx = await readIndexBundle(indexDir, { model });
    if (readsLexical(idx.manifest)) {
      const ranker = await openLexicalRanker(idx.manifest, idx.metadata, documentGroups(idx.metadata), lexicalFiles(indexDir, idx), setMembers(indexDir));
      await ranker.prepareAll();
    }
    if (idx.manifest.documents) await verifyDocumentsPart(indexDir, idx);
  } catch (e) {
    throw new CliError(`${indexDir}: ${(e as Error).message}`, 1);
  }
  const m = idx.manifest;
  const message =
    `${indexDir}: OK — ${m.docCount} passages, dim ${m.dim}, ${m.storage.dtype}, ${m.vectorTiles.length} vector tile(s), ${m.metadataShards.length} metadata shard(s)` +
    `${m.graph ? `, graph degree ${m.graph.degree}` : ''}${m.lexical ? `, lexical ${m.lexical.scheme}` : ''}; all ${m.files.length} files match their length and SHA-256; ` +
    (model
      ? `built with ${model.model.id} (model.json ${model.modelJsonSha256.slice(0, 12)}…)`
      : `model ${m.model.id} not checked (pass --model <dir> to check it)`);
  return { ok: true, message, docCount: m.docCount, modelChecked: Boolean(model) };
}

/** A shard list: each shard checked against the list (manifest hash, model, counts), then verified whole as a bundle of its own. */
async function verifyShardList(dir: string, modelDir?: string): Promise<{ ok: true; message: string; docCount: number; modelChecked: boolean }> {
  const model = modelDir ? await loadModelWithEncoders(modelDir) : undefined;
  let set: Awaited<ReturnType<typeof readIndexSet>>;
  try {
    set = await readIndexSet([dir], { model });
  } catch (e) {
    throw new CliError((e as Error).message, 1);
  }
  for (const b of set.bundles) await verifyIndex(b.dir, modelDir);
  const { list } = set.lists[0];
  const message =
    `${dir}: OK — shard list of ${list.shards.length} shard(s), ${list.documents} documents, ${list.passages} passages` +
    `${list.lexical ? ', BM25 weights of the whole collection' : ''}; every shard's manifest.json matches the list and every shard verifies as a bundle; ` +
    (model ? `built with ${model.model.id}` : `model ${list.model.id} not checked (pass --model <dir> to check it)`);
  return { ok: true, message, docCount: list.passages, modelChecked: Boolean(model) };
}

async function openEngine(indexDir: string[], model: string | undefined, mode: SearchMode | undefined, scorer: NodeScorer = 'onnx'): Promise<NodeSearchEngine> {
  const needsModel = mode !== 'lexical';
  return NodeSearchEngine.open(indexDir, needsModel ? resolveModelDir(model) : null, { scorer });
}

/** Standard input as the query: at most STDIN_QUERY_BYTES are read (boundQuery keeps far fewer). */
const STDIN_QUERY_BYTES = 1 << 20;
async function readStdinQuery(): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    n += c.length;
    if (n >= STDIN_QUERY_BYTES) break;
  }
  process.stdin.destroy();
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, STDIN_QUERY_BYTES)).trim();
}

/** Text output: every string from a document goes through terminalText (no escape sequences reach the terminal). */
function formatResults(r: SearchResult): string {
  const t = terminalText;
  if (r.hits.length === 0) return `no results for ${JSON.stringify(r.query)} (${r.mode})\n`;
  const lines = r.hits.map(
    (h) =>
      `${String(h.rank).padStart(3)}. ${t(h.title || h.id)}  [${t(h.docId)}]  ${h.score.toFixed(4)}\n     ${h.url ? `${t(displayUrl(h.url))}\n     ` : ''}${t(h.snippet)}\n` +
      (h.sections ?? []).map((s) => `       › ${t(s.title)}${s.url ? `  ${t(displayUrl(s.url))}` : ''}\n`).join(''),
  );
  const fusion = r.fusion ? `, neural weight ${r.fusion.neuralWeight.toFixed(2)} (top-100 agreement with BM25 ${r.fusion.agreement.toFixed(2)})` : '';
  // Facets: each key's values with their page counts, most first.
  const facets = Object.entries(r.facets ?? {}).map(
    ([key, values]) =>
      `${t(key)}: ${Object.entries(values)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([v, n]) => `${t(v)} (${n})`)
        .join(', ')}\n`,
  );
  return `${lines.join('')}${facets.join('')}(${r.mode}, ${r.ms.toFixed(0)} ms${fusion})\n`;
}

export interface EvalOptions {
  /** One or more folders (bundles or shard lists), searched as one collection. */
  index: string | string[];
  queries: string;
  qrels: string;
  model?: string;
  mode: SearchMode;
  engine: 'node' | 'browser';
  k: number;
  run?: string;
  scorer?: NodeScorer;
  /** Typo tolerance (default on; --no-typos sets false). */
  typos?: boolean;
  /** Neural passages from the graph walk (Node engine). */
  approximate?: boolean;
  json?: boolean;
}

export interface Query {
  id: string;
  text: string;
}

export async function readQueries(file: string): Promise<Query[]> {
  let text: string;
  try {
    text = decodeUtf8Strict(new Uint8Array(await readFile(file)), file);
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, 2);
    throw new CliError(`${file}: cannot read (${(e as Error).message})`, 2);
  }
  const out: Query[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new CliError(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`, 2);
    }
    const id = v?.id ?? v?._id ?? v?.qid;
    const q = v?.text ?? v?.query;
    if (typeof id !== 'string' && typeof id !== 'number') throw new CliError(`${file}:${i + 1}: "id" is missing`, 2);
    if (typeof q !== 'string') throw new CliError(`${file}:${i + 1}: "text" is missing or not a string`, 2);
    if (seen.has(String(id))) throw new CliError(`${file}:${i + 1}: duplicate query id ${JSON.stringify(String(id))}`, 2);
    seen.add(String(id));
    out.push({ id: String(id), text: q });
  });
  if (out.length === 0) throw new CliError(`${file}: holds no queries`, 2);
  return out;
}

export type EvalOutput = Record<(typeof METRIC_NAMES)[number], number> & {
  queries: number;
  mode: SearchMode;
  engine: 'node' | 'browser';
  k: number;
  index: string;
  per_query: EvalResult['perQuery'];
  skipped_queries: string[];
  seconds: number;
};

export async function runEval(opts: EvalOptions): Promise<EvalOutput> {
  const indexDirs = typeof opts.index === 'string' ? [opts.index] : opts.index;
  needIndex(indexDirs);
  if (opts.run !== undefined) checkOutputFile(opts.run, '--run'); // before any search runs
  const queries = await readQueries(opts.queries);
  let qrels: Qrels;
  try {
    qrels = parseQrels(decodeUtf8Strict(new Uint8Array(await readFile(opts.qrels)), opts.qrels), opts.qrels);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const t0 = performance.now();
  const results = new Map<string, { id: string; score: number }[]>();
  if (opts.engine === 'browser') {
    if (opts.approximate)
      throw new CliError('--approximate runs in the Node engine (the page walks the graph with approximate="on"); drop --engine browser', 2);
    const { browserSearchAll } = await import('./browserEngine.ts');
    // The page engine loads the model even for lexical ranking (its neural side is always ready).
    const modelDir = resolveModelDir(opts.model);
    const all = await browserSearchAll(indexDirs, modelDir, queries, opts.mode, opts.k, opts.typos !== false);
    for (const [qid, hits] of all) results.set(qid, hits);
  } else {
    const engine = await openEngine(indexDirs, opts.model, opts.mode, opts.scorer);
    for (const q of queries) {
      const r = await engine.search(q.text, opts.mode, opts.k, { typos: opts.typos !== false, approximate: opts.approximate });
      results.set(
        q.id,
        r.hits.map((h) => ({ id: h.docId, score: h.score })),
      );
    }
    await engine.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (opts.run) await writeRunFile(opts.run, queries, results, `hypencoder-web.${opts.mode}.${opts.engine}`);
  const ev = evaluate(new Map([...results].map(([q, hits]) => [q, hits.map((h) => h.id)])), qrels);
  return {
    ...ev.mean,
    queries: ev.queries,
    mode: opts.mode,
    engine: opts.engine,
    k: opts.k,
    index: indexDirs.join(' '),
    per_query: ev.perQuery,
    skipped_queries: ev.skipped,
    seconds,
  };
}

async function writeRunFile(file: string, queries: Query[], results: Map<string, { id: string; score: number }[]>, tag: string): Promise<void> {
  await writeStreamAtomic(file, (put) => {
    for (const q of queries) put(trecRunLines(q.id, results.get(q.id) ?? [], tag));
  });
}

/** Whether the index's manifest (or shard list) names the default model (by model.json's SHA-256). */
async function builtWithDefaultModel(indexDir: string): Promise<boolean> {
  try {
    const file = isShardListFolder(indexDir) ? SHARD_LIST_FILE : 'manifest.json';
    const manifest = JSON.parse(new TextDecoder().decode(await readBundleFile(indexDir, file))) as { model?: { sha256?: unknown } };
    return manifest.model?.sha256 === (await sha256Hex(await readBundleFile(DEFAULT_MODEL_DIR, 'model.json')));
  } catch {
    return true; // an unreadable manifest: let the engine report it precisely
  }
}
