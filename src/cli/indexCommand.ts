// `hypencoder-web index <input> --out <dir>`: documents → an index bundle (docs/FORMATS.md), as a
// pipeline of named stages (src/cli/indexStages/), each a function of the job and what the stages
// before it returned:
//   prepareJob      the output folder checked and locked, the options and the model checked
//                   (nothing is written before everything that can be refused is refused)
//   ingestPassages  every input file read and validated (its bytes to the ingester its type
//                   picks, src/core/ingest/registry.ts), split into passages to the model's limit
//   encodePassages  tile by tile with onnxruntime-node into a work folder beside --out (resumable)
//   storePassages   locality order (--locality), storage dtype, metadata shards
//   buildGraph      neighbor graph and entry points;  buildLexical  the Lunr index
//   writeBundle     written to a temporary folder and renamed into place; work folder removed
// Same input, model and options → byte-identical bundle.
import { type Command, Option } from 'commander';
import { DEFAULT_STORAGE_DTYPE, STORAGE_DTYPES } from '../core/vectorStorage.ts';
import { LEXICAL_INDEX_KINDS, OPTION_RANGES, intOption } from './indexOptions.ts';
import { encodePassages } from './indexStages/encode.ts';
import { buildGraph } from './indexStages/graph.ts';
import { ingestPassages } from './indexStages/ingest.ts';
import { DEFAULT_BATCH, DEFAULT_GRAPH_DEGREE, DEFAULT_TILE_DOCS, type IndexOptions, type IndexSummary, prepareJob } from './indexStages/job.ts';
import { buildLexical } from './indexStages/lexical.ts';
import { MAX_SHARDS, checkShardCount, checkShardOptions, writeShards } from './indexStages/shards.ts';
import { storePassages } from './indexStages/store.ts';
import { writeBundle } from './indexStages/write.ts';

export type { IndexOptions, IndexSummary } from './indexStages/job.ts';

