// Typo tolerance for the lexical index: a query word that no document holds is matched to the corpus
// words (the chunked index's word list, docs/FORMATS.md) nearest to it, as Meilisearch counts typos
// (its documented defaults, not fitted to any of our collections): Damerau-Levenshtein edits, where a
// swap of two neighbours is one typo; none below 5 characters, one from 5, two from 9; an edit of the
// first letter costs two, since people rarely mistype it. Words are compared as typed, not as stems:
// "configuraton" is one edit from "configuration", but its stem is four from the corpus's "configur".
import damerauLevenshtein from 'damerau-levenshtein';

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
