import { expect, test, type Page } from '@playwright/test';
import { join } from 'node:path';
import { readIndexBundle, readModelBundle } from '../src/cli/readBundle.ts';
import { referenceScores, referenceTopK } from '../src/core/qnet.ts';
import { syntheticQueryWeights } from '../src/core/syntheticQuery.ts';
import { decodeVectors } from '../src/core/vectorStorage.ts';

const demoDir = join(import.meta.dirname, '..', 'public', 'generated', 'demo');

/** The top-10 ids the CPU reference gives for a query over the demo index, read from disk. */
async function expectedTop10(query: string): Promise<string[]> {
  const model = await readModelBundle(join(demoDir, 'model'));
  const index = await readIndexBundle(join(demoDir, 'index'), { model });
  const d = index.manifest.dim;
  const all = new Float32Array(index.manifest.docCount * d);
  let row = 0;
  for (const t of index.tiles) {
    all.set(decodeVectors(t), row * d);
    row += t.n;
  }
  const scores = referenceScores(syntheticQueryWeights(model.model.qnet, query), all, index.manifest.docCount);
  return Array.from(referenceTopK(scores, 10).indices, (i) => index.metadata[i].id);
}

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
      expect(got).toEqual(await expectedTop10(q));
    }
    await page.screenshot({ path: info.outputPath(`demo-${backend}.png`), fullPage: true });
  });
}
