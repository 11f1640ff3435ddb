// `hypencoder-web site <folder>` as a site owner uses it: a small built site (DocBook-style
// navigation divs and wrapper ids, a Note box, a page in a sub-folder), one command, a plain static
// server, and a bare <hypencoder-search> on a search page in a sub-folder: hits link to the right page
// and section, navigation text is not indexed, a misspelt word still finds its page, filters from the
// pages narrow the hits and a sort orders them, and a rerun replaces the folder it wrote (but never one it did not).
import { expect, test } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CountingServer, startCountingServer } from '../bench/lib/countingServer.ts';

const repo = join(import.meta.dirname, '..');
let work = '';
let site = '';
let server: CountingServer;

const nav = (which: string) => `<div class="nav${which}"><a href="../index.html">Prev</a> Up <a href="../index.html">Home</a> Next</div>`;
const filler = '<p>The spindle carries the wheel train and must turn freely in its jewels before anything else is fitted.</p>'.repeat(40);
const PAGES: Record<string, string> = {
  'index.html': `<!doctype html><html lang="en"><head><title>Acme Widgets</title><meta data-hypencoder-filter="section[content]" content="Overview">
    <meta data-hypencoder-sort="date[content]" content="2024-01-15"></head><body>${nav('header')}
    <div class="chapter" id="WELCOME"><div class="titlepage"><h1>Welcome to Acme Widgets</h1></div>
    <p>Acme widgets are small gears for clockwork. This manual explains assembly and repair.</p></div>${nav('footer')}</body></html>`,
  'guide/install.html': `<!doctype html><html lang="en"><head><title>Installing a widget</title></head><body>${nav('header')}
    <span data-hypencoder-filter="section" hidden>Guide</span><span data-pagefind-sort="date" hidden>2025-06-01</span>
    <div class="sect1" id="INSTALL"><div class="titlepage"><h2>Installing a widget</h2></div>${filler}
    <div class="sect2" id="INSTALL-CALIBRATION"><div class="titlepage"><h3>Calibrating the escapement</h3></div>
    <p>Turn the regulator until the escapement beats evenly; a beat amplifier helps.</p>
    <div class="note"><h3>Note</h3><p>Never oil the pallet stones.</p></div></div></div>${nav('footer')}</body></html>`,
  'ja/index.html': `<!doctype html><html lang="ja"><head><title>ウィジェットの取り付け</title></head><body data-hypencoder-filter="section:Guide">
    <h1>ウィジェットの取り付け</h1><p>調速機を回して、脱進機が均等に打つようにします。軸受けには油を差さないでください。</p></body></html>`,
  'docs/search.html': `<!doctype html><html lang="en"><head><title>Search</title></head><body data-hypencoder-ignore>
    <script type="module" src="../hypencoder/hypencoder-web.js"></script><hypencoder-search></hypencoder-search></body></html>`,
};

function runVite(args: string[]): void {
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/vite/bin/vite.js'), ...args], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite ${args.join(' ')}: ${r.stderr}`);
}

function siteCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(repo, 'bin/hypencoder-web.js'), 'site', ...args], { cwd: repo });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  work = mkdtempSync(join(tmpdir(), 'hypencoder-site-cmd-'));
  site = join(work, 'site');
  for (const [rel, html] of Object.entries(PAGES)) {
    mkdirSync(join(site, rel, '..'), { recursive: true });
    writeFileSync(join(site, rel), html);
  }
  runVite(['build', '--config', 'vite.lib.config.ts', '--outDir', join(work, 'lib'), '--emptyOutDir', '--logLevel', 'warn']);
  const r = await siteCommand([site, '--lib', join(work, 'lib'), '--exclude-selectors', 'div.navheader, div.navfooter', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout);
  expect(summary.pages).toBe(3); // the search page is data-hypencoder-ignore: no content
  server = await startCountingServer(site);
});

