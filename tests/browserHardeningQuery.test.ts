// How the browser engine and the page treat a long query and a document's URL: the query bounded
// before any tokenizing or search, with a notice naming the cut (src/worker/queryBounds.ts), and
// hit URLs shown with bidi overrides and controls percent-encoded (src/ui/dom.ts; DOM-free parts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_CHARS } from '../src/core/query.ts';
import { BertWordPieceTokenizer } from '../src/core/tokenizer.ts';
import { quotedQuery, safeHref, shownUrl } from '../src/ui/dom.ts';
import { neuralTokenCut, prepareQuery } from '../src/worker/queryBounds.ts';

// The shipped model's vocabulary and query length: the cut the demo page reports.
const vocab = readFileSync(new URL('../models/default/vocab.txt', import.meta.url), 'utf8');
const modelJson = JSON.parse(readFileSync(new URL('../models/default/model.json', import.meta.url), 'utf8')) as { max_query_tokens: number };
const tokenizer = BertWordPieceTokenizer.fromVocab(vocab);

describe('prepareQuery', () => {
  it('leaves a short query alone, with no notice', () => {
    expect(prepareQuery('how do wings generate lift')).toEqual({ text: 'how do wings generate lift', notice: null });
    const tokens = (t: string) => neuralTokenCut(tokenizer, modelJson.max_query_tokens, t);
    expect(prepareQuery('how do wings generate lift', tokens)).toEqual({ text: 'how do wings generate lift', notice: null });
  });

  it('cuts a 100,000-character query before the tokenizer sees it, and says so', () => {
    const seen: number[] = [];
    const q = 'boundary layer transition '.repeat(3847).slice(0, 100_000);
    const r = prepareQuery(q, (t) => {
      seen.push(t.length);
      return neuralTokenCut(tokenizer, modelJson.max_query_tokens, t);
    });
    expect(r.text.length).toBeLessThanOrEqual(MAX_QUERY_CHARS);
    expect(seen).toEqual([r.text.length]); // the tokenizer got the bounded text only
    const pieces = tokenizer.pieceIds(r.text).length;
    expect(pieces).toBeGreaterThan(modelJson.max_query_tokens);
    expect(r.notice).toBe(
      `the query was cut to its first ${r.text.length.toLocaleString('en')} of 100,000 characters; the neural model reads its first ${modelJson.max_query_tokens - 2} of ${pieces.toLocaleString('en')} tokens`,
    );
  });

  it('reports the token cut alone for a query within the character limit', () => {
    const q = 'vitamin deficiency symptoms '.repeat(20); // 560 characters, 60 words
    const r = prepareQuery(q, (t) => neuralTokenCut(tokenizer, modelJson.max_query_tokens, t));
    expect(r.text).toBe(q);
    expect(r.notice).toMatch(new RegExp(`^the neural model reads its first ${modelJson.max_query_tokens - 2} of \\d+ tokens$`));
  });

  it('lexical search (no encoder) reports the character cut only', () => {
    expect(prepareQuery('x '.repeat(5000)).notice).toMatch(/^the query was cut to its first [\d,]+ of 10,000 characters$/);
  });
});

describe('neuralTokenCut', () => {
  it('counts what encode() keeps: max_query_tokens less [CLS] and [SEP]', () => {
    const text = 'python list comprehension dictionary '.repeat(10);
    const cut = neuralTokenCut(tokenizer, 32, text);
    expect(cut.pieces).toBe(tokenizer.pieceIds(text).length);
    expect(tokenizer.encode(text, 32).ids.length - 2).toBe(cut.maxTokens);
  });
});

describe('shownUrl', () => {
  it('shows a right-to-left override percent-encoded while the href keeps it as the document has it', () => {
    const url = 'https://example.org/files/%E2%80%AEfdp.exe';
    const href = safeHref(url, 'https://search.example.org/')!;
    expect(href).toBe(url);
    expect(shownUrl(href)).toBe('example.org/files/%E2%80%AEfdp.exe');
    expect(shownUrl(href)).not.toContain('\u202E');
  });

  it('a raw override or control in the document URL is shown encoded too', () => {
    const href = safeHref('https://example.org/a\u202Eb/c\u0007d', 'https://search.example.org/')!;
    expect(shownUrl(href)).toBe('example.org/a%E2%80%AEb/c%07d');
  });

  it('decodes ordinary escapes and drops the scheme and the trailing slash', () => {
    expect(shownUrl('https://docs.example.org/caf%C3%A9/?q=%C3%A9t%C3%A9#top')).toBe('docs.example.org/café?q=été#top');
    expect(shownUrl('https://docs.example.org/')).toBe('docs.example.org');
  });

  it('never turns javascript:, data: or vbscript: into a link', () => {
    for (const url of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'java\tscript:alert(1)',
    ]) {
      expect(safeHref(url, 'https://search.example.org/')).toBeNull();
    }
  });
});

describe('quotedQuery', () => {
  it('quotes a query, shortening a long one for the status line', () => {
    expect(quotedQuery('lift')).toBe('“lift”');
    const long = quotedQuery('word '.repeat(20_000));
    expect(Array.from(long).length).toBeLessThanOrEqual(122);
    expect(long.endsWith('…”')).toBe(true);
  });
});
