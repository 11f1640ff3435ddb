// The lexical index: BM25 through Lunr 2.3.9 (k1 1.2, b 0.75 per field, Porter stemmer, English
// stop words), serialized into the index bundle so that lexical and hybrid search also run offline
// in the browser. Documents and queries go through the same steps: punctuation and symbols become
// spaces (our `lexicalText`), then Lunr's tokenizer (whitespace and hyphens, lowercase), trimmer,
// stop-word filter and stemmer. Query words are OR-ed (any word may match; BM25 adds up), never
// parsed as Lunr query syntax, so "what's +lift: ~ -drag" is just words.
//
// Schemes (docs/FORMATS.md): manifest `lexical` = { scheme, fields: [...] }, one file of kind
// lexical holding Lunr's index JSON (Index#toJSON).
//   "lunr-doc-1" (written now): one Lunr document per source document (its passages' text joined),
//     refs are document numbers (documents in order of their first passage). BM25 sees whole
//     documents, as Lunr or Pagefind over whole pages would: a long page split into passages is not
//     scored as several short ones, and its length counts once.
//   "lunr-2" (written before 2026-11-26, still read): one Lunr document per passage, refs are
//     passage numbers.
import lunr from 'lunr';
import type { DocMetadata } from './formats/index.ts';
import { FUSION_DEPTH, type ScoredDoc } from './fusion.ts';
import type { DocumentGroups } from './ranking.ts';

export const LEXICAL_SCHEME_PASSAGES = 'lunr-2';
export const LEXICAL_SCHEME_DOCUMENTS = 'lunr-doc-1';
/** The scheme the indexer writes. */
export const LEXICAL_SCHEME = LEXICAL_SCHEME_DOCUMENTS;
export type LexicalScheme = typeof LEXICAL_SCHEME_PASSAGES | typeof LEXICAL_SCHEME_DOCUMENTS;

export function isLexicalScheme(s: string | undefined): s is LexicalScheme {
  return s === LEXICAL_SCHEME_PASSAGES || s === LEXICAL_SCHEME_DOCUMENTS;
}
export const LEXICAL_FILE = 'lexical/lunr.json';
export const LEXICAL_FIELDS = ['title', 'text'] as const;

/** Punctuation and symbols to spaces (Unicode-aware), so "aero/elastic" and "(lift)" split the same in documents and queries. */
export function lexicalText(s: string): string {
  return s.replace(/[\p{P}\p{S}]+/gu, ' ');
}

export interface LexicalDoc {
  title: string;
  text: string;
}

export function buildLexicalIndex(docs: LexicalDoc[]): lunr.Index {
  return lunr(function () {
    this.ref('ref');
    for (const f of LEXICAL_FIELDS) this.field(f);
    // Lunr keeps term positions only for highlighting; we do not use them (smaller index).
    this.metadataWhitelist = [];
    docs.forEach((d, i) => this.add({ ref: String(i), title: lexicalText(d.title), text: lexicalText(d.text) }));
  });
}

/**
 * The lexical records of scheme lunr-doc-1, one per document: its passages' distinct titles (a split
 * page's passages are titled "Page › Section") and all its passages' text, in order.
 */
export function documentLexicalDocs(passages: LexicalDoc[], groups: DocumentGroups): LexicalDoc[] {
  return groups.passages.map((ps) => ({
    title: [...new Set(ps.map((p) => passages[p].title))].join('\n'),
    text: ps.map((p) => passages[p].text).join('\n'),
  }));
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

/** A text's indexed terms, stemmed (the steps Lunr's pipeline applies to documents). */
function stemmedTerms(text: string): Set<string> {
  const out = new Set<string>();
  for (const tok of lunr.tokenizer(lexicalText(text))) {
    let t: lunr.Token | null | undefined = tok;
    for (const step of [lunr.trimmer, lunr.stopWordFilter, lunr.stemmer]) {
      t = step(t!) as lunr.Token | null | undefined;
      if (!t || t.toString() === '') break;
    }
    if (t && t.toString() !== '') out.add(t.toString());
  }
  return out;
}

/**
 * Lexical ranking in passages for either scheme. With lunr-doc-1 each matching document is shown by
 * its passage holding the most distinct query terms (the first such passage on a tie), so a hit's
 * snippet has the words that matched.
 */
export class LexicalRanker {
  private readonly terms = new Map<number, Set<string>>();

  constructor(
    readonly index: lunr.Index,
    readonly scheme: LexicalScheme,
    private readonly docs: DocMetadata[],
    private readonly groups: DocumentGroups,
  ) {}

  /**
   * Every match best first: passages (lunr-2), or one passage per matching document (lunr-doc-1).
   * With lunr-doc-1 only the first `show` documents get the passage with the most query terms (the
   * rest their first passage): choosing means stemming the document's passages, 0.5–0.7 s for the
   * first broad query on the demo corpus when every match was chosen for.
   */
  rank(query: string, show = FUSION_DEPTH): ScoredDoc[] {
    const hits = lexicalSearch(this.index, query);
    if (this.scheme === LEXICAL_SCHEME_PASSAGES) return hits;
    const want = [...stemmedTerms(query)];
    return hits.map((h, i) => ({ doc: i < show ? this.shownPassage(h.doc, want) : this.passagesOf(h.doc)[0], score: h.score }));
  }

  private passagesOf(doc: number): number[] {
    const ps = this.groups.passages[doc];
    if (!ps) throw new Error(`lexical index: document ${doc} is not in this bundle's metadata (${this.groups.passages.length} documents)`);
    return ps;
  }

  private shownPassage(doc: number, want: string[]): number {
    const ps = this.passagesOf(doc);
    if (ps.length === 1) return ps[0];
    let best = ps[0];
    let bestCount = -1;
    for (const p of ps) {
      let have = this.terms.get(p);
      if (!have) {
        have = stemmedTerms(`${this.docs[p].title}\n${this.docs[p].text}`);
        this.terms.set(p, have);
      }
      const count = want.filter((t) => have.has(t)).length;
      if (count > bestCount) {
        best = p;
        bestCount = count;
      }
    }
    return best;
  }
}

/** The query's terms after the same steps as the documents' (before stemming, which Lunr's search pipeline does). */
export function lexicalQueryTerms(query: string): string[] {
  const out: string[] = [];
  for (const tok of lunr.tokenizer(lexicalText(query))) {
    let t: lunr.Token | null | undefined = tok;
    t = lunr.trimmer(t) as lunr.Token | null | undefined;
    if (!t) continue;
    t = lunr.stopWordFilter(t) as lunr.Token | null | undefined;
    if (!t || t.toString() === '') continue;
    out.push(t.toString());
  }
  return out;
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