test.afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('one command, a plain static server, a bare element on a page in a sub-folder: hits open at their section', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const origin = server.url.replace(/\/$/, '');
  await page.goto(`${origin}/docs/search.html`);
  const element = page.locator('hypencoder-search');
  await expect(element).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
  const search = async (q: string) => {
    await element.getByTestId('search-input').fill(q);
    await expect(element.locator('ol.results')).toHaveAttribute('data-query', q, { timeout: 60_000 });
    return element.getByTestId('hit').evaluateAll((els) => els.map((e) => e.querySelector('a')?.href ?? ''));
  };
  const hrefs = await search('calibrating the escapement regulator');
  expect(hrefs[0]).toBe(`${origin}/guide/install.html#INSTALL-CALIBRATION`);
  // The Note box is in its section, not a section of its own.
  await expect(element.getByTestId('hit').first().locator('.hit-title')).toHaveText('Installing a widget › Calibrating the escapement');
  // The page's other section with the query's words is under the hit (a sub-result), linked to its anchor.
  await search('spindle escapement');
  const sub = element.getByTestId('hit').first().getByTestId('sub-result').locator('a');
  await expect(sub.first()).toHaveAttribute('href', /\/guide\/install\.html#INSTALL(-CALIBRATION)?$/);
  // A misspelt word: the page still comes first, and the element says what it searched.
  expect((await search('escapemnet regulator'))[0]).toBe(`${origin}/guide/install.html#INSTALL-CALIBRATION`);
  await expect(element.getByTestId('query-notice')).toContainText('No page has “escapemnet”: also showing “escapement”');
  // The search page is English (<html lang="en">): it starts with the language filter at its own
  // language, read from each page's lang. Unticked, the Japanese page is found, cut into words by
  // Intl.Segmenter when indexed (Node) and when searched (Chromium) alike.
  const english = element.getByTestId('facets').locator('input[value="en"]');
  await expect(english).toBeChecked();
  await element.getByTestId('search-input').fill('');
  await english.uncheck();
  expect((await search('脱進機'))[0]).toBe(`${origin}/ja/index.html`);
  // Navigation text is not indexed: no page matches its words alone (lexically).
  await element.getByTestId('mode-lexical').check({ force: true });
  await element.getByTestId('search-input').fill('Prev Home');
  await expect(element.getByRole('status')).toHaveText('No results for “Prev Home”', { timeout: 60_000 });
  await page.screenshot({ path: info.outputPath('site-search.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('filters from the pages narrow the hits and show page counts; a sort orders them', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const origin = server.url.replace(/\/$/, '');
  await page.goto(`${origin}/docs/search.html`);
  const element = page.locator('hypencoder-search');
  await expect(element).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
  const facets = element.getByTestId('facets');
  await expect(facets.locator('legend')).toHaveText(['language', 'section']);
  const language = facets.locator('fieldset').nth(0).locator('label.facet');
  const section = facets.locator('fieldset').nth(1).locator('label.facet');
  // Before a query: every page's count (Guide: install and the Japanese page); English ticked, as the search page is.
  await expect(language).toHaveText(['en(2)', 'ja(1)']);
  await expect(section).toHaveText(['Guide(2)', 'Overview(1)']);
  await expect(facets.locator('input[value="en"]')).toBeChecked();
  await element.getByTestId('mode-lexical').check({ force: true });
  await element.getByTestId('search-input').fill('acme widget');
  await expect(element.locator('ol.results')).toHaveAttribute('data-query', 'acme widget', { timeout: 60_000 });
  const hrefs = () => element.getByTestId('hit').evaluateAll((els) => els.map((e) => new URL(e.querySelector('a')!.href).pathname));
  expect((await hrefs()).sort()).toEqual(['/guide/install.html', '/index.html']);
  // The query's matches: per value, those passing the other key's filter (English).
  await expect(section).toHaveText(['Guide(1)', 'Overview(1)']);
  await expect(language).toHaveText(['en(2)', 'ja(0)']);
  await facets.locator('input[value="Overview"]').check();
  await expect.poll(hrefs).toEqual(['/index.html']);
  await page.screenshot({ path: info.outputPath('site-filtered.png'), fullPage: true });
  await facets.locator('input[value="Overview"]').uncheck();
  await expect.poll(async () => (await hrefs()).length).toBe(2);
  // Sorted by the pages' dates (a meta tag on one, Pagefind's attribute on the other), newest first, then oldest.
  await element.getByTestId('sort').selectOption('date:desc');
  await expect.poll(hrefs).toEqual(['/guide/install.html', '/index.html']);
  await element.getByTestId('sort').selectOption('date:asc');
  await expect.poll(hrefs).toEqual(['/index.html', '/guide/install.html']);
  expect(errors).toEqual([]);
});

test('a rerun replaces the folder it wrote; a hypencoder/ it did not write is left alone', async () => {
  const again = await siteCommand([site, '--lib', join(work, 'lib'), '-q']);
  expect(again.code, again.stderr).toBe(0);
  const other = join(work, 'other');
  mkdirSync(join(other, 'hypencoder'), { recursive: true });
  writeFileSync(join(other, 'hypencoder', 'mine.txt'), 'the owner’s file');
  writeFileSync(join(other, 'page.html'), '<title>p</title><p>text</p>');
  const refused = await siteCommand([other, '--lib', join(work, 'lib'), '-q']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/was not written by `hypencoder-web site`/);
  expect(spawnSync('cat', [join(other, 'hypencoder', 'mine.txt')], { encoding: 'utf8' }).stdout).toBe('the owner’s file');
});
