// Ingestion: JSONL records, web pages (HTML, Markdown), passages, strict UTF-8, and the lexical
// tokenization shared by documents and queries.
import lunr from 'lunr';
import { describe, expect, it } from 'vitest';
import { extractHtml } from '../src/core/ingest/html.ts';
import { parseJsonlDocs } from '../src/core/ingest/jsonl.ts';
import { extractMarkdown, githubSlug } from '../src/core/ingest/markdown.ts';
import { makePassages } from '../src/core/ingest/passages.ts';
import { INGESTERS, formatList, ingesterFor } from '../src/core/ingest/registry.ts';
import { decodeUtf8Strict } from '../src/core/ingest/utf8.ts';
import {
  LEXICAL_FIELDS,
  LEXICAL_SCHEME_CHUNKED,
  buildLexicalIndex,
  documentLexicalDocs,
  documentTitle,
  lexicalSearch,
  loadLexicalIndex,
  serializeLexicalIndex,
} from '../src/core/lexical.ts';
import { lexicalQueryTerms, lexicalText, lexicalTrimmer } from '../src/core/lexicalText.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { LEXICAL_SCHEME_WRITTEN } from '../scripts/demoIndex.ts';
import type { SourceDoc } from '../src/core/ingest/types.ts';

describe('parseJsonlDocs', () => {
  it('reads records, keeps extra keys under fields, skips blank lines', () => {
    const docs = parseJsonlDocs('{"id":"a","title":"T","text":"hello","url":"u","lang":"en"}\n\n{"id":7,"text":"x"}\r\n', 'c.jsonl');
    expect(docs.map((d) => [d.id, d.title, d.url, d.sections[0].text, d.fields, d.where])).toEqual([
      ['a', 'T', 'u', 'hello', { lang: 'en' }, 'c.jsonl:1'],
      ['7', '', '', 'x', undefined, 'c.jsonl:3'],
    ]);
  });

  it.each([
    ['{"id":"a","text":"x"}\n{"id":"b","text":"y"\n', /^c\.jsonl:2: not valid JSON/],
    ['{"id":"a"}\n', /^c\.jsonl:1: "text" is missing \(document "a"\)/],
    ['{"id":"a","text":5}\n', /^c\.jsonl:1: "text" must be a string, got a number/],
    ['{"text":"x"}\n', /^c\.jsonl:1: "id" is missing/],
    ['{"id":"","text":"x"}\n', /^c\.jsonl:1: "id" must not be empty/],
    ['[1,2]\n', /^c\.jsonl:1: each line must be a JSON object, got an array/],
    ['{"id":"a","text":"x","title":["t"]}\n', /^c\.jsonl:1: "title" must be a string/],
  ])('refuses %j naming file:line', (text, err) => {
    expect(() => parseJsonlDocs(text, 'c.jsonl')).toThrow(err);
  });
});

describe('ingester registry', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const source = { rel: 'docs/a.page', shown: 'site/docs/a.page', url: 'https://x.org/docs/a.page', fallbackTitle: 'a' };
  const ingester = (ext: string) => {
    const found = ingesterFor(ext);
    if (!found) throw new Error(`no ingester for ${ext}`);
    return found;
  };
  it('gives each file ending to one ingester, in any case', () => {
    const all = INGESTERS.flatMap((i) => i.extensions);
    expect(new Set(all).size).toBe(all.length);
    expect(ingesterFor('.HTM')?.kind).toBe('html');
    expect(ingesterFor('.ndjson')?.unit).toBe('line');
    expect(ingesterFor('.png')).toBeNull();
    expect(ingesterFor('')).toBeNull();
    expect(formatList()).toBe('.jsonl, .md, .html or .txt');
  });
  it('turns the bytes of each format into documents named by the source', () => {
    const html = ingester('.html').parse(enc('<html><head><title>T</title></head><body><h1 id="h">H</h1><p>body</p></body></html>'), source, 1);
    expect(html.map((d) => [d.id, d.title, d.url, d.where, d.sections.map((s) => s.anchor)])).toEqual([['docs/a.page', 'T', source.url, source.shown, ['h']]]);
    expect(ingester('.md').parse(enc('# Head\n\ntext'), source, 1)[0].sections[0].anchor).toBe('head');
    expect(ingester('.txt').parse(enc('\ufeff  plain  \n'), source, 1)).toEqual([
      { id: 'docs/a.page', title: 'a', url: source.url, sections: [{ heading: '', anchor: '', text: 'plain' }], where: source.shown },
    ]);
  });
  it('parses JSONL one line at a time, naming file:line', () => {
    const jsonl = ingester('.jsonl');
    expect(jsonl.parse(enc('\ufeff{"id":"a","text":"x"}'), source, 1)[0].where).toBe('site/docs/a.page:1');
    expect(jsonl.parse(enc('  '), source, 2)).toEqual([]);
    expect(() => jsonl.parse(new Uint8Array([0x7b, 0xe9]), source, 4)).toThrow(/^site\/docs\/a\.page:4: not valid UTF-8/);
  });
});

