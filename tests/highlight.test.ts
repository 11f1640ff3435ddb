import { describe, expect, it } from 'vitest';
import { highlightRanges, splitHighlights } from '../src/core/highlight.ts';

/** The marked words, read back from the ranges (the oracle is written out by hand). */
function marked(text: string, query: string): string[] {
  return highlightRanges(text, query).map((r) => text.slice(r.start, r.end));
}

describe('highlightRanges', () => {
  it('marks the words a lexical search would match: stems, any case, not stop words', () => {
    const text = 'How a Wing generates LIFT: the wings, lifting and generation.';
    expect(marked(text, 'how do wings generate lift')).toEqual(['Wing', 'generates', 'LIFT', 'wings', 'lifting', 'generation']);
  });

  it('marks nothing for a query of stop words or punctuation only', () => {
    expect(highlightRanges('the cat is on the mat', 'the is on')).toEqual([]);
    expect(highlightRanges('the cat', '?!* ...')).toEqual([]);
  });

  it('splits on punctuation like the lexical index: aero-elastic and (lift) are words apart from their marks', () => {
    const text = 'aero-elastic flutter (lift)';
    expect(highlightRanges(text, 'elastic lift')).toEqual([
      { start: 5, end: 12 },
      { start: 22, end: 26 },
    ]);
  });

  it('gives UTF-16 offsets past astral characters', () => {
    const text = '𝄞 music notation';
    expect(highlightRanges(text, 'notation')).toEqual([{ start: 9, end: 17 }]);
  });

  it('takes markup-looking text as plain words', () => {
    expect(marked('<img src=x onerror=alert(1)>', 'img alert')).toEqual(['img', 'alert']);
  });
});

describe('splitHighlights', () => {
  it('cuts the text into plain and marked pieces that join back to it', () => {
    const text = 'Wings make lift.';
    const pieces = splitHighlights(text, highlightRanges(text, 'wing lift'));
    expect(pieces).toEqual([
      { text: 'Wings', mark: true },
      { text: ' make ', mark: false },
      { text: 'lift', mark: true },
      { text: '.', mark: false },
    ]);
    expect(pieces.map((p) => p.text).join('')).toBe(text);
  });

  it('returns the whole text as one plain piece when nothing matches', () => {
    expect(splitHighlights('abc', [])).toEqual([{ text: 'abc', mark: false }]);
  });
});
