// One hit of a results list as elements (never HTML): its title linked to its section, the URL as
// shown, the snippet with the query's words marked, the page's other matching sections under it, and
// the rank / id / score line, hidden unless debugging.
import { highlightRanges } from '../core/highlight.ts';
import type { SearchHit } from '../core/search.ts';
import { el, highlighted, safeHref, shownUrl } from './dom.ts';

export interface HitOptions {
  /** The stems whose words are marked in titles (snippets carry their own ranges). */
  stems: Set<string>;
  /** What relative URLs resolve against. */
  base: string;
  heading: 'h2' | 'h3' | 'h4';
  debug: boolean;
}

export function hitElement(h: SearchHit, o: HitOptions): HTMLLIElement {
  const title = h.title || h.id;
  const titleMarks = highlighted(title, highlightRanges(title, o.stems));
  const href = safeHref(h.url, o.base);
  const li = el('li', { className: 'hit', tabIndex: -1, dataset: { testid: 'hit', docId: h.id, documentId: h.docId } });
  const heading = el(o.heading, { className: 'hit-title' }, href ? el('a', { href, rel: 'noopener' }, ...titleMarks) : el('span', {}, ...titleMarks));
  li.append(heading);
  // Shown with bidi overrides and controls percent-encoded; the link target is the href as is.
  if (href) li.append(el('p', { className: 'url' }, shownUrl(href)));
  // The engine's snippet and its highlights (src/core/search.ts), as the CLI gives them.
  if (h.snippet) li.append(el('p', { className: 'snippet' }, ...highlighted(h.snippet, h.highlights)));
  // The page's other sections with the query's words, under it (Pagefind's sub-results): each links to its section.
  const sections = (h.sections ?? []).map((s) => {
    const name = s.title.split(' › ').slice(1).join(' › ') || s.title;
    const sHref = safeHref(s.url, o.base);
    const marks = highlighted(name, highlightRanges(name, o.stems));
    return el(
      'li',
      { className: 'section', dataset: { testid: 'sub-result' } },
      sHref ? el('a', { href: sHref, rel: 'noopener' }, ...marks) : el('span', {}, ...marks),
      el('p', { className: 'snippet' }, ...highlighted(s.snippet, s.highlights)),
    );
  });
  if (sections.length) li.append(el('ul', { className: 'sections' }, ...sections));
  // Kept, hidden, without debug: tests and tools read it; a reader does not see a line that looks like a link.
  li.append(el('p', { className: 'meta', hidden: !o.debug }, `#${h.rank} · ${h.id} · score ${h.score.toFixed(4)}`));
  return li;
}
