// BM25 over stored weights (scheme bm25-chunked-v2, docs/FORMATS.md), whatever holds the postings:
// one bundle's term chunks (ChunkedLexicalIndex, src/core/lexicalChunked.ts) or several bundles'
// searched as one collection (UnionLexicalIndex, src/core/bundleUnion.ts). A query is scored as
// Lunr's Index#query scores OR-ed terms: per field, the dot product of the query's term counts with
// the weights over the query vector's length, summed over fields; typo tolerance corrects the words
// no document holds from the word list (src/core/typoTolerance.ts).
import { show } from './formats/fields.ts';
import { exactLexicalQuery, type LexicalHit, type LexicalQuery, type LexicalSearcher } from './lexical.ts';
import { lexicalQueryTerms, lexicalStem } from './lexicalText.ts';
import { TYPO_DEFAULTS, type WordList, allowedTypos } from './typoTolerance.ts';

/** One term's postings in one field: documents ascending, each with its weight in thousandths. */
export interface FieldPostings {
  docs: Uint32Array;
  weights: Uint32Array;
}

/** Distinct stems a misspelt word's nearest words may have whose chunks are read to pick its corrections: a bound on the fetches one word can cause. */
const CORRECTION_STEMS_READ = 12;
/** Misspelt words whose corrections are kept (then the cache starts again): a query typed letter by letter asks for the same words again. */
const CORRECTION_CACHE_WORDS = 1000;

/** BM25 scoring and typo tolerance over a postings store; subclasses say how terms are read. */
export abstract class PostingsSearcher implements LexicalSearcher {
  /** The word list, read the first time a query has a word no document holds (a failure is not kept). */
  private wordListRead: Promise<WordList> | null = null;
  private readonly corrected = new Map<string, { stem: string; w: string }[]>();

  /** Records (documents) scored: refs 0 … documents − 1. */
  abstract get documents(): number;
  /** Fields in the order of each term's postings. */
  abstract get fields(): readonly string[];
  /** Whether there is a word list (typo tolerance). */
  abstract get hasWords(): boolean;
  /** Reads what these terms' postings need (their chunks). */
  abstract loadTerms(terms: Iterable<string>): Promise<void>;
  /** A term's postings per field, once loaded (undefined: no document holds it). */
  abstract postings(term: string): FieldPostings[] | undefined;
  /** Every term's postings, read and checked (verify). */
  protected abstract loadEverything(): Promise<void>;
  /** The word list, read and checked. */
  protected abstract readWordList(): Promise<WordList>;
  /** The word list's file, for errors. */
  protected abstract get wordsFile(): string;

  /**
   * Reads the query's terms; with `typos`, then corrects each word (of a length that may have typos)
   * whose stem no document holds: its nearest corpus words (the word list, read now the first time),
   * their stems read to keep the TYPO_DEFAULTS.maxCorrections stems most documents hold,
   * each weighing correctionWeight per occurrence of the word.
   */
  async prepare(query: string, typos = false): Promise<LexicalQuery> {
    const q = exactLexicalQuery(query);
    await this.loadTerms(q.terms.keys());
    if (!typos || !this.hasWords) return q;
    // Each typed word and how often it occurs: a correction weighs per occurrence, as the word would.
    const typed = new Map<string, number>();
    for (const w of lexicalQueryTerms(query)) typed.set(w, (typed.get(w) ?? 0) + 1);
    const missing = [...typed.keys()].filter((w) => allowedTypos(w) > 0 && !this.postings(lexicalStem(w)));
    if (missing.length === 0) return q;
    const words = await this.wordList();
    for (const word of missing) {
      const found = await this.corrections(word, words);
      if (found.length === 0) continue;
      const count = typed.get(word)!;
      for (const c of found) q.terms.set(c.stem, (q.terms.get(c.stem) ?? 0) + TYPO_DEFAULTS.correctionWeight * count);
      q.corrections.push({ word, to: found.map((c) => c.w) });
    }
    return q;
  }

  /** A misspelt word's corrections: the stems of its nearest words (each shown by its first nearest word), read, most documents first. */
  private async corrections(word: string, words: WordList): Promise<{ stem: string; w: string }[]> {
    const kept = this.corrected.get(word);
    if (kept) return kept;
    const shownBy = new Map<string, string>();
    for (const w of words.nearest(word).words) {
      const stem = lexicalStem(w);
      if (!shownBy.has(stem) && shownBy.size < CORRECTION_STEMS_READ) shownBy.set(stem, w);
    }
    await this.loadTerms(shownBy.keys());
    const found = [...shownBy]
      .map(([stem, w]) => ({ stem, w, df: documentFrequency(this.postings(stem)) }))
      .filter((c) => c.df > 0)
      .sort((a, b) => b.df - a.df || (a.w < b.w ? -1 : 1))
      .slice(0, TYPO_DEFAULTS.maxCorrections)
      .map(({ stem, w }) => ({ stem, w }));
    if (this.corrected.size >= CORRECTION_CACHE_WORDS) this.corrected.clear();
    this.corrected.set(word, found);
    return found;
  }

  /** Every term, and the word list checked against them (each word's stem is a term of the index). */
  async prepareAll(): Promise<void> {
    await this.loadEverything();
    if (!this.hasWords) return;
    const words = await this.wordList();
    words.words.forEach((w, i) => {
      if (!this.postings(lexicalStem(w)))
        throw new Error(`${this.wordsFile}:${i + 1}: ${show(w)} is not a word of any document (its stem is not in the index)`);
    });
  }

  /** The word list, read once and checked (typo tolerance; only where hasWords). */
  wordList(): Promise<WordList> {
    if (!this.wordListRead) {
      const read = this.readWordList();
      this.wordListRead = read;
      read.catch(() => (this.wordListRead = null));
    }
    return this.wordListRead;
  }

  hits(query: string | LexicalQuery): LexicalHit[] {
    // Lunr's query vector: each indexed term weighs its number of occurrences in the query (a correction less).
    const q = typeof query === 'string' ? exactLexicalQuery(query) : query;
    const present: { weight: number; fields: FieldPostings[] }[] = [];
    for (const term of [...q.terms.keys()].sort()) {
      const fields = this.postings(term);
      if (fields) present.push({ weight: q.terms.get(term)!, fields });
    }
    if (present.length === 0) return [];
    const magnitude = Math.sqrt(present.reduce((s, p) => s + p.weight * p.weight, 0));
    const scores = new Map<number, number>();
    for (let f = 0; f < this.fields.length; f++) {
      const dot = new Map<number, number>();
      for (const { weight, fields } of present) {
        const { docs, weights } = fields[f];
        for (let i = 0; i < docs.length; i++) dot.set(docs[i], (dot.get(docs[i]) ?? 0) + weight * (weights[i] / 1000));
      }
      for (const [doc, d] of dot) {
        const s = scores.get(doc);
        scores.set(doc, s === undefined ? d / magnitude : s + d / magnitude);
      }
    }
    const hits = [...scores].map(([doc, score]) => ({ doc, score }));
    hits.sort((a, b) => b.score - a.score || a.doc - b.doc);
    return hits;
  }
}

/** Documents a term's postings name in any field. */
function documentFrequency(fields: FieldPostings[] | undefined): number {
  if (!fields) return 0;
  const docs = new Set<number>();
  for (const p of fields) for (const d of p.docs) docs.add(d);
  return docs.size;
}
