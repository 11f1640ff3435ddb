// The scorer calibration (src/worker/backendCalibration.ts) with fake backends on a fake clock: each
// fake search advances the clock by the milliseconds it is given, so the choice is known in advance.
import { describe, expect, it } from 'vitest';
import { paperArchitecture, randomVectors, seededRandom, type QNetWeights } from '../src/core/qnet';
import { CpuQNetScorer } from '../src/core/qnetCpu';
import {
  CALIBRATION_K,
  CALIBRATION_PREFIX,
  type CalibratedBackend,
  type CalibrationStore,
  calibrationKey,
  chooseBackend,
  chooseScorer,
} from '../src/worker/backendCalibration';

class MemoryStore implements CalibrationStore {
  map = new Map<string, unknown>();
  async get(k: string) {
    return this.map.get(k);
  }
  async set(k: string, v: unknown) {
    this.map.set(k, v);
  }
}

/** Fake backends: the i-th call of backend b costs costs[b][i] ms (the last cost repeats). */
function fakes(costs: Record<CalibratedBackend, number[]>) {
  let clock = 0;
  const calls: CalibratedBackend[] = [];
  const run = (b: CalibratedBackend) => async () => {
    const i = calls.filter((c) => c === b).length;
    calls.push(b);
    clock += costs[b][Math.min(i, costs[b].length - 1)];
  };
  return { search: { webgpu: run('webgpu'), cpu: run('cpu') }, now: () => clock, calls };
}

const key = { adapter: 'google / swiftshader (SwiftShader Device (Subzero))', docCount: 10301, dims: [100, 100, 100, 1] };

describe('chooseBackend', () => {
  it('picks the faster median, ignores the warm-up run, alternates which backend goes first, and stores the choice', async () => {
    const store = new MemoryStore();
    // WebGPU's first (pipeline-compiling) run is slow; after it, it is the faster one. The CPU has one slow outlier.
    const f = fakes({ webgpu: [900, 12, 11, 13], cpu: [30, 20, 95, 21] });
    const c = await chooseBackend(f.search, key, { store, now: f.now });
    expect(c).toEqual({ backend: 'webgpu', medianMs: { webgpu: 12, cpu: 21 }, rounds: 3, cached: false });
    expect(f.calls).toEqual(['webgpu', 'cpu', 'webgpu', 'cpu', 'cpu', 'webgpu', 'webgpu', 'cpu']);
    expect(store.map.get(calibrationKey(key))).toEqual({ backend: 'webgpu', medianMs: { webgpu: 12, cpu: 21 }, rounds: 3 });
    expect(calibrationKey(key)).toBe(`${CALIBRATION_PREFIX}google / swiftshader (SwiftShader Device (Subzero))|10301|100,100,100,1`);
  });

  it('picks the CPU where it is faster (a CPU-emulated adapter), and a second call answers from the store without running anything', async () => {
    const store = new MemoryStore();
    const f = fakes({ webgpu: [400, 150], cpu: [60, 40] });
    expect((await chooseBackend(f.search, key, { store, now: f.now })).backend).toBe('cpu');
    const again = fakes({ webgpu: [1], cpu: [1000] });
    expect(await chooseBackend(again.search, key, { store, now: again.now })).toEqual({
      backend: 'cpu',
      medianMs: { webgpu: 150, cpu: 40 },
      rounds: 3,
      cached: true,
    });
    expect(again.calls).toEqual([]);
  });

  it('measures again for another adapter, index size or q-net', async () => {
    const store = new MemoryStore();
    const f = fakes({ webgpu: [5], cpu: [50] });
    await chooseBackend(f.search, key, { store, now: f.now });
    for (const other of [
      { ...key, adapter: 'nvidia / hopper' },
      { ...key, docCount: 1_000_000 },
      { ...key, dims: [768, 768, 768, 1] },
    ]) {
      const g = fakes({ webgpu: [50], cpu: [5] });
      const c = await chooseBackend(g.search, other, { store, now: g.now });
      expect(c.cached).toBe(false);
      expect(c.backend).toBe('cpu');
    }
    expect(store.map.size).toBe(4);
  });

  it('ignores a stored entry it did not write, and measures', async () => {
    const store = new MemoryStore();
    for (const junk of [null, 'cpu', { backend: 'wasm', medianMs: { webgpu: 1, cpu: 2 }, rounds: 3 }, { backend: 'cpu' }]) {
      store.map.set(calibrationKey(key), junk);
      const f = fakes({ webgpu: [3], cpu: [9] });
      const c = await chooseBackend(f.search, key, { store, now: f.now });
      expect(c).toMatchObject({ backend: 'webgpu', cached: false });
      expect(f.calls.length).toBe(8);
    }
  });

  it('stops starting rounds once the time budget is spent (after at least one)', async () => {
    const f = fakes({ webgpu: [700], cpu: [600] });
    const c = await chooseBackend(f.search, key, { store: new MemoryStore(), now: f.now, budgetMs: 1500, rounds: 5 });
    // Warm-up 1300 ms, round 1 another 1300: over budget, so no round 2.
    expect(c.rounds).toBe(1);
    expect(f.calls.length).toBe(4);
    expect(c.backend).toBe('cpu');
  });

  it('chooses the other backend when one throws, names it, and stores nothing', async () => {
    const store = new MemoryStore();
    const f = fakes({ webgpu: [10], cpu: [20] });
    let n = 0;
    const search = {
      webgpu: async () => {
        if (++n === 3) throw new Error('GPU device lost');
        await f.search.webgpu();
      },
      cpu: f.search.cpu,
    };
    const c = await chooseBackend(search, key, { store, now: f.now });
    expect(c.backend).toBe('cpu');
    expect(c.failed).toEqual({ backend: 'webgpu', message: 'GPU device lost' });
    expect(c.medianMs.webgpu).toBeNaN();
    expect(store.map.size).toBe(0);
    // The CPU failing in its warm-up: WebGPU, with no CPU time at all.
    const g = fakes({ webgpu: [10], cpu: [20] });
    const c2 = await chooseBackend({ webgpu: g.search.webgpu, cpu: () => Promise.reject(new Error('out of memory')) }, key, { store, now: g.now });
    expect(c2).toMatchObject({ backend: 'webgpu', failed: { backend: 'cpu', message: 'out of memory' }, cached: false });
  });

  it('still measures when the store fails (no IndexedDB: the default store in Node)', async () => {
    const broken: CalibrationStore = {
      get: () => Promise.reject(new Error('quota')),
      set: () => Promise.reject(new Error('quota')),
    };
    const f = fakes({ webgpu: [8], cpu: [4] });
    expect(await chooseBackend(f.search, key, { store: broken, now: f.now })).toMatchObject({ backend: 'cpu', cached: false });
    expect(typeof indexedDB).toBe('undefined');
    const g = fakes({ webgpu: [8], cpu: [4] });
    expect(await chooseBackend(g.search, key, { now: g.now })).toMatchObject({ backend: 'cpu', cached: false });
  });

  it('refuses a bad round count', async () => {
    const f = fakes({ webgpu: [1], cpu: [1] });
    await expect(chooseBackend(f.search, key, { rounds: 0, store: new MemoryStore() })).rejects.toThrow('chooseBackend: rounds must be an integer ≥ 1, got 0');
  });
});

