import { expect, test } from '@playwright/test';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { makeScaleIndex } from '../bench/scaleIndex.ts';
import { SCORER_REL_TOL } from './helpers/tolerances.ts';
import { untilServed } from './helpers/served.ts';
import type { GatherCase, LazyCase, WalkCase } from './pages/graph';

// Approximate search on the GPU (src/gpu/gatherScorer.ts, src/worker/graphSearchDriver.ts,
// src/worker/rangeFetch.ts). Oracles: the Float64 reference scorer, the exhaustive GPU scorer
// (itself checked against the reference in e2e/scorer.spec.ts and here), and core's CPU walk.

test.beforeEach(async ({ page }) => {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto('/e2e/pages/graph.html');
  await page.waitForFunction(() => window.graphHarnessReady === true);
});

const gatherCases: (GatherCase & { name: string })[] = [
  {
    name: '[100,100,100,1] f16, 3000 ids with repeats over 5 document buffers, 3 slices, several batches each',
    dims: [100, 100, 100, 1],
    n: 5000,
    dtype: 'f16',
    seed: 1,
    ids: 3000,
    maxBatch: 1024,
    maxBufferRows: 1200,
    activationBytes: 100 * 4 * 256,
  },
  { name: 'odd [33,47,1] f32, 77 ids, batch 64', dims: [33, 47, 1], n: 300, dtype: 'f32', seed: 2, ids: 77, maxBatch: 64, maxBufferRows: 100 },
  { name: 'int8 [100,100,100,100,1], 500 ids', dims: [100, 100, 100, 100, 1], n: 2000, dtype: 'int8', seed: 3, ids: 500, maxBatch: 8192 },
  { name: 'one id', dims: [64, 64, 64, 1], n: 10, dtype: 'f16', seed: 4, ids: 1, maxBatch: 16 },
  // Zero hidden layers ([d, 1]): the gathered rows go through the inner-product program.
  { name: 'zero layers [33,1] f32, 77 ids, batch 64', dims: [33, 1], n: 300, dtype: 'f32', seed: 5, ids: 77, maxBatch: 64, maxBufferRows: 100 },
  { name: 'zero layers [100,1] int8, 500 ids', dims: [100, 1], n: 2000, dtype: 'int8', seed: 6, ids: 500, maxBatch: 8192 },
  { name: 'zero layers [768,1] f16, one id', dims: [768, 1], n: 10, dtype: 'f16', seed: 7, ids: 1, maxBatch: 16 },
];

for (const c of gatherCases) {
  test(`gather scorer = reference and = the exhaustive scorer bit for bit: ${c.name}`, async ({ page }) => {
    const r = await page.evaluate((cc) => window.graphHarness.gatherParity(cc), c);
    console.log(`${c.name}: maxRelErr=${r.maxRelErr.toExponential(2)} buffers=${r.buffers}`);
    expect(r.unwritten).toBe(0);
    expect(r.maxRelErr).toBeLessThan(SCORER_REL_TOL);
    expect(r.notBitwiseEqual).toBe(0);
    if (c.maxBufferRows) expect(r.buffers).toBeGreaterThan(1);
  });
}

test('GPU graph walk = CPU graph walk (same ids, scored, rounds); a walk covering the corpus = exhaustive GPU top-k', async ({ page }) => {
  const c: WalkCase = {
    dims: [100, 100, 100, 1],
    n: 4000,
    clusters: 20,
    degree: 16,
    seed: 7,
    queries: 4,
    entries: 20,
    walk: { k: 10, beam: 16, maxIterations: 20 },
    cover: true,
  };
  const { results, graphBuildMs } = await page.evaluate((cc) => window.graphHarness.walkParity(cc), c);
  console.log(`k-NN graph built in the page in ${graphBuildMs.toFixed(0)} ms`);
  for (const [q, r] of results.entries()) {
    console.log(`query ${q}: scored ${r.gpuScored}/${c.n} in ${r.gpuIterations} rounds, recall@10 ${r.recall}, cover scored ${r.coverScored}`);
    expect(r.gpuIds).toEqual(r.cpuTableIds);
    expect(r.gpuScored).toBe(r.cpuTableScored);
    expect(r.gpuIterations).toBe(r.cpuTableIterations);
    expect(r.scoresBitwiseEqualTable).toBe(true);
    expect(r.gpuIds).toEqual(r.cpuRefIds);
    expect(r.gpuScored).toBe(r.cpuRefScored);
    expect(r.gpuScored).toBeLessThan(c.n);
    expect(r.coverScored).toBe(c.n);
    expect(r.coverIds).toEqual(r.exhaustiveIds);
  }
});

