// boundQuery and queryCutNotice (src/core/query.ts): the bound on a query's length wherever it enters.
import { describe, expect, it } from 'vitest';
import { boundQuery, MAX_QUERY_CHARS, queryCutNotice } from '../src/core/query.ts';

describe('boundQuery', () => {
  it('keeps a query within the limit as it is', () => {
    expect(boundQuery('how do wings generate lift')).toEqual({ text: 'how do wings generate lift', originalChars: 26, cut: false });
    const exact = 'x'.repeat(MAX_QUERY_CHARS);
    expect(boundQuery(exact)).toEqual({ text: exact, originalChars: MAX_QUERY_CHARS, cut: false });
  });

  it('cuts a long query at the last whitespace before the limit', () => {
    const q = 'word '.repeat(20_000); // 100,000 characters
    const b = boundQuery(q);
    expect(b.cut).toBe(true);
    expect(b.originalChars).toBe(100_000);
    expect(b.text.length).toBeLessThanOrEqual(MAX_QUERY_CHARS);
    expect(b.text.length).toBeGreaterThan(MAX_QUERY_CHARS - 6);
    expect(b.text.endsWith('word')).toBe(true); // no half word at the end
    expect(q.startsWith(b.text)).toBe(true);
  });

  it('cuts a long word where it must when there is no whitespace near the limit', () => {
    const b = boundQuery(`short ${'y'.repeat(5000)}`);
    expect(b.text).toBe(`short ${'y'.repeat(5000)}`.slice(0, MAX_QUERY_CHARS));
  });

  it('never leaves half of a surrogate pair', () => {
    const b = boundQuery(`x${'😀'.repeat(2000)}`); // the limit falls inside a pair
    expect(b.cut).toBe(true);
    expect(b.text.length).toBe(MAX_QUERY_CHARS - 1);
    expect(b.text.endsWith('😀')).toBe(true);
    expect(/[\uD800-\uDBFF]$/.test(b.text)).toBe(false);
  });
});

describe('queryCutNotice', () => {
  it('is null when nothing was cut', () => {
    expect(queryCutNotice(boundQuery('lift'))).toBeNull();
    expect(queryCutNotice(boundQuery('lift'), { pieces: 30, maxTokens: 30 })).toBeNull();
  });

  it('names the characters kept of the original', () => {
    const b = boundQuery('word '.repeat(20_000));
    expect(queryCutNotice(b)).toBe(`the query was cut to its first ${b.text.length.toLocaleString('en')} of 100,000 characters`);
  });

  it("names the neural model's token cut, alone or after the character cut", () => {
    expect(queryCutNotice(boundQuery('lift'), { pieces: 1234, maxTokens: 30 })).toBe('the neural model reads its first 30 of 1,234 tokens');
    const b = boundQuery('word '.repeat(20_000));
    expect(queryCutNotice(b, { pieces: 410, maxTokens: 30 })).toBe(
      `the query was cut to its first ${b.text.length.toLocaleString('en')} of 100,000 characters; the neural model reads its first 30 of 410 tokens`,
    );
  });
});
