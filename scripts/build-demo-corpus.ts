// Builds the demo corpus, data/demo/python-docs.jsonl, from the Python 3.11 documentation as
// Debian ships it (package python3.11-doc: /usr/share/doc/python3.11/html, PSF License v2):
//
//   node --import tsx scripts/build-demo-corpus.ts [--src /usr/share/doc/python3.11/html] [--out data/demo]
//
// One passage per line: {"id", "title", "url", "text"}; title = "Page title › Section heading",
// url = https://docs.python.org/3.11/<page>#<anchor> (the anchor is the Sphinx section id, or the
// id of an API entry such as `copy.deepcopy` when the passage is mostly about that entry).
// Passages are ~80–160 words (a short page tail may bring one to 200): blocks (paragraphs, list items, code blocks, API signatures) are
// packed in document order; a passage closes at a block boundary once it has TARGET words, at a
// section boundary once it has MIN words, and never grows past MAX (a longer block is cut by words).
// Deterministic: files in byte order of their paths, no timestamps; the output is written to a
// temporary name and renamed. (Plain JSONL, ~10 MB: what `hypencoder-web index` reads, and diffs in git.)
// Also writes data/demo/corpus-stats.json (counts, bytes, sha256) that PROVENANCE.md quotes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { ChildNode, Element } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { writeFileAtomic } from '../src/cli/atomicWrite.ts';
import { isMain } from './lib/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const URL_BASE = 'https://docs.python.org/3.11/';
/** Folders (and top-level pages) of the documentation that are kept; the rest is listed in SKIPPED. */
export const KEPT = [
  'tutorial/',
  'library/',
  'reference/',
  'howto/',
  'faq/',
  'using/',
  'extending/',
  'c-api/',
  'installing/',
  'distributing/',
  'glossary.html',
];
const SKIPPED_NOTE =
  'whatsnew/ (release notes of 2.0–3.11: version-by-version change lists), distutils/ and install/ (the deprecated distutils docs), genindex*, py-modindex, contents, search, download, bugs, about, copyright, license, includes/ (fragments), _sources/_static/_downloads, and the top-level index page';
const MIN = 80;
const TARGET = 90;
const MAX = 160;

const BLOCK = new Set([
  'p',
  'pre',
  'li',
  'dt',
  'dd',
  'tr',
  'th',
  'td',
  'div',
  'section',
  'table',
  'blockquote',
  'dl',
  'ul',
  'ol',
  'caption',
  'figcaption',
  'hr',
  'br',
]);
const DROP = new Set(['script', 'style', 'noscript', 'template', 'nav', 'svg', 'math', 'iframe', 'form', 'button', 'input', 'select', 'textarea', 'img']);
const HEADING = /^h[1-6]$/;

/** A block of a page: its text, the anchor a hit on it links to, the heading of its section. */
export interface Block {
  text: string;
  anchor: string;
  heading: string;
}

/** A passage of the corpus before its id and URL are given. */
export interface Passage {
  anchor: string;
  heading: string;
  text: string;
  words: number;
  title: string;
}

function fail(msg: string): never {
  process.stderr.write(`build-demo-corpus: ${msg}\n`);
  process.exit(2);
}