describe('decodeUtf8Strict', () => {
  it('names the line and column of the first bad byte', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('ok\nfine ü\ncaf'), 0xe9, 0x0a]);
    expect(() => decodeUtf8Strict(bytes, 'f.txt')).toThrow(/^f\.txt:3: not valid UTF-8 \(byte 0xe9 at column 4\)/);
  });
  it('drops a byte-order mark', () => {
    expect(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), 'f')).toBe('a');
  });
});

const PAGE = `<!doctype html><html><head><title>Guide | Site</title><style>.x{color:red}</style>
<script>document.body.innerHTML = "PWNED"; alert("SCRIPTTOKEN")</script></head>
<body><header><a href="/">Home</a> NAVTOKEN</header><nav><ul><li>Menu MENUTOKEN</li></ul></nav>
<main><h1 id="guide">Guide</h1><p>Intro &amp; overview.</p>
<h2 id="install">Install</h2><p>Run <code>npm i</code>.</p><script>var SCRIPT2 = 1;</script>
<h3>Details</h3><p>More text here.</p><div hidden>HIDDENTOKEN</div>
<h2><a id="usage"></a>Usage</h2><noscript>NOSCRIPTTOKEN</noscript><p>Use it.</p></main>
<footer>FOOTERTOKEN</footer></body></html>`;

describe('extractHtml', () => {
  const page = extractHtml(PAGE, 'fallback')!;
  const all = page.sections.map((s) => s.text).join('\n');
  it('takes the title from <title>', () => expect(page.title).toBe('Guide | Site'));
  it('drops scripts, styles, navigation, hidden and chrome text', () => {
    for (const t of ['SCRIPTTOKEN', 'PWNED', 'SCRIPT2', 'color:red', 'NAVTOKEN', 'MENUTOKEN', 'HIDDENTOKEN', 'NOSCRIPTTOKEN', 'FOOTERTOKEN'])
      expect(all).not.toContain(t);
  });
  it('keeps headings and splits sections at them, each with its nearest anchor', () => {
    expect(page.sections.map((s) => [s.heading, s.anchor])).toEqual([
      ['Guide', 'guide'],
      ['Install', 'install'],
      ['Details', 'install'], // no id: the nearest anchor above
      ['Usage', 'usage'], // an id inside the heading
    ]);
    expect(page.sections[0].text).toBe('Guide\nIntro & overview.');
    expect(page.sections[1].text).toBe('Install\nRun npm i.');
  });
  it('falls back to the first heading, then to the given title', () => {
    expect(extractHtml('<body><h2>Only</h2><p>x</p></body>', 'f')!.title).toBe('Only');
    expect(extractHtml('<body><p>x</p></body>', 'file-name')!.title).toBe('file-name');
  });
  it('without <main>, drops site header and footer but keeps an article header', () => {
    const p = extractHtml('<body><header>SITE</header><article><header><h1>Post</h1></header><p>Body</p></article><footer>F</footer></body>', 'x')!;
    const text = p.sections.map((s) => s.text).join('\n');
    expect(text).not.toContain('SITE');
    expect(text).not.toContain('F\n');
    expect(text).toContain('Post');
    expect(text).toContain('Body');
  });
});

describe('extractMarkdown', () => {
  it('front matter title, GitHub heading slugs (deduplicated), raw <script> dropped', () => {
    const md = '---\ntitle: "My Page"\n---\n# Hello, World!\ntext one\n\n## Hello, World!\n<script>evil("MDSCRIPT")</script>\n\n## API `foo()` & more\nend\n';
    const p = extractMarkdown(md, 'f');
    expect(p.title).toBe('My Page');
    expect(p.sections.map((s) => s.anchor)).toEqual(['hello-world', 'hello-world-1', 'api-foo--more']);
    expect(p.sections.map((s) => s.text).join('\n')).not.toContain('MDSCRIPT');
  });
  it('slugs like GitHub', () => {
    expect(githubSlug('What’s New in 2.0?')).toBe('whats-new-in-20');
    expect(githubSlug('  Ünïcode Title ')).toBe('ünïcode-title');
  });
});

