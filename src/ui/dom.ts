// Tiny DOM helpers. Text goes in as text nodes (Element.append with strings), never as HTML.
import { displayUrl } from '../core/displayText.ts';
import { splitHighlights, type TextRange } from '../core/highlight.ts';

type Props<K extends keyof HTMLElementTagNameMap> = Partial<Omit<HTMLElementTagNameMap[K], 'innerHTML' | 'outerHTML'>> & {
  attrs?: Record<string, string>;
  dataset?: Record<string, string>;
};

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props<K> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const { attrs, dataset, ...rest } = props;
  const e = Object.assign(document.createElement(tag), rest);
  for (const [k, v] of Object.entries(attrs ?? {})) e.setAttribute(k, v);
  Object.assign(e.dataset, dataset ?? {});
  e.append(...children);
  return e;
}

/** The text as text nodes with the ranges (the query's words: highlightRanges) wrapped in <mark> elements. */
export function highlighted(text: string, ranges: TextRange[]): Node[] {
  return splitHighlights(text, ranges).map((p) => (p.mark ? el('mark', {}, p.text) : document.createTextNode(p.text)));
}

/** A document URL as a safe link target: http(s) only (never javascript: or data:), resolved against the page. */
export function safeHref(url: string, base: string): string | null {
  if (!url) return null;
  try {
    const u = new URL(url, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * A short readable form of a link target: host and path, no scheme, no trailing slash; escapes for
 * ordinary characters decoded, but bidi overrides, controls and invisible characters kept
 * percent-encoded (displayUrl), so a hit cannot show a URL that reads otherwise than it leads.
 */
export function shownUrl(href: string): string {
  let short: string;
  try {
    const u = new URL(href);
    short = `${u.host}${u.pathname.replace(/\/$/, '')}${u.search}${u.hash}`;
  } catch {
    short = href;
  }
  return displayUrl(short);
}

/** The query in quotes for a status line: a long one shortened (the whole query stays in the box). */
export function quotedQuery(query: string, maxChars = 120): string {
  const chars = Array.from(query);
  return `“${
    chars.length > maxChars
      ? `${chars
          .slice(0, maxChars - 1)
          .join('')
          .trimEnd()}…`
      : query
  }”`;
}