function isEl(n: ChildNode): n is Element {
  return n.type === 'tag' || n.type === 'script' || n.type === 'style';
}
function cls(el: Element): string {
  return ` ${el.attribs.class ?? ''} `;
}
function findEl(nodes: ChildNode[], pred: (e: Element) => boolean): Element | null {
  for (const n of nodes) {
    if (!isEl(n)) continue;
    if (pred(n)) return n;
    const hit = findEl(n.children, pred);
    if (hit) return hit;
  }
  return null;
}
/** Inline text of a subtree: headerlinks (¶) and dropped elements left out. */
function inlineText(n: ChildNode): string {
  if (n.type === 'text') return n.data;
  if (!isEl(n) || DROP.has(n.name) || cls(n).includes(' headerlink ')) return '';
  return n.children.map(inlineText).join(BLOCK.has(n.name) ? ' ' : '');
}
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** One page → blocks {text, anchor, heading} in document order. */
export function pageBlocks(html: string, where: string): { title: string; blocks: Block[] } {
  const doc = parseDocument(html, { decodeEntities: true });
  const titleEl = findEl(doc.children, (e) => e.name === 'title');
  if (!titleEl) throw new Error(`${where}: no <title>`);
  const title = squash(inlineText(titleEl)).replace(/\s+—\s+Python 3\.11(\.\d+)? documentation$/, '');
  const main = findEl(doc.children, (e) => e.attribs.role === 'main');
  if (!main) throw new Error(`${where}: no role="main" element (not a Sphinx page?)`);
  const blocks: Block[] = [];
  let buf: string[] = [];
  let scope: { anchor: string; heading: string; pre?: boolean } = { anchor: '', heading: '' };
  const flush = () => {
    const text = buf.join('');
    buf = [];
    const t = scope.pre ? text.replace(/[ \t\r\f\v]+$/gm, '').replace(/^\n+|\n+$/g, '') : squash(text);
    if (t !== '') blocks.push({ text: t, anchor: scope.anchor, heading: scope.heading });
  };
  const walk = (nodes: ChildNode[]) => {
    for (const n of nodes) {
      if (n.type === 'text') {
        buf.push(scope.pre ? n.data : n.data.replace(/\s+/g, ' '));
        continue;
      }
      if (!isEl(n) || DROP.has(n.name) || cls(n).includes(' headerlink ')) continue;
      if (HEADING.test(n.name)) {
        flush();
        scope.heading = squash(inlineText(n));
        buf.push(scope.heading);
        flush();
        continue;
      }
      // Scopes: a <section id> is a new section; a <dl> whose <dt> has an id is an API entry
      // (function, class, method, ...): its text links to that id. Both end with their element.
      let next: typeof scope | null = null;
      if (n.name === 'section' && n.attribs.id) next = { anchor: n.attribs.id, heading: scope.heading };
      else if (n.name === 'dl') {
        const dt = n.children.find((c): c is Element => isEl(c) && c.name === 'dt');
        if (dt?.attribs.id) next = { anchor: dt.attribs.id, heading: scope.heading };
      } else if (n.name === 'pre') next = { ...scope, pre: true };
      const block = BLOCK.has(n.name) || HEADING.test(n.name);
      if (block) flush();
      if (next) {
        const saved = scope;
        scope = next;
        walk(n.children);
        flush();
        // A section's heading is scoped to it; an API entry's is its section's.
        scope = n.name === 'section' ? saved : { ...saved, heading: scope.heading };
      } else walk(n.children);
      if (block) flush();
    }
  };
  walk(main.children);
  flush();
  return { title, blocks };
}

/** Blocks → passages of ~MIN..MAX words (see the header). */
export function packPassages(title: string, blocks: Block[]): Passage[] {
  const out: Omit<Passage, 'title'>[] = [];
  let cur: (Block & { words: number })[] = [];
  let words = 0;
  const close = () => {
    if (words === 0) return;
    // The anchor (and heading) that contributed the most words; ties → the first.
    const by = new Map<string, number>();
    for (const p of cur) {
      const k = `${p.anchor}\u0000${p.heading}`;
      by.set(k, (by.get(k) ?? 0) + p.words);
    }
    let best: [string, number] | null = null;
    for (const [k, w] of by) if (!best || w > best[1]) best = [k, w];
    const [anchor, heading] = best![0].split('\u0000');
    out.push({ anchor, heading, text: cur.map((p) => p.text).join('\n'), words });
    cur = [];
    words = 0;
  };
  let prevKey: string | null = null;
  for (const b of blocks) {
    const key = `${b.anchor}\u0000${b.heading}`;
    if (prevKey !== null && key !== prevKey && b.anchor !== '' && words >= MIN) close();
    prevKey = key;
    const toks = b.text.match(/\S+/g) ?? [];
    if (words >= TARGET && words + toks.length > MAX) close();
    if (words + toks.length <= MAX) {
      cur.push({ ...b, words: toks.length });
      words += toks.length;
      if (words >= TARGET) close();
      continue;
    }
    // A block that does not fit: cut it by words (code keeps its line breaks inside a piece).
    const spans = [...b.text.matchAll(/\S+/g)];
    let i = 0;
    while (i < spans.length) {
      const take = Math.min(spans.length - i, MAX - words);
      const a = spans[i].index!;
      const z = spans[i + take - 1].index! + spans[i + take - 1][0].length;
      cur.push({ ...b, text: b.text.slice(a, z), words: take });
      words += take;
      i += take;
      if (words >= TARGET || i < spans.length) close();
    }
  }
  // A short tail joins the passage before it when the two fit in MAX + MIN/2 words.
  if (words > 0 && words < MIN && out.length > 0 && out[out.length - 1].words + words <= MAX + MIN / 2) {
    const last = out.pop()!;
    cur.unshift({ anchor: last.anchor, heading: last.heading, text: last.text, words: last.words });
    words += last.words;
  }
  close();
  return out.map((p) => ({ ...p, title: p.heading && p.heading !== title ? `${title} › ${p.heading}` : title }));
}

