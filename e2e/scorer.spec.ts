import { expect, test } from '@playwright/test';
import { SCORER_REL_TOL } from './helpers/tolerances.ts';
import type { ParityCase, ParityResult } from './pages/scorer';

// Tolerance. The reference runs in Float64 on the very values the GPU sees (f16/int8 storage
// decoded), so only f32 arithmetic separates them (u = 2^-24 ≈ 6e-8). A K-term f32 dot product
// errs by about √K·u·Σ|terms| (rounding errors add like a random walk; K·u is the worst case);
// LayerNorm rescales each row to unit variance, so each layer adds a relative error of that size
// and the final dot product measures it against Σ|y·w_out|. For K ≤ 1024 and up to 8 layers:
// √8·32·6e-8 ≈ 5e-6 (a zero-layer q-net is one dot product: √768·6e-8 ≈ 2e-6). We allow 1e-5; measured maxima are 1e-8..1e-6. A wrong index, a missed bias
// or a skipped residual shows up as ≥ 1e-2 (the first run of this suite caught a stale accumulator
// at 0.2).
const REL_TOL = SCORER_REL_TOL;

test.beforeEach(async ({ page }) => {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto('/e2e/pages/scorer.html');
  await page.waitForFunction(() => window.harnessReady === true);
});

async function run(page: import('@playwright/test').Page, c: ParityCase): Promise<ParityResult> {
  return page.evaluate((cc) => window.runParity(cc), c);
}

const cases: (ParityCase & { name: string })[] = [
  { name: 'paper 768×6, f16', dims: [768, 768, 768, 768, 768, 768, 768, 1], n: 300, dtype: 'f16', k: 10, seed: 1 },
  {
    name: 'small [256,256,256,1], f16, many tiles and batches',
    dims: [256, 256, 256, 1],
    n: 2500,
    dtype: 'f16',
    k: 10,
    seed: 2,
    tileDocs: 700,
    activationBytes: 256 * 4 * 512,
  },
  { name: 'odd d=33, h=33, N=1', dims: [33, 33, 1], n: 1, dtype: 'f16', k: 1, seed: 3 },
  { name: 'odd d=100 h=100 ×3, N=1000 (not a multiple of 64), int8', dims: [100, 100, 100, 100, 1], n: 1000, dtype: 'int8', k: 16, seed: 4 },
  { name: 'd=47 h=47, f32, N=129', dims: [47, 47, 1], n: 129, dtype: 'f32', k: 7, seed: 5 },
  { name: 'odd d=47 h=47 ×2, int8, N=300', dims: [47, 47, 47, 1], n: 300, dtype: 'int8', k: 9, seed: 11 },
  { name: 'd=32 ×8 hidden layers, f16, k=100', dims: [32, 32, 32, 32, 32, 32, 32, 32, 32, 1], n: 3000, dtype: 'f16', k: 100, seed: 6 },
  { name: 'd=1024 h=1024 ×2, f16', dims: [1024, 1024, 1024, 1], n: 70, dtype: 'f16', k: 5, seed: 7 },
  {
    name: 'N = 2^20 + 1 in 17 tiles and many batches, [32,32,1]',
    dims: [32, 32, 1],
    n: (1 << 20) + 1,
    dtype: 'f16',
    k: 10,
    seed: 9,
    tileDocs: 65536,
    activationBytes: 32 * 4 * 131072,
  },
  {
    name: 'exact ties (200 distinct rows repeated) break by index; 4 queries with k 1, 512, 33 reuse the buffers',
    dims: [64, 64, 64, 1],
    n: 5000,
    dtype: 'f16',
    k: 50,
    seed: 10,
    distinct: 200,
    moreQueries: [1, 512, 33],
  },
  { name: 'non-residual widths 96→160→64, f32', dims: [96, 160, 64, 1], residual: [false, false], n: 200, dtype: 'f32', k: 10, seed: 8 },
  // On CPU-emulated adapters a layer over 256 wide runs in column blocks and a narrower one as a whole row.
  {
    name: 'mixed widths 96→320→48 (column blocks, then a whole row), f16, N=777',
    dims: [96, 320, 48, 1],
    residual: [false, false],
    n: 777,
    dtype: 'f16',
    k: 10,
    seed: 11,
  },
  // Zero hidden layers ([d, 1]): the inner product with w_out, one program (shaders/qnet_dot.wgsl) whatever the tiling.
  { name: 'zero layers [33,1], f16, N=1', dims: [33, 1], n: 1, dtype: 'f16', k: 1, seed: 21 },
  { name: 'zero layers [100,1], int8, N=1000 (not a multiple of 64)', dims: [100, 1], n: 1000, dtype: 'int8', k: 16, seed: 22 },
  { name: 'zero layers [768,1], f32, N=300', dims: [768, 1], n: 300, dtype: 'f32', k: 10, seed: 23 },
  { name: 'zero layers [768,1], f16, N=2500 in tiles of 700', dims: [768, 1], n: 2500, dtype: 'f16', k: 10, seed: 24, tileDocs: 700 },
  { name: 'zero layers [100,1], int8, N=1', dims: [100, 1], n: 1, dtype: 'int8', k: 1, seed: 25 },
  { name: 'zero layers [33,1], f32, N=129, k=100', dims: [33, 1], n: 129, dtype: 'f32', k: 100, seed: 26 },
  {
    name: 'zero layers [100,1], f16, exact ties (50 distinct rows), 3 queries with k 512, 1',
    dims: [100, 1],
    n: 3000,
    dtype: 'f16',
    k: 20,
    seed: 27,
    distinct: 50,
    moreQueries: [512, 1],
  },
  // Filters: the top-k keeps only masked-in documents (src/core/facets.ts passageMask), fewer than k when fewer are kept.
  { name: 'filtered: [100,100,1], int8, N=5000 (2 top-k steps), 10% kept, k=20', dims: [100, 100, 1], n: 5000, dtype: 'int8', k: 20, seed: 28, keep: 0.1 },
  { name: 'filtered: [100,1], f32, N=1000, 5 kept, k=50', dims: [100, 1], n: 1000, dtype: 'f32', k: 50, seed: 29, keep: [3, 64, 65, 511, 999] },
  { name: 'filtered: [33,33,1], f16, N=300, none kept, k=10', dims: [33, 33, 1], n: 300, dtype: 'f16', k: 10, seed: 30, keep: [] },
];

