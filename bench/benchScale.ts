// `npm run bench:scale -- [--json] [options]`: exhaustive vs approximate (graph walk) q-net search at
// N = 10k, 100k, 1M documents, on the CPU in Node (issue 7; docs/INDEXING.md, "Approximate search").
//
// Per N: synthetic clustered vectors (seeded), a locality layout (src/core/graphBuild.ts: entry
// points first, then documents by two-level k-means leaf), the neighbor graph on the reordered
// vectors (src/cli/annGraph.ts), all cached under bench-results/scale-cache/ (gitignored) so reruns
// skip the build. Vectors are stored and scored as fp16 (--dtype f32 to change).
// Per query (a q-net: random, or from the model's query encoder with --qnets model):
//   exhaustive: every document scored (onnxruntime-node, the q-net as ONNX, src/core/qnetOnnx.ts);
//   graph rows: src/core/graphSearch.ts with the same scorer on gathered rows, one row per variant.
// Recall@10 is against the exhaustive top 10 of the same scorer; the exhaustive top 10's scores are
// checked against src/core/qnet.ts's referenceScores (the Float64 oracle) for every query.
// cold_bytes_share: bytes a cold client fetches for the query (chunks of --chunk-docs rows of the
// vector and graph files that the walk asked to load, plus the manifest's entry list) over the
// index's vector + graph bytes.
// stdout: one JSON object per (N, data, mode, variant) with --json (a table otherwise); stderr: progress.
// --browser also runs bench/benchScaleBrowser.ts (the WebGPU rows, another driver's options:
// --json --n --queries --k --beam are passed); its JSON lines are passed through.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { type GraphMethod, buildNeighborGraph, HNSW_EF_CONSTRUCTION } from '../src/cli/annGraph.ts';
import { writeFileAtomicSync } from '../src/cli/atomicWrite.ts';
import { runIndex } from '../src/cli/indexCommand.ts';
import { loadModelWithEncoders } from '../src/cli/modelDir.ts';
import { loadOnnxRuntimeNode, type OnnxRuntimeNode } from '../src/cli/onnxRuntime.ts';
import { readIndexBundle } from '../src/cli/readBundle.ts';
import { qnetWeightsFromOutputs } from '../src/core/formats/index.ts';
import { addReverseLinks, localityLayout, permuteVectors, randomEntryPoints } from '../src/core/graphBuild.ts';
import { graphSearch, graphViewOf } from '../src/core/graphSearch.ts';
import { gaussianFrom, paperArchitecture, type QNetWeights, randomVectors, randomWeights, referenceScores, seededRandom } from '../src/core/qnet.ts';
import { buildQNetOnnx, QNET_ONNX_INPUT, QNET_ONNX_OUTPUT } from '../src/core/qnetOnnx.ts';
import { BertWordPieceTokenizer } from '../src/core/tokenizer.ts';
import { decodeVectors, encodeVectors } from '../src/core/vectorStorage.ts';
import { messageOf } from './benchPage.ts';
import { integer, integers, oneOf, parseFlags } from './options.ts';
import { mean, median } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run bench:scale -- [options]
  --json             one JSON object per row on stdout (default: a table)
  --n LIST           document counts (default 10000,100000,1000000)
  --d D              vector size (default 100)
  --hidden LIST      q-net hidden sizes (default D,D: two hidden layers of width D)
  --queries Q        queries per N (default 20)
  --data SRC         synthetic (default): clustered Gaussian vectors (--spread);
                     demo: data/demo/python-docs.jsonl indexed with --model by the index command
                       (--locality, hnsw0 graph, f16; N = its passage count, --n is ignored);
                     derived: N vectors made from the demo corpus's real document vectors (each a
                       mix of a real vector and one of its 4 nearest, plus Gaussian noise of
                       --noise × the median nearest-neighbor distance, then every dimension
                       rescaled to the real vectors' mean and standard deviation)
  --qnets SRC        random (default for synthetic) | model (default for demo/derived): the model's
                     query encoder on the demo example queries, then passage titles and sentences
  --model DIR        model bundle for --qnets model / --data demo|derived (default models/default)
  --noise B          derived: noise scale (default 0.5)
  --long HOW         demo: passages longer than the model's token limit: split (the index
                     command's default) or truncate (one vector per corpus passage; default)
  --corpus FILE      demo corpus (default data/demo/python-docs.jsonl)
  --dtype T          f16 (default) | f32: stored and scored vectors
  --entries E        k-means entry points (default: ~sqrt(N)·1, at least 64, at most 2048)
  --degree R         graph degree (default 32; hnsw0: 2·M)
  --probes LIST      variant probe: score the entry points, then every document of the leaves of
                     the best P of them (contiguous in the layout), then the best-first walk
                     (pools: the first two of --pools); needs a dataset built with leaf-start.u32
  --piece-docs P     locality layout: split leaves into k-means pieces of about P documents
                     (default none; a new dataset folder)
  --ef-construction E  HNSW efConstruction of the graph build (default 128; 64 was the first setting)
  --beam B           documents expanded per round in our rows (default 8)
  --pools LIST       best-first pool sizes (HNSW's ef) to measure (default 64,128)
  --paper            also the paper's setting (10,000 random entry points or N/10, beam 50, 16 rounds)
  --knn              also a plain k-NN list graph (hnswlib k-NN answers) for comparison (slow at 1M)
  --spread LO,HI     per-cluster standard deviation range of the synthetic data (default 0.3,0.8;
                     centers are unit Gaussians, so 0.3–0.8 is well separated islands, 1–2 overlapping)
  --chunk-docs LIST  rows per lazily fetched chunk for cold_bytes (default 256; the first is
                     cold_bytes_share, all are in cold_bytes_share_by_chunk)
  --variants LIST    walk variants (default paper-walk,best-first,adaptive,random-entries; --paper
                     and --knn add theirs): paper, paper-walk, best-first, adaptive, random-entries,
                     knn, revlinks (hnsw0 rows with their padding filled by addReverseLinks)
  --k K              top-k (default 10)
  --browser          also run bench/benchScaleBrowser.ts if present (WebGPU rows)
  --cache DIR        dataset cache (default bench-results/scale-cache)`;

type DataSource = 'synthetic' | 'demo' | 'derived';
type QNetSource = 'random' | 'model';

interface Options {
  json: boolean;
  n: number[];
  d: number;
  hidden: number[];
  queries: number;
  qnets: QNetSource;
  data: DataSource;
  noise: number;
  long: 'split' | 'truncate';
  corpus: string;
  model: string | null;
  dtype: 'f16' | 'f32';
  entries: number | null;
  degree: number;
  beam: number;
  pools: number[];
  paper: boolean;
  knn: boolean;
  chunkDocs: number;
  chunkList: number[];
  variants: string[];
  efc: number;
  pieceDocs: number | null;
  probes: number[];
  spread: number[];
  k: number;
  browser: boolean;
  cache: string;
}

const VARIANTS = ['paper', 'paper-walk', 'best-first', 'adaptive', 'random-entries', 'knn', 'revlinks', 'probe'];

function parseArgs(argv: string[]): Options {
  const f = parseFlags(
    argv,
    {
      strings: [
        'n',
        'd',
        'hidden',
        'queries',
        'qnets',
        'data',
        'noise',
        'long',
        'corpus',
        'model',
        'dtype',
        'entries',
        'degree',
        'ef-construction',
        'piece-docs',
        'probes',
        'beam',
        'pools',
        'spread',
        'chunk-docs',
        'variants',
        'k',
        'cache',
      ],
      booleans: ['json', 'paper', 'knn', 'browser'],
    },
    USAGE,
  );
  const int = (name: 'd' | 'queries' | 'degree' | 'ef-construction' | 'beam' | 'k', fallback: number) => {
    const v = f[name];
    return v === undefined ? fallback : integer(`--${name}`, v);
  };
  const list = (name: 'n' | 'hidden' | 'probes' | 'pools' | 'chunk-docs', fallback: number[]) => {
    const v = f[name];
    return v === undefined ? fallback : integers(`--${name}`, v);
  };
  const data = oneOf<DataSource>('--data', f.data ?? 'synthetic', ['synthetic', 'demo', 'derived']);
  const d = int('d', 100);
  const noise = Number(f.noise ?? 0.5);
  if (!(noise >= 0)) throw new Error('--noise needs a number >= 0');
  const spread = (f.spread ?? '0.3,0.8').split(',').map(Number);
  if (spread.length !== 2 || !spread.every((x) => x > 0) || spread[0] > spread[1])
    throw new Error(`--spread needs LO,HI with 0 < LO <= HI, got ${spread.join(',')}`);
  const chunkList = list('chunk-docs', [256]);
  const variants = f.variants?.split(',') ?? [
    'paper-walk',
    'best-first',
    'adaptive',
    'random-entries',
    ...(f.paper ? ['paper'] : []),
    ...(f.knn ? ['knn'] : []),
  ];
  for (const x of variants) if (!VARIANTS.includes(x)) throw new Error(`--variants: unknown variant ${x} (known: ${VARIANTS.join(', ')})`);
  return {
    json: f.json ?? false,
    n: data === 'demo' ? [0] : list('n', [10000, 100000, 1000000]),
    d,
    hidden: list('hidden', [d, d]),
    queries: int('queries', 20),
    qnets: f.qnets ? oneOf<QNetSource>('--qnets', f.qnets, ['random', 'model']) : data === 'synthetic' ? 'random' : 'model',
    data,
    noise,
    long: oneOf('--long', f.long ?? 'truncate', ['split', 'truncate']),
    corpus: resolve(f.corpus ?? join(root, 'data', 'demo', 'python-docs.jsonl')),
    model: f.model ?? null,
    dtype: oneOf('--dtype', f.dtype ?? 'f16', ['f16', 'f32']),
    entries: f.entries === undefined ? null : integer('--entries', f.entries),
    degree: int('degree', 32),
    beam: int('beam', 8),
    pools: list('pools', [64, 128]),
    paper: (f.paper ?? false) || variants.includes('paper'),
    knn: (f.knn ?? false) || variants.includes('knn'),
    chunkDocs: chunkList[0],
    chunkList,
    variants,
    efc: int('ef-construction', 128),
    pieceDocs: f['piece-docs'] === undefined ? null : integer('--piece-docs', f['piece-docs']),
    probes: list('probes', [4, 16]),
    spread,
    k: int('k', 10),
    browser: f.browser ?? false,
    cache: resolve(f.cache ?? join(root, 'bench-results', 'scale-cache')),
  };
}

const log = (...a: unknown[]) => console.error('[bench:scale]', ...a);
const now = () => performance.now();

/** One neighbor graph of a dataset (rows padded with 0xffffffff). */
interface Graph {
  rows: Uint32Array;
  degree: number;
  buildSeconds?: number;
  efConstruction: number;
}

/** Vectors in layout order (as stored), entry points and graphs, cached in `dir`. */
interface Dataset {
  dir: string;
  /** Set where the data decides N (the demo corpus). */
  n?: number;
  vectors: Float32Array;
  entryIds: Uint32Array;
  leafStart?: Uint32Array | null;
  graphs: Record<string, Graph>;
  label: string;
  timings: Record<string, number>;
}

/** A query's q-net; `kind` says where a model query's text came from. */
interface Net {
  name: string;
  kind?: string;
  weights: QNetWeights;
}

type Row = Record<string, unknown>;

function writeAtomic(file: string, data: Uint8Array | string) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicSync(file, data);
}
function readCached<T>(file: string, Type: { new (buf: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T | null {
  if (!existsSync(file)) return null;
  const b = readFileSync(file);
  return new Type(b.buffer, b.byteOffset, b.byteLength / Type.BYTES_PER_ELEMENT);
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
/** ~sqrt(N) k-means entry points, at least 64, at most 2048 (--entries overrides). */
const entryCountFor = (o: Options, n: number) => o.entries ?? Math.min(2048, Math.max(64, Math.round(Math.sqrt(n))));

/** Synthetic clustered vectors: N/500 unit-Gaussian centers (at least 20), per-cluster spread uniform in --spread, sizes uneven. */
function syntheticVectors(n: number, d: number, seed: number, spreadLo: number, spreadHi: number): Float32Array {
  const r = seededRandom(seed);
  const g = gaussianFrom(r);
  const c = Math.max(20, Math.round(n / 500));
  const centers = randomVectors(c, d, r);
  const spread = Float32Array.from({ length: c }, () => spreadLo + (spreadHi - spreadLo) * r());
  const weight = Float64Array.from({ length: c }, () => r() ** 2 + 0.05);
  const cum = new Float64Array(c);
  let s = 0;
  for (let i = 0; i < c; i++) cum[i] = s += weight[i];
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const x = r() * s;
    let lo = 0;
    let hi = c - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cum[m] < x) lo = m + 1;
      else hi = m;
    }
    for (let t = 0; t < d; t++) v[i * d + t] = centers[lo * d + t] + spread[lo] * g();
  }
  return v;
}

/** The neighbor graph(s) of a dataset folder (cached there as graph-<method>-<degree>.u32 + .json). */
function graphsOf(o: Options, dir: string, vectors: Float32Array, n: number): Record<string, Graph> {
  const graphs: Record<string, Graph> = {};
  const wanted: [GraphMethod, number][] = [['hnsw0', o.degree]];
  if (o.knn) wanted.push(['hnsw', o.degree]);
  for (const [method, degree] of wanted) {
    const name = `graph-${method}-${degree}${o.efc === 64 ? '' : `-efc${o.efc}`}`; // efc 64: the first runs' file names
    const file = join(dir, `${name}.u32`);
    let rows: Uint32Array | null = readCached(file, Uint32Array);
    if (!rows) {
      const t = now();
      log(`N=${n}: building ${method} graph, degree ${degree}…`);
      const g = buildNeighborGraph(vectors, n, o.d, degree, method, o.efc);
      rows = g.rows;
      const s = (now() - t) / 1000;
      log(`N=${n}: ${method} graph ${s.toFixed(1)} s`);
      writeAtomic(file, bytesOf(rows));
      writeAtomic(join(dir, `${name}.json`), JSON.stringify({ seconds: s, degree: g.degree, efConstruction: o.efc }));
    }
    const meta = readJson(join(dir, `${name}.json`));
    graphs[method] = { rows, degree: meta.degree, buildSeconds: meta.seconds, efConstruction: meta.efConstruction ?? 64 };
  }
  return graphs;
}

/** Raw vectors → cached folder: locality layout, stored precision, entries. */
function layoutAndStore(o: Options, dir: string, n: number, make: () => Float32Array) {
  const entries = entryCountFor(o, n);
  let vectors: Float32Array | null = readCached(join(dir, 'vectors.f32'), Float32Array);
  let entryIds: Uint32Array | null = readCached(join(dir, 'entries.u32'), Uint32Array);
  if (!vectors || !entryIds) {
    const timings: Record<string, number> = {};
    let t = now();
    const raw = make();
    timings.generate_s = (now() - t) / 1000;
    t = now();
    const layout = localityLayout(raw, n, o.d, entries, 7, o.pieceDocs ? { pieceDocs: o.pieceDocs } : {});
    timings.layout_s = (now() - t) / 1000;
    log(`N=${n}: locality layout (${layout.leaves} leaves) ${timings.layout_s.toFixed(1)} s`);
    vectors = permuteVectors(raw, n, o.d, layout.order);
    // Stored precision: the graph, the scores and the exhaustive reference all see what a client decodes.
    if (o.dtype !== 'f32') vectors = decodeVectors(encodeVectors(vectors, n, o.d, o.dtype));
    entryIds = layout.entryPoints;
    writeAtomic(join(dir, 'vectors.f32'), bytesOf(vectors));
    writeAtomic(join(dir, 'entries.u32'), bytesOf(entryIds));
    writeAtomic(join(dir, 'leaf-start.u32'), bytesOf(layout.leafStart));
    writeAtomic(join(dir, 'timings.json'), JSON.stringify(timings));
  }
  return { vectors, entryIds, leafStart: readCached(join(dir, 'leaf-start.u32'), Uint32Array) };
}

/** Synthetic clustered dataset for N (cached): vectors in layout order (as stored), entries, graph(s). */
function dataset(o: Options, n: number): Dataset {
  const entries = entryCountFor(o, n);
  const dir = join(o.cache, `synthetic-n${n}-d${o.d}-s${o.spread.join('-')}-e${entries}${o.pieceDocs ? `-p${o.pieceDocs}` : ''}-${o.dtype}`);
  return storedDataset(o, dir, n, `synthetic-clustered-d${o.d}-spread${o.spread.join('-')}`, () =>
    syntheticVectors(n, o.d, 1000 + n, o.spread[0], o.spread[1]),
  );
}

/** A dataset of N made vectors (cached in `dir`): layout, stored precision, entries, graph(s). */
function storedDataset(o: Options, dir: string, n: number, label: string, make: () => Float32Array): Dataset {
  const { vectors, entryIds, leafStart } = layoutAndStore(o, dir, n, make);
  return { dir, vectors, entryIds, leafStart, graphs: graphsOf(o, dir, vectors, n), label, timings: readJson(join(dir, 'timings.json')) };
}

const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * The demo corpus indexed with the model by the index command itself (--locality, hnsw0, f16,
 * --chunk-docs), cached; vectors/entries/graph are also written in the cache's plain layout.
 */
async function demoDataset(o: Options): Promise<Dataset & { n: number }> {
  const modelDir = resolveModel(o);
  const key = `${sha256File(join(modelDir, 'model.json')).slice(0, 12)}-${sha256File(o.corpus).slice(0, 12)}`;
  const dir = join(o.cache, `demo-${key}-${o.long}-deg${o.degree}-${o.dtype}`);
  const indexDir = join(dir, 'index');
  if (!existsSync(join(indexDir, 'manifest.json'))) {
    log(`demo: indexing ${o.corpus} with ${modelDir} (locality order, hnsw0 degree ${o.degree})…`);
    const t = now();
    const s = await runIndex(o.corpus, {
      out: indexDir,
      model: modelDir,
      dtype: o.dtype,
      locality: true,
      graphMethod: 'hnsw0',
      graphDegree: o.degree,
      chunkDocs: o.chunkDocs,
      long: o.long,
      force: true,
      quiet: false,
      ...(o.entries ? { entryPoints: o.entries } : {}),
    });
    writeAtomic(
      join(dir, 'timings.json'),
      JSON.stringify({ index_s: (now() - t) / 1000, encode_s: s.encodeSeconds, layout_s: s.locality?.seconds, graph_s: s.graph?.seconds }),
    );
  }
  const idx = await readIndexBundle(indexDir);
  const n = idx.manifest.docCount;
  const graph = idx.manifest.graph;
  const entryIds = graph?.entryPoints;
  if (!graph || !entryIds) throw new Error(`${indexDir}: the index has no graph with entry points`);
  if (idx.manifest.dim !== o.d) throw new Error(`--data demo: the index has dim ${idx.manifest.dim}; pass --d ${idx.manifest.dim}`);
  const vectors = new Float32Array(n * o.d);
  let row = 0;
  for (const t of idx.tiles) {
    vectors.set(decodeVectors(t), row * o.d);
    row += t.n;
  }
  const rows = new Uint32Array(n * graph.degree);
  row = 0;
  for (const g of idx.graph) {
    rows.set(g, row);
    row += g.length;
  }
  // The plain cache layout too (bench/benchScaleBrowser.ts / scaleIndex --from-cache read it).
  if (!existsSync(join(dir, 'vectors.f32'))) {
    writeAtomic(join(dir, 'vectors.f32'), bytesOf(vectors));
    writeAtomic(join(dir, 'entries.u32'), bytesOf(entryIds));
    writeAtomic(join(dir, `graph-hnsw0-${o.degree}.u32`), bytesOf(rows));
    const timings = readJson(join(dir, 'timings.json'));
    writeAtomic(join(dir, `graph-hnsw0-${o.degree}.json`), JSON.stringify({ seconds: timings.graph_s, degree: graph.degree, efConstruction: 200 }));
  }
  const graphs: Record<string, Graph> = {
    hnsw0: {
      rows,
      degree: graph.degree,
      buildSeconds: readJson(join(dir, 'timings.json')).graph_s,
      efConstruction: HNSW_EF_CONSTRUCTION,
    },
  };
  if (o.knn) Object.assign(graphs, { hnsw: graphsOf({ ...o, knn: true }, dir, vectors, n).hnsw });
  return {
    dir,
    n,
    vectors,
    entryIds,
    graphs,
    label: `demo-python-docs-${o.long}-${key}`,
    timings: readJson(join(dir, 'timings.json')),
  };
}

/**
 * N vectors derived from the demo's real document vectors R (m × d): each is
 *   x = (1 − t)·R_i + t·R_j + ε,   i uniform, j one of i's 4 nearest (graph row), t ~ U(0, 0.5),
 *   ε ~ N(0, (noise · δ / sqrt(d))² I), δ = median distance of a real vector to its nearest,
 * and then every dimension is shifted and scaled to the real vectors' mean and standard deviation.
 */
function derivedVectors(real: Float32Array, m: number, d: number, realRows: Uint32Array, degree: number, n: number, noise: number, seed: number) {
  const r = seededRandom(seed);
  const g = gaussianFrom(r);
  const nn: number[] = [];
  for (let i = 0; i < m; i++) {
    const j = realRows[i * degree];
    if (j === 0xffffffff) continue;
    let s = 0;
    for (let t = 0; t < d; t++) s += (real[i * d + t] - real[j * d + t]) ** 2;
    nn.push(Math.sqrt(s));
  }
  const delta = median(nn);
  const sigma = (noise * delta) / Math.sqrt(d);
  const out = new Float32Array(n * d);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * m);
    let links = 0;
    while (links < Math.min(4, degree) && realRows[i * degree + links] !== 0xffffffff) links++;
    const j = links ? realRows[i * degree + Math.floor(r() * links)] : i;
    const t = 0.5 * r();
    for (let c = 0; c < d; c++) out[k * d + c] = (1 - t) * real[i * d + c] + t * real[j * d + c] + sigma * g();
  }
  const stats = (v: Float32Array, rows: number) => {
    const mu = new Float64Array(d);
    const sd = new Float64Array(d);
    for (let i = 0; i < rows; i++) for (let c = 0; c < d; c++) mu[c] += v[i * d + c];
    for (let c = 0; c < d; c++) mu[c] /= rows;
    for (let i = 0; i < rows; i++) for (let c = 0; c < d; c++) sd[c] += (v[i * d + c] - mu[c]) ** 2;
    for (let c = 0; c < d; c++) sd[c] = Math.sqrt(sd[c] / rows) || 1;
    return { mu, sd };
  };
  const want = stats(real, m);
  const have = stats(out, n);
  for (let k = 0; k < n; k++) for (let c = 0; c < d; c++) out[k * d + c] = want.mu[c] + ((out[k * d + c] - have.mu[c]) * want.sd[c]) / have.sd[c];
  return { vectors: out, delta, sigma };
}

function derivedDataset(o: Options, n: number, demo: Dataset & { n: number }): Dataset {
  const entries = entryCountFor(o, n);
  const dir = join(
    o.cache,
    `derived-${demo.label.replace('demo-python-docs-', '')}-n${n}-noise${o.noise}-e${entries}${o.pieceDocs ? `-p${o.pieceDocs}` : ''}-${o.dtype}`,
  );
  const g = demo.graphs.hnsw0;
  let info: { delta: number; sigma: number } | null = null;
  const ds = storedDataset(o, dir, n, `derived-from-demo-noise${o.noise}`, () => {
    const made = derivedVectors(demo.vectors, demo.n, o.d, g.rows, g.degree, n, o.noise, 2000 + n);
    info = { delta: made.delta, sigma: made.sigma };
    return made.vectors;
  });
  if (info) writeAtomic(join(dir, 'derived.json'), JSON.stringify(info));
  return ds;
}

function resolveModel(o: Options): string {
  const dir = resolve(o.model ?? join(root, 'models', 'default'));
  if (!existsSync(join(dir, 'model.json'))) throw new Error(`${dir}/model.json: no model bundle there; pass --model DIR`);
  return dir;
}

async function loadOrt(): Promise<OnnxRuntimeNode> {
  const ort = await loadOnnxRuntimeNode();
  if (!ort) throw new Error('onnxruntime-node is not installed: this benchmark scores on it');
  return ort;
}

/** q-nets: seeded random weights, or the model's query encoder on generated queries. */
async function qnets(o: Options, count: number): Promise<Net[]> {
  if (o.qnets === 'random') {
    const arch = paperArchitecture(o.d, o.hidden[0], o.hidden.length);
    arch.dims = [o.d, ...o.hidden, 1];
    arch.residual = o.hidden.map((h, j) => j < o.hidden.length - 1 && (j === 0 ? o.d : o.hidden[j - 1]) === h);
    return Array.from({ length: count }, (_, q) => ({ name: `random-${q}`, weights: randomWeights(arch, seededRandom(50_000 + q)) }));
  }
  const dir = resolveModel(o);
  const model = await loadModelWithEncoders(dir);
  if (model.model.qnet.dims[0] !== o.d)
    throw new Error(`--qnets model: the model's q-net takes d=${model.model.qnet.dims[0]}, pass --d ${model.model.qnet.dims[0]}`);
  const ort = await loadOrt();
  const enc = model.model.encoders;
  if (!enc) throw new Error(`${dir}: the model has no query encoder (--qnets model needs one)`);
  const session = await ort.InferenceSession.create(join(dir, enc.files.queryEncoder.path));
  const tok = BertWordPieceTokenizer.fromVocab(readFileSync(join(dir, enc.files.vocab.path), 'utf8'), {
    lowercase: enc.tokenizer.lowercase,
    stripAccents: enc.tokenizer.stripAccents,
  });
  const out: Net[] = [];
  for (const { text, kind } of queryTexts(o, count)) {
    const { ids } = tok.encode(text, enc.maxQueryTokens);
    const shape = [1, ids.length];
    const r = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), shape),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
    });
    out.push({ name: text, kind, weights: qnetWeightsFromOutputs(model.model, r) });
  }
  return out;
}

