// Choosing a site's content (root and exclude selectors, the ignore attributes, file globs) and
// sections that link to the right place (ids on wrapper elements, admonitions kept in their section),
// on the markup real generators write: DocBook as the PostgreSQL manual has it, Sphinx, a plain page.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInput } from '../src/cli/readInput.ts';
import { extractHtml } from '../src/core/ingest/html.ts';
import { cli, makeSmallModel } from './helpers/smallModel.ts';

// The PostgreSQL manual's shape (DocBook XSL): navigation in plain divs, ids on the section wrappers,
// a Note box with its own heading.
const DOCBOOK = `<!DOCTYPE html><html><head><title>8.1. Numeric Types</title></head><body>
<div class="navheader"><table><tr><th>8.1. Numeric Types</th></tr><tr><td><a href="datatype.html">Prev</a></td><td>Up</td><td>Home</td><td>Next</td></tr></table><hr></div>
<div class="sect1" id="DATATYPE-NUMERIC"><div class="titlepage"><div><div><h2 class="title">8.1. Numeric Types</h2></div></div></div>
<p>Numeric types consist of integers and decimals.</p>
<div class="sect2" id="DATATYPE-SERIAL"><div class="titlepage"><div><div><h3 class="title">8.1.4. Serial Types</h3></div></div></div>
<p>The data types smallserial, serial and bigserial are not true types.</p>
<div class="note"><h3 class="title">Note</h3><p>A serial column is not unique by itself.</p></div>
<p>More about sequences.</p></div></div>
<div class="navfooter"><hr><table><tr><td><a href="datatype.html">Prev</a></td><td>Up</td><td>Next</td></tr></table></div>
</body></html>`;

describe('sections that link to the right place', () => {
  it("takes a heading's anchor from the wrapper whose content it begins, and keeps a Note box in its section", () => {
    const page = extractHtml(DOCBOOK, 'numeric')!;
    expect(page.sections.map((s) => [s.heading, s.anchor])).toEqual([
      ['', ''],
      ['8.1. Numeric Types', 'DATATYPE-NUMERIC'],
      ['8.1.4. Serial Types', 'DATATYPE-SERIAL'],
    ]);
    const serial = page.sections[2].text;
    expect(serial).toContain('A serial column is not unique by itself.');
    expect(serial).toContain('More about sequences.');
    expect(serial).toMatch(/true types\.\nNote\nA serial/);
  });

  it('does not give a heading the id of a wrapper whose content began before it', () => {
    const page = extractHtml('<body><div id="wrap"><p>Intro text.</p><h2>Later</h2><p>x</p></div></body>', 'f')!;
    expect(page.sections.map((s) => [s.heading, s.anchor])).toEqual([
      ['', ''],
      ['Later', ''],
    ]);
    // The heading's own id (or one inside it) still comes first.
    const own = extractHtml('<body><div id="wrap"><h2 id="own">A</h2><h2><a name="inner"></a>B</h2></div></body>', 'f')!;
    expect(own.sections.map((s) => s.anchor)).toEqual(['own', 'inner']);
  });

  it('keeps Sphinx admonitions and an aside in an article in their section', () => {
    const html = `<body><article><section id="install"><h2>Install</h2><p>Run it.</p>
      <div class="admonition warning"><h4>Warning</h4><p>Back up first.</p></div>
      <aside><h4>Aside</h4><p>History.</p></aside><p>Done.</p></section></article></body>`;
    const page = extractHtml(html, 'f')!;
    expect(page.sections.map((s) => s.heading)).toEqual(['Install']);
    expect(page.sections[0].anchor).toBe('install');
    expect(page.sections[0].text).toContain('Back up first.');
    expect(page.sections[0].text).toContain('History.');
  });
});

