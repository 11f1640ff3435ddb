// Text that is not English ASCII: Latin and Greek diacritics folded alike in documents and queries,
// Chinese and Japanese cut into words by Intl.Segmenter, and the matched words highlighted in place.
import { describe, expect, it } from 'vitest';
import { highlightRanges } from '../src/core/highlight.ts';
import { buildLexicalIndex, lexicalSearch } from '../src/core/lexical.ts';
import { foldDiacritics, lexicalQueryTerms } from '../src/core/lexicalText.ts';

const DOCS = [
  { title: 'Café culture', text: 'A naïve guide to the cafés of Zürich, measured in ångströms.' },
  { title: 'Plain', text: 'Cafe tables and naive art in Zurich.' },
  { title: '検索エンジン', text: '東京都に住んでいます。日本語の検索エンジンを作ります。' },
  { title: '中文', text: '中文分词测试：搜索引擎需要分词。' },
  { title: 'Ελληνικά', text: 'Η Αθήνα είναι η πρωτεύουσα.' },
];
const index = buildLexicalIndex(DOCS);
const found = (q: string) => lexicalSearch(index, q).map((h) => h.doc);

describe('diacritics', () => {
  it('folds Latin and Greek marks, and only those', () => {
    expect(foldDiacritics('Crème brûlée, naïve, Ångström, Αθήνα')).toBe('Creme brulee, naive, Angstrom, Αθηνα');
    expect(foldDiacritics('がぎぐ й')).toBe('がぎぐ й'); // Japanese voicing and Cyrillic letters keep their marks
  });

  it('matches a word with or without its accents, both ways', () => {
    expect(found('cafe').sort()).toEqual([0, 1]);
    expect(found('café').sort()).toEqual([0, 1]);
    expect(found('zurich naive').sort()).toEqual([0, 1]);
    expect(found('angstroms')).toEqual([0]);
    expect(found('αθηνα')).toEqual([4]);
    // Lunr's own trimmer (JavaScript's ASCII \W) cut "naïve" to "na"; the words are whole now.
    expect(lexicalQueryTerms('naïve İstanbul')).toEqual(['naive', 'istanbul']);
  });
});

describe('Chinese and Japanese', () => {
  it('are cut into words, so a word of a sentence finds its document', () => {
    expect(lexicalQueryTerms('日本語の検索エンジン')).toEqual(['日本語', 'の', '検索', 'エンジン']);
    expect(found('検索')).toEqual([2]);
    expect(found('東京')).toEqual([2]);
    expect(found('分词')).toEqual([3]);
    expect(found('搜索引擎')[0]).toBe(3);
  });

  it('highlights the matched words inside a run with no spaces, and accented words by their folded form', () => {
    const t = '日本語の検索エンジンです。Café au lait';
    expect(highlightRanges(t, '検索 エンジン cafe').map((r) => t.slice(r.start, r.end))).toEqual(['検索', 'エンジン', 'Café']);
  });
});
