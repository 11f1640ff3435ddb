// Writes a benchmark index for approximate search at scale: a synthetic model.json (q-net dims
// [d, h, …, 1], no encoders) and an index bundle with vectors, a neighbor graph, minimal metadata,
// and the lazy-loading fields (chunk hashes, entry points), so the same folder serves the eager
// path (whole files), the lazy path (Range requests) and the exhaustive scorer.
// The vectors, graph and entry points come from the caller (bench/benchScale.ts builds them
// with src/core; bench/benchScaleBrowser.ts --make uses makeClusteredCorpus below).
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serializeModelJson, sha256Hex, type IndexManifest } from '../src/core/formats/index.ts';
import { gaussianFrom, paperArchitecture, seededRandom } from '../src/core/qnet.ts';
import { encodeVectors, type EncodedVectors, type StorageDtype } from '../src/core/vectorStorage.ts';
import { writeModelAndIndex } from '../src/cli/writeIndex.ts';
import { SYNTHETIC_MODEL_ID } from '../src/cli/syntheticIndex.ts';

export interface ScaleBundleInput {
  /** n × dim row-major, in the order the index stores them (locality-ordered by the caller). */
  vectors: Float32Array;
  n: number;
  dim: number;
  /** n × degree neighbor rows (GRAPH_NO_NEIGHBOR padding). */
  graphRows: Uint32Array;
  degree: number;
  entryPoints: ArrayLike<number>;
  /** q-net hidden width and hidden layer count (default dim, 2: dims [dim, dim, dim, 1]). */
  hidden?: number;
  hiddenLayers?: number;
  dtype?: StorageDtype;
  /** Documents per vector tile and graph shard (default 65536). */
  tileDocs?: number;
  /** Documents per Range chunk (default 256). */
  chunkDocs?: number;
  force?: boolean;
}

/** Writes outDir/model/model.json and outDir/index/ atomically; returns the index manifest. */
export async function writeScaleBundle(outDir: string, input: ScaleBundleInput): Promise<IndexManifest> {
  const { vectors, n, dim, graphRows, degree } = input;
  if (vectors.length !== n * dim) throw new Error(`writeScaleBundle: ${vectors.length} values is not ${n} × ${dim}`);
  if (graphRows.length !== n * degree) throw new Error(`writeScaleBundle: ${graphRows.length} graph ids is not ${n} × ${degree}`);
  const dtype = input.dtype ?? 'f16';
  const tileDocs = input.tileDocs ?? 65536;
  const model = {
    formatVersion: 1,
    id: SYNTHETIC_MODEL_ID,
    synthetic: true,
    qnet: paperArchitecture(dim, input.hidden ?? dim, input.hiddenLayers ?? 2),
    encoders: null,
  };
  const modelBytes = new TextEncoder().encode(serializeModelJson(model));
  const tiles: EncodedVectors[] = [];
  const shards: Uint32Array[] = [];
  for (let s = 0; s < n; s += tileDocs) {
    const m = Math.min(tileDocs, n - s);
    tiles.push(encodeVectors(vectors.subarray(s * dim, (s + m) * dim), m, dim, dtype));
    shards.push(graphRows.subarray(s * degree, (s + m) * degree));
  }
  const metadata: object[][] = [];
  const shardDocs = 100_000;
  for (let s = 0; s < n; s += shardDocs) {
    metadata.push(Array.from({ length: Math.min(shardDocs, n - s) }, (_, k) => ({ id: `d${s + k}`, title: `Synthetic document ${s + k}`, url: '', text: '' })));
  }
  return writeModelAndIndex(outDir, modelBytes, {
    manifestFields: { model: { id: model.id, sha256: await sha256Hex(modelBytes) }, tileDocs, synthetic: true },
    tiles,
    metadata,
    graph: { degree, shards, entryPoints: Uint32Array.from(input.entryPoints) },
    chunkDocs: input.chunkDocs ?? 256,
    force: input.force,
  });
}

/**
 * A clustered corpus, a stand-in for text embeddings (which are far from isotropic): `clusters`
 * centers drawn N(0, I), each document = its center + N(0, spread² I). Documents come out grouped
 * by cluster (clusters in random order), the locality order a k-means pass over real vectors gives.
 */
export function makeClusteredCorpus(n: number, dim: number, clusters: number, spread: number, seed: number): { vectors: Float32Array; clusterOf: Uint32Array } {
  const rand = seededRandom(seed);
  const g = gaussianFrom(rand);
  const centers = new Float32Array(clusters * dim);
  for (let i = 0; i < centers.length; i++) centers[i] = g();
  const vectors = new Float32Array(n * dim);
  const clusterOf = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor((i * clusters) / n); // contiguous runs of documents per cluster
    clusterOf[i] = c;
    for (let t = 0; t < dim; t++) vectors[i * dim + t] = centers[c * dim + t] + spread * g();
  }
  return { vectors, clusterOf };
}

export interface ScaleIndexOptions {
  n: number;
  dim?: number;
  clusters?: number;
  spread?: number;
  degree?: number;
  chunkDocs?: number;
  seed?: number;
  force?: boolean;
  log?: (msg: string) => void;
}

/**
 * The benchmark corpus end to end: clustered vectors, one entry point per cluster (the member
 * nearest the cluster's mean, as k-means with that many centers would pick), the entry points
 * stored first (so a cold walk's first round reads a few chunks, not one per cluster) and the rest
 * grouped by cluster, then the neighbor graph (src/cli/annGraph.ts: exact or HNSW) over that order.
 */
