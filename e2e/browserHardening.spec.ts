// The page against links and bundles made by someone else: a shared link's ?mode= is honored; its
// ?model= / ?index= only within the config's allowBundlesFrom (same origin by default); a hit's URL
// cannot hide a right-to-left override; a 100,000-character query is searched cut, with a notice;
// a vector tile larger than the manifest says is refused without being downloaded.
import { expect, test, type Page, type Request } from '@playwright/test';
import { appendFile, cp, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { demoDir, generatedDir, writeSyntheticBundle } from './helpers/bundles.ts';
import { untilServed } from './helpers/served.ts';

async function openPage(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 120_000 });
}

async function expectReady(page: Page, path: string): Promise<void> {
  await openPage(page, path);
  expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
}

const results = (page: Page) => page.locator('ol.results');

test('a shared link with ?mode=lexical or ?mode=hybrid opens in that mode and its first search runs in it', async ({ page }) => {
  for (const mode of ['lexical', 'hybrid'] as const) {
    await expectReady(page, `/?mode=${mode}&q=list+comprehension`);
    await expect(page.getByTestId(`mode-${mode}`)).toBeChecked();
    await expect(results(page)).toHaveAttribute('data-query', 'list comprehension', { timeout: 60_000 });
    await expect(results(page)).toHaveAttribute('data-mode', mode);
    await expect(page.getByTestId('hit').first()).toBeVisible();
    expect(new URL(page.url()).searchParams.get('mode')).toBe(mode);
  }
});

test('?mode=hybrid on an index without a lexical part falls back to neural once the engine says so', async ({ page }) => {
  const name = `e2e-mode-fallback-${process.pid}`;
  const dir = join(generatedDir, name);
  await writeSyntheticBundle(dir, [
    { id: 'a', title: 'First', url: 'https://example.org/a', text: 'gaussian noise' },
    { id: 'b', title: 'Second', url: 'https://example.org/b', text: 'boundary layer' },
  ]);
  try {
    await untilServed(undefined, `/generated/${name}/index/manifest.json`);
    await expectReady(page, `/?model=/generated/${name}/model/&index=/generated/${name}/index/&mode=hybrid&q=noise`);
    await expect(results(page)).toHaveAttribute('data-mode', 'neural', { timeout: 60_000 });
    await expect(page.getByTestId('mode-neural')).toBeChecked();
    await expect(page.getByTestId('mode-hybrid')).toBeDisabled();
    expect(new URL(page.url()).searchParams.get('mode')).toBe('neural'); // not the default (hybrid) any more
    await expect(page.getByTestId('bundle-refused')).toHaveCount(0); // same-origin bundles: accepted
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('?index= on another origin is refused with a message; the configured bundles are searched instead', async ({ page, baseURL }) => {
  const port = new URL(baseURL!).port;
  // localhost is the same machine and server, but another origin than 127.0.0.1.
  const foreign = `http://localhost:${port}/generated/demo/index/`;
  const foreignRequests: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).hostname === 'localhost') foreignRequests.push(r.url());
  });
  await expectReady(page, `/?index=${encodeURIComponent(foreign)}&model=${encodeURIComponent('javascript:alert(1)')}`);
  const refused = page.getByTestId('bundle-refused');
  await expect(refused).toBeVisible();
  await expect(refused).toHaveAttribute('role', 'alert');
  await expect(refused).toContainText(
    `The index named in the link was not loaded: this page loads bundles only from ${new URL(baseURL!).origin} (this site); ?index= points at ${foreign}. This site's own index is used instead.`,
  );
  await expect(refused).toContainText('The model named in the link was not loaded: ?model= must be an http(s) URL, not javascript:.');
  // The configured demo bundles answer.
  await page.getByTestId('search-input').fill('list comprehension');
  await expect(results(page)).toHaveAttribute('data-query', 'list comprehension', { timeout: 60_000 });
  await expect(page.getByTestId('hit')).toHaveCount(10);
  expect(foreignRequests).toEqual([]);
});

