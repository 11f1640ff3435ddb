// Web pages → title + sections, with htmlparser2 (a tolerant HTML parser; nothing is executed:
// script and style bodies are raw text to the parser, and we drop them).
// - title: <title>, else the first <h1>, else the caller's fallback (the file name);
// - content: the first element matching the site's root selector when one is given (a page without
//   one gives no document), else <main> (or role=main) when the page has one, else <body> without
//   site chrome (<header>, <footer>, <aside> outside <article>);
// - dropped everywhere: script, style, noscript, template, nav, role=navigation, svg, iframe,
//   forms' controls, hidden / aria-hidden elements, elements with data-hypencoder-ignore (or
//   Pagefind's data-pagefind-ignore, so a site moving over keeps its markup), and what the site's
//   exclude selectors match (CSS, through css-select over htmlparser2's tree);
// - a section starts at every h1…h6 outside an admonition; its anchor is the heading's id (or an id /
//   name inside it), else the id of the nearest enclosing element whose content this heading begins
//   (DocBook, Sphinx and many generators put the id on the section's wrapper), else the anchor of
//   the section before, so a hit links to the nearest heading above it;
// - admonitions (an element of class note, tip, warning, …, or an <aside> in an article) stay in
//   their section: a "Note" heading inside one is a line of text, not a section.
import { selectAll, selectOne } from 'css-select';
import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';
import { LANGUAGE_FILTER, addFacetValue } from '../facets.ts';
import { InputError } from './utf8.ts';
import type { FacetValues, Section } from './types.ts';

/** What of a site's pages is content (the index command's --root-selector and --exclude-selectors). */
export interface HtmlContentOptions {
  /** CSS selector of the content's root; its first match is the page's content. */
  rootSelector?: string;
  /** CSS selectors of elements left out (with everything inside them). */
  excludeSelectors?: string[];
}

/** Attributes that leave an element and its subtree out of the index. */
export const IGNORE_ATTRIBUTES = ['data-hypencoder-ignore', 'data-pagefind-ignore'] as const;

/** Class names of admonition boxes (DocBook, Sphinx, MkDocs, Docusaurus, GitHub-style callouts). */
const ADMONITION_CLASSES = new Set([
  'admonition',
  'note',
  'tip',
  'hint',
  'important',
  'warning',
  'caution',
  'danger',
  'attention',
  'error',
  'seealso',
  'callout',
  'sidebar',
]);

export interface Page {
  title: string;
  sections: Section[];
  /** Filter and sort values from data-hypencoder-filter / data-hypencoder-sort (or Pagefind's) anywhere in the page. */
  facets?: FacetValues;
}

/** Attributes naming filter values, and sort values: `key` (the element's text), `key:value`, `key[attribute]`, comma-separated. */
export const FILTER_ATTRIBUTES = ['data-hypencoder-filter', 'data-pagefind-filter'] as const;
export const SORT_ATTRIBUTES = ['data-hypencoder-sort', 'data-pagefind-sort'] as const;

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

function dropped(el: Element, excluded: ReadonlySet<Element>): boolean {
  if (DROP.has(el.name)) return true;
  const a = el.attribs;
  if (a.role === 'navigation' || a['aria-hidden'] === 'true' || 'hidden' in a) return true;
  if (IGNORE_ATTRIBUTES.some((name) => name in a)) return true;
  return excluded.has(el);
}

function isAdmonition(el: Element, inArticle: boolean): boolean {
  if (el.name === 'aside') return inArticle;
  return (el.attribs.class ?? '').split(/\s+/).some((c) => ADMONITION_CLASSES.has(c.toLowerCase()));
}

