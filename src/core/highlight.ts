// Which words of a text to highlight for a query: the words that the lexical index would match
// (src/core/lexical.ts), so "wings" in a query marks "wing" and "Wings" in a snippet, and stop words
// ("how", "do", "the") are never marked. Pure: returns character ranges; the page turns them into
// <mark> elements with text nodes (never HTML).
import { CJK_RUN, cjkWords, lexicalStems, wordStem } from './lexicalText.ts';

export interface TextRange {
  /** UTF-16 offsets into the text, end exclusive. */
  start: number;
  end: number;
}

/** A word is a run of characters that are neither white space nor punctuation/symbols (lexicalText's split). */
const WORD = /[^\s\p{P}\p{S}]+/gu;

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
    // A word with CJK in it is several words to the index (lexicalText): each is marked on its own.
    let at = 0;
    for (const run of m[0].matchAll(CJK_RUN)) {
      if (run.index > at) mark(m.index + at, m[0].slice(at, run.index));
      for (const w of cjkWords(run[0])) mark(m.index + run.index + w.index, w.word);
      at = run.index + run[0].length;
    }
    if (at < m[0].length) mark(m.index + at, m[0].slice(at));
  }
  return out;
  function mark(start: number, word: string): void {
    if (stems.has(wordStem(word))) out.push({ start, end: start + word.length });
  }
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
