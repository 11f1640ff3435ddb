import { test } from '@playwright/test';
// Tuning aid (not part of the suite: run with TUNE=1): warm docs/s of search(K) for tilings
// (env TILINGS, DIMS, N, ROUNDS; K from TUNE_K, default 10; TUNE_K=0 times scoreAll(), no top-k).
test('tune', async ({ page }) => {
  test.skip(!process.env.TUNE, 'tuning aid: TUNE=1');
  test.setTimeout(1_800_000);
  await page.goto('/e2e/pages/scorer.html');
  await page.waitForFunction(() => window.harnessReady === true);
  const tilings = JSON.parse(process.env.TILINGS ?? '[null]');
  const dims = JSON.parse(process.env.DIMS ?? '[256,256,256,1]');
  const n = Number(process.env.N ?? 8192);
  const k = Number(process.env.TUNE_K ?? 10);
  for (let round = 0; round < Number(process.env.ROUNDS ?? 1); round++) {
    for (const t of tilings) {
      const r = await page.evaluate(([t, dims, n, k]) => (window as any).timeSearch(dims, n, 3, t ?? undefined, k), [t, dims, n, k] as const);
      console.log('RESULT', JSON.stringify(t), Math.round(r.docsPerS), 'docs/s', JSON.stringify(r.ms.map((x: number) => Math.round(x))));
    }
  }
});
