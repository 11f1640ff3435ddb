// Which words of a text to highlight for a query: the words that the lexical index would match
// (src/core/lexical.ts), so "wings" in a query marks "wing" and "Wings" in a snippet, and stop words
// ("how", "do", "the") are never marked. Pure: returns character ranges; the page turns them into
// <mark> elements with text nodes (never HTML).
import lunr from 'lunr';
import { lexicalStems } from './lexical.ts';

export interface TextRange {
  /** UTF-16 offsets into the text, end exclusive. */
  start: number;
  end: number;
}

/** A word is a run of characters that are neither white space nor punctuation/symbols (lexicalText's split). */
const WORD = /[^\s\p{P}\p{S}]+/gu;

function stem(word: string): string {
  const t = lunr.trimmer(new lunr.Token(word.toLowerCase(), {})) as lunr.Token | undefined;
  if (!t || t.toString() === '') return '';
  return (lunr.stemmer(t) as lunr.Token).toString();
}

/** The stems a query highlights (empty when it has only stop words or punctuation): the terms BM25 searches. */
export function queryStems(query: string): Set<string> {
  return lexicalStems(query);
}

/** Ranges of the words of `text` that match the query, in order, not overlapping. */
export function highlightRanges(text: string, query: string | Set<string>): TextRange[] {
  const stems = typeof query === 'string' ? queryStems(query) : query;
  if (stems.size === 0) return [];
  const out: TextRange[] = [];
  for (const m of text.matchAll(WORD)) {
    if (stems.has(stem(m[0]))) out.push({ start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** The text cut at the ranges: plain and marked pieces in order (pieces join back to the text). */
export function splitHighlights(text: string, ranges: TextRange[]): { text: string; mark: boolean }[] {
  const out: { text: string; mark: boolean }[] = [];
  let at = 0;
  for (const r of ranges) {
    if (r.start > at) out.push({ text: text.slice(at, r.start), mark: false });
    out.push({ text: text.slice(r.start, r.end), mark: true });
    at = r.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false });
  return out;
}
