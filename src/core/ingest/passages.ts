// Source documents → passages, the unit that is encoded, scored and shown. A document whose
// text fits the model's document limit stays one passage with the document's id; a longer one
// is split at section (heading) boundaries and then by length, each passage ≤ the limit, each
// linked to its nearest heading anchor (`url#anchor`). With `long: 'truncate'` nothing is split
// and the encoder sees only the first tokens (the stored text and the lexical index keep all).
import type { SourceDoc } from './types.ts';

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

interface Word {
  start: number;
  end: number;
  tokens: number;
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
    // A merged passage links to the section that gave it the most tokens.
    type Piece = { anchor: string; heading: string; text: string; tokens: number; best: number };
    const pieces: Piece[] = [];
    let cur: Piece | null = null;
    const close = () => {
      if (cur && cur.text.trim() !== '') pieces.push(cur);
      cur = null;
    };
    for (const sec of doc.sections) {
      const words: Word[] = [];
      for (const m of sec.text.matchAll(/\S+/g)) words.push({ start: m.index!, end: m.index! + m[0].length, tokens: count(m[0]) });
      let i = 0;
      // Merge into a short passage from the previous section when it fits.
      while (i < words.length) {
        if (cur === null || (cur as Piece).tokens >= MIN_PASSAGE_TOKENS) {
          close();
          cur = { anchor: sec.anchor, heading: sec.heading, text: '', tokens: 0, best: 0 };
        }
        const c: Piece = cur as Piece;
        const from = i;
        let t = c.tokens;
        while (i < words.length && (t + words[i].tokens <= room || (t === 0 && i === from))) {
          t += words[i].tokens;
          i++;
        }
        if (i === from) {
          // The merged passage is full: start a fresh one for this section.
          close();
          cur = { anchor: sec.anchor, heading: sec.heading, text: '', tokens: 0, best: 0 };
          continue;
        }
        const slice = sec.text.slice(words[from].start, words[i - 1].end);
        c.text = c.text ? `${c.text}\n${slice}` : slice;
        if (t - c.tokens > c.best) {
          c.best = t - c.tokens;
          c.anchor = sec.anchor;
          c.heading = sec.heading;
        }
        c.tokens = t;
        if (i < words.length) close();
      }
    }
    close();
    pieces.forEach((p, k) => {
      const encodeText = withTitle(doc.title, p.text);
      const url = doc.url && p.anchor ? `${doc.url.replace(/#.*$/, '')}#${p.anchor}` : doc.url;
      const title = p.heading && p.heading !== doc.title ? `${doc.title} › ${p.heading}` : doc.title;
      passages.push(
        base({ id: `${doc.id}#p${k + 1}`, title, url, text: p.text, encodeText, tokens: countText(encodeText), fields: { ...(doc.fields ?? {}), passage_of: doc.id, passage: k + 1 } }),
      );
    });
  }
  stats.passages = passages.length;
  return { passages, stats };
}