/**
 * Query texts: the demo's example queries (data/demo/example-queries.json), then, alternately, the
 * title of a passage and one sentence (5–25 words) of another, passages drawn with a fixed seed
 * from --corpus (distinct texts).
 */
function queryTexts(o: Options, count: number): { text: string; kind: string }[] {
  const examples: { text: string; kind: string }[] = readJson(join(root, 'data', 'demo', 'example-queries.json')).examples.map((e: { query: string }) => ({
    text: e.query,
    kind: 'example',
  }));
  const docs = readFileSync(o.corpus, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i): { title?: unknown; text?: unknown } => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`${o.corpus}:${i + 1}: not valid JSON`);
      }
    });
  const out = examples.slice(0, count);
  const seen = new Set(out.map((q) => q.text));
  const r = seededRandom(77);
  for (let tries = 0; out.length < count && tries < 100 * count; tries++) {
    const doc = docs[Math.floor(r() * docs.length)];
    let text: string;
    let kind: string;
    if (out.length % 2 === 0) {
      text = String(doc.title ?? '').trim();
      kind = 'title';
    } else {
      const sentences = String(doc.text ?? '')
        .split(/(?<=[.!?])\s+|\n+/)
        .map((x) => x.trim())
        .filter((x) => {
          const w = x.split(/\s+/).length;
          return w >= 5 && w <= 25;
        });
      text = sentences.length ? sentences[Math.floor(r() * sentences.length)] : '';
      kind = 'sentence';
    }
    if (!text || seen.has(text)) continue;
    seen.add(text);
    out.push({ text, kind });
  }
  return out;
}

