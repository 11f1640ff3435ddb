// Test harness: runs the WebGPU scorer and the CPU reference on the same fresh random q-net and
// documents, in the page, and returns only the comparison figures to Playwright.
import { paperArchitecture, randomVectors, randomWeights, referenceScores, referenceTopK, seededRandom, type QNetArchitecture } from '../../src/core/qnet';
import { decodeVectors, encodeVectors, type StorageDtype } from '../../src/core/vectorStorage';
import { requestScorerDevice, type ScorerDevice } from '../../src/gpu/device';
import { QNetScorer } from '../../src/gpu/qnetScorer';
import { DEFAULT_TILING, DIRECT_TILING, QUAD_DIRECT_TILING, layerTiling, quadTilingRuns, workgroupShape, type LayerTiling } from '../../src/gpu/layerTiling';
import { quadRowMismatches } from '../../src/gpu/quadLayout';
import { exposeHarness } from '../helpers/pageHarness.ts';
import { scoreErrors } from '../helpers/scoreErrors.ts';
import { SCORER_REL_TOL } from '../helpers/tolerances.ts';

export interface ParityCase {
  dims: number[];
  residual?: boolean[];
  n: number;
  dtype: StorageDtype;
  k: number;
  seed: number;
  /** Documents per uploaded tile (many tiles per query), and the activation budget in bytes. */
  tileDocs?: number;
  activationBytes?: number;
  /** Copy document i mod `distinct` into every row, so scores tie exactly (tie order is tested). */
  distinct?: number;
  /** More queries on the same scorer (fresh weights, these k), after the first: buffer reuse. */
  moreQueries?: number[];
  /** Force one kernel variant; default: the one the scorer picks for this adapter. */
  kernel?: 'tiled' | 'direct' | 'quad';
  /** Then a filtered search (a keep mask, src/core/facets.ts): each document kept with this probability, or exactly these documents; then an unfiltered one again. */
  keep?: number | number[];
}

export interface ParityResult {
  adapter: string;
  n: number;
  maxRelErr: number; // max |gpu - ref| / Σ|y·w_out|, over all documents
  maxAbsErr: number;
  unwritten: number; // NaN left from the poison fill
  topkMismatches: string[];
  f16StorageTop10Overlap?: number; // f16-stored vs f32 originals (reference on both)
  f16StorageMaxRelErr?: number; // max |ref(f16 docs) - ref(f32 docs)| / Σ|y·w_out|
  gpuMs: number;
  /** The scorer's tiling, as JSON. */
  tiling: string;
  /** Why a forced kernel could not run on this device (the case is then skipped). */
  skipped?: string;
}

let shared: ScorerDevice | null = null;

