// Test harness for approximate search on the GPU (e2e/graph.spec.ts): the gather scorer against
// the Float64 reference and the exhaustive scorer, the GPU graph walk against the CPU walk, and the
// lazily loaded index (Range requests, chunk hashes) against the eager one. Only figures and id
// lists go back to Playwright.
import { exactKnnGraph } from '../../src/core/knn';
import { gaussianFrom, paperArchitecture, randomWeights, referenceScores, referenceTopK, seededRandom, type QNetArchitecture } from '../../src/core/qnet';
import { decodeVectors, encodeVectors, type EncodedVectors, type StorageDtype } from '../../src/core/vectorStorage';
import { graphSearch, graphViewOf, type ScoreBatch } from '../../src/core/graphSearch';
import { joinGraphShards, openIndexBundle, openModelBundle, readIndexFiles } from '../../src/core/formats/index.ts';
import { requestScorerDevice, type ScorerDevice } from '../../src/gpu/device';
import { GatherScorer } from '../../src/gpu/gatherScorer';
import { QNetScorer } from '../../src/gpu/qnetScorer';
import { FileCache } from '../../src/worker/fileCache';
import { GpuGraphSearch, type WalkOptions } from '../../src/worker/graphSearchDriver';
import { HttpSource } from '../../src/worker/httpSource';
import { exposeHarness } from '../helpers/pageHarness.ts';
import { scoreErrors } from '../helpers/scoreErrors.ts';

let shared: ScorerDevice | null = null;
const gpu = async () => (shared ??= await requestScorerDevice());

function archOf(dims: number[]): QNetArchitecture {
  return { ...paperArchitecture(dims[0], dims[1], dims.length - 2), dims };
}

function tilesOf(whole: EncodedVectors, tileDocs: number): EncodedVectors[] {
  const out: EncodedVectors[] = [];
  for (let s = 0; s < whole.n; s += tileDocs) {
    const n = Math.min(tileDocs, whole.n - s);
    out.push({ ...whole, n, words: whole.words.subarray(s * whole.strideWords, (s + n) * whole.strideWords) });
  }
  return out;
}

/** Clustered vectors (a stand-in for embeddings): centers N(0, I), members center + N(0, spread² I). */
function clustered(n: number, d: number, clusters: number, spread: number, seed: number): Float32Array {
  const g = gaussianFrom(seededRandom(seed));
  const centers = Float32Array.from({ length: clusters * d }, () => g());
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor((i * clusters) / n);
    for (let t = 0; t < d; t++) v[i * d + t] = centers[c * d + t] + spread * g();
  }
  return v;
}

export interface GatherCase {
  dims: number[];
  n: number;
  dtype: StorageDtype;
  seed: number;
  ids: number;
  maxBatch: number;
  maxBufferRows?: number;
  activationBytes?: number;
}

export interface GatherResult {
  maxRelErr: number;
  unwritten: number;
  /** Ids whose gathered score is not bit-identical to the exhaustive scorer's score of that document. */
  notBitwiseEqual: number;
  buffers: number;
}

async function gatherParity(c: GatherCase): Promise<GatherResult> {
  const { device } = await gpu();
  const arch = archOf(c.dims);
  const rand = seededRandom(c.seed);
  const w = randomWeights(arch, rand);
  const d = c.dims[0];
  const whole = encodeVectors(
    Float32Array.from({ length: c.n * d }, () => rand() * 4 - 2),
    c.n,
    d,
    c.dtype,
  );
  const seen = decodeVectors(whole);
  const mags = new Float64Array(c.n);
  const ref = referenceScores(w, seen, c.n, mags);
  // Ids with repeats, the first and last document, in random order.
  const ids = new Uint32Array(c.ids);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(rand() * c.n);
  ids[0] = c.n - 1;
  if (ids.length > 1) ids[1] = 0;
  if (ids.length > 3) ids[3] = ids[2];
  const gather = await GatherScorer.create(device, arch, {
    dtype: c.dtype,
    maxBatch: c.maxBatch,
    maxBufferRows: c.maxBufferRows,
    activationBytes: c.activationBytes,
  });
  const full = await QNetScorer.create(device, arch, { dtype: c.dtype });
  try {
    gather.setDocuments(tilesOf(whole, 1000));
    gather.setWeights(w);
    gather.poisonBuffers();
    const got = await gather.score(ids);
    full.setDocuments([whole]);
    full.setWeights(w);
    const all = await full.scoreAll();
    const { maxRelErr, unwritten } = scoreErrors(got, ref, mags, (i) => ids[i]);
    let notBitwiseEqual = 0;
    for (let i = 0; i < ids.length; i++) if (!Number.isNaN(got[i]) && !Object.is(got[i], all[ids[i]])) notBitwiseEqual++;
    const buffers = Math.ceil(c.n / Math.min(c.maxBufferRows ?? Infinity, Math.floor(device.limits.maxStorageBufferBindingSize / (whole.strideWords * 4))));
    return { maxRelErr, unwritten, notBitwiseEqual, buffers };
  } finally {
    gather.destroy();
    full.destroy();
  }
}

