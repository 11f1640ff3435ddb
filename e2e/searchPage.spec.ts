// The search page as a user meets it: highlighting, keyboard, example chips, document text that
// looks like HTML shown as text, unsafe link targets dropped, and the phone layout.
import { expect, test, type Page } from '@playwright/test';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSyntheticIndex } from '../src/cli/syntheticIndex.ts';
import { generatedDir, referenceTopIds, writeSyntheticBundle } from './helpers/bundles.ts';
import { untilServed } from './helpers/served.ts';

// The ranking checks use a synthetic bundle of their own, made as the synthetic demo is, so they hold
// whether the demo serves it or a trained model's index (scripts/demoIndex.ts).
const synthName = 'e2e-search-page';
const synthDir = join(generatedDir, synthName);
const synthPage = `/?model=/generated/${synthName}/model/&index=/generated/${synthName}/index/`;
test.beforeAll(async ({ baseURL }) => {
  await makeSyntheticIndex(synthDir, { n: 10_000, dim: 128, dtype: 'f16', seed: 1, hiddenLayers: 2, force: true });
  await untilServed(baseURL, `/generated/${synthName}/index/manifest.json`);
});

async function openPage(page: Page, path = '/'): Promise<void> {
  await page.goto(path);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 120_000 });
  expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
}

async function search(page: Page, query: string, hits = 10): Promise<void> {
  await page.getByTestId('search-input').fill(query);
  await expect(page.locator('ol.results')).toHaveAttribute('data-query', query, { timeout: 60_000 });
  await expect(page.getByTestId('hit')).toHaveCount(hits);
}

const hitIds = (page: Page) => page.getByTestId('hit').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.docId!));

test('highlights the query words, moves through hits with the keyboard, clears with Escape', async ({ page }, info) => {
  await openPage(page, synthPage);
  const input = page.getByTestId('search-input');
  await expect(input).toBeFocused();
  await expect(page.getByRole('searchbox', { name: 'Search the documents' })).toBeVisible();

  // The demo texts read "Synthetic document N: its vector is random Gaussian noise (seed 1), …".
  await search(page, 'gaussian noises in documents');
  expect(await hitIds(page)).toEqual(await referenceTopIds(synthDir, 'gaussian noises in documents', 10));
  const first = page.getByTestId('hit').first();
  expect(await first.locator('mark').allTextContents()).toEqual(['document', 'document', 'Gaussian', 'noise']);
  await expect(page.getByRole('status')).toHaveText('10 results for “gaussian noises in documents”');
  await expect(page.locator('.timings')).toContainText('ms');

  await input.press('ArrowDown');
  await expect(first).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('hit').nth(2)).toBeFocused();
  await page.keyboard.press('End');
  await expect(page.getByTestId('hit').last()).toBeFocused();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowUp'); // from the first hit back to the box
  await expect(input).toBeFocused();
  await input.press('ArrowDown');
  await page.keyboard.press('Escape'); // from a hit: back to the box, results kept
  await expect(input).toBeFocused();
  await expect(page.getByTestId('hit')).toHaveCount(10);
  await page.screenshot({ path: info.outputPath('keyboard.png'), fullPage: true });
  await input.press('Escape'); // in the box: cleared
  await expect(input).toHaveValue('');
  await expect(page.getByTestId('hit')).toHaveCount(0);

  // An example chip runs its query; the address bar keeps it.
  const chip = page.getByTestId('example').first();
  const chipText = (await chip.textContent())!;
  await chip.click();
  await expect(input).toHaveValue(chipText);
  await expect(page.locator('ol.results')).toHaveAttribute('data-query', chipText, { timeout: 60_000 });
  expect(new URL(page.url()).searchParams.get('q')).toBe(chipText);

  // Modes the engine does not offer are disabled, and the page says why.
  for (const m of ['neural', 'lexical', 'hybrid']) await expect(page.getByTestId(`mode-${m}`)).toHaveCount(1);
  await expect(page.getByTestId('mode-neural')).toBeChecked();
});

test('a shared link with ?q= opens with its results', async ({ page }) => {
  await openPage(page, `${synthPage}&q=boundary+layer+transition`);
  await expect(page.locator('ol.results')).toHaveAttribute('data-query', 'boundary layer transition', { timeout: 60_000 });
  expect(await hitIds(page)).toEqual(await referenceTopIds(synthDir, 'boundary layer transition', 10));
});

test('document text that looks like HTML is shown as text; only http(s) links; Enter opens a hit', async ({ page }, info) => {
  const name = `e2e-xss-${process.pid}`;
  const dir = join(generatedDir, name);
  const evil = '<img src=x onerror=alert(1)>';
  await writeSyntheticBundle(dir, [
    { id: 'evil-title', title: evil, url: 'https://example.org/evil', text: '<script>alert(2)</script> and <b>bold</b> img words' },
    { id: 'js-url', title: 'A javascript: link', url: 'javascript:alert(3)', text: 'img text' },
    { id: 'data-url', title: 'A data: link', url: 'data:text/html,<script>alert(4)</script>', text: 'img text' },
    { id: 'plain', title: 'Plain & simple <3', url: '', text: 'a & b < c > d' },
  ]);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  try {
    await openPage(page, `/?model=/generated/${name}/model/&index=/generated/${name}/index/`);
    await search(page, 'img alert', 4);
    const evilHit = page.locator('[data-doc-id="evil-title"]');
    await expect(evilHit.getByRole('heading')).toHaveText(evil);
    await expect(evilHit.locator('.snippet')).toHaveText('<script>alert(2)</script> and <b>bold</b> img words');
    expect(await evilHit.locator('mark').allTextContents()).toEqual(['img', 'alert', 'alert', 'img']);
    await expect(page.locator('ol.results img, ol.results script, ol.results b')).toHaveCount(0);
    await expect(evilHit.getByRole('link')).toHaveAttribute('href', 'https://example.org/evil');
    await expect(page.locator('[data-doc-id="js-url"] a')).toHaveCount(0);
    await expect(page.locator('[data-doc-id="data-url"] a')).toHaveCount(0);
    await expect(page.locator('[data-doc-id="plain"] .hit-title')).toHaveText('Plain & simple <3');
    await page.screenshot({ path: info.outputPath('html-as-text.png'), fullPage: true });

    // Enter on a focused hit follows its link (answered here; there is no network).
    await page.route('https://example.org/**', (r) => r.fulfill({ body: 'opened', contentType: 'text/plain' }));
    await evilHit.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL('https://example.org/evil');
    expect(dialogs).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('phone-sized screen: nothing wider than the screen, results readable', async ({ browser }, info) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  try {
    await openPage(page);
    await search(page, 'gaussian noise documents');
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    const box = await page.getByTestId('search-input').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    await page.screenshot({ path: info.outputPath('phone-390x844.png') });
  } finally {
    await context.close();
  }
});