export async function makeScaleIndex(outDir: string, o: ScaleIndexOptions): Promise<IndexManifest> {
  const { n } = o;
  const dim = o.dim ?? 100;
  const clusters = o.clusters ?? Math.max(1, Math.round(Math.sqrt(n)));
  const log = o.log ?? (() => {});
  const { vectors, clusterOf } = makeClusteredCorpus(n, dim, clusters, o.spread ?? 0.7, o.seed ?? 1);
  const sums = new Float64Array(clusters * dim);
  const counts = new Uint32Array(clusters);
  for (let i = 0; i < n; i++) {
    counts[clusterOf[i]]++;
    for (let t = 0; t < dim; t++) sums[clusterOf[i] * dim + t] += vectors[i * dim + t];
  }
  const best = new Float64Array(clusters).fill(Infinity);
  const medoid = new Int32Array(clusters).fill(-1);
  for (let i = 0; i < n; i++) {
    const c = clusterOf[i];
    let dd = 0;
    for (let t = 0; t < dim; t++) {
      const v = vectors[i * dim + t] - sums[c * dim + t] / counts[c];
      dd += v * v;
    }
    if (dd < best[c]) {
      best[c] = dd;
      medoid[c] = i;
    }
  }
  const isEntry = new Uint8Array(n);
  const order: number[] = [];
  for (const m of medoid)
    if (m >= 0) {
      isEntry[m] = 1;
      order.push(m);
    }
  const entries = order.length;
  for (let i = 0; i < n; i++) if (!isEntry[i]) order.push(i);
  const ordered = new Float32Array(n * dim);
  for (const [dst, src] of order.entries()) ordered.set(vectors.subarray(src * dim, (src + 1) * dim), dst * dim);
  const degree = o.degree ?? 32;
  log(`scale index: ${n} docs, ${clusters} clusters, building the ${degree}-NN graph…`);
  const t = Date.now();
  const { buildNeighborGraph } = await import('../src/cli/annGraph.ts');
  const graph = buildNeighborGraph(ordered, n, dim, degree);
  log(`scale index: ${graph.method} graph in ${((Date.now() - t) / 1000).toFixed(0)} s; writing`);
  return writeScaleBundle(outDir, {
    vectors: ordered,
    n,
    dim,
    graphRows: graph.rows,
    degree,
    entryPoints: Array.from({ length: entries }, (_, i) => i),
    chunkDocs: o.chunkDocs,
    force: o.force,
  });
}

/**
 * A bundle from bench/benchScale.ts's dataset cache (one folder: vectors.f32 in layout order and
 * as stored, entries.u32, graph-<method>-<degree>.u32 with its .json), so the browser rows run on
 * exactly the data of the Node rows.
 */
export async function bundleFromBenchCache(
  cacheDir: string,
  outDir: string,
  o: { dim: number; graph?: string; chunkDocs?: number; force?: boolean },
): Promise<IndexManifest> {
  const { readFile } = await import('node:fs/promises');
  const u8 = async (f: string) => {
    const b = await readFile(join(cacheDir, f));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  const graph = o.graph ?? 'graph-hnsw0-32';
  const vectors = new Float32Array(await u8('vectors.f32'));
  const entryPoints = new Uint32Array(await u8('entries.u32'));
  const rows = new Uint32Array(await u8(`${graph}.u32`));
  const meta = JSON.parse(await readFile(join(cacheDir, `${graph}.json`), 'utf8')) as { degree?: unknown };
  const n = vectors.length / o.dim;
  if (!Number.isInteger(n)) throw new Error(`${cacheDir}/vectors.f32: ${vectors.length} values is not a multiple of dim ${o.dim}`);
  const degree = meta.degree;
  if (typeof degree !== 'number' || rows.length !== n * degree)
    throw new Error(`${cacheDir}/${graph}.json: degree ${String(degree)} does not fit ${rows.length} graph ids for ${n} documents`);
  return writeScaleBundle(outDir, { vectors, n, dim: o.dim, graphRows: rows, degree, entryPoints, chunkDocs: o.chunkDocs, force: o.force });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const from = args.indexOf('--from-cache');
  if (from >= 0) {
    const [cacheDir, outDir] = [args[from + 1], args[from + 2]];
    const num = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
    if (!cacheDir || !outDir) {
      console.error('usage: npx tsx bench/scaleIndex.ts --from-cache <bench-scale cache folder> <outDir> [--dim 100] [--chunk-docs 256]');
      process.exit(2);
    }
    bundleFromBenchCache(cacheDir, outDir, { dim: num('--dim') ?? 100, chunkDocs: num('--chunk-docs'), force: true }).then(
      (m) => console.log(`wrote ${m.docCount} documents from ${cacheDir} to ${outDir}`),
      (e: Error) => {
        console.error(`scaleIndex: ${e.message}`);
        process.exit(1);
      },
    );
  } else mainMake(args);
}

function mainMake(args: string[]): void {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const outDir = args[0];
  const n = flag('--n');
  if (!outDir || !n) {
    console.error('usage: npx tsx bench/scaleIndex.ts <outDir> --n N [--dim 100] [--clusters C] [--spread 0.7] [--degree 32] [--chunk-docs 256] [--seed 1]');
    process.exit(2);
  }
  makeScaleIndex(outDir, {
    n,
    dim: flag('--dim'),
    clusters: flag('--clusters'),
    spread: flag('--spread'),
    degree: flag('--degree'),
    chunkDocs: flag('--chunk-docs'),
    seed: flag('--seed'),
    force: true,
    log: (m) => console.error(m),
  }).then(
    (m) => console.log(`wrote ${m.docCount} documents to ${outDir}`),
    (e: Error) => {
      console.error(`scaleIndex: ${e.message}`);
      process.exit(1);
    },
  );
}
