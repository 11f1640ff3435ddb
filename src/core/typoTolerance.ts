// Typo tolerance for the lexical index: a query word that no document holds is matched to the corpus
// words (the chunked index's word list, docs/FORMATS.md) nearest to it, as Meilisearch counts typos
// (its documented defaults, not fitted to any of our collections): Damerau-Levenshtein edits, where a
// swap of two neighbours is one typo; none below 5 characters, one from 5, two from 9; an edit of the
// first letter costs two, since people rarely mistype it. Words are compared as typed, not as stems:
// "configuraton" is one edit from "configuration", but its stem is four from the corpus's "configur".
import damerauLevenshtein from 'damerau-levenshtein';
import { show } from './formats/fields.ts';
import type { LexicalDoc } from './lexical.ts';
import { lexicalQueryTerms } from './lexicalText.ts';

export const TYPO_DEFAULTS = {
  /** Shortest query word (characters) that may have one typo. */
  oneTypoFrom: 5,
  /** Shortest query word that may have two. */
  twoTyposFrom: 9,
  /**
   * Corpus words a misspelt word may stand for, nearest first (then most documents): enough for a
   * word with two plausible fixes, few enough that a guess cannot flood the ranking.
   */
  maxCorrections: 3,
  /**
   * A correction's weight in the query, where a typed word weighs 1: the searcher meant one word, the
   * corrections are guesses at it, so a document that matches a guess counts half of one that
   * matches a typed word (a rank, not a score, is what this is meant to move).
   */
  correctionWeight: 0.5,
} as const;

/** How many typos a query word may have (by its length in characters). */
export function allowedTypos(word: string): number {
  const n = [...word].length;
  return n >= TYPO_DEFAULTS.twoTyposFrom ? 2 : n >= TYPO_DEFAULTS.oneTypoFrom ? 1 : 0;
}

/** Typos between a query word and a corpus word: edits, one more when the first letters differ. */
export function typoCost(typed: string, word: string): number {
  const edits = damerauLevenshtein(typed, word).steps;
  return edits + (typed.codePointAt(0) !== word.codePointAt(0) ? 1 : 0);
}

/** A corpus word list, sorted (JavaScript string order), grouped by length for the nearness scan. */
export class WordList {
  private readonly byLength = new Map<number, string[]>();

  constructor(readonly words: readonly string[]) {
    for (const w of words) {
      const n = [...w].length;
      const list = this.byLength.get(n);
      if (list) list.push(w);
      else this.byLength.set(n, [w]);
    }
  }

  /**
   * The corpus words within the word's allowed typos, all at the smallest cost found (none when the
   * word may have no typo or nothing is that near), in word order. The word itself is not one (it is
   * asked only for words that no document holds).
   */
  nearest(typed: string): { words: string[]; cost: number } {
    const max = allowedTypos(typed);
    if (max === 0) return { words: [], cost: 0 };
    const n = [...typed].length;
    let best = max + 1;
    let found: string[] = [];
    // An edit changes the length by at most one, so only words within `max` of its length can be near.
    for (let len = n - max; len <= n + max; len++) {
      for (const w of this.byLength.get(len) ?? []) {
        if (w === typed) continue;
        const cost = typoCost(typed, w);
        if (cost < best) {
          best = cost;
          found = [w];
        } else if (cost === best) found.push(w);
      }
    }
    return best > max ? { words: [], cost: 0 } : { words: found.sort(), cost: best };
  }
}

// ---- the word list file (docs/FORMATS.md, "Word list") ----

/** The corpus's words, for typo tolerance (optional; manifest.json's lexical.words names it). */
export const LEXICAL_WORDS_FILE = 'lexical/words.txt';
/**
 * Words the list keeps, by length in characters: a query word may have a typo from 5 characters
 * (TYPO_DEFAULTS), and an edit changes the length by one, so shorter words are never near one; far
 * longer ones are identifiers, hashes and URLs nobody types.
 */
export const WORD_LIST_LENGTHS = { min: TYPO_DEFAULTS.oneTypoFrom - 1, max: 32 } as const;

/**
 * The word list (lexical/words.txt): the distinct words of every document's title and text as the
 * lexical index tokenizes them (lowercase, trimmed, no stop words), before stemming, that typo
 * tolerance can reach (WORD_LIST_LENGTHS); sorted, one per line (a word never holds white space).
 */
export function corpusWordList(docs: LexicalDoc[]): { path: string; data: Uint8Array } {
  const words = new Set<string>();
  for (const d of docs) {
    for (const text of [d.title, d.text]) {
      for (const w of lexicalQueryTerms(text)) {
        const n = [...w].length;
        if (n >= WORD_LIST_LENGTHS.min && n <= WORD_LIST_LENGTHS.max) words.add(w);
      }
    }
  }
  const sorted = [...words].sort();
  return { path: LEXICAL_WORDS_FILE, data: new TextEncoder().encode(sorted.length ? `${sorted.join('\n')}\n` : '') };
}

/** The word list, checked: UTF-8, one word a line, each line ended, words strictly ascending and within WORD_LIST_LENGTHS. */
export function parseWordList(bytes: Uint8Array, file: string): WordList {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${file}: is not UTF-8`);
  }
  if (text !== '' && !text.endsWith('\n')) throw new Error(`${file}: the last line is not ended by a line break`);
  const words = text === '' ? [] : text.slice(0, -1).split('\n');
  words.forEach((w, i) => {
    const n = [...w].length;
    if (n < WORD_LIST_LENGTHS.min || n > WORD_LIST_LENGTHS.max || /\s/u.test(w))
      throw new Error(`${file}:${i + 1}: ${show(w)} is not a word of ${WORD_LIST_LENGTHS.min}–${WORD_LIST_LENGTHS.max} characters without white space`);
    if (i > 0 && !(words[i - 1] < w)) throw new Error(`${file}:${i + 1}: ${show(w)} must come after ${show(words[i - 1])} (sorted, no repeats)`);
  });
  return new WordList(words);
}
