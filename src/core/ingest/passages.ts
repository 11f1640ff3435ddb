// Source documents → passages, the unit that is encoded, scored and shown. A document whose
// text fits the model's document limit stays one passage with the document's id; a longer one
// is split at section (heading) boundaries and then by length, each passage ≤ the limit, each
// linked to its nearest heading anchor (`url#anchor`). With `long: 'truncate'` nothing is split
// and the encoder sees only the first tokens (the stored text and the lexical index keep all).
import type { FacetValues, SourceDoc } from './types.ts';

export interface Passage {
  /** Unique in the index: the document id, or `id#p<k>` (k from 1) when the document was split. */
  id: string;
  /** The source document's id (what qrels and run files name). */
  docId: string;
  title: string;
  url: string;
  /** Text shown in snippets and indexed lexically (headings included). */
  text: string;
  /** What the document encoder sees: the title (unless the text already starts with it) and the text. */
  encodeText: string;
  fields?: Record<string, unknown>;
  /** The source document's filter and sort values (every passage of it carries them). */
  facets?: FacetValues;
  /** WordPiece tokens of encodeText without [CLS]/[SEP] (what decides splitting and truncation). */
  tokens: number;
}

export interface PassageOptions {
  /** max_document_tokens of the model: [CLS] and [SEP] included. */
  maxTokens: number;
  long: 'split' | 'truncate';
  /** WordPiece pieces in one whitespace-free word. */
  countTokens: (word: string) => number;
}

export interface PassageStats {
  documents: number;
  passages: number;
  /** Documents longer than the limit: split into several passages, or truncated for the encoder. */
  longDocuments: number;
  emptyDocuments: number;
}

/** Sections shorter than this many tokens are merged into the following one (a heading alone, a one-line intro). */
const MIN_PASSAGE_TOKENS = 32;

function withTitle(title: string, text: string): string {
  if (!title) return text;
  const t = title.trim().toLowerCase();
  if (text.trimStart().toLowerCase().startsWith(t)) return text;
  return text ? `${title}\n${text}` : title;
}

export function makePassages(docs: SourceDoc[], opts: PassageOptions): { passages: Passage[]; stats: PassageStats } {
  const cache = new Map<string, number>();
  const count = (w: string) => {
    let n = cache.get(w);
    if (n === undefined) {
      n = opts.countTokens(w);
      if (cache.size < 1_000_000) cache.set(w, n);
    }
    return n;
  };
  const countText = (s: string) => {
    let n = 0;
    for (const m of s.matchAll(/\S+/g)) n += count(m[0]);
    return n;
  };
  const budget = opts.maxTokens - 2;
  const passages: Passage[] = [];
  const stats: PassageStats = { documents: docs.length, passages: 0, longDocuments: 0, emptyDocuments: 0 };

  for (const doc of docs) {
    const full = doc.sections.map((s) => s.text).join('\n');
    if (full.trim() === '' && doc.title.trim() === '') stats.emptyDocuments++;
    const wholeEncode = withTitle(doc.title, full);
    const wholeTokens = countText(wholeEncode);
    const base = (extra: Partial<Passage>): Passage => ({
      id: doc.id,
      docId: doc.id,
      title: doc.title,
      url: doc.url,
      text: full,
      encodeText: wholeEncode,
      tokens: wholeTokens,
      ...(doc.fields ? { fields: doc.fields } : {}),
      ...(doc.facets ? { facets: doc.facets } : {}),
      ...extra,
    });
    if (wholeTokens <= budget || opts.long === 'truncate') {
      if (wholeTokens > budget) stats.longDocuments++;
      passages.push(base({ url: doc.url }));
      continue;
    }
    stats.longDocuments++;
    const titleTokens = doc.title ? countText(doc.title) : 0;
    // Room for text once the title is prepended (the title is never split; a title longer than
    // the whole limit leaves at least a quarter of it for text).
    const room = Math.max(Math.floor(budget / 4), budget - titleTokens);
    // A merged passage links to the section that gave it the most tokens. Passages are made while
    // the words stream by, one word at a time, so a long document never holds all its words at once.
    type Piece = { anchor: string; heading: string; text: string; tokens: number; best: number };
    let pieces = 0;
    let cur: Piece | null = null;
    const close = () => {
      const p = cur;
      cur = null;
      if (!p || p.text.trim() === '') return;
      pieces++;
      const encodeText = withTitle(doc.title, p.text);
      const url = doc.url && p.anchor ? `${doc.url.replace(/#.*$/, '')}#${p.anchor}` : doc.url;
      const title = p.heading && p.heading !== doc.title ? `${doc.title} › ${p.heading}` : doc.title;
      const fields = { ...(doc.fields ?? {}), passage_of: doc.id, passage: pieces };
      passages.push(base({ id: `${doc.id}#p${pieces}`, title, url, text: p.text, encodeText, tokens: countText(encodeText), fields }));
    };
    for (const sec of doc.sections) {
      const fresh = (): Piece => ({ anchor: sec.anchor, heading: sec.heading, text: '', tokens: 0, best: 0 });
      // The run: consecutive words of this section that fit the current passage, [runStart, runEnd)
      // of sec.text (runStart −1: none yet); t counts the passage's tokens with the run.
      let runStart = -1;
      let runEnd = 0;
      let t = 0;
      const endRun = () => {
        const c = cur as Piece;
        const slice = sec.text.slice(runStart, runEnd);
        c.text = c.text ? `${c.text}\n${slice}` : slice;
        if (t - c.tokens > c.best) {
          c.best = t - c.tokens;
          c.anchor = sec.anchor;
          c.heading = sec.heading;
        }
        c.tokens = t;
        runStart = -1;
      };
      for (const m of sec.text.matchAll(/\S+/g)) {
        const k = count(m[0]);
        // A word that does not fit is tried again in a fresh passage (it always fits an empty one).
        for (;;) {
          if (runStart < 0) {
            // Merge into a short passage from the previous section when it fits.
            if (cur === null || (cur as Piece).tokens >= MIN_PASSAGE_TOKENS) {
              close();
              cur = fresh();
            }
            t = (cur as Piece).tokens;
          }
          if (t + k <= room || (t === 0 && runStart < 0)) {
            if (runStart < 0) runStart = m.index;
            runEnd = m.index + m[0].length;
            t += k;
            break;
          }
          if (runStart < 0) {
            // The merged passage is full: start a fresh one for this section.
            close();
            cur = fresh();
            continue;
          }
          endRun();
          close();
        }
      }
      if (runStart >= 0) endRun();
    }
    close();
  }
  stats.passages = passages.length;
  return { passages, stats };
}