export interface WalkCase {
  dims: number[];
  n: number;
  clusters: number;
  degree: number;
  seed: number;
  queries: number;
  entries: number;
  walk: Omit<WalkOptions, 'entryIds'>;
  /** Also a walk that covers the corpus (beam n, no early stop) against the exhaustive top k. */
  cover?: boolean;
}

export interface WalkQueryResult {
  gpuIds: number[];
  /** CPU walk, scores from the Float64 reference. */
  cpuRefIds: number[];
  /** CPU walk, scores read from the exhaustive GPU scorer's score buffer (same f32 values). */
  cpuTableIds: number[];
  gpuScored: number;
  cpuRefScored: number;
  cpuTableScored: number;
  gpuIterations: number;
  cpuTableIterations: number;
  scoresBitwiseEqualTable: boolean;
  exhaustiveIds: number[];
  recall: number;
  coverIds?: number[];
  coverScored?: number;
}

async function walkParity(c: WalkCase): Promise<{ results: WalkQueryResult[]; graphBuildMs: number }> {
  const { device } = await gpu();
  const arch = archOf(c.dims);
  const d = c.dims[0];
  const whole = encodeVectors(clustered(c.n, d, c.clusters, 0.7, c.seed), c.n, d, 'f16');
  const seen = decodeVectors(whole);
  const t0 = performance.now();
  const rows = exactKnnGraph(seen, c.n, d, c.degree);
  const graphBuildMs = performance.now() - t0;
  const graph = graphViewOf(rows, c.n, c.degree);
  const entryIds = Uint32Array.from({ length: c.entries }, (_, i) => Math.floor((i * c.n) / c.entries));
  const walker = await GpuGraphSearch.eager(device, arch, tilesOf(whole, 1500), { rows, degree: c.degree }, entryIds, { maxBatch: 512 });
  // For the covering walk a graph that is connected by construction: a k-NN graph is not (documents
  // that are no one's near neighbor cannot be reached), so the last two slots of row i hold i ± 1.
  let coverWalker: GpuGraphSearch | null = null;
  if (c.cover) {
    const chained = rows.slice();
    for (let i = 0; i < c.n; i++) {
      chained[i * c.degree + c.degree - 2] = i > 0 ? i - 1 : c.n - 1;
      chained[i * c.degree + c.degree - 1] = i + 1 < c.n ? i + 1 : 0;
    }
    coverWalker = await GpuGraphSearch.eager(device, arch, tilesOf(whole, 1500), { rows: chained, degree: c.degree }, entryIds, { maxBatch: 512 });
  }
  const full = await QNetScorer.create(device, arch, { dtype: 'f16' });
  full.setDocuments([whole]);
  const results: WalkQueryResult[] = [];
  try {
    for (let q = 0; q < c.queries; q++) {
      const w = randomWeights(arch, seededRandom(c.seed * 100 + q));
      const gpuWalk = await walker.search(w, c.walk);
      const refScore: ScoreBatch = (ids) => {
        const x = new Float32Array(ids.length * d);
        for (const [i, id] of ids.entries()) x.set(seen.subarray(id * d, (id + 1) * d), i * d);
        return referenceScores(w, x, ids.length);
      };
      const cpuRef = await graphSearch(graph, refScore, { ...c.walk, entryIds });
      full.setWeights(w);
      const table = await full.scoreAll();
      const cpuTable = await graphSearch(graph, (ids) => Float32Array.from(ids, (id) => table[id]), { ...c.walk, entryIds });
      const exhaustive = await full.search(c.walk.k);
      const set = new Set(exhaustive.indices);
      const r: WalkQueryResult = {
        gpuIds: [...gpuWalk.ids],
        cpuRefIds: [...cpuRef.ids],
        cpuTableIds: [...cpuTable.ids],
        gpuScored: gpuWalk.scored,
        cpuRefScored: cpuRef.scored,
        cpuTableScored: cpuTable.scored,
        gpuIterations: gpuWalk.iterations,
        cpuTableIterations: cpuTable.iterations,
        scoresBitwiseEqualTable: gpuWalk.scores.every((s, i) => Object.is(s, cpuTable.scores[i])),
        exhaustiveIds: [...exhaustive.indices],
        recall: [...gpuWalk.ids].filter((i) => set.has(i)).length / exhaustive.indices.length,
      };
      if (coverWalker) {
        const cover = await coverWalker.search(w, { k: c.walk.k, beam: c.n, maxIterations: c.n, earlyStop: false });
        r.coverIds = [...cover.ids];
        r.coverScored = cover.scored;
      }
      results.push(r);
    }
    // The reference ranking check for the exhaustive scorer itself (so "exhaustive" is a real oracle).
    const w0 = randomWeights(arch, seededRandom(c.seed * 100));
    full.setWeights(w0);
    const top = await full.search(c.walk.k);
    const refTop = referenceTopK(referenceScores(w0, seen, c.n), c.walk.k);
    if (![...top.indices].every((v, i) => v === refTop.indices[i]))
      throw new Error(`exhaustive GPU top-k ${[...top.indices]} differs from the reference ${[...refTop.indices]}`);
    return { results, graphBuildMs };
  } finally {
    walker.destroy();
    coverWalker?.destroy();
    full.destroy();
  }
}