test('a hit URL holding a right-to-left override shows it percent-encoded; its href is the document URL; unsafe schemes stay unlinked', async ({ page }) => {
  const name = `e2e-bidi-url-${process.pid}`;
  const dir = join(generatedDir, name);
  const rlo = 'https://example.org/files/%E2%80%AEfdp.exe';
  await writeSyntheticBundle(dir, [
    { id: 'rlo', title: 'Override', url: rlo, text: 'invoice words' },
    { id: 'raw', title: 'Raw override', url: 'https://example.org/a\u202Eb\u0007c', text: 'invoice words' },
    { id: 'vb', title: 'VBScript', url: 'vbscript:msgbox(1)', text: 'invoice words' },
  ]);
  try {
    await untilServed(undefined, `/generated/${name}/index/manifest.json`);
    await expectReady(page, `/?model=/generated/${name}/model/&index=/generated/${name}/index/`);
    await page.getByTestId('search-input').fill('invoice');
    await expect(results(page)).toHaveAttribute('data-query', 'invoice', { timeout: 60_000 });
    const hit = page.locator('[data-doc-id="rlo"]');
    await expect(hit.locator('.url')).toHaveText('example.org/files/%E2%80%AEfdp.exe');
    await expect(hit.getByRole('link')).toHaveAttribute('href', rlo);
    await expect(page.locator('[data-doc-id="raw"] .url')).toHaveText('example.org/a%E2%80%AEb%07c');
    expect(
      await page.locator('ol.results .url').evaluateAll((els) => els.some((e) => /[\u202A-\u202E\u2066-\u2069\u0000-\u001F]/.test(e.textContent ?? ''))),
    ).toBe(false);
    await expect(page.locator('[data-doc-id="vb"] a')).toHaveCount(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a 100,000-character query returns results, with a notice of the cut, in neural and lexical mode', async ({ page }) => {
  await expectReady(page, '/?mode=neural&preload=all');
  const query = 'how to sort a list of dictionaries by key '.repeat(2400).slice(0, 100_000).trim();
  expect(query.length).toBeGreaterThan(99_990);
  await page.getByTestId('search-input').fill(query);
  await expect(results(page)).toHaveAttribute('data-query', query, { timeout: 60_000 });
  await expect(page.getByTestId('hit')).toHaveCount(10);
  const notice = page.getByTestId('query-notice');
  await expect(notice).toBeVisible();
  await expect(notice).toHaveText(
    new RegExp(
      `^Long query: the query was cut to its first [\\d,]+ of ${query.length.toLocaleString('en')} characters; the neural model reads its first \\d+ of [\\d,]+ tokens\\.$`,
    ),
  );
  // The status line and the address bar hold a short form, not the whole text.
  expect((await page.getByRole('status').textContent())!.length).toBeLessThan(200);
  expect(new URL(page.url()).searchParams.get('q')!.length).toBeLessThanOrEqual(2048);

  await page.getByTestId('mode-lexical').check();
  await expect(results(page)).toHaveAttribute('data-mode', 'lexical', { timeout: 60_000 });
  await expect(page.getByTestId('hit')).toHaveCount(10);
  await expect(notice).toHaveText(new RegExp(`^Long query: the query was cut to its first [\\d,]+ of ${query.length.toLocaleString('en')} characters\\.$`));

  // A short query clears the notice.
  await page.getByTestId('search-input').fill('list comprehension');
  await expect(results(page)).toHaveAttribute('data-query', 'list comprehension', { timeout: 60_000 });
  await expect(notice).toBeHidden();
});

test('a vector tile 50 MB larger than the manifest says is refused as oversized, naming it, before its body is downloaded', async ({ page }) => {
  const name = `e2e-oversized-${process.pid}`;
  const dir = join(generatedDir, name);
  await rm(dir, { recursive: true, force: true });
  await cp(demoDir, dir, { recursive: true });
  try {
    const tile = join(dir, 'index', 'vectors', '00000.bin');
    const stated = (await stat(tile)).size;
    const manifest = JSON.parse(await readFile(join(dir, 'index', 'manifest.json'), 'utf8'));
    expect(manifest.files.find((f: { path: string }) => f.path === 'vectors/00000.bin').bytes).toBe(stated);
    const pad = 50 * 1024 * 1024;
    await appendFile(tile, Buffer.alloc(pad));
    await untilServed(undefined, `/generated/${name}/model/model.json`);
    await untilServed(undefined, `/generated/${name}/index/manifest.json`);
    const isTile = (r: Request) => r.url().endsWith(`/generated/${name}/index/vectors/00000.bin`);
    let tileRequests = 0;
    page.on('request', (r) => void (isTile(r) && tileRequests++));
    // How the tile's request ended: read to its end ('finished'), or cut off by the page.
    const tileEnd = new Promise<string>((resolve) => {
      page.on('requestfinished', (r) => void (isTile(r) && resolve('finished')));
      page.on('requestfailed', (r) => void (isTile(r) && resolve(`failed: ${r.failure()?.errorText}`)));
    });
    // preload=all: the tile is read before the page is ready (badBundle.spec.ts covers its refusal after a keyword-first start).
    await openPage(page, `/?model=/generated/${name}/model/&index=/generated/${name}/index/&preload=all`);
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('error');
    await expect(page.getByRole('status')).toHaveText(
      new RegExp(`vectors/00000\\.bin: oversized: expected ${stated} bytes, the server announces ${stated + pad} \\(Content-Length\\)`),
    );
    await expect(page.getByTestId('search-input')).toBeDisabled();
    // The page aborted the download instead of reading the 50 MB to its end.
    expect(tileRequests).toBe(1);
    expect(await tileEnd).toBe('failed: net::ERR_ABORTED');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
