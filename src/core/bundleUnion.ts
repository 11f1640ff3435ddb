// Several index bundles searched as one collection (docs/FORMATS.md, "Searching several bundles"):
// the shards of one shard list, or bundles built apart. The union numbers passages and documents
// bundle after bundle (bundle b's passage p is union passage firstPassage[b] + p, likewise documents),
// so the engines rank the union with their one ranking path (src/core/modeRanking.ts) as they rank one
// bundle: its metadata records and document groups concatenated, the q-net's scores (comparable
// across bundles of one model: a score is a function of the query and one vector), BM25 over the
// bundles' postings as one index (UnionLexicalIndex), filters and sort keys offset per bundle.
// Shards of one list hold weights computed over the whole collection, so their union ranks exactly
// as the one bundle; bundles built apart keep their own BM25 statistics (see the doc).
import type { DocMetadata, IndexManifest } from './formats/index.ts';
import type { DocumentGroups } from './formats/documents.ts';
import type { DocumentFilters, DocumentSortKeys } from './formats/facets.ts';
import { type FieldPostings, PostingsSearcher } from './lexicalScoring.ts';
import { WordList } from './typoTolerance.ts';

/** One bundle of a union: what names it in messages, its manifest and its records. */
export interface UnionMember {
  name: string;
  manifest: IndexManifest;
  metadata: DocMetadata[];
  /** Its documents (documentGroups of its records). */
  groups: DocumentGroups;
}

export interface UnionPart {
  name: string;
  firstPassage: number;
  passages: number;
  firstDocument: number;
  documents: number;
}

export interface BundleUnion {
  parts: UnionPart[];
  /** Every bundle's records, bundle after bundle. */
  docs: DocMetadata[];
  groups: DocumentGroups;
  model: { id: string; sha256: string };
  dim: number;
}

/** Refuses bundles of different models (their q-net scores are not comparable), naming both. */
export function checkOneModel(members: { name: string; manifest: IndexManifest }[]): void {
  const [first, ...rest] = members;
  for (const m of rest) {
    const a = first.manifest.model;
    const b = m.manifest.model;
    if (a.id !== b.id || a.sha256 !== b.sha256)
      throw new Error(
        `${m.name} was built with model ${JSON.stringify(b.id)} (model.json ${b.sha256.slice(0, 12)}…) but ${first.name} with ${JSON.stringify(a.id)} (model.json ${a.sha256.slice(0, 12)}…); bundles searched together must share one model, whose q-net scores are comparable`,
      );
    if (m.manifest.dim !== first.manifest.dim) throw new Error(`${m.name} has dim ${m.manifest.dim} but ${first.name} has ${first.manifest.dim}`);
  }
}

/** The bundles as one collection: parts' offsets, records and document groups concatenated. */
export function unionOf(members: UnionMember[]): BundleUnion {
  for (const m of members)
    if (m.metadata.length !== m.manifest.docCount) throw new Error(`${m.name}: ${m.metadata.length} records for ${m.manifest.docCount} passages`);
  return { ...unionGroups(members), docs: members.flatMap((m) => m.metadata) };
}

/**
 * The bundles' passages and documents as one, from their manifests and document groups alone (the
 * browser engine has these before any record): parts' offsets, the groups concatenated.
 */
export function unionGroups(members: Omit<UnionMember, 'metadata'>[]): Omit<BundleUnion, 'docs'> {
  if (members.length === 0) throw new Error('unionOf: no bundles');
  checkOneModel(members);
  const parts: UnionPart[] = [];
  let passages = 0;
  let documents = 0;
  for (const m of members) {
    if (m.groups.docOf.length !== m.manifest.docCount) throw new Error(`${m.name}: ${m.groups.docOf.length} grouped passages for ${m.manifest.docCount}`);
    parts.push({ name: m.name, firstPassage: passages, passages: m.manifest.docCount, firstDocument: documents, documents: m.groups.passages.length });
    passages += m.manifest.docCount;
    documents += m.groups.passages.length;
  }
  const docOf = new Int32Array(passages);
  const groupPassages: number[][] = [];
  members.forEach((m, b) => {
    const { firstPassage, firstDocument } = parts[b];
    m.groups.docOf.forEach((d, p) => {
      docOf[firstPassage + p] = firstDocument + d;
    });
    for (const ps of m.groups.passages) groupPassages.push(ps.map((p) => firstPassage + p));
  });
  return { parts, groups: { docOf, passages: groupPassages }, model: { ...members[0].manifest.model }, dim: members[0].manifest.dim };
}

