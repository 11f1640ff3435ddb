// The lexical index: BM25 through Lunr 2.3.9 (k1 1.2, b 0.75 per field, Porter stemmer, English
// stop words), serialized into the index bundle so that lexical and hybrid search also run offline
// in the browser. Documents and queries go through the same steps: punctuation and symbols become
// spaces (our `lexicalText`), then Lunr's tokenizer (whitespace and hyphens, lowercase), trimmer,
// stop-word filter and stemmer. Query words are OR-ed (any word may match; BM25 adds up), never
// parsed as Lunr query syntax, so "what's +lift: ~ -drag" is just words.
//
// Schemes (docs/FORMATS.md): manifest `lexical` = { scheme, fields: [...] }, one file of kind
// lexical holding Lunr's index JSON (Index#toJSON).
//   "lunr-doc-1" (written with `index --lexical lunr`): one Lunr document per source document (its passages' text joined),
//     refs are document numbers (documents in order of their first passage). BM25 sees whole
//     documents, as Lunr or Pagefind over whole pages would: a long page split into passages is not
//     scored as several short ones, and its length counts once.
//   "lunr-2" (written before 2026-11-26, still read): one Lunr document per passage, refs are
//     passage numbers.
//   "bm25-chunked-v2" (written by default since 2026-12-03): lunr-doc-1's BM25 weights in term chunks
//     a query fetches only some of (src/core/lexicalChunked.ts); LexicalRanker ranks it as a LexicalSearcher.
//     (v1, opt-in on 2026-12-02 only, listed each chunk in manifest.json; it is not read.)
import lunr from 'lunr';
import type { DocMetadata } from './formats/index.ts';
import type { ScoredDoc } from './fusion.ts';
import { documentsOfPassages, type DocumentGroups } from './ranking.ts';
import { lexicalQueryStems, lexicalQueryTerms, lexicalStems, lexicalText, lexicalTrimmer } from './lexicalText.ts';

export const LEXICAL_SCHEME_PASSAGES = 'lunr-2';
export const LEXICAL_SCHEME_DOCUMENTS = 'lunr-doc-1';
/** Lunr's BM25 weights of lunr-doc-1's records, chunked by term so a query fetches only its terms' postings (src/core/lexicalChunked.ts). */
export const LEXICAL_SCHEME_CHUNKED = 'bm25-chunked-v2';
/** The Lunr scheme the indexer writes with `--lexical lunr`. */
export const LEXICAL_SCHEME = LEXICAL_SCHEME_DOCUMENTS;
export type LexicalScheme = typeof LEXICAL_SCHEME_PASSAGES | typeof LEXICAL_SCHEME_DOCUMENTS | typeof LEXICAL_SCHEME_CHUNKED;

export function isLexicalScheme(s: string | undefined): s is LexicalScheme {
  return s === LEXICAL_SCHEME_PASSAGES || s === LEXICAL_SCHEME_DOCUMENTS || s === LEXICAL_SCHEME_CHUNKED;
}
export const LEXICAL_FILE = 'lexical/lunr.json';
export const LEXICAL_FIELDS = ['title', 'text'] as const;

export interface LexicalDoc {
  title: string;
  text: string;
}

/** Characters of text Lunr tokenizes at a time: the tokens of a piece this small die young (a 45 MB document: 3.7 → 1.0 GB peak). */
const TERM_PIECE_CHARS = 1 << 16;

/**
 * A field's terms after Lunr's document pipeline, counted, in order of first occurrence. The text is
 * tokenized in pieces cut at an ASCII space, tab or line break (where no token and no lowercasing
 * context, such as a final sigma, spans the cut), so a long document never holds a token per word.
 */
const isPieceCut = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function countTerms(pipeline: lunr.Pipeline, text: string): { counts: Map<string, number>; length: number } {
  const counts = new Map<string, number>();
  let length = 0;
  for (let from = 0; from < text.length; ) {
    let to = Math.min(text.length, from + TERM_PIECE_CHARS);
    while (to < text.length && !isPieceCut(text.charCodeAt(to))) to++;
    for (const term of pipeline.run(lunr.tokenizer(text.slice(from, to)))) {
      const t = term.toString();
      counts.set(t, (counts.get(t) ?? 0) + 1);
      length++;
    }
    from = to;
  }
  return { counts, length };
}