export interface LazyCase {
  /** Bundle folder URL holding model/ and index/. */
  base: string;
  seeds: number[];
  walk: Omit<WalkOptions, 'entryIds'>;
  /** A fresh IndexedDB store name for this run. */
  db: string;
  /** Also run the seeds on a paged lazy instance with this much resident GPU memory for rows. */
  residentBytes?: number;
}

export interface LazyResult {
  eagerIds: number[][];
  lazyIds: number[][];
  /** Network bytes of each lazy query (the first includes manifest.json). */
  queryBytes: number[];
  indexBytes: number;
  /** The same queries again on a second lazy instance sharing the IndexedDB store. */
  warmNetworkBytes: number;
  warmCachedBytes: number;
  warmIds: number[][];
  /** Vector-chunk reads that a second run of the same query made (0: chunks are kept). */
  repeatBytes: number;
  /** Paged instance (residentBytes): ids per seed, chunks evicted, GPU bytes of its scorer vs the unpaged one. */
  pagedIds?: number[][];
  evictions?: number;
  pagedGpuBytes?: number;
  fullGpuBytes?: number;
}

async function lazyParity(c: LazyCase): Promise<LazyResult> {
  const { device } = await gpu();
  const { model } = await openModelBundle(new HttpSource(`${c.base}/model/`));
  const source = new HttpSource(`${c.base}/index/`);
  const { manifest, jsonBytes } = await openIndexBundle(source);
  const { tiles, graph } = await readIndexFiles(source, manifest, { kinds: ['vectors', 'graph'] });
  const eager = await GpuGraphSearch.eager(
    device,
    model.qnet,
    tiles,
    { rows: joinGraphShards(manifest, graph), degree: manifest.graph!.degree },
    manifest.graph!.entryPoints!,
  );
  const lazy = await GpuGraphSearch.lazy(device, model.qnet, `${c.base}/index/`, { cache: new FileCache(c.db) });
  const out: LazyResult = {
    eagerIds: [],
    lazyIds: [],
    queryBytes: [],
    indexBytes: lazy.lazy!.indexBytes,
    warmNetworkBytes: 0,
    warmCachedBytes: 0,
    warmIds: [],
    repeatBytes: 0,
  };
  try {
    let first = true;
    for (const s of c.seeds) {
      const w = randomWeights(model.qnet, seededRandom(s));
      out.eagerIds.push([...(await eager.search(w, c.walk)).ids]);
      const r = await lazy.search(w, c.walk);
      out.lazyIds.push([...r.ids]);
      out.queryBytes.push(r.fetched!.networkBytes + (first ? jsonBytes : 0));
      first = false;
    }
    const again = await lazy.search(randomWeights(model.qnet, seededRandom(c.seeds[0])), c.walk);
    out.repeatBytes = again.fetched!.networkBytes;
    const warm = await GpuGraphSearch.lazy(device, model.qnet, `${c.base}/index/`, { cache: new FileCache(c.db) });
    try {
      for (const s of c.seeds) out.warmIds.push([...(await warm.search(randomWeights(model.qnet, seededRandom(s)), c.walk)).ids]);
      out.warmNetworkBytes = warm.lazy!.counters.networkBytes;
      out.warmCachedBytes = warm.lazy!.counters.cachedBytes;
    } finally {
      warm.destroy();
    }
    if (c.residentBytes !== undefined) {
      const paged = await GpuGraphSearch.lazy(device, model.qnet, `${c.base}/index/`, {
        cache: new FileCache(`${c.db}-paged`),
        residentBytes: c.residentBytes,
      });
      try {
        out.pagedIds = [];
        for (const s of c.seeds) out.pagedIds.push([...(await paged.search(randomWeights(model.qnet, seededRandom(s)), c.walk)).ids]);
        out.evictions = paged.evictions;
        out.pagedGpuBytes = paged.scorer.gpuBytes;
        out.fullGpuBytes = lazy.scorer.gpuBytes;
      } finally {
        paged.destroy();
      }
    }
    return out;
  } finally {
    eager.destroy();
    lazy.destroy();
  }
}

/** A lazy query that must fail (e.g. a tampered range): returns the error message. */
async function lazyError(c: LazyCase): Promise<string> {
  const { device } = await gpu();
  const { model } = await openModelBundle(new HttpSource(`${c.base}/model/`));
  try {
    const lazy = await GpuGraphSearch.lazy(device, model.qnet, `${c.base}/index/`, { cache: new FileCache(c.db) });
    try {
      for (const s of c.seeds) await lazy.search(randomWeights(model.qnet, seededRandom(s)), c.walk);
    } finally {
      lazy.destroy();
    }
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

declare global {
  interface Window {
    graphHarnessReady: boolean;
    graphHarness: { gatherParity: typeof gatherParity; walkParity: typeof walkParity; lazyParity: typeof lazyParity; lazyError: typeof lazyError };
  }
}

exposeHarness({ graphHarness: { gatherParity, walkParity, lazyParity, lazyError } }, 'graphHarnessReady');