describe('choosing the content', () => {
  it('--exclude-selectors leaves out navigation divs; --root-selector picks the content; a page without a match has none', () => {
    const nav = extractHtml(DOCBOOK, 'f', { excludeSelectors: ['div.navheader, div.navfooter'] })!;
    expect(nav.sections.map((s) => s.heading)).toEqual(['8.1. Numeric Types', '8.1.4. Serial Types']);
    expect(nav.sections.map((s) => s.text).join(' ')).not.toMatch(/Prev|Home/);
    const root = extractHtml(DOCBOOK, 'f', { rootSelector: '#DATATYPE-SERIAL' })!;
    expect(root.title).toBe('8.1. Numeric Types'); // <title> is the page's, whatever the root
    expect(root.sections.map((s) => s.heading)).toEqual(['8.1.4. Serial Types']);
    expect(extractHtml(DOCBOOK, 'f', { rootSelector: 'main.content' })).toBeNull();
  });

  it('leaves out elements with data-hypencoder-ignore or data-pagefind-ignore, and what they hold', () => {
    const page = extractHtml('<body><p>Keep.</p><div data-hypencoder-ignore><h2>Ads</h2><p>Buy.</p></div><p data-pagefind-ignore="all">Old.</p></body>', 'f')!;
    expect(page.sections.map((s) => s.text)).toEqual(['Keep.']);
  });
});

describe('index: content selection end to end', () => {
  let work: string;
  let site: string;
  let model: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'hypencoder-content-'));
    site = path.join(work, 'site');
    mkdirSync(path.join(site, 'guide'), { recursive: true });
    mkdirSync(path.join(site, '_static'), { recursive: true });
    // Long enough to be split into passages, each linking to its section.
    const filler = '<p>Integers hold whole numbers of fixed range and decimals hold exact values.</p>'.repeat(60);
    writeFileSync(path.join(site, 'numeric.html'), DOCBOOK.replace('<p>Numeric types consist', `${filler}<p>Numeric types consist`));
    writeFileSync(path.join(site, 'guide', 'install.html'), DOCBOOK.replace(/Numeric/g, 'Install').replace(/DATATYPE/g, 'INSTALL'));
    writeFileSync(
      path.join(site, 'bookindex.html'),
      '<html><head><title>Index</title></head><body><div class="index"><p>serial, numeric, …</p></div></body></html>',
    );
    writeFileSync(path.join(site, '_static', 'search.html'), '<html><body><p>search page</p></body></html>');
    model = makeSmallModel(work);
  }, 180_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('readInput: globs pick the files, a root selector skips pages without content, and the summary counts both', async () => {
    const { docs, summary } = await readInput(site, {
      excludeGlob: ['bookindex.html', '_static/**'],
      html: { rootSelector: 'div.sect1', excludeSelectors: ['div.navheader, div.navfooter'] },
    });
    expect(docs.map((d) => d.id)).toEqual(['guide/install.html', 'numeric.html']);
    expect(summary.excludedByGlob).toBe(2);
    const only = await readInput(site, { glob: ['guide/**'] });
    expect(only.docs.map((d) => d.id)).toEqual(['guide/install.html']);
    const none = await readInput(site, { html: { rootSelector: 'div.sect1' } });
    expect(none.summary.noContent).toBe(2); // bookindex.html and _static/search.html
    await expect(readInput(site, { glob: ['*.md'] })).rejects.toThrow(/holds no .* documents \(4 left out by --glob/);
  });

  it('the index command takes the options, refuses a bad selector before any work, and links hits to their section', () => {
    const bad = cli(['index', site, '--model', model, '--out', path.join(work, 'bad'), '--root-selector', 'div[']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--root-selector "div\[": not a CSS selector/);
    const out = path.join(work, 'index');
    const r = cli([
      'index',
      site,
      '--model',
      model,
      '--out',
      out,
      '-q',
      '--exclude-selectors',
      'div.navheader, div.navfooter',
      '--exclude-glob',
      'bookindex.html',
      '--exclude-glob',
      '_static/**',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).input.excludedByGlob).toBe(2);
    const s = cli(['search', '--index', out, '--mode', 'lexical', '--json', '-k', '3', 'bigserial smallserial']);
    const hits = JSON.parse(s.stdout).hits;
    // The split page's hit opens at its section; the short page is one passage, linked to its top.
    expect(hits.map((h: { url: string }) => h.url).sort()).toEqual(['guide/install.html', 'numeric.html#DATATYPE-SERIAL']);
    const nav = cli(['search', '--index', out, '--mode', 'lexical', '--json', 'Prev Home']);
    expect(JSON.parse(nav.stdout).hits).toEqual([]);
  }, 120_000);
});