/** Builder state @types/lunr leaves out (Lunr 2.3.9), keyed by a field ref's string form "field/ref". */
interface BuilderCounts {
  fieldLengths: Record<string, number>;
  fieldTermFrequencies: Record<string, Record<string, number>>;
}

export function buildLexicalIndex(docs: LexicalDoc[]): lunr.Index {
  return lunr(function () {
    this.ref('ref');
    for (const f of LEXICAL_FIELDS) this.field(f);
    // Lunr keeps term positions only for highlighting; we do not use them (smaller index).
    this.metadataWhitelist = [];
    // Builder#add would tokenize a whole field at once (a token object per word). Instead each field's
    // distinct terms, already through the document pipeline, are added once (with an empty pipeline),
    // then given their counts and the field's length: the same postings in the same order, the same index.
    const pipeline = this.pipeline;
    pipeline.after(lunr.trimmer, lexicalTrimmer);
    pipeline.remove(lunr.trimmer);
    this.pipeline = new lunr.Pipeline();
    docs.forEach((d, i) => {
      const ref = String(i);
      const fields = LEXICAL_FIELDS.map((f) => countTerms(pipeline, lexicalText(d[f])));
      this.add({ ref, ...Object.fromEntries(LEXICAL_FIELDS.map((f, k) => [f, [...fields[k].counts.keys()]])) });
      const builder = this as unknown as BuilderCounts;
      LEXICAL_FIELDS.forEach((f, k) => {
        builder.fieldLengths[`${f}/${ref}`] = fields[k].length;
        const frequencies = builder.fieldTermFrequencies[`${f}/${ref}`];
        for (const [term, n] of fields[k].counts) frequencies[term] = n;
      });
    });
    this.pipeline = pipeline;
  });
}

/**
 * The lexical records of scheme lunr-doc-1, one per document: its title and all its passages' text in
 * document order (headings are in the text).
 */
export function documentLexicalDocs(passages: LexicalDoc[], groups: DocumentGroups): LexicalDoc[] {
  return groups.passages.map((ps) => ({ title: documentTitle(ps.map((p) => passages[p].title)), text: ps.map((p) => passages[p].text).join('\n') }));
}

/**
 * A split page's passages are titled "Page › Section" (src/core/ingest/passages.ts): the title they
 * share, once, so a page's title words do not count once per section. Titles with nothing in common
 * are kept, each once.
 */
export function documentTitle(titles: string[]): string {
  const distinct = [...new Set(titles)];
  if (distinct.length === 1) return distinct[0];
  const parts = distinct.map((t) => t.split(' › '));
  const common: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0][i]); i++) common.push(parts[0][i]);
  return common.length > 0 ? common.join(' › ') : distinct.join('\n');
}

/** UTF-8 JSON of the index, as stored in the bundle. */
export function serializeLexicalIndex(index: lunr.Index): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(index));
}