describe('chooseScorer', () => {
  it('times the two scorers on one q-net of the model dims at the hybrid depth, keyed by the scorer documents', async () => {
    const arch = paperArchitecture(16, 16, 2);
    const n = 1000;
    const vectors = randomVectors(n, 16, seededRandom(1));
    let clock = 0;
    const seen: { backend: string; k: number; dims: number[] }[] = [];
    const gpu = {
      documentCount: n,
      setWeights: (w: QNetWeights) => void seen.push({ backend: 'webgpu-weights', k: 0, dims: w.arch.dims }),
      search: async (k: number) => {
        clock += 30;
        seen.push({ backend: 'webgpu', k, dims: [] });
        return { indices: new Uint32Array(0), scores: new Float32Array(0) };
      },
    };
    const cpu = new CpuQNetScorer();
    const cpuTopK = cpu.topK.bind(cpu);
    const cpuFake = {
      topK: (w: QNetWeights, v: Float32Array, count: number, k: number) => {
        clock += 3;
        seen.push({ backend: 'cpu', k, dims: w.arch.dims });
        expect(v).toBe(vectors);
        expect(count).toBe(n);
        return cpuTopK(w, v, count, k);
      },
    };
    const store = new MemoryStore();
    const c = await chooseScorer(gpu as unknown as Parameters<typeof chooseScorer>[0], cpuFake, vectors, arch, 'fake adapter', { store, now: () => clock });
    expect(c).toMatchObject({ backend: 'cpu', medianMs: { webgpu: 30, cpu: 3 }, cached: false });
    expect(seen.filter((s) => s.backend !== 'webgpu-weights').every((s) => s.k === CALIBRATION_K)).toBe(true);
    expect(CALIBRATION_K).toBe(400);
    expect(seen.filter((s) => s.backend !== 'webgpu').every((s) => s.dims.join() === arch.dims.join())).toBe(true);
    expect([...store.map.keys()]).toEqual([calibrationKey({ adapter: 'fake adapter', docCount: n, dims: arch.dims })]);
  });
});