async function runParity(c: ParityCase): Promise<ParityResult> {
  shared ??= await requestScorerDevice();
  const { device } = shared;
  const L = c.dims.length - 2;
  const arch: QNetArchitecture = c.residual
    ? { dims: c.dims, activation: 'relu', layerNormEps: 1e-5, residual: c.residual }
    : { ...paperArchitecture(c.dims[0], c.dims[1], L), dims: c.dims };
  const rand = seededRandom(c.seed);
  const weights = randomWeights(arch, rand);
  const d = c.dims[0];
  const vectors = randomVectors(c.n, d, rand);
  if (c.distinct) for (let r = c.distinct; r < c.n; r++) vectors.copyWithin(r * d, (r % c.distinct) * d, ((r % c.distinct) + 1) * d);
  const tileDocs = c.tileDocs ?? c.n;
  const tiles = [];
  const whole = encodeVectors(vectors, c.n, d, c.dtype);
  for (let s = 0; s < c.n; s += tileDocs) {
    const n = Math.min(tileDocs, c.n - s);
    tiles.push({ ...whole, n, words: whole.words.subarray(s * whole.strideWords, (s + n) * whole.strideWords) });
  }
  const seen = decodeVectors(whole);
  const mags = new Float64Array(c.n);
  const ref = referenceScores(weights, seen, c.n, mags);

  // The tilings tilingFor() ships: real GPUs' (workgroup memory) and CPU-emulated adapters' (direct,
  // with quad-shared rows where the device's subgroups allow them).
  const tiling = c.kernel ? { tiled: DEFAULT_TILING, direct: DIRECT_TILING, quad: QUAD_DIRECT_TILING }[c.kernel] : undefined;
  if (c.kernel === 'quad' && !(await quadTilingRuns(device, c.dims))) {
    return {
      adapter: shared.adapterInfo,
      n: c.n,
      maxRelErr: NaN,
      maxAbsErr: NaN,
      unwritten: 0,
      topkMismatches: [],
      gpuMs: 0,
      tiling: '',
      skipped: 'no subgroups with quads inside a workgroup row',
    };
  }
  const scorer = await QNetScorer.create(device, arch, { dtype: c.dtype, activationBytes: c.activationBytes, tiling });
  try {
    scorer.setDocuments(tiles);
    scorer.setWeights(weights);
    scorer.poisonBuffers();
    const t0 = performance.now();
    const gpu = await scorer.scoreAll();
    const gpuMs = performance.now() - t0;
    // scoreAll's readback is at least 16 bytes: for N < 4 it holds more than N scores.
    const { maxRelErr, maxAbsErr, unwritten } = scoreErrors(gpu.subarray(0, c.n), ref, mags);
    const top = await scorer.search(c.k);
    const topkMismatches = compareTopK(top.indices, top.scores, ref, mags, c.k);
    for (const [q, k] of (c.moreQueries ?? []).entries()) {
      const w = randomWeights(arch, seededRandom(c.seed * 1000 + q));
      const m = new Float64Array(c.n);
      const r = referenceScores(w, seen, c.n, m);
      scorer.setWeights(w);
      const t = await scorer.search(k);
      topkMismatches.push(...compareTopK(t.indices, t.scores, r, m, k).map((x) => `query ${q + 2} (k=${k}): ${x}`));
    }
    if (c.keep !== undefined) {
      const keepRand = seededRandom(c.seed + 7);
      const kept = Array.isArray(c.keep) ? new Set(c.keep) : new Set(Array.from({ length: c.n }, (_, i) => i).filter(() => keepRand() < (c.keep as number)));
      const mask = new Uint32Array(Math.ceil(c.n / 32));
      for (const i of kept) mask[i >>> 5] |= 1 << (i & 31);
      scorer.setWeights(weights);
      const masked = await scorer.search(c.k, mask);
      // The reference over the kept documents only: the rest score -inf and are cut from the ideal list.
      const refKept = ref.map((v, i) => (kept.has(i) ? v : Number.NEGATIVE_INFINITY));
      topkMismatches.push(
        ...compareTopK(masked.indices, masked.scores, refKept, mags, Math.min(c.k, kept.size)).map((x) => `filtered (${kept.size} kept): ${x}`),
      );
      const outside = [...masked.indices].filter((i) => !kept.has(i));
      if (outside.length) topkMismatches.push(`filtered: returned documents not kept: ${outside.slice(0, 5).join(', ')}`);
      const again = await scorer.search(c.k);
      topkMismatches.push(...compareTopK(again.indices, again.scores, ref, mags, c.k).map((x) => `unfiltered after a filter: ${x}`));
    }
    const result: ParityResult = {
      adapter: shared.adapterInfo,
      n: c.n,
      maxRelErr,
      maxAbsErr,
      unwritten,
      topkMismatches,
      gpuMs,
      tiling: JSON.stringify(scorer.kernelTiling),
    };
    if (c.dtype === 'f16' && c.n <= 100_000) {
      // What f16 storage itself costs: the reference on the f32 originals vs on the stored halves.
      const exactScores = referenceScores(weights, vectors, c.n);
      let worst = 0;
      for (let i = 0; i < c.n; i++) worst = Math.max(worst, Math.abs(exactScores[i] - ref[i]) / mags[i]);
      result.f16StorageMaxRelErr = worst;
      const exact = referenceTopK(exactScores, 10);
      const stored = referenceTopK(ref, 10);
      const a = new Set(exact.indices);
      result.f16StorageTop10Overlap = [...stored.indices].filter((i) => a.has(i)).length / exact.indices.length;
    }
    return result;
  } finally {
    scorer.destroy();
  }
}

const REL_TOL = SCORER_REL_TOL; // relative to Σ|y·w_out| (e2e/scorer.spec.ts says why)

