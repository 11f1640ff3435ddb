// Passages and the documents they belong to (documentIdOf, documentGroups: what the engines and
// the indexer group by; documentsOfPassages). The modes' rankings are in modeRanking.ts, the search
// vocabulary (modes, options, hits, snippets) in search.ts.
import type { DocMetadata } from './formats/index.ts';
import type { ScoredDoc } from './fusion.ts';

/** The source document a passage belongs to (`fields.passage_of` when the indexer split it). */
export function documentIdOf(meta: DocMetadata): string {
  const p = meta.fields?.passage_of;
  return typeof p === 'string' ? p : meta.id;
}

import type { DocumentGroups } from './formats/documents.ts';
export type { DocumentGroups };

export function documentGroups(docs: DocMetadata[]): DocumentGroups {
  const docOf = new Int32Array(docs.length);
  const numberOf = new Map<string, number>();
  const passages: number[][] = [];
  docs.forEach((m, i) => {
    const id = documentIdOf(m);
    let g = numberOf.get(id);
    if (g === undefined) {
      g = passages.length;
      numberOf.set(id, g);
      passages.push([]);
    }
    docOf[i] = g;
    passages[g].push(i);
  });
  const place = (p: number) => {
    const k = docs[p].fields?.passage;
    return typeof k === 'number' ? k : Number.MAX_SAFE_INTEGER;
  };
  for (const ps of passages) if (ps.length > 1) ps.sort((a, b) => place(a) - place(b) || a - b);
  return { docOf, passages };
}

/** Passages best first → their documents best first, each once, at its best passage (kept) and that passage's score; up to k. */
export function documentsOfPassages(passages: ScoredDoc[], groups: DocumentGroups, k = Number.MAX_SAFE_INTEGER): (ScoredDoc & { passage: number })[] {
  const seen = new Set<number>();
  const out: (ScoredDoc & { passage: number })[] = [];
  for (const h of passages) {
    if (out.length === k) break;
    const d = groups.docOf[h.doc];
    if (seen.has(d)) continue;
    seen.add(d);
    out.push({ doc: d, score: h.score, passage: h.doc });
  }
  return out;
}

/**
 * The first (best) passage of each document, in order, up to k documents, by document id: the e2e
 * oracle's plain form of what modeRanking.ts does with documentGroups.
 */
export function bestPassagePerDocument(ranked: ScoredDoc[], docs: DocMetadata[], k: number): ScoredDoc[] {
  const seen = new Set<string>();
  const out: ScoredDoc[] = [];
  for (const h of ranked) {
    const id = documentIdOf(docs[h.doc]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(h);
    if (out.length === k) break;
  }
  return out;
}
