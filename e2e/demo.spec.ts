import { expect, test, type Page } from '@playwright/test';
import { demoDir, referenceTopIds } from './helpers/bundles.ts';

async function searchOnPage(page: Page, query: string): Promise<string[]> {
  await page.getByTestId('search-input').fill(query);
  await expect(page.locator('ol.results')).toHaveAttribute('data-query', query, { timeout: 60_000 });
  await expect(page.getByTestId('hit')).toHaveCount(10);
  await expect(page.locator('.timings')).not.toBeEmpty();
  return page.getByTestId('hit').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.docId!));
}

for (const backend of ['webgpu', 'cpu'] as const) {
  test(`demo page (${backend}): says it is synthetic and ranks exactly as the CPU reference`, async ({ page }, info) => {
    await page.goto(backend === 'cpu' ? '/?backend=cpu' : '/');
    await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 120_000 });
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
    await expect(page.getByRole('note')).toContainText('Synthetic demo');
    await expect(page.getByTestId('backend')).toContainText(backend === 'webgpu' ? 'WebGPU' : 'CPU');
    for (const q of ['how do wings generate lift', 'boundary layer transition']) {
      const got = await searchOnPage(page, q);
      expect(got).toEqual(await referenceTopIds(demoDir, q, 10));
    }
    await page.screenshot({ path: info.outputPath(`demo-${backend}.png`), fullPage: true });
  });
}