/** A q-net scorer over in-memory rows: onnxruntime-node, batches gathered into one buffer. */
async function scorerFor(ort: OnnxRuntimeNode, weights: QNetWeights, vectors: Float32Array, d: number) {
  const session: InferenceSession = await ort.InferenceSession.create(buildQNetOnnx(weights));
  let buf = new Float32Array(4096 * d);
  const run = async (x: Float32Array, rows: number) => {
    const r = await session.run({ [QNET_ONNX_INPUT]: new ort.Tensor('float32', x, [rows, d]) });
    return r[QNET_ONNX_OUTPUT].data as Float32Array;
  };
  return {
    session,
    async all(n: number) {
      const out = new Float32Array(n);
      const step = 65536;
      for (let a = 0; a < n; a += step) {
        const rows = Math.min(step, n - a);
        out.set(await run(vectors.subarray(a * d, (a + rows) * d), rows), a);
      }
      return out;
    },
    async batch(ids: ArrayLike<number>) {
      if (buf.length < ids.length * d) buf = new Float32Array(ids.length * d * 2);
      for (let i = 0; i < ids.length; i++) buf.set(vectors.subarray(ids[i] * d, ids[i] * d + d), i * d);
      return Float32Array.from(await run(buf.subarray(0, ids.length * d), ids.length));
    },
  };
}