export function registerIndex(program: Command): void {
  const index = program
    .command('index')
    .description('encode documents (JSONL, or a folder of Markdown / HTML / text files) into an index bundle')
    .argument('<input>', 'a .jsonl file ({"id","title","text","url",...} per line), or a folder of .md/.html/.txt/.jsonl files')
    .requiredOption('-o, --out <dir>', 'the index bundle folder to create')
    .option('-m, --model <dir>', 'model bundle (default: models/default/)')
    .addOption(new Option('--dtype <dtype>', 'vector storage').choices(STORAGE_DTYPES).default(DEFAULT_STORAGE_DTYPE))
    .option('--force', 'replace --out if it already holds something')
    .option('--tile-docs <n>', 'documents per vector tile (also the unit of resumption)', intOption('--tile-docs', OPTION_RANGES.tileDocs), DEFAULT_TILE_DOCS)
    .option('--batch-size <n>', 'documents per encoder call', intOption('--batch-size', OPTION_RANGES.batchSize), DEFAULT_BATCH)
    .addOption(
      new Option('--long <how>', "documents over the model's token limit: split into passages, or truncate for the encoder")
        .choices(['split', 'truncate'])
        .default('split'),
    )
    .option('--graph-degree <k>', 'neighbors per document in the neighbor graph', intOption('--graph-degree', OPTION_RANGES.graphDegree), DEFAULT_GRAPH_DEGREE)
    .addOption(
      new Option(
        '--graph-method <m>',
        'neighbor graph: exact k-NN, HNSW k-NN lists, or HNSW layer-0 links (degree-bounded, long links; for approximate search); auto = exact up to 1000 passages, else hnsw',
      )
        .choices(['auto', 'exact', 'hnsw', 'hnsw0'])
        .default('auto'),
    )
    .option(
      '--entry-points <n>',
      'store about n k-means entry points for approximate graph search in the manifest (graph.entry_points); 0 = none',
      intOption('--entry-points', OPTION_RANGES.entryPoints),
      0,
    )
    .option(
      '--locality',
      "store passages in locality order — the k-means entry points first, then each k-means leaf's passages together — so an approximate search fetches few chunks of a lazily loaded index (metadata, lexical index and graph follow the order; implies --entry-points, default about sqrt(passages))",
    )
    .option(
      '--chunk-docs <n>',
      'write the SHA-256 of every n rows of the vector tiles and graph shards (files[i].chunks) so clients can fetch them lazily with Range requests; needs entry points',
      intOption('--chunk-docs', OPTION_RANGES.chunkDocs),
    )
    .option('--no-graph', 'write no neighbor graph')
    .addOption(
      new Option('--lexical <kind>', "lexical (BM25) index: term chunks a query fetches only some of, or Lunr's one JSON (older clients read only that)")
        .choices(LEXICAL_INDEX_KINDS)
        .default('chunked'),
    )
    .option('--no-lexical', 'write no lexical (BM25) index')
    .option('--base-url <url>', 'prefix for page URLs of a folder input: an http(s) URL or a site path such as /docs/ (default: paths relative to the folder)')
    .option('--follow-external-links', 'follow symbolic links in the input folder that lead outside it (default: skipped and counted)');
  addContentOptions(index)
    .option(
      '--filter-field <key>',
      'JSONL: a record key whose value (a string, number or boolean, or a list of them) becomes filter values (repeatable); HTML pages name theirs with data-hypencoder-filter',
      collect,
    )
    .option(
      '--sort-field <key>',
      'JSONL: a record key whose value pages can be sorted by (repeatable); HTML pages name theirs with data-hypencoder-sort',
      collect,
    )
    .option(
      '--shards <k>',
      'write k bundles of whole pages, contiguous and balanced by passages, and their shard list (shards.json); searched together they rank as the one bundle would',
      intOption('--shards', [1, MAX_SHARDS]),
    )
    .option('--no-resume', 'start over even if an interrupted run left finished tiles')
    .option(
      '--dask <where>',
      'encode the tiles as Dask tasks: local:N (a local cluster of N workers for this run) or a scheduler address (tcp://host:8786; every worker needs this package and the model at the same path); the bundle is byte-identical to a run without it',
    )
    .option('--threads <n>', 'onnxruntime threads (default: all cores; more than the cores are capped to them)', intOption('--threads', OPTION_RANGES.threads))
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (input: string, opts: IndexOptions) => {
      const s = await runIndex(input, opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    });
}

/** The index pipeline: each stage a function of the job and the stages before it (src/cli/indexStages/). */
export async function runIndex(input: string, opts: IndexOptions): Promise<IndexSummary> {
  const job = await prepareJob(input, opts);
  checkShardOptions(job);
  const ingested = await ingestPassages(job);
  checkShardCount(job, ingested.passages);
  const encoded = await encodePassages(job, ingested);
  if (opts.shards !== undefined) return writeShards(job, ingested, encoded);
  const stored = storePassages(job, ingested.passages, encoded);
  const graph = buildGraph(job, stored);
  const lexical = await buildLexical(job, stored);
  return writeBundle(job, { ingested, encoded, stored, graph, lexical });
}

/** What of a folder is content: HTML root and exclude selectors, file globs (the index and site commands). */
export function addContentOptions(command: Command): Command {
  return command
    .option(
      '--root-selector <css>',
      'HTML pages: the element that holds the content (its first match; a page without one is not indexed); default <main>, else <body> without header/footer',
    )
    .option(
      '--exclude-selectors <css>',
      'HTML pages: elements to leave out, e.g. "div.navheader, div.navfooter" (repeatable); elements with data-hypencoder-ignore are always left out',
      collect,
    )
    .option(
      '--glob <pattern>',
      'a folder\'s files to index, by path relative to it (picomatch, e.g. "**/*.html"; repeatable; default: every file it reads)',
      collect,
    )
    .option('--exclude-glob <pattern>', 'files to leave out, e.g. "genindex.html" or "_static/**" (repeatable)', collect);
}

/** A repeatable option's values, in the order given. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