export function loadLexicalIndex(bytes: Uint8Array | string, file = LEXICAL_FILE): lunr.Index {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${file}: is not valid JSON (${(e as Error).message})`);
  }
  try {
    return lunr.Index.load(json as object);
  } catch (e) {
    throw new Error(`${file}: is not a Lunr 2 index (${(e as Error).message})`);
  }
}

/** A query word no document holds, and the corpus words searched in its place (src/core/typoTolerance.ts). */
export interface TermCorrection {
  word: string;
  to: string[];
}

/** A query as the lexical index searches it: each stem with its weight in the query vector. */
export interface LexicalQuery {
  text: string;
  /** Stem → weight: a typed word's stem weighs its number of occurrences, a correction less (TYPO_DEFAULTS.correctionWeight). */
  terms: Map<string, number>;
  corrections: TermCorrection[];
  /** Quoted phrases, as stem sequences (stop words dropped, as everywhere): a matching document holds each in one passage. */
  phrases: string[][];
}

/** BM25's documents a quoted phrase is looked for in, best first: a bound on the text a phrase query reads (and, in the browser, fetches). */
export const PHRASE_CANDIDATES = 100;

/** The query's stems and their counts, as typed (Lunr's query vector), and its quoted phrases ("…" or “…”) of two or more words. */
export function exactLexicalQuery(text: string): LexicalQuery {
  const terms = new Map<string, number>();
  for (const t of lexicalQueryStems(text)) terms.set(t, (terms.get(t) ?? 0) + 1);
  const phrases = [...text.matchAll(/["“”„]([^"“”„]+)["“”„]/gu)].map((m) => lexicalQueryStems(m[1])).filter((p) => p.length >= 2);
  return { text, terms, corrections: [], phrases };
}

/** Whether a stem sequence holds the phrase as consecutive stems. */
function holdsPhrase(stems: string[], phrase: string[]): boolean {
  outer: for (let i = 0; i + phrase.length <= stems.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (stems[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

/** A scheme's BM25 over its records that is not one Lunr index (the chunked index, src/core/lexicalChunked.ts). */
export interface LexicalSearcher {
  /** Records (documents) it scores: refs are 0 … documents − 1. */
  readonly documents: number;
  /** Makes hits(query) answerable (fetches what the query's terms need) and, with `typos`, corrects the words no document holds. */
  prepare(query: string, typos?: boolean): Promise<LexicalQuery>;
  /** Everything, for a full check (verify). */
  prepareAll(): Promise<void>;
  /** As lexicalSearch: all matching records, best first, ties by ref (a string: its words as typed). */
  hits(query: string | LexicalQuery): LexicalHit[];
}

/** Refuses a lexical index with a ref that names no record of this bundle: a document (lunr-doc-1) or a passage (lunr-2). */
export function checkLexicalRefs(index: lunr.Index, scheme: LexicalScheme, groups: DocumentGroups, file = 'lexical index'): void {
  const count = scheme === LEXICAL_SCHEME_DOCUMENTS ? groups.passages.length : groups.docOf.length;
  // Lunr 2.3 keeps one vector per "field/ref" (not in its type declarations).
  const vectors = (index as unknown as { fieldVectors: Record<string, unknown> }).fieldVectors;
  for (const key of Object.keys(vectors)) {
    const ref = key.slice(key.indexOf('/') + 1);
    if (!/^(0|[1-9][0-9]*)$/.test(ref) || Number(ref) >= count) {
      throw new Error(
        `${file}: ref "${ref}" is not a ${scheme === LEXICAL_SCHEME_DOCUMENTS ? 'document' : 'passage'} number of this bundle (0 … ${count - 1})`,
      );
    }
  }
}

/** One query's lexical matches as documents, and the passage that shows each. */
export interface LexicalRanking {
  /** Matching documents (document numbers, documentGroups'), best first, every match. */
  docs: ScoredDoc[];
  /** The stems searched (the query's and its corrections'): what a hit's words are highlighted by. */
  stems: Set<string>;
  corrections: TermCorrection[];
  /** The passage that shows a matching document: its best BM25 passage (lunr-2) or its passage with the most query terms (lunr-doc-1). */
  shownPassage(doc: number): number;
  /** A passage's stems (title and text), kept by the ranker: what the shown passage and the sub-results are chosen by. */
  passageStems(passage: number): Set<string>;
}

/** Cached passage stems at most (then the cache starts again): a long session must not grow without bound. */
const STEM_CACHE_PASSAGES = 20_000;

/** Lexical ranking for either scheme, in documents. */
export class LexicalRanker {
  private readonly stems = new Map<number, Set<string>>();
  /** BM25's documents for a prepared query, so a phrase query's candidates and its ranking are scored once. */
  private readonly ranked = new WeakMap<LexicalQuery, { docs: ScoredDoc[]; best?: Map<number, number> }>();

  constructor(
    readonly index: lunr.Index | LexicalSearcher,
    readonly scheme: LexicalScheme,
    private readonly docs: DocMetadata[],
    private readonly groups: DocumentGroups,
    file = 'lexical index',
  ) {
    if (index instanceof lunr.Index) checkLexicalRefs(index, scheme, groups, file);
    else if (index.documents !== groups.passages.length)
      throw new Error(`${file}: documents is ${index.documents} but this bundle has ${groups.passages.length} documents`);
  }

  /** Reads and checks everything (verify): a chunked index's every chunk. */
  async prepareAll(): Promise<void> {
    if (!(this.index instanceof lunr.Index)) await this.index.prepareAll();
  }

  /**
   * Before rank: a chunked index fetches the query's chunks and, with `typos`, corrects the words no
   * document holds (Lunr's schemes are all there, and search words as typed).
   */
  async prepare(query: string, { typos = false }: { typos?: boolean } = {}): Promise<LexicalQuery> {
    return this.index instanceof lunr.Index ? exactLexicalQuery(query) : this.index.prepare(query, typos);
  }

  /** A string is searched as typed (after prepare(query), for a chunked index). */
  rank(query: string | LexicalQuery): LexicalRanking {
    const q = typeof query === 'string' ? exactLexicalQuery(query) : query;
    const found = { stems: new Set(q.terms.keys()), corrections: q.corrections, passageStems: (p: number) => this.passageStems(p) };
    const { docs, best } = this.rankedDocuments(q);
    const withPhrases = q.phrases.length ? docs.slice(0, PHRASE_CANDIDATES).filter((h) => this.holdsPhrases(h.doc, q.phrases)) : docs;
    if (best) return { docs: withPhrases, ...found, shownPassage: (doc) => best.get(doc) ?? this.groups.passages[doc][0] };
    const want = [...found.stems];
    return { docs: withPhrases, ...found, shownPassage: (doc) => this.mostTermsPassage(doc, want) };
  }

  /** The documents whose text rank(q) reads to check its quoted phrases (none without one): the browser fetches them first. */
  phraseCandidates(q: LexicalQuery): number[] {
    return q.phrases.length
      ? this.rankedDocuments(q)
          .docs.slice(0, PHRASE_CANDIDATES)
          .map((h) => h.doc)
      : [];
  }

  private rankedDocuments(q: LexicalQuery): { docs: ScoredDoc[]; best?: Map<number, number> } {
    const kept = this.ranked.get(q);
    if (kept) return kept;
    const hits = this.index instanceof lunr.Index ? lexicalSearch(this.index, q.text) : this.index.hits(q);
    let out: { docs: ScoredDoc[]; best?: Map<number, number> } = { docs: hits };
    if (this.scheme === LEXICAL_SCHEME_PASSAGES) {
      const docs = documentsOfPassages(hits, this.groups);
      out = { docs, best: new Map(docs.map((h) => [h.doc, h.passage])) };
    }
    this.ranked.set(q, out);
    return out;
  }

  /** A passage's stems, cached (up to STEM_CACHE_PASSAGES, then the cache starts again). */
  passageStems(p: number): Set<string> {
    let have = this.stems.get(p);
    if (!have) {
      if (this.stems.size > STEM_CACHE_PASSAGES) this.stems.clear();
      have = lexicalStems(`${this.docs[p].title}\n${this.docs[p].text}`);
      this.stems.set(p, have);
    }
    return have;
  }

  /** Whether every phrase is in one of the document's passages (its title or its text). */
  private holdsPhrases(doc: number, phrases: string[][]): boolean {
    // A title and a text are apart: a phrase does not run from one into the other.
    const fields = this.groups.passages[doc].flatMap((p) => [lexicalQueryStems(this.docs[p].title), lexicalQueryStems(this.docs[p].text)]);
    return phrases.every((phrase) => fields.some((stems) => holdsPhrase(stems, phrase)));
  }

  /** The document's passage holding the most distinct query terms; the first in document order on a tie. */
  private mostTermsPassage(doc: number, want: string[]): number {
    const ps = this.groups.passages[doc];
    if (ps.length === 1) return ps[0];
    let best = ps[0];
    let bestCount = -1;
    for (const p of ps) {
      const have = this.passageStems(p);
      const count = want.filter((t) => have.has(t)).length;
      if (count > bestCount) {
        best = p;
        bestCount = count;
      }
    }
    return best;
  }
}

export interface LexicalHit {
  /** The ref: a passage number (lunr-2) or a document number (lunr-doc-1). */
  doc: number;
  score: number;
}

/**
 * All Lunr records matching any query term, best first (ties by ref). Empty when the query has no
 * indexable word (only stop words or punctuation). LexicalRanker maps the refs to passages.
 */
export function lexicalSearch(index: lunr.Index, query: string): LexicalHit[] {
  const terms = lexicalQueryTerms(query);
  if (terms.length === 0) return [];
  const results = index.query((q) => {
    for (const t of terms) q.term(t, { presence: lunr.Query.presence.OPTIONAL });
  });
  const hits = results.map((r) => ({ doc: Number(r.ref), score: r.score }));
  hits.sort((a, b) => b.score - a.score || a.doc - b.doc);
  return hits;
}