/** The part holding union document d (binary search over the parts' first documents). */
export function partOfDocument(parts: UnionPart[], d: number): number {
  let lo = 0;
  let hi = parts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (parts[mid].firstDocument <= d) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The bundles' filters as one: each value's documents, offset per bundle (null when no bundle has any). */
export function unionFilters(union: BundleUnion, filters: (DocumentFilters | null)[]): DocumentFilters | null {
  if (filters.every((f) => !f)) return null;
  const out: DocumentFilters = new Map();
  const lists = new Map<string, Map<string, number[]>>();
  filters.forEach((f, b) => {
    const offset = union.parts[b].firstDocument;
    for (const [key, values] of f ?? []) {
      const byValue = lists.get(key) ?? lists.set(key, new Map()).get(key)!;
      for (const [value, docs] of values) {
        const list = byValue.get(value) ?? byValue.set(value, []).get(value)!;
        for (const d of docs) list.push(offset + d);
      }
    }
  });
  for (const key of [...lists.keys()].sort()) {
    const values = new Map<string, Uint32Array>();
    for (const value of [...lists.get(key)!.keys()].sort()) values.set(value, Uint32Array.from(lists.get(key)!.get(value)!));
    out.set(key, values);
  }
  return out;
}

/**
 * The bundles' sort keys as one: per key every document's value (null in a bundle without the key).
 * A key numeric in every bundle that has it stays numeric; where some bundle's are strings, numbers
 * are compared as their decimal strings.
 */
export function unionSortKeys(union: BundleUnion, sorts: (DocumentSortKeys | null)[]): DocumentSortKeys | null {
  if (sorts.every((s) => !s)) return null;
  const documents = union.parts.reduce((n, p) => n + p.documents, 0);
  const keys = [...new Set(sorts.flatMap((s) => [...(s?.keys() ?? [])]))].sort();
  const out: DocumentSortKeys = new Map();
  for (const key of keys) {
    const numeric = sorts.every((s) => s?.get(key)?.numeric !== false);
    const values: (string | number | null)[] = new Array(documents).fill(null);
    sorts.forEach((s, b) => {
      const k = s?.get(key);
      if (!k) return;
      const offset = union.parts[b].firstDocument;
      k.values.forEach((v, d) => {
        values[offset + d] = v === null || numeric ? v : String(v);
      });
    });
    out.set(key, { numeric, values });
  }
  return out;
}

/**
 * BM25 over several bundles' postings as one index: a term's postings are each bundle's, documents
 * offset, so a query's vector length counts every term some bundle holds, a correction's document
 * frequency is the union's, and the word list is the union of the bundles' (typo tolerance only
 * when every bundle has one).
 */
export class UnionLexicalIndex extends PostingsSearcher {
  constructor(private readonly parts: { index: PostingsSearcher; firstDocument: number }[]) {
    super();
    if (parts.length === 0) throw new Error('UnionLexicalIndex: no bundles');
  }

  get documents(): number {
    return this.parts.reduce((n, p) => n + p.index.documents, 0);
  }

  get fields(): readonly string[] {
    return this.parts[0].index.fields;
  }

  get hasWords(): boolean {
    return this.parts.every((p) => p.index.hasWords);
  }

  protected get wordsFile(): string {
    return 'the bundles’ word lists';
  }

  async loadTerms(terms: Iterable<string>): Promise<void> {
    const list = [...terms];
    await Promise.all(this.parts.map((p) => p.index.loadTerms(list)));
  }

  postings(term: string): FieldPostings[] | undefined {
    const found = this.parts.map((p) => p.index.postings(term));
    if (found.every((f) => !f)) return undefined;
    return this.fields.map((_, f) => {
      const n = found.reduce((s, p) => s + (p ? p[f].docs.length : 0), 0);
      const out = { docs: new Uint32Array(n), weights: new Uint32Array(n) };
      let at = 0;
      found.forEach((p, b) => {
        if (!p) return;
        const { docs, weights } = p[f];
        for (let i = 0; i < docs.length; i++) out.docs[at + i] = docs[i] + this.parts[b].firstDocument;
        out.weights.set(weights, at);
        at += docs.length;
      });
      return out;
    });
  }

  protected async loadEverything(): Promise<void> {
    for (const p of this.parts) await p.index.prepareAll();
  }

  protected async readWordList(): Promise<WordList> {
    const lists = await Promise.all(this.parts.map((p) => p.index.wordList()));
    return new WordList([...new Set(lists.flatMap((l) => l.words))].sort());
  }
}