const LAZY = 'e2e-graph-lazy';
const lazyDir = resolve(import.meta.dirname, '..', 'public', 'generated', LAZY);

test.describe('lazily loaded index', () => {
  test.beforeAll(async ({ baseURL }) => {
    await makeScaleIndex(lazyDir, { n: 6000, dim: 64, clusters: 60, degree: 16, chunkDocs: 128, seed: 5, force: true });
    await untilServed(baseURL, `/generated/${LAZY}/index/manifest.json`);
  });
  test.afterAll(async () => {
    await rm(lazyDir, { recursive: true, force: true });
  });

  const walk = { k: 10, beam: 16, maxIterations: 12 };

  test('Range-fetched, verified chunks give the eager walk (also through a paged resident pool that evicts); repeated and cached queries fetch nothing', async ({
    page,
  }) => {
    // Paged: 32 chunk slots of 128 rows × 128 bytes (d = 64, f16) for 47 chunks, so chunks get evicted and reloaded.
    const c: LazyCase = { base: `/generated/${LAZY}`, seeds: [1, 2, 3], walk, db: `lazy-test-${Date.now()}`, residentBytes: 32 * 128 * 128 };
    const r = await page.evaluate((cc) => window.graphHarness.lazyParity(cc), c);
    console.log(
      `bytes per query ${JSON.stringify(r.queryBytes)} of ${r.indexBytes}; warm: network ${r.warmNetworkBytes}, cache ${r.warmCachedBytes}; paged: ${r.evictions} evictions, GPU bytes ${r.pagedGpuBytes} vs ${r.fullGpuBytes}`,
    );
    expect(r.lazyIds).toEqual(r.eagerIds);
    expect(r.pagedIds).toEqual(r.eagerIds);
    expect(r.evictions).toBeGreaterThan(0);
    expect(r.pagedGpuBytes).toBeLessThan(r.fullGpuBytes!);
    expect(r.warmIds).toEqual(r.eagerIds);
    expect(r.queryBytes[0]).toBeLessThan(r.indexBytes);
    expect(r.repeatBytes).toBe(0);
    // The second instance reads only manifest.json from the network; every chunk from IndexedDB.
    expect(r.warmCachedBytes).toBeGreaterThan(0);
    expect(r.warmNetworkBytes).toBeLessThan(20_000);
  });

  test('a host that ignores Range (200, whole file) still gives the same results', async ({ page }) => {
    await page.route(`**/generated/${LAZY}/index/{vectors,graph}/**`, async (route) => {
      const headers = { ...route.request().headers() };
      delete headers.range;
      const res = await route.fetch({ headers });
      await route.fulfill({ status: 200, headers: res.headers(), body: await res.body() });
    });
    const c: LazyCase = { base: `/generated/${LAZY}`, seeds: [4], walk, db: `lazy-200-${Date.now()}` };
    const r = await page.evaluate((cc) => window.graphHarness.lazyParity(cc), c);
    expect(r.lazyIds).toEqual(r.eagerIds);
  });

  test('a tampered range is refused, naming the file and the chunk', async ({ page }) => {
    let tampered = 0;
    await page.route(`**/generated/${LAZY}/index/vectors/00000.bin`, async (route) => {
      const res = await route.fetch();
      const body = Buffer.from(await res.body());
      if (route.request().headers().range && body.length > 10) {
        body[body.length >> 1] ^= 0x01; // one bit of one f16 value
        tampered++;
      }
      await route.fulfill({ status: res.status(), headers: res.headers(), body });
    });
    const c: LazyCase = { base: `/generated/${LAZY}`, seeds: [1], walk, db: `lazy-tamper-${Date.now()}` };
    const msg = await page.evaluate((cc) => window.graphHarness.lazyError(cc), c);
    expect(tampered).toBeGreaterThan(0);
    expect(msg).toMatch(/^vectors\/00000\.bin: chunk \d+ \(bytes \d+–\d+\): SHA-256 mismatch/);
  });
});