/** Text of a subtree (dropped elements skipped), whitespace collapsed. */
function textOf(n: ChildNode, excluded: ReadonlySet<Element>): string {
  if (n.type === 'text') return n.data;
  if (!isElement(n) || dropped(n, excluded)) return '';
  return n.children.map((c) => textOf(c, excluded)).join(BLOCK.has(n.name) ? ' ' : '');
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

/**
 * Parses an HTML page. `fallbackTitle` is used when it has neither <title> nor <h1>. Null when the
 * page has no content to index: a root selector is given and nothing matches it, or the content's
 * root carries an ignore attribute.
 */
export function extractHtml(html: string, fallbackTitle: string, opts: HtmlContentOptions = {}, where = fallbackTitle): Page | null {
  const doc = parseDocument(html, { decodeEntities: true });
  const titleEl = find(doc.children, (e) => e.name === 'title');
  const chosen = opts.rootSelector ? selectOne(opts.rootSelector, doc.children) : null;
  if (opts.rootSelector && !chosen) return null;
  const root = chosen ?? find(doc.children, (e) => e.name === 'main' || e.attribs.role === 'main') ?? find(doc.children, (e) => e.name === 'body') ?? doc;
  // A page that ignores its own root (<body data-hypencoder-ignore>: a search page) has nothing to index.
  if (root !== doc && IGNORE_ATTRIBUTES.some((name) => name in (root as Element).attribs)) return null;
  // A chosen root is all content: no chrome inside it is guessed away.
  const hasMain = root !== doc && (chosen !== null || (root as Element).name !== 'body');
  const excluded = new Set<Element>(opts.excludeSelectors?.length ? selectAll(opts.excludeSelectors.join(', '), doc.children) : []);

  const sections: Section[] = [];
  let cur: Section = { heading: '', anchor: '', text: '' };
  let buf: string[] = [];
  const flush = () => {
    cur.text = collapse(buf.join(''));
    if (cur.text !== '' || cur.heading !== '') sections.push(cur);
    buf = [];
  };

  // Enclosing elements with an id whose content has not started yet (no heading, no text), outermost first.
  const open: { id: string; started: boolean }[] = [];
  const walk = (nodes: ChildNode[], inArticle: boolean, inAdmonition: boolean) => {
    for (const n of nodes) {
      if (n.type === 'text') {
        buf.push(n.data.replace(/\s+/g, ' '));
        // An element whose content starts with text is not a section's wrapper: its id names that text.
        if (/\S/.test(n.data)) for (const o of open) o.started = true;
        continue;
      }
      if (!isElement(n) || dropped(n, excluded)) continue;
      if (!hasMain && !inArticle && CHROME.has(n.name)) continue;
      if (HEADING.test(n.name)) {
        const heading = collapse(textOf(n, excluded)).replace(/\n/g, ' ');
        if (inAdmonition) {
          buf.push('\n', heading, '\n');
          continue;
        }
        flush();
        const wrapper = [...open].reverse().find((o) => !o.started);
        for (const o of open) o.started = true;
        cur = { heading, anchor: anchorOf(n) || wrapper?.id || cur.anchor, text: '' };
        buf.push(heading, '\n');
        continue;
      }
      const block = BLOCK.has(n.name);
      if (block) buf.push('\n');
      const id = n.attribs.id;
      if (id) open.push({ id, started: false });
      walk(n.children, inArticle || n.name === 'article' || n.name === 'main', inAdmonition || isAdmonition(n, inArticle));
      if (id) open.pop();
      if (block) buf.push('\n');
    }
  };
  walk(root === doc ? doc.children : (root as Element).children, hasMain, false);
  flush();

  let facets = pageFacets(doc.children, where);
  // The page's language (<html lang="ja-JP"> → "ja") as a filter, unless the page names its own: a
  // multilingual site's search page then keeps to its own language (the indexer writes it only when
  // the pages have more than one).
  const lang = /^[a-z]{2,3}(?=-|$)/i.exec(find(doc.children, (e) => e.name === 'html')?.attribs.lang?.trim() ?? '')?.[0].toLowerCase();
  if (lang && !facets?.filters[LANGUAGE_FILTER]) {
    facets ??= { filters: {}, sort: {} };
    facets.filters[LANGUAGE_FILTER] = [lang];
  }
  let title = titleEl ? collapse(titleEl.children.map((c) => (c.type === 'text' ? c.data : '')).join('')).replace(/\n/g, ' ') : '';
  if (!title) title = sections.find((s) => s.heading !== '')?.heading ?? '';
  if (!title) title = fallbackTitle;
  return { title, sections, ...(facets ? { facets } : {}) };
}

/** All text under a node, hidden or not (a filter's value may sit in a hidden element). */
function rawText(n: ChildNode): string {
  if (n.type === 'text') return n.data;
  return isElement(n) ? n.children.map(rawText).join('') : '';
}

/** The page's filter and sort values (anywhere in it, <head> included: `<meta data-hypencoder-filter="tag[content]" content="…">`). */
function pageFacets(nodes: ChildNode[], where: string): FacetValues | undefined {
  const attrs = [...FILTER_ATTRIBUTES, ...SORT_ATTRIBUTES];
  const elements = selectAll(attrs.map((a) => `[${a}]`).join(', '), nodes).filter(isElement);
  if (elements.length === 0) return undefined;
  const facets: FacetValues = { filters: {}, sort: {} };
  for (const el of elements) {
    for (const attr of attrs) {
      const spec = el.attribs[attr];
      if (spec === undefined) continue;
      const kind = (SORT_ATTRIBUTES as readonly string[]).includes(attr) ? 'sort' : 'filter';
      for (const part of spec.split(',')) {
        const item = part.trim();
        if (!item) continue;
        const m = /^([^:[\]]+)(?:\[([^\]]+)\]|:(.*))?$/s.exec(item);
        if (!m) throw new InputError(`${where}: <${el.name} ${attr}="${spec}">: expected key, key:value or key[attribute]`);
        const key = m[1].trim();
        const value = m[2] !== undefined ? el.attribs[m[2].trim()] : m[3] !== undefined ? m[3] : rawText(el);
        if (value === undefined) throw new InputError(`${where}: <${el.name} ${attr}="${spec}">: the element has no attribute ${m[2].trim()}`);
        addFacetValue(facets, kind, key, value, `${where}: <${el.name} ${attr}>`);
      }
    }
  }
  return facets;
}