/** top-k indices of a full score array: score descending, then index ascending. */
function topK(scores: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (idx.length < k || scores[i] > scores[idx[idx.length - 1]]) {
      let p = idx.length < k ? idx.length : k - 1;
      if (idx.length < k) idx.push(i);
      while (p > 0 && scores[idx[p - 1]] < scores[i]) {
        idx[p] = idx[p - 1];
        p--;
      }
      idx[p] = i;
    }
  }
  return idx;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** One graph-walk row: which graph, entry points and walk parameters. */
interface Variant {
  name: string;
  graph: string;
  entries: Uint32Array;
  beam: number;
  maxIterations: number;
  adaptive: boolean;
  strategy?: 'paper' | 'best-first';
  pool?: number;
  /** Score the entry points, then walk from every document of the leaves of the best `probe`. */
  probe?: number;
}

/** What one variant's queries gave. */
interface Tally {
  recall: number[];
  scored: number[];
  lat: number[];
  ratio: number[];
  cold: number[];
  coldBy: number[][];
  iters: number[];
  kinds: Record<string, number[]>;
}

async function benchN(o: Options, n: number, nets: Net[], ort: OnnxRuntimeNode, emit: (row: Row) => void, ds: Dataset) {
  const { vectors, entryIds } = ds;
  const d = o.d;
  const vecRowBytes = o.dtype === 'f16' ? Math.ceil(d / 2) * 4 : d * 4;
  const variants: Variant[] = [];
  const main = ds.graphs.hnsw0;
  const paperEntries = randomEntryPoints(n, Math.min(10000, Math.floor(n / 10)), 3);
  const want = new Set(o.variants);
  if (want.has('revlinks') && !ds.graphs.rev) {
    const rows = main.rows.slice();
    const added = addReverseLinks(rows, n, main.degree);
    log(`N=${n}: addReverseLinks filled ${added} slots (${(added / n).toFixed(1)} per document)`);
    ds.graphs.rev = { ...main, rows };
  }
  const bf = (pool: number, extra: Partial<Variant> = {}): Omit<Variant, 'name'> => ({
    graph: 'hnsw0',
    entries: entryIds,
    beam: o.beam,
    pool,
    strategy: 'best-first',
    maxIterations: 100000,
    adaptive: false,
    ...extra,
  });
  if (want.has('paper')) variants.push({ name: 'paper', graph: 'hnsw0', entries: paperEntries, beam: 50, maxIterations: 16, adaptive: false });
  if (want.has('paper-walk'))
    variants.push({ name: 'paper-walk-kmeans-entries', graph: 'hnsw0', entries: entryIds, beam: o.beam, maxIterations: 64, adaptive: false });
  for (const pool of o.pools) {
    if (want.has('best-first')) variants.push({ name: `best-first-pool${pool}`, ...bf(pool) });
    if (want.has('adaptive')) variants.push({ name: `best-first-pool${pool}-adaptive`, ...bf(pool, { adaptive: true }) });
    if (want.has('revlinks')) variants.push({ name: `best-first-pool${pool}-revlinks`, ...bf(pool, { graph: 'rev' }) });
  }
  if (want.has('probe')) {
    if (!ds.leafStart) log(`N=${n}: no leaf-start.u32 in ${ds.dir}: no probe rows`);
    else for (const P of o.probes) for (const pool of o.pools.slice(0, 2)) variants.push({ name: `probe${P}-best-first-pool${pool}`, ...bf(pool), probe: P });
  }
  if (want.has('random-entries'))
    variants.push({ name: `best-first-pool${o.pools[0]}-random-entries`, ...bf(o.pools[0], { entries: randomEntryPoints(n, entryIds.length, 3) }) });
  if (want.has('knn') && ds.graphs.hnsw) variants.push({ name: `best-first-pool${o.pools[0]}-knn-graph`, ...bf(o.pools[0], { graph: 'hnsw' }) });

  const exhaustive = { lat: [] as number[], oracleErr: [] as number[] };
  const acc: Record<string, Tally> = {};
  for (const v of variants) acc[v.name] = { recall: [], scored: [], lat: [], ratio: [], cold: [], coldBy: o.chunkList.map(() => []), iters: [], kinds: {} };
  const base = { N: n, data: ds.label, qnets: o.qnets, dtype: o.dtype, engine: 'node-cpu-onnx', k: o.k, queries: nets.length };
  for (let q = 0; q < nets.length; q++) {
    const sc = await scorerFor(ort, nets[q].weights, vectors, d);
    let t = now();
    const all = await sc.all(n);
    const truth = topK(all, o.k);
    exhaustive.lat.push(now() - t);
    // Oracle check: the exhaustive top-k's scores against the Float64 reference scorer.
    const rows = new Float32Array(truth.length * d);
    for (const [i, id] of truth.entries()) rows.set(vectors.subarray(id * d, id * d + d), i * d);
    const ref = referenceScores(nets[q].weights, rows, truth.length);
    let err = 0;
    for (const [i, id] of truth.entries()) err = Math.max(err, Math.abs(ref[i] - all[id]) / (1 + Math.abs(ref[i])));
    exhaustive.oracleErr.push(err);
    const want = new Set(truth);
    for (const v of variants) {
      const g = ds.graphs[v.graph];
      const view = graphViewOf(g.rows, n, g.degree);
      const touched = { vectors: new Uint8Array(n), graph: new Uint8Array(n) };
      const ensureLoaded = async (ids: ArrayLike<number>, what: 'vectors' | 'graph') => {
        const m = touched[what];
        for (let i = 0; i < ids.length; i++) m[ids[i]] = 1;
      };
      t = now();
      let entries = v.entries;
      let extra = 0;
      if (v.probe) {
        // Score the entry points; the walk then starts from them and every document of the leaves
        // of the best `probe` of them (entry i is leaf i: localityLayout's order).
        await ensureLoaded(v.entries, 'vectors');
        const es = await sc.batch(v.entries);
        const leafStart = ds.leafStart as Uint32Array; // probe rows exist only with it
        const best = Array.from(v.entries.keys())
          .sort((a, b) => es[b] - es[a] || a - b)
          .slice(0, v.probe);
        const list = Array.from(v.entries);
        for (const l of best) for (let i = leafStart[l]; i < leafStart[l + 1]; i++) list.push(i);
        entries = Uint32Array.from(list);
        extra = 0; // the entry points are scored again inside the walk's first round: counted once there
      }
      const r = await graphSearch(view, (ids) => sc.batch(ids), {
        k: o.k,
        entryIds: entries,
        beam: v.beam,
        maxIterations: v.maxIterations,
        adaptive: v.adaptive,
        strategy: v.strategy,
        pool: v.pool,
        ensureLoaded,
      });
      r.scored += extra;
      const ms = now() - t;
      const a = acc[v.name];
      let hit = 0;
      for (const id of r.ids) if (want.has(id)) hit++;
      a.recall.push(hit / Math.min(o.k, n));
      a.scored.push(r.scored / n);
      a.lat.push(ms);
      a.ratio.push(ms / (exhaustive.lat.at(-1) as number));
      a.iters.push(r.iterations);
      const kind = nets[q].kind ?? 'random';
      a.kinds[kind] ??= [];
      a.kinds[kind].push(hit / Math.min(o.k, n));
      // Bytes of the chunks (of C rows) holding a touched row, vectors and graph, plus the entry list.
      const coldShare = (C: number) => {
        let bytes = v.entries.length * 4;
        for (const [what, rowBytes] of [
          ['vectors', vecRowBytes],
          ['graph', g.degree * 4],
        ] as const) {
          const m = touched[what];
          for (let c = 0; c * C < n; c++) {
            const end = Math.min(n, (c + 1) * C);
            for (let i = c * C; i < end; i++) {
              if (m[i]) {
                bytes += (end - c * C) * rowBytes;
                break;
              }
            }
          }
        }
        return bytes / (n * (vecRowBytes + g.degree * 4));
      };
      for (const [j, C] of o.chunkList.entries()) a.coldBy[j].push(coldShare(C));
      a.cold.push(a.coldBy[0].at(-1) as number);
    }
    await sc.session.release();
    log(
      `N=${n}: query ${q + 1}/${nets.length} ${variants.map((v) => `${v.name} r=${acc[v.name].recall.at(-1)} s=${(100 * (acc[v.name].scored.at(-1) as number)).toFixed(2)}%`).join(', ')}`,
    );
  }
  const indexBytes = (deg: number) => n * (vecRowBytes + deg * 4);
  emit({
    ...base,
    mode: 'exhaustive',
    variant: 'exhaustive',
    recall_at_10: 1,
    scored_share: 1,
    latency_ms: r4(median(exhaustive.lat)),
    cold_bytes_share: 1,
    index_bytes: indexBytes(main.degree),
    memory_bytes: n * vecRowBytes,
    oracle_max_rel_err: Number(Math.max(...exhaustive.oracleErr).toExponential(2)),
  });
  for (const v of variants) {
    const a = acc[v.name];
    const g = ds.graphs[v.graph];
    emit({
      ...base,
      mode: 'graph',
      variant: v.name,
      graph: v.graph,
      piece_docs: o.pieceDocs,
      degree: g.degree,
      ef_construction: g.efConstruction ?? o.efc,
      entries: v.entries.length,
      strategy: v.strategy ?? 'paper',
      beam: v.beam,
      pool: v.pool ?? null,
      adaptive: v.adaptive,
      recall_at_10: r4(mean(a.recall)),
      recall_at_10_min: r4(Math.min(...a.recall)),
      scored_share: r4(mean(a.scored)),
      scored_share_max: r4(Math.max(...a.scored)),
      iterations: r4(mean(a.iters)),
      latency_ms: r4(median(a.lat)),
      latency_ratio: r4(median(a.ratio)),
      cold_bytes_share: r4(mean(a.cold)),
      cold_bytes_share_max: r4(Math.max(...a.cold)),
      cold_bytes_share_by_chunk: Object.fromEntries(o.chunkList.map((C, j) => [C, r4(mean(a.coldBy[j]))])),
      recall_by_kind: Object.fromEntries(Object.entries(a.kinds).map(([k, x]) => [k, r4(mean(x))])),
      chunk_docs: o.chunkDocs,
      index_bytes: indexBytes(g.degree),
      memory_bytes: Math.round(mean(a.cold) * indexBytes(g.degree) + n / 8),
      graph_build_s: g.buildSeconds !== undefined ? r4(g.buildSeconds) : null,
      layout_s: ds.timings.layout_s !== undefined ? r4(ds.timings.layout_s) : null,
    });
  }
}

