// The demo page (`npm run demo`, the test server) in whichever state scripts/demoIndex.ts left it:
// - a trained model in models/default/: the Python docs corpus indexed with it. The page names the
//   corpus and model, its chips are data/demo/example-queries.json, lexical ranking equals the Node
//   engine's exactly, neural ranking agrees with the Node engine's (onnxruntime-node) up to float
//   near-ties (e2e/helpers/demoOracle.ts);
// - no model: the synthetic index; the page says so and ranks exactly as the CPU reference.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DemoOracle, hitsFromMeta, readDemoAbout, type BrowserHit } from './helpers/demoOracle.ts';

const root = join(import.meta.dirname, '..');
const about = readDemoAbout();

async function searchOnPage(page: Page, query: string): Promise<{ ids: string[]; hits: BrowserHit[]; hrefs: string[] }> {
  await page.getByTestId('search-input').fill(query);
  await expect(page.locator('ol.results')).toHaveAttribute('data-query', query, { timeout: 60_000 });
  // Keyword results come first while the neural half loads; then the list is ranked again in the chosen mode.
  await expect(page.locator('ol.results')).toHaveAttribute('data-ranked-by', (await page.locator('ol.results').getAttribute('data-mode')) ?? '', {
    timeout: 120_000,
  });
  await expect(page.getByTestId('hit')).toHaveCount(10);
  await expect(page.locator('.timings')).not.toBeEmpty();
  const r = await page.getByTestId('hit').evaluateAll((els) => ({
    ids: els.map((e) => (e as HTMLElement).dataset.docId!),
    metas: els.map((e) => e.querySelector('.meta')?.textContent ?? ''),
    hrefs: els.map((e) => e.querySelector('a')?.getAttribute('href') ?? ''),
  }));
  return { ids: r.ids, hits: hitsFromMeta(r.ids, r.metas), hrefs: r.hrefs };
}

async function openDemo(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 120_000 });
  expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
}

let oracle: DemoOracle;
test.beforeAll(async () => {
  oracle = await DemoOracle.open(about);
});
test.afterAll(async () => {
  await oracle?.close();
});

if (about.kind === 'synthetic') {
  for (const backend of ['webgpu', 'cpu'] as const) {
    test(`demo page (${backend}): says it is synthetic and ranks exactly as the CPU reference`, async ({ page }, info) => {
      await openDemo(page, backend === 'cpu' ? '/?backend=cpu' : '/');
      await expect(page.getByRole('note')).toContainText('Synthetic demo');
      await expect(page.getByTestId('about')).toContainText(`Model: ${about.model.id} (synthetic`);
      await expect(page.getByTestId('backend')).toContainText(backend === 'webgpu' ? 'WebGPU' : 'CPU');
      for (const q of ['how do wings generate lift', 'boundary layer transition']) {
        await oracle.expectNeural(q, (await searchOnPage(page, q)).hits, 10);
      }
      await page.screenshot({ path: info.outputPath(`demo-${backend}.png`), fullPage: true });
    });
  }
} else {
  test('demo page: names the corpus and model, offers the example queries, ranks as the Node engine', async ({ page }, info) => {
    expect(about.kind).toBe('corpus');
    const examples: string[] = JSON.parse(readFileSync(join(root, 'data', 'demo', 'example-queries.json'), 'utf8')).examples.map(
      (e: { query: string }) => e.query,
    );
    await openDemo(page, '/?mode=neural');
    await expect(page.getByTestId('about')).toContainText(`Searching the ${about.corpus.name}`);
    await expect(page.getByTestId('about')).toContainText(`with the model ${about.model.id}`);
    await expect(page.getByRole('note')).toBeHidden();
    await expect(page.getByTestId('example')).toHaveText(examples);

    // A chip runs its query (neural, as the link says): the top 10 agree with onnxruntime-node's.
    await page.getByTestId('example').first().click();
    await expect(page.getByTestId('search-input')).toHaveValue(examples[0]);
    const neural = await searchOnPage(page, examples[0]);
    await oracle.expectNeural(examples[0], neural.hits, 10);
    for (const href of neural.hrefs) expect(href).toMatch(/^https:\/\/docs\.python\.org\/3\.11\/[^#]+\.html(#.+)?$/);
    await oracle.expectNeural(examples[1], (await searchOnPage(page, examples[1])).hits, 10);

    // BM25 is the same code in both engines: the same passages in the same order.
    await page.getByTestId('mode-lexical').check({ force: true });
    for (const q of [examples[2], 'deep copy of a compound object']) {
      const got = await searchOnPage(page, q);
      expect(got.ids).toEqual(await oracle.lexicalIds(q, 10));
    }
    await expect(page.getByTestId('query-notice')).toBeHidden();
    // A misspelt word no page holds: the page says which words it searched instead, and marks them.
    const typo = 'dictionery comprehension';
    expect((await searchOnPage(page, typo)).ids).toEqual(await oracle.lexicalIds(typo, 10));
    await expect(page.getByTestId('query-notice')).toHaveText(/^No page has “dictionery”: also showing “dictionar(y|ies)”/);
    expect((await page.locator('.hit mark').allTextContents()).map((m) => m.toLowerCase())).toContain('dictionary');
    await page.screenshot({ path: info.outputPath('demo-corpus.png'), fullPage: true });
  });
}
