// The lexical index: BM25 through Lunr 2.3.9 (k1 1.2, b 0.75 per field, Porter stemmer, English
// stop words), serialized into the index bundle so that lexical and hybrid search also run offline
// in the browser. Documents and queries go through the same steps: punctuation and symbols become
// spaces (our `lexicalText`), then Lunr's tokenizer (whitespace and hyphens, lowercase), trimmer,
// stop-word filter and stemmer. Query words are OR-ed (any word may match; BM25 adds up), never
// parsed as Lunr query syntax, so "what's +lift: ~ -drag" is just words.
//
// Scheme "lunr-2" (docs/FORMATS.md): manifest `lexical` = { scheme: "lunr-2", fields: [...] },
// one file of kind lexical holding Lunr's index JSON (Index#toJSON), whose refs are passage
// numbers in document order ("0", "1", …).
import lunr from 'lunr';

export const LEXICAL_SCHEME = 'lunr-2';
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
  /** Passage number (document index in the bundle). */
  doc: number;
  score: number;
}

/**
 * All passages matching any query term, best first (ties by passage number). Empty when the
 * query has no indexable word (only stop words or punctuation).
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