async function main() {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(messageOf(e));
    process.exit(2);
  }
  const rows: Row[] = [];
  const emit = (row: Row) => {
    rows.push(row);
    if (o.json) console.log(JSON.stringify(row));
  };
  const ort = await loadOrt();
  const nets = await qnets(o, o.queries);
  const demo = o.data === 'synthetic' ? null : await demoDataset(o);
  for (const n0 of o.n) {
    const t0 = now();
    const ds = !demo ? dataset(o, n0) : o.data === 'demo' ? demo : derivedDataset(o, n0, demo);
    const n = ds.n ?? n0;
    log(`N=${n}: dataset ready in ${((now() - t0) / 1000).toFixed(1)} s (${ds.dir})`);
    await benchN(o, n, nets, ort, emit, ds);
  }
  if (o.browser) {
    const driver = join(root, 'bench', 'benchScaleBrowser.ts');
    const args = ['--import', 'tsx', driver, '--json', '--n', o.n.join(','), '--queries', String(o.queries), '--k', String(o.k), '--beam', String(o.beam)];
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    for (const line of r.stdout.split('\n').filter((l) => l.trim().startsWith('{'))) emit(JSON.parse(line));
    if (r.status !== 0) log(`--browser: benchScaleBrowser.ts exited with ${r.status}`);
  }
  if (!o.json) {
    const cols = ['N', 'mode', 'variant', 'recall_at_10', 'scored_share', 'latency_ms', 'cold_bytes_share'];
    console.log(cols.join('\t'));
    for (const r of rows) console.log(cols.map((c) => r[c] ?? '').join('\t'));
  }
}

await main();
