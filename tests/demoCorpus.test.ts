// The demo corpus (data/demo/python-docs.jsonl), its builder's page reader and packer
// (scripts/build-demo-corpus.ts), and the example-query file's validation.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packPassages, pageBlocks } from '../scripts/build-demo-corpus.ts';
import { pageOf, readExamples } from '../scripts/check-demo-examples.ts';

const root = join(import.meta.dirname, '..');
const words = (n: number, w = 'word') => Array.from({ length: n }, (_, i) => `${w}${i}`).join(' ');

const SPHINX = `<!doctype html><html><head><title>copy — Shallow and deep copy operations &#8212; Python 3.11.2 documentation</title>
<script>var x = "<p>not text</p>";</script></head><body>
<div class="sphinxsidebar">sidebar words</div>
<div class="body" role="main">
<section id="module-copy"><h1>copy — Shallow and deep copy operations<a class="headerlink" href="#module-copy">¶</a></h1>
<p>Assignment statements   in Python do not copy objects.</p>
<dl class="py function"><dt class="sig sig-object py" id="copy.deepcopy">copy.deepcopy(x)<a class="headerlink" href="#copy.deepcopy">¶</a></dt>
<dd><p>Return a deep copy of <em>x</em>.</p></dd></dl>
<p>After the entry.</p>
<div class="highlight"><pre>a = [1]
b = copy.deepcopy(a)</pre></div>
<section id="sub"><h2>Sub<a class="headerlink" href="#sub">¶</a></h2><p>Sub text.</p></section>
</section></div></body></html>`;

describe('pageBlocks', () => {
  it('reads the main content of a Sphinx page: title without the suffix, section and API anchors, code lines kept', () => {
    const { title, blocks } = pageBlocks(SPHINX, 'copy.html');
    expect(title).toBe('copy — Shallow and deep copy operations');
    expect(blocks).toEqual([
      { text: 'copy — Shallow and deep copy operations', anchor: 'module-copy', heading: 'copy — Shallow and deep copy operations' },
      { text: 'Assignment statements in Python do not copy objects.', anchor: 'module-copy', heading: 'copy — Shallow and deep copy operations' },
      { text: 'copy.deepcopy(x)', anchor: 'copy.deepcopy', heading: 'copy — Shallow and deep copy operations' },
      { text: 'Return a deep copy of x.', anchor: 'copy.deepcopy', heading: 'copy — Shallow and deep copy operations' },
      { text: 'After the entry.', anchor: 'module-copy', heading: 'copy — Shallow and deep copy operations' },
      { text: 'a = [1]\nb = copy.deepcopy(a)', anchor: 'module-copy', heading: 'copy — Shallow and deep copy operations' },
      { text: 'Sub', anchor: 'sub', heading: 'Sub' },
      { text: 'Sub text.', anchor: 'sub', heading: 'Sub' },
    ]);
  });

  it('refuses a page without a title or a main element, naming it', () => {
    expect(() => pageBlocks('<html><body><div role="main">x</div></body></html>', 'a.html')).toThrow('a.html: no <title>');
    expect(() => pageBlocks('<html><head><title>T</title></head><body>x</body></html>', 'b.html')).toThrow('b.html: no role="main"');
  });
});

describe('packPassages', () => {
  it('closes passages between 80 and 160 words, cuts long blocks, and links to the anchor with most words', () => {
    const blocks = [
      { text: words(50, 'a'), anchor: 's1', heading: 'One' },
      { text: words(60, 'b'), anchor: 's1', heading: 'One' },
      { text: words(400, 'c'), anchor: 'api.f', heading: 'One' },
      { text: words(30, 'd'), anchor: 's2', heading: 'Two' },
    ];
    const out = packPassages('Page', blocks);
    for (const p of out) expect(p.words).toBe(p.text.split(/\s+/).length);
    expect(out.reduce((s: number, p: { words: number }) => s + p.words, 0)).toBe(540);
    expect(out.every((p: { words: number }) => p.words <= 200)).toBe(true);
    expect(out.slice(0, -1).every((p: { words: number }) => p.words >= 80)).toBe(true);
    expect(out[0]).toMatchObject({ anchor: 's1', title: 'Page › One', words: 110 });
    expect(out[1].anchor).toBe('api.f');
    // The 30-word tail of section Two joins the passage before it (≤ 200 words).
    expect(out[out.length - 1].text.endsWith(words(30, 'd'))).toBe(true);
    expect(out[out.length - 1].words).toBeGreaterThan(30);
  });
});

describe('data/demo/python-docs.jsonl', () => {
  const file = join(root, 'data', 'demo', 'python-docs.jsonl');
  const bytes = readFileSync(file);
  const stats = JSON.parse(readFileSync(join(root, 'data', 'demo', 'corpus-stats.json'), 'utf8'));
  const lines = bytes.toString('utf8').trimEnd().split('\n');

  it('is what corpus-stats.json describes', () => {
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(stats.jsonlSha256);
    expect(bytes.byteLength).toBe(stats.jsonlBytes);
    expect(lines.length).toBe(stats.passages);
    expect(lines.length).toBeGreaterThanOrEqual(10_000);
  });

  it('has one passage per line with a unique id, a title, a docs.python.org/3.11 URL with an anchor, and text', () => {
    const ids = new Set<string>();
    lines.forEach((line, i) => {
      const p = JSON.parse(line);
      expect(Object.keys(p), `line ${i + 1}`).toEqual(['id', 'title', 'url', 'text']);
      expect(ids.has(p.id), `line ${i + 1}: duplicate id ${p.id}`).toBe(false);
      ids.add(p.id);
      expect(p.id, `line ${i + 1}`).toMatch(/^[a-z0-9_./-]+\.html:p\d+$/i);
      expect(p.url.startsWith(`https://docs.python.org/3.11/${pageOf(p.id)}#`), `line ${i + 1}: ${p.url}`).toBe(true);
      expect(p.title.length, `line ${i + 1}`).toBeGreaterThan(0);
      expect(p.title.includes('¶') || p.text.includes('¶'), `line ${i + 1}`).toBe(false);
      expect(p.text.split(/\s+/).length, `line ${i + 1}`).toBeLessThanOrEqual(200);
    });
  });
});

describe('example queries', () => {
  it('the shipped file is valid', () => {
    const ex = readExamples();
    expect(ex.length).toBeGreaterThanOrEqual(3);
  });

  it('a bad entry is refused naming the file, entry and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-examples-'));
    const f = join(dir, 'ex.json');
    writeFileSync(
      f,
      JSON.stringify({
        examples: [
          { query: 'ok', expect: ['library/csv.html'] },
          { query: 'x', expect: [] },
        ],
      }),
    );
    expect(() => readExamples(f)).toThrow(`${f}: examples[1].expect: must be a non-empty array`);
    writeFileSync(f, JSON.stringify({ examples: [{ query: 3, expect: ['a.html'] }] }));
    expect(() => readExamples(f)).toThrow(`${f}: examples[0].query: must be a non-empty string`);
    writeFileSync(f, '{"examples": [');
    expect(() => readExamples(f)).toThrow(f);
  });
});