describe('makePassages', () => {
  const countTokens = (w: string) => Math.ceil(w.length / 4); // stand-in for WordPiece counts
  const doc = (id: string, text: string, extra: Partial<SourceDoc> = {}): SourceDoc => ({
    id,
    title: '',
    url: '',
    sections: [{ heading: '', anchor: '', text }],
    where: id,
    ...extra,
  });

  it('keeps a short document whole, with its own id', () => {
    const { passages, stats } = makePassages([doc('a', 'short text')], { maxTokens: 20, long: 'split', countTokens });
    expect(passages.map((p) => [p.id, p.docId, p.text])).toEqual([['a', 'a', 'short text']]);
    expect(stats.longDocuments).toBe(0);
  });

  it('splits a long document into passages within the limit, covering every word once', () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i}`); // 2 tokens each
    const { passages, stats } = makePassages([doc('a', words.join(' '))], { maxTokens: 22, long: 'split', countTokens });
    expect(stats.longDocuments).toBe(1);
    expect(passages.length).toBe(10);
    expect(passages.map((p) => p.id)).toEqual(Array.from({ length: 10 }, (_, i) => `a#p${i + 1}`));
    for (const p of passages) expect(p.tokens).toBeLessThanOrEqual(20);
    expect(passages.map((p) => p.text).join(' ')).toBe(words.join(' '));
    expect(passages[3].fields).toEqual({ passage_of: 'a', passage: 4 });
  });

  it('truncate mode keeps one passage and counts the long document', () => {
    const { passages, stats } = makePassages([doc('a', 'x'.repeat(400))], { maxTokens: 22, long: 'truncate', countTokens });
    expect(passages.length).toBe(1);
    expect(stats.longDocuments).toBe(1);
  });

  it('links passages of a split page to their section anchors, merging a lone heading into the next section', () => {
    const body = Array.from({ length: 30 }, (_, i) => `w${i}xx`).join(' '); // 30 × 2 tokens
    const page: SourceDoc = {
      id: 'guide.html',
      title: 'Guide',
      url: 'guide.html',
      where: 'guide.html',
      sections: [
        { heading: 'Intro', anchor: 'intro', text: 'Intro' },
        { heading: 'Setup', anchor: 'setup', text: `Setup ${body}` },
        { heading: 'Usage', anchor: 'usage', text: `Usage ${body}` },
      ],
    };
    const { passages } = makePassages([page], { maxTokens: 80, long: 'split', countTokens });
    expect(passages.map((p) => p.url)).toEqual(['guide.html#setup', 'guide.html#usage']); // the lone heading merged into Setup's passage
    expect(passages[0].text.startsWith('Intro\nSetup w0xx')).toBe(true);
    expect(passages[0].title).toBe('Guide › Setup');
    expect(passages[1].title).toBe('Guide › Usage');
  });

  it('splits any sections into passages that keep every word in order, each within the limit unless it is one overlong word', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const vocab = ['a', 'flow', 'supersonic', 'aeroelasticity', 'x'.repeat(200)];
    const wordsOf = (s: string) => s.split(/\s+/).filter(Boolean);
    for (let trial = 0; trial < 200; trial++) {
      const sections = Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, k) => ({
        heading: `H${k}`,
        anchor: `h${k}`,
        text: Array.from({ length: Math.floor(rnd() * 120) }, () => vocab[Math.floor(rnd() * vocab.length)]).join(rnd() < 0.5 ? ' ' : '\n'),
      }));
      const { passages } = makePassages([doc('a', '', { sections })], { maxTokens: 40, long: 'split', countTokens });
      if (passages.length < 2) continue; // kept whole
      expect(passages.flatMap((p) => wordsOf(p.text))).toEqual(sections.flatMap((s) => wordsOf(s.text)));
      for (const p of passages) {
        const words = wordsOf(p.text);
        expect(words.length === 1 || words.reduce((t, w) => t + countTokens(w), 0) <= 38).toBe(true);
      }
    }
  });
});

