// A text's words as the lexical index holds them, the same steps for documents and queries (and the
// highlighter, the word list of typo tolerance): punctuation out, diacritics folded, CJK segmented,
// Lunr's tokenizer, a Unicode-aware trimmer, English stop words, the Porter stemmer.
import lunr from 'lunr';

/**
 * The text as the tokenizer sees it, the same for documents and queries: punctuation and symbols to
 * spaces (Unicode-aware), so "aero/elastic" and "(lift)" split alike; Latin and Greek letters without
 * their diacritics, so "café" matches "cafe" and "Ångström" "angstrom"; and runs of Chinese, Japanese
 * or Korean script cut into words by Intl.Segmenter (they have no spaces for Lunr's tokenizer to split at).
 */
export function lexicalText(s: string): string {
  return segmentCjk(foldDiacritics(s.replace(/[\p{P}\p{S}]+/gu, ' ')));
}

/** Latin and Greek letters with their combining marks removed (other scripts' marks carry meaning: Japanese が is not か). */
export function foldDiacritics(s: string): string {
  return s.replace(/[\p{Script=Latin}\p{Script=Greek}]\p{M}*/gu, (c) => c.normalize('NFD').replace(/\p{M}+/gu, ''));
}

/** A run of CJK script (and the Japanese prolonged sound mark). */
export const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30fc]+/gu;
const segmenters = new Map<string, Intl.Segmenter>();

/** A CJK run's words (Intl.Segmenter, word granularity): Japanese where it has kana, Korean where Hangul, else Chinese. */
export function cjkWords(run: string): { word: string; index: number }[] {
  const locale = /[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(run) ? 'ja' : /\p{Script=Hangul}/u.test(run) ? 'ko' : 'zh';
  const seg = segmenters.get(locale) ?? new Intl.Segmenter(locale, { granularity: 'word' });
  segmenters.set(locale, seg);
  return [...seg.segment(run)].filter((s) => s.isWordLike).map((s) => ({ word: s.segment, index: s.index }));
}

function segmentCjk(s: string): string {
  return s.replace(
    CJK_RUN,
    (run) =>
      ` ${cjkWords(run)
        .map((w) => w.word)
        .join(' ')} `,
  );
}

/**
 * Lunr's trimmer strips non-word characters by JavaScript's ASCII \W, so "naïve" lost its "ïve" and
 * a Japanese word all of itself; this one strips what is not a letter, digit or mark in any script.
 */
export const lexicalTrimmer: lunr.PipelineFunction = (token) => token.update((s) => s.replace(/^[^\p{L}\p{N}\p{M}]+|[^\p{L}\p{N}\p{M}]+$/gu, ''));
lunr.Pipeline.registerFunction(lexicalTrimmer, 'hypencoderTrimmer');

/** A word as the index holds it: folded, lowercase, trimmed and stemmed ('' for none). */
export function wordStem(word: string): string {
  const t = lexicalTrimmer(new lunr.Token(foldDiacritics(word).toLowerCase(), {}), 0, []) as lunr.Token;
  return t.toString() === '' ? '' : lexicalStem(t.toString());
}

/** A text's indexed terms, stemmed: lexicalQueryTerms, then the stemmer (Lunr's document pipeline, and a query's search pipeline). */
export function lexicalStems(text: string): Set<string> {
  return new Set(lexicalQueryStems(text));
}

/** The query's terms as Lunr matches them, in query order, repeats kept (each repeat weighs once more, as in Lunr's query vector). */
export function lexicalQueryStems(query: string): string[] {
  return lexicalQueryTerms(query).map(lexicalStem);
}

/** A word of lexicalQueryTerms as the index holds it (Lunr's stemmer). */
export function lexicalStem(word: string): string {
  return (lunr.stemmer(new lunr.Token(word, {})) as lunr.Token).toString();
}

/** The query's terms after the same steps as the documents' (before stemming, which Lunr's search pipeline does). */
export function lexicalQueryTerms(query: string): string[] {
  const out: string[] = [];
  for (const tok of lunr.tokenizer(lexicalText(query))) {
    let t: lunr.Token | null | undefined = tok;
    t = lexicalTrimmer(t, 0, []) as lunr.Token | null | undefined;
    if (!t) continue;
    t = lunr.stopWordFilter(t) as lunr.Token | null | undefined;
    if (!t || t.toString() === '') continue;
    out.push(t.toString());
  }
  return out;
}