function listHtml(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.html')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

async function main() {
  const { values: o } = parseArgs({
    options: {
      src: { type: 'string', default: '/usr/share/doc/python3.11/html' },
      out: { type: 'string', default: join(root, 'data', 'demo') },
    },
  });
  if (!existsSync(o.src) || !existsSync(join(o.src, 'library', 'copy.html'))) {
    fail(
      `${o.src}: the Python 3.11 HTML documentation is not there; install it with \`apt-get install python3.11-doc\` (Debian/Ubuntu) or pass --src <folder of the built HTML docs>`,
    );
  }
  const all = listHtml(o.src);
  const rels = all.map((f) => relative(o.src, f).split(sep).join('/'));
  const kept = rels.filter((r) => KEPT.some((k) => (k.endsWith('/') ? r.startsWith(k) : r === k)));
  const lines: string[] = [];
  const ids = new Set<string>();
  let words = 0;
  const perFolder: Record<string, number> = {};
  for (const rel of kept) {
    const html = readFileSync(join(o.src, rel), 'utf8');
    let page: ReturnType<typeof pageBlocks>;
    try {
      page = pageBlocks(html, join(o.src, rel));
    } catch (e) {
      fail((e as Error).message);
    }
    const passages = packPassages(page.title, page.blocks);
    passages.forEach((p, k) => {
      const id = `${rel}:p${k + 1}`;
      if (ids.has(id)) fail(`duplicate passage id ${id}`);
      ids.add(id);
      const url = `${URL_BASE}${rel}${p.anchor ? `#${p.anchor}` : ''}`;
      lines.push(JSON.stringify({ id, title: p.title, url, text: p.text }));
      words += p.words;
      const f = rel.includes('/') ? rel.slice(0, rel.indexOf('/') + 1) : rel;
      perFolder[f] = (perFolder[f] ?? 0) + 1;
    });
  }
  const jsonl = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  const gz = gzipSync(jsonl, { level: 9 }); // only measured: what a gzip-serving host would send
  await mkdir(o.out, { recursive: true });
  const outFile = join(o.out, 'python-docs.jsonl');
  await writeFileAtomic(outFile, jsonl);
  const lengths = lines.map((l) => (JSON.parse(l).text.match(/\S+/g) ?? []).length).sort((a, b) => a - b);
  const pct = (p: number) => lengths[Math.min(lengths.length - 1, Math.floor(p * lengths.length))];
  let version: string | null = null;
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's output format, not a template
    version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'python3.11-doc'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    // not a Debian system, or the docs came from elsewhere (--src): no package version to record
  }
  const stats = {
    name: 'Python 3.11 documentation',
    package: version ? `python3.11-doc ${version}` : null,
    license: 'PSF License Agreement (version 2); see data/demo/LICENSE-PSF.txt',
    home: URL_BASE,
    source: o.src,
    htmlFilesInSource: all.length,
    pagesKept: kept.length,
    passages: lines.length,
    words,
    wordsPerPassage: {
      min: lengths[0],
      p10: pct(0.1),
      median: pct(0.5),
      p90: pct(0.9),
      max: lengths[lengths.length - 1],
      mean: +(words / lines.length).toFixed(1),
    },
    passagesByFolder: perFolder,
    jsonlBytes: jsonl.byteLength,
    jsonlSha256: createHash('sha256').update(jsonl).digest('hex'),
    gzipLevel9Bytes: gz.byteLength,
    kept: KEPT,
    skipped: SKIPPED_NOTE,
  };
  await writeFileAtomic(join(o.out, 'corpus-stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
  process.stderr.write(
    `wrote ${relative(process.cwd(), outFile)}: ${stats.passages} passages from ${kept.length} pages, ${words} words, ${jsonl.byteLength} bytes (${gz.byteLength} gzipped)\n`,
  );
}

if (isMain(import.meta.url)) await main();