describe('document-level lexical records (lunr-doc-1)', () => {
  it("join a document's passages in document order (even when stored out of order), under the title they share", () => {
    const metas = [
      { id: 'g#p2', title: 'Guide › Usage', url: '', text: 'run it', fields: { passage_of: 'g', passage: 2 } },
      { id: 'h', title: 'Other', url: '', text: 'other page', fields: {} },
      { id: 'g#p1', title: 'Guide › Setup', url: '', text: 'install it', fields: { passage_of: 'g', passage: 1 } },
      { id: 'g#p3', title: 'Guide › Usage', url: '', text: 'stop it', fields: { passage_of: 'g', passage: 3 } },
    ];
    const groups = documentGroups(metas);
    expect(groups.passages).toEqual([[2, 0, 3], [1]]);
    expect(Array.from(groups.docOf)).toEqual([0, 1, 0, 0]);
    expect(documentLexicalDocs(metas, groups)).toEqual([
      { title: 'Guide', text: 'install it\nrun it\nstop it' },
      { title: 'Other', text: 'other page' },
    ]);
    expect(documentTitle(['Guide', 'Guide › Usage'])).toBe('Guide');
    expect(documentTitle(['Alpha', 'Beta'])).toBe('Alpha\nBeta');
  });

  it("the demo's staleness check expects the scheme the indexer writes by default", () => {
    expect(LEXICAL_SCHEME_WRITTEN).toBe(LEXICAL_SCHEME_CHUNKED);
  });
});

describe('lexical index (Lunr BM25)', () => {
  it("is the index Lunr's own builder makes from whole fields, for long texts too (counted in pieces)", () => {
    const stock = (ds: { title: string; text: string }[]) =>
      lunr(function () {
        this.ref('ref');
        for (const f of LEXICAL_FIELDS) this.field(f);
        this.metadataWhitelist = [];
        // Our pipeline: Lunr's, with its ASCII-only trimmer replaced by the Unicode-aware one.
        this.pipeline.after(lunr.trimmer, lexicalTrimmer);
        this.pipeline.remove(lunr.trimmer);
        ds.forEach((d, i) => {
          this.add({ ref: String(i), title: lexicalText(d.title), text: lexicalText(d.text) });
        });
      });
    let seed = 3;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const parts = ['ΟΔΟΣ', 'σοφός', 'Σ', 'super-sonic', 'İstanbul', '123', '__proto__', 'the', 'running', 'naïve', 'flows'];
    const seps = [' ', '\n', '\t', '\r\n', '-', '\u00a0', '\ufeff', ' - '];
    const text = (n: number) => Array.from({ length: n }, () => parts[Math.floor(rnd() * parts.length)] + seps[Math.floor(rnd() * seps.length)]).join('');
    const ds = [
      { title: text(4), text: text(60_000) },
      ...Array.from({ length: 20 }, () => ({ title: text(3), text: text(Math.floor(rnd() * 50)) })),
      { title: '', text: '' },
    ];
    expect(ds[0].text.length).toBeGreaterThan(4 << 16);
    expect(Buffer.from(serializeLexicalIndex(buildLexicalIndex(ds))).equals(Buffer.from(serializeLexicalIndex(stock(ds))))).toBe(true);
  });

  const docs = [
    { title: 'Aeroelastic models', text: 'similarity laws for aero/elastic models of heated wings.' },
    { title: 'Heat transfer', text: 'heat transfer in hypersonic flow (laminar).' },
    { title: 'Café', text: 'naïve résumé' },
  ];
  const idx = buildLexicalIndex(docs);
  it('treats query syntax characters as plain punctuation', () => {
    expect(() => lexicalSearch(idx, 'what +lift: ~drag -heat^2 *')).not.toThrow();
    expect(lexicalSearch(idx, 'heat:transfer?')[0].doc).toBe(1);
  });
  it('tokenizes queries like documents (punctuation split, stop words dropped)', () => {
    expect(lexicalQueryTerms('What are the aero/elastic (models)?')).toEqual(['aero', 'elastic', 'models']);
    expect(lexicalSearch(idx, 'elastic')[0].doc).toBe(0);
    expect(lexicalSearch(idx, 'the of and')).toEqual([]);
  });
  it('survives serialization into the bundle', () => {
    const again = loadLexicalIndex(serializeLexicalIndex(idx));
    expect(lexicalSearch(again, 'hypersonic heat')).toEqual(lexicalSearch(idx, 'hypersonic heat'));
    expect(lexicalSearch(again, 'café résumé')[0].doc).toBe(2);
  });
  it('refuses a lexical file that is not a Lunr index', () => {
    expect(() => loadLexicalIndex('{"x":1}', 'lexical/lunr.json')).toThrow(/^lexical\/lunr\.json: is not a Lunr 2 index/);
    expect(() => loadLexicalIndex('{', 'lexical/lunr.json')).toThrow(/^lexical\/lunr\.json: is not valid JSON/);
  });
});
