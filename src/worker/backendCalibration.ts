// Which scorer this device should use, by measurement instead of by the adapter's name: on a
// CPU-emulated adapter (SwiftShader) the WebGPU scorer was slower than the CPU one in the page, and a
// laptop's integrated GPU may lose to WebAssembly SIMD on a small index. One short calibration per
// (adapter, index size, q-net dims): each backend runs a search once untimed (shader compilation, JIT),
// then a few timed rounds alternate which goes first; the lower median wins. The choice is kept in
// IndexedDB (idb-keyval's default store, keys under CALIBRATION_PREFIX; localStorage does not exist in
// workers), so later visits skip the measurement. Storage failures (private mode, no IndexedDB) only
// mean measuring again next time.
import { get, set } from 'idb-keyval';
import { FUSION_DEPTH } from '../core/fusion.ts';
import { randomWeights, seededRandom, type QNetArchitecture } from '../core/qnet.ts';
import type { CpuQNetScorer } from '../core/qnetCpu.ts';
import type { QNetScorer } from '../gpu/qnetScorer.ts';

export type CalibratedBackend = 'webgpu' | 'cpu';

/** Bump when a scorer gets faster or slower enough that old choices should be measured again. */
export const CALIBRATION_VERSION = 1;
export const CALIBRATION_PREFIX = `hypencoder-web:scorer-calibration:v${CALIBRATION_VERSION}|`;

export interface CalibrationKey {
  /** The adapter's description (describeDevice), e.g. "nvidia / ampere (…)". */
  adapter: string;
  docCount: number;
  /** The q-net's dims, [d, h_1, …, 1]. */
  dims: readonly number[];
}

export interface Calibration {
  backend: CalibratedBackend;
  /** Median milliseconds per search of each backend (NaN for one that failed). */
  medianMs: Record<CalibratedBackend, number>;
  /** Timed rounds per backend. */
  rounds: number;
  /** True when the choice came from the store, without running anything. */
  cached: boolean;
  /** Set when a backend threw: the other one is chosen, and nothing is stored. */
  failed?: { backend: CalibratedBackend; message: string };
}

/** Where choices are kept: idb-keyval's get/set by default. */
export interface CalibrationStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export interface CalibrationOptions {
  /** Timed rounds per backend at most (default 3). */
  rounds?: number;
  /** Stop starting new rounds once this much time went by, after at least one (default 1500 ms). */
  budgetMs?: number;
  store?: CalibrationStore;
  /** The clock (tests pass a fake one). */
  now?: () => number;
}

const idbStore: CalibrationStore = { get: (k) => get(k), set: (k, v) => set(k, v) };

export function calibrationKey(key: CalibrationKey): string {
  return `${CALIBRATION_PREFIX}${key.adapter}|${key.docCount}|${key.dims.join(',')}`;
}

/** A stored entry, if it is one this version wrote. */
function storedChoice(v: unknown): Omit<Calibration, 'cached'> | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Partial<Calibration>;
  if (c.backend !== 'webgpu' && c.backend !== 'cpu') return null;
  if (typeof c.medianMs?.webgpu !== 'number' || typeof c.medianMs?.cpu !== 'number' || typeof c.rounds !== 'number') return null;
  return { backend: c.backend, medianMs: { webgpu: c.medianMs.webgpu, cpu: c.medianMs.cpu }, rounds: c.rounds };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The faster scorer for `key`: from the store when it was measured before, else measured now with
 * `search` (each closure runs one search, the same one, on its backend) and stored.
 */
export async function chooseBackend(
  search: Record<CalibratedBackend, () => Promise<unknown>>,
  key: CalibrationKey,
  opts: CalibrationOptions = {},
): Promise<Calibration> {
  const store = opts.store ?? idbStore;
  const now = opts.now ?? (() => performance.now());
  const maxRounds = opts.rounds ?? 3;
  const budgetMs = opts.budgetMs ?? 1500;
  if (!(Number.isInteger(maxRounds) && maxRounds >= 1)) throw new Error(`chooseBackend: rounds must be an integer ≥ 1, got ${maxRounds}`);
  const id = calibrationKey(key);
  try {
    const hit = storedChoice(await store.get(id));
    if (hit) return { ...hit, cached: true };
  } catch {
    // No IndexedDB here, or it failed: measure.
  }
  const order: CalibratedBackend[] = ['webgpu', 'cpu'];
  const times: Record<CalibratedBackend, number[]> = { webgpu: [], cpu: [] };
  const start = now();
  let running: CalibratedBackend = 'webgpu';
  try {
    for (const b of order) {
      running = b;
      await search[b](); // untimed: pipelines, JIT, first touch of buffers
    }
    for (let round = 0; round < maxRounds && (round === 0 || now() - start < budgetMs); round++) {
      for (let i = 0; i < order.length; i++) {
        const b = order[(i + round) % order.length];
        running = b;
        const t0 = now();
        await search[b]();
        times[b].push(now() - t0);
      }
    }
  } catch (e) {
    // A failure is not stored: it may be passing (a lost device), and the next load measures again.
    const bad = running;
    const other: CalibratedBackend = bad === 'webgpu' ? 'cpu' : 'webgpu';
    return {
      backend: other,
      medianMs: { [bad]: Number.NaN, [other]: times[other].length ? median(times[other]) : Number.NaN } as Record<CalibratedBackend, number>,
      rounds: times[other].length,
      cached: false,
      failed: { backend: bad, message: e instanceof Error ? e.message : String(e) },
    };
  }
  const medianMs = { webgpu: median(times.webgpu), cpu: median(times.cpu) };
  // A tie goes to WebGPU: it leaves the CPU to the page.
  const choice: Omit<Calibration, 'cached'> = { backend: medianMs.cpu < medianMs.webgpu ? 'cpu' : 'webgpu', medianMs, rounds: times.cpu.length };
  try {
    await store.set(id, choice);
  } catch {
    // Not kept: the next visit measures again.
  }
  return { ...choice, cached: false };
}

/** The depth hybrid search asks the scorer for (neuralPassageDepth: 4·M passages, M = FUSION_DEPTH), so both select the k they will. */
export const CALIBRATION_K = 4 * FUSION_DEPTH;

/**
 * chooseBackend over the engine's two scorers, each already holding this index's documents: one
 * q-net of the model's dims (random: the time does not depend on the values), top CALIBRATION_K.
 */
export function chooseScorer(
  gpu: Pick<QNetScorer, 'setWeights' | 'search' | 'documentCount'>,
  cpu: Pick<CpuQNetScorer, 'topK'>,
  vectors: Float32Array,
  arch: QNetArchitecture,
  adapter: string,
  opts: CalibrationOptions = {},
): Promise<Calibration> {
  const n = gpu.documentCount;
  const k = Math.min(CALIBRATION_K, n);
  const probe = randomWeights(arch, seededRandom(1));
  return chooseBackend(
    {
      webgpu: async () => {
        gpu.setWeights(probe);
        await gpu.search(k);
      },
      cpu: async () => cpu.topK(probe, vectors, n, k),
    },
    { adapter, docCount: n, dims: arch.dims },
    opts,
  );
}