// The kernel the scorer picks for this adapter runs every case above; each shipped variant is also
// forced on these (the workgroup-memory kernel real GPUs get, the plain direct one, and the direct one
// with quad-shared rows, skipped where the device has no suitable subgroups).
const otherKernel = [
  'paper 768×6, f16',
  'odd d=33, h=33, N=1',
  'odd d=100 h=100 ×3, N=1000 (not a multiple of 64), int8',
  'd=47 h=47, f32, N=129',
  'odd d=47 h=47 ×2, int8, N=300',
  'non-residual widths 96→160→64, f32',
  'mixed widths 96→320→48 (column blocks, then a whole row), f16, N=777',
];
for (const kernel of ['tiled', 'direct', 'quad'] as const) {
  for (const c of cases.filter((x) => otherKernel.includes(x.name))) cases.push({ ...c, name: `${c.name} [${kernel} kernel]`, kernel });
}

for (const c of cases) {
  test(`GPU scores equal the CPU reference: ${c.name}`, async ({ page }) => {
    const r = await run(page, c);
    test.skip(!!r.skipped, r.skipped);
    console.log(
      `${c.name} ${r.tiling}: maxRelErr=${r.maxRelErr.toExponential(2)} maxAbsErr=${r.maxAbsErr.toExponential(2)} gpu=${r.gpuMs.toFixed(0)}ms f16 storage vs f32 docs: maxRelErr=${r.f16StorageMaxRelErr?.toExponential(2) ?? '-'} top10 overlap=${r.f16StorageTop10Overlap ?? '-'} [${r.adapter}]`,
    );
    expect(r.unwritten, 'scores left unwritten (NaN poison)').toBe(0);
    expect(r.maxRelErr).toBeLessThan(REL_TOL);
    expect(r.topkMismatches).toEqual([]);
    if (r.f16StorageMaxRelErr !== undefined) {
      // f16 storage vs the f32 originals (not a GPU error: both sides are the reference). Rounding
      // to f16 perturbs each input by at most 2^-11 relative; the residual path carries that
      // perturbation through every layer and each layer may add one of the same size, so we bound
      // the score's relative error by (L+1)·2^-11. Measured: 4e-5 (d=1024) to 1.8e-3 (d=32, L=8).
      const L = c.dims.length - 2;
      expect(r.f16StorageMaxRelErr).toBeLessThan((L + 1) * 2 ** -11);
    }
  });
}

// Where the adapter has subgroups laid out as quadA needs (SwiftShader here), the check must pass
// each workgroup shape the quad tiling uses, or the product silently runs without quads and the
// forced-quad cases above skip; and it must catch a shape whose quads span two rows.
test('the quad-layout check passes the workgroup shapes of the quad tiling and catches quads that span rows (2 × 8)', async ({ page }) => {
  const r = await page.evaluate(() => window.quadCheck());
  test.skip(!r.subgroups, 'this device has no subgroups');
  console.log(`quad-row mismatches: ${r.shapes!.map((s, i) => `${s} ${r.usable![i]}`).join(', ')}; 2×8 ${r.spanning}`);
  expect(r.usable).toEqual(r.shapes!.map(() => 0));
  expect(r.spanning).toBeGreaterThan(0);
});
