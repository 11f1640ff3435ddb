// Web pages → title + sections, with htmlparser2 (a tolerant HTML parser; nothing is executed:
// script and style bodies are raw text to the parser, and we drop them).
// - title: <title>, else the first <h1>, else the caller's fallback (the file name);
// - content: <main> (or role=main) when the page has one, else <body> without site chrome
//   (<header>, <footer>, <aside> outside <article>);
// - dropped everywhere: script, style, noscript, template, nav, role=navigation, svg, iframe,
//   forms' controls, hidden / aria-hidden elements;
// - a section starts at every h1…h6; its anchor is the heading's id (or an id / name inside it),
//   else the anchor of the section before, so a hit links to the nearest heading above it.
import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';
import type { Section } from './types.ts';

export interface Page {
  title: string;
  sections: Section[];
}

const DROP = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'svg',
  'math',
  'iframe',
  'object',
  'embed',
  'canvas',
  'button',
  'select',
  'input',
  'textarea',
  'head',
  'link',
  'meta',
]);
const CHROME = new Set(['header', 'footer', 'aside']);
const HEADING = /^h[1-6]$/;
const BLOCK = new Set([
  'address',
  'article',
  'blockquote',
  'br',
  'dd',
  'div',
  'dl',
  'dt',
  'figcaption',
  'figure',
  'hr',
  'li',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
  'details',
  'summary',
  'caption',
]);

function isElement(n: ChildNode): n is Element {
  return n.type === 'tag' || n.type === 'script' || n.type === 'style';
}

function dropped(el: Element): boolean {
  if (DROP.has(el.name)) return true;
  const a = el.attribs;
  if (a.role === 'navigation' || a['aria-hidden'] === 'true' || 'hidden' in a) return true;
  return false;
}

/** Text of a subtree (dropped elements skipped), whitespace collapsed. */
function textOf(n: ChildNode): string {
  if (n.type === 'text') return n.data;
  if (!isElement(n) || dropped(n)) return '';
  return n.children.map(textOf).join(BLOCK.has(n.name) ? ' ' : '');
}

function collapse(s: string): string {
  return s
    .replace(/[ \t\f\v\r\u00a0]+/g, ' ')
    .replace(/ *\n[\s]*/g, '\n')
    .trim();
}

function find(nodes: ChildNode[], pred: (e: Element) => boolean): Element | null {
  for (const n of nodes) {
    if (!isElement(n)) continue;
    if (pred(n)) return n;
    if (n.name === 'script' || n.name === 'style' || n.name === 'template') continue;
    const hit = find(n.children, pred);
    if (hit) return hit;
  }
  return null;
}

function anchorOf(h: Element): string {
  if (h.attribs.id) return h.attribs.id;
  const inner = find(h.children, (e) => Boolean(e.attribs.id || (e.name === 'a' && e.attribs.name)));
  return inner ? inner.attribs.id || inner.attribs.name : '';
}

/** Parses an HTML page. `fallbackTitle` is used when it has neither <title> nor <h1>. */
export function extractHtml(html: string, fallbackTitle: string): Page {
  const doc = parseDocument(html, { decodeEntities: true });
  const titleEl = find(doc.children, (e) => e.name === 'title');
  const root = find(doc.children, (e) => e.name === 'main' || e.attribs.role === 'main') ?? find(doc.children, (e) => e.name === 'body') ?? doc;
  const hasMain = root !== doc && (root as Element).name !== 'body';

  const sections: Section[] = [];
  let cur: Section = { heading: '', anchor: '', text: '' };
  let buf: string[] = [];
  const flush = () => {
    cur.text = collapse(buf.join(''));
    if (cur.text !== '' || cur.heading !== '') sections.push(cur);
    buf = [];
  };

  const walk = (nodes: ChildNode[], inArticle: boolean) => {
    for (const n of nodes) {
      if (n.type === 'text') {
        buf.push(n.data.replace(/\s+/g, ' '));
        continue;
      }
      if (!isElement(n) || dropped(n)) continue;
      if (!hasMain && !inArticle && CHROME.has(n.name)) continue;
      if (HEADING.test(n.name)) {
        flush();
        const heading = collapse(textOf(n)).replace(/\n/g, ' ');
        cur = { heading, anchor: anchorOf(n) || cur.anchor, text: '' };
        buf.push(heading, '\n');
        continue;
      }
      const block = BLOCK.has(n.name);
      if (block) buf.push('\n');
      walk(n.children, inArticle || n.name === 'article' || n.name === 'main');
      if (block) buf.push('\n');
    }
  };
  walk(root === doc ? doc.children : (root as Element).children, hasMain);
  flush();

  let title = titleEl ? collapse(titleEl.children.map((c) => (c.type === 'text' ? c.data : '')).join('')).replace(/\n/g, ' ') : '';
  if (!title) title = sections.find((s) => s.heading !== '')?.heading ?? '';
  if (!title) title = fallbackTitle;
  return { title, sections };
}