/**
 * The GPU's top-k must be the reference's top-k up to ties: position by position the reference
 * score of the GPU's pick equals the ideal one within tolerance, no index repeats, and the
 * returned scores match the reference scores of those indices.
 */
function compareTopK(indices: Uint32Array, scores: Float32Array, ref: Float64Array, mags: Float64Array, k: number): string[] {
  const bad: string[] = [];
  const ideal = referenceTopK(ref, k);
  if (indices.length !== ideal.indices.length) bad.push(`length ${indices.length} != ${ideal.indices.length}`);
  if (new Set(indices).size !== indices.length) bad.push('repeated index');
  // The GPU's own order: scores never increase, and equal scores come in ascending index order.
  for (let i = 1; i < indices.length; i++) {
    if (scores[i] > scores[i - 1] || (scores[i] === scores[i - 1] && indices[i] < indices[i - 1])) {
      bad.push(`#${i}: (${scores[i]}, ${indices[i]}) after (${scores[i - 1]}, ${indices[i - 1]}) breaks the order`);
    }
  }
  for (let i = 0; i < Math.min(indices.length, ideal.indices.length); i++) {
    const g = indices[i];
    if (g >= ref.length) {
      bad.push(`#${i}: index ${g} out of range`);
      continue;
    }
    const tol = REL_TOL * Math.max(mags[g], mags[ideal.indices[i]]) * 2;
    if (Math.abs(ref[g] - ideal.scores[i]) > tol) bad.push(`#${i}: got doc ${g} (ref ${ref[g]}), expected doc ${ideal.indices[i]} (ref ${ideal.scores[i]})`);
    if (Math.abs(scores[i] - ref[g]) > REL_TOL * mags[g]) bad.push(`#${i}: score ${scores[i]} for doc ${g}, reference ${ref[g]}`);
  }
  return bad;
}

/**
 * The quad-layout check on the workgroup shapes QUAD_DIRECT_TILING's layers use (layers 768, 256, 160
 * and 100 wide: column blocks of 8 threads, whole rows of 32, 20 and 16 threads), and on one it must
 * refuse (2 × 8: a quad spans two rows).
 */
async function quadCheck(): Promise<{ subgroups: boolean; shapes?: string[]; usable?: number[]; spanning?: number }> {
  shared ??= await requestScorerDevice();
  const { device } = shared;
  if (!device.features.has('subgroups')) return { subgroups: false };
  const shapes = [768, 256, 160, 100].map((out) => workgroupShape(layerTiling(QUAD_DIRECT_TILING, out)));
  const usable: number[] = [];
  for (const { wx, wy } of shapes) usable.push(await quadRowMismatches(device, wx, wy));
  return { subgroups: true, shapes: shapes.map(({ wx, wy }) => `${wx}×${wy}`), usable, spanning: await quadRowMismatches(device, 2, 8) };
}

declare global {
  interface Window {
    runParity: typeof runParity;
    quadCheck: typeof quadCheck;
    timeSearch: typeof timeSearch;
    harnessReady: boolean;
  }
}
/**
 * Warm throughput of search(k) for a random q-net, or of scoreAll() with k = 0 (no top-k), used to
 * choose tile sizes and to see where time goes; the benchmark is bench/bench.ts.
 */
async function timeSearch(dims: number[], n: number, reps: number, tiling?: LayerTiling, k = 10): Promise<{ docsPerS: number; ms: number[] }> {
  shared ??= await requestScorerDevice();
  const L = dims.length - 2;
  const arch = paperArchitecture(dims[0], dims[1], L);
  const rand = seededRandom(9);
  const scorer = await QNetScorer.create(shared.device, arch, { dtype: 'f16', tiling });
  try {
    scorer.setDocuments([encodeVectors(randomVectors(n, dims[0], rand), n, dims[0], 'f16')]);
    scorer.setWeights(randomWeights(arch, rand));
    await scorer.search(10);
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      if (k === 0) await scorer.scoreAll();
      else await scorer.search(k);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { docsPerS: n / (ms[Math.floor(ms.length / 2)] / 1000), ms };
  } finally {
    scorer.destroy();
  }
}
exposeHarness({ runParity, quadCheck, timeSearch }, 'harnessReady');
