// The chunked lexical index, scheme bm25-chunked-v2 (docs/FORMATS.md): the BM25 weights of a Lunr
// lunr-doc-1 index (one record per document), cut into chunks of whole terms in sorted order, and a
// small dictionary (each chunk's first term) to find a term's chunk by binary search. A query fetches
// and verifies only its terms' chunks; the chunks are a Merkle set (formats/merkle.ts) whose root is
// in manifest.json, so the manifest does not grow with the vocabulary (v1 listed every chunk there). The weights are Lunr's own (its idf, k1 1.2, b 0.75, field
// length normalization and 3-decimal rounding, computed by lunr.Builder), stored as integer
// thousandths, so no per-document statistics are needed; a query is scored as Lunr's Index#query
// scores OR-ed terms: per field, the dot product of the query's term counts with the weights over the
// query vector's length, summed over fields.
import type lunr from 'lunr';
import { merkleMemberPath, readMerkleSet, type MerkleSetDescriptor } from './formats/documents.ts';
import { ObjectReader, parseJsonText, readDescriptor, show } from './formats/fields.ts';
import { buildMerkleSet } from './formats/merkle.ts';
import { VarintReader, pushVarint } from './formats/varint.ts';
import { LEXICAL_FIELDS, exactLexicalQuery, type LexicalQuery } from './lexical.ts';
import { type FieldPostings, PostingsSearcher } from './lexicalScoring.ts';
import { LEXICAL_WORDS_FILE, type WordList, parseWordList } from './typoTolerance.ts';

export const LEXICAL_DICTIONARY_FILE = 'lexical/dictionary.json';
export const LEXICAL_DICTIONARY_FORMAT = 'hypencoder-lexical-dictionary';
const DICTIONARY_FORMAT = { tag: LEXICAL_DICTIONARY_FORMAT, supported: 2, hint: {} };
/** A chunk is closed before it would pass this size (a term whose postings alone are larger gets a chunk of its own). */
export const LEXICAL_CHUNK_TARGET_BYTES = 4 * 1024;
/** The folder of the chunk files: chunk j is `<folder>/<j as 5 or more digits>.bin` (merkleMemberPath). */
export const LEXICAL_CHUNKS_FOLDER = 'lexical/chunks';

export interface LexicalDictionary {
  file: string;
  documents: number;
  fields: string[];
  /** Chunk j holds the terms t with firstTerms[j] ≤ t < firstTerms[j + 1] (JavaScript string order). */
  firstTerms: string[];
  /** The chunks' Merkle set (manifest.json's lexical.chunks). */
  chunks: MerkleSetDescriptor;
}

/** manifest.json's lexical.chunks, checked. */
export function readLexicalChunkSet(raw: Record<string, unknown>, file: string): MerkleSetDescriptor {
  return readMerkleSet(ObjectReader.of(file, 'lexical', raw).object('chunks'));
}

/** Lunr 2.3.9's index internals that @types/lunr leaves out. */
interface LunrInternals {
  invertedIndex: Record<string, { _index: number }>;
  fieldVectors: Record<string, { elements: number[] }>;
}

// ---- writing ----

export interface ChunkedLexicalFiles {
  /** The dictionary (a file of kind lexical in manifest.files). */
  dictionary: { path: string; data: Uint8Array };
  /** manifest.json's lexical.chunks. */
  chunks: MerkleSetDescriptor;
  /** The chunk files (payload and proof), in order: members of `chunks`, not listed in files. */
  members: Uint8Array[];
}

/** Each term's postings per field (LEXICAL_FIELDS' order), documents in any order: what a chunk set stores. */
export type TermPostings = Map<string, { docs: number[]; weights: number[] }[]>;

/** The dictionary and chunk set of a Lunr index built by buildLexicalIndex (refs "0" … "documents − 1"); paths relative to the bundle folder. */
export async function chunkLexicalIndex(index: lunr.Index, documents: number, targetBytes = LEXICAL_CHUNK_TARGET_BYTES): Promise<ChunkedLexicalFiles> {
  return chunkPostings(lexicalPostings(index), documents, targetBytes);
}

/** Lunr's BM25 weights of every term, in thousandths, per field (the index's collection statistics are in them). */
export function lexicalPostings(index: lunr.Index): TermPostings {
  const { invertedIndex, fieldVectors } = index as unknown as LunrInternals;
  const termOf: string[] = [];
  for (const [term, posting] of Object.entries(invertedIndex)) termOf[posting._index] = term;
  const postings: TermPostings = new Map();
  for (const [fieldRef, vector] of Object.entries(fieldVectors)) {
    const slash = fieldRef.indexOf('/');
    const field = LEXICAL_FIELDS.indexOf(fieldRef.slice(0, slash) as (typeof LEXICAL_FIELDS)[number]);
    const doc = Number(fieldRef.slice(slash + 1));
    const e = vector.elements;
    for (let i = 0; i < e.length; i += 2) {
      const term = termOf[e[i]];
      // Lunr indexes the empty term a token trims to ("—" alone); no query holds it (lexicalQueryTerms drops it).
      if (term === '') continue;
      const weight = Math.round(e[i + 1] * 1000);
      // Lunr rounds every weight to 3 decimals, so thousandths hold it exactly.
      if (weight / 1000 !== e[i + 1] || weight < 0) throw new Error(`chunkLexicalIndex: weight ${e[i + 1]} of "${term}" is not a multiple of 0.001`);
      let p = postings.get(term);
      if (!p) {
        p = LEXICAL_FIELDS.map(() => ({ docs: [], weights: [] }));
        postings.set(term, p);
      }
      p[field].docs.push(doc);
      p[field].weights.push(weight);
    }
  }
  return postings;
}

/**
 * The postings of documents [first, first + documents) only, renumbered from 0, with the weights
 * as they are (computed over the whole collection): one shard's part (src/cli/indexStages/shards.ts).
 * Terms none of those documents hold are left out.
 */
export function slicePostings(postings: TermPostings, first: number, documents: number): TermPostings {
  const out: TermPostings = new Map();
  for (const [term, fields] of postings) {
    const cut = fields.map(({ docs, weights }) => {
      const kept = { docs: [] as number[], weights: [] as number[] };
      docs.forEach((d, i) => {
        if (d >= first && d < first + documents) {
          kept.docs.push(d - first);
          kept.weights.push(weights[i]);
        }
      });
      return kept;
    });
    if (cut.some((f) => f.docs.length > 0)) out.set(term, cut);
  }
  return out;
}

/** The dictionary and chunk set of these postings, over `documents` documents. */
export async function chunkPostings(postings: TermPostings, documents: number, targetBytes = LEXICAL_CHUNK_TARGET_BYTES): Promise<ChunkedLexicalFiles> {
  const chunks: { firstTerm: string; terms: number; bytes: number[] }[] = [];
  const encoder = new TextEncoder();
  for (const term of [...postings.keys()].sort()) {
    const record: number[] = [];
    const utf8 = encoder.encode(term);
    pushVarint(record, utf8.length);
    record.push(...utf8);
    for (const p of postings.get(term)!) {
      const order = p.docs.map((_, i) => i).sort((a, b) => p.docs[a] - p.docs[b]);
      pushVarint(record, order.length);
      let prev = -1;
      for (const i of order) {
        pushVarint(record, p.docs[i] - prev - 1);
        pushVarint(record, p.weights[i]);
        prev = p.docs[i];
      }
    }
    const last = chunks[chunks.length - 1];
    if (last && last.bytes.length + record.length <= targetBytes) {
      last.terms++;
      for (const b of record) last.bytes.push(b);
    } else chunks.push({ firstTerm: term, terms: 1, bytes: record });
  }
  const payloads = chunks.map((c) => {
    const head: number[] = [];
    pushVarint(head, c.terms);
    return Uint8Array.from([...head, ...c.bytes]);
  });
  const { root, members } = await buildMerkleSet(payloads);
  const dictionary = {
    format: LEXICAL_DICTIONARY_FORMAT,
    format_version: 2,
    documents,
    fields: [...LEXICAL_FIELDS],
    first_terms: chunks.map((c) => c.firstTerm),
  };
  return {
    dictionary: { path: LEXICAL_DICTIONARY_FILE, data: encoder.encode(JSON.stringify(dictionary)) },
    chunks: { folder: LEXICAL_CHUNKS_FOLDER, count: members.length, root, maxBytes: members.reduce((m, b) => Math.max(m, b.byteLength), 1) },
    members,
  };
}

// ---- reading ----

/** The dictionary, checked: fields as this client scores them, first terms strictly ascending, one per chunk of the set. */
export function parseLexicalDictionary(bytes: Uint8Array, file: string, chunks: MerkleSetDescriptor): LexicalDictionary {
  const { r } = readDescriptor(parseJsonText(bytes, file), file, DICTIONARY_FORMAT);
  const documents = r.int('documents', 1);
  const fields = r.array('fields');
  if (fields.length !== LEXICAL_FIELDS.length || fields.some((f, i) => f !== LEXICAL_FIELDS[i]))
    throw new Error(`${file}: fields must be ${show(LEXICAL_FIELDS)}, got ${show(fields)}`);
  const firstTerms = r.array('first_terms');
  if (firstTerms.length === 0) throw new Error(`${file}: first_terms must not be empty`);
  firstTerms.forEach((term, j) => {
    const where = `first_terms[${j}]`;
    if (typeof term !== 'string' || term === '') throw new Error(`${file}: ${where} must be a non-empty string, got ${show(term)}`);
    if (j > 0 && !((firstTerms[j - 1] as string) < term))
      throw new Error(`${file}: ${where} ${show(term)} must come after first_terms[${j - 1}] ${show(firstTerms[j - 1])}`);
  });
  if (firstTerms.length !== chunks.count)
    throw new Error(`${file}: first_terms lists ${firstTerms.length} chunks, but manifest.json's lexical.chunks.count is ${chunks.count}`);
  return { file, documents, fields: fields as string[], firstTerms: firstTerms as string[], chunks };
}

/** Chunk j's terms and postings, checked against the dictionary: terms ascending within the chunk's range, documents ascending and below `documents`. */
export function parseLexicalChunk(bytes: Uint8Array, dict: LexicalDictionary, j: number): Map<string, FieldPostings[]> {
  const file = merkleMemberPath(dict.chunks.folder, j);
  const r = new VarintReader(bytes, file);
  const varint = (what: string) => r.next(what);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const terms = new Map<string, FieldPostings[]>();
  const count = varint('the term count');
  if (count === 0) throw new Error(`${file}: holds no terms`);
  let prev = '';
  for (let t = 0; t < count; t++) {
    const length = varint(`term ${t}'s length`);
    if (r.at + length > bytes.length) throw new Error(`${file}: ends inside term ${t}`);
    let term: string;
    try {
      term = decoder.decode(bytes.subarray(r.at, r.at + length));
    } catch {
      throw new Error(`${file}: term ${t} is not UTF-8`);
    }
    r.at += length;
    const inRange = t === 0 ? term === dict.firstTerms[j] : prev < term;
    if (!inRange || (j + 1 < dict.firstTerms.length && !(term < dict.firstTerms[j + 1])))
      throw new Error(
        `${file}: term ${t} ${show(term)} is out of order (the chunk holds ${show(dict.firstTerms[j])} … ${show(dict.firstTerms[j + 1] ?? '')}, ascending)`,
      );
    prev = term;
    const fields = dict.fields.map((field) => {
      const n = varint(`term ${show(term)}'s ${field} posting count`);
      if (n > dict.documents) throw new Error(`${file}: term ${show(term)} has ${n} ${field} postings, more than the ${dict.documents} documents`);
      const p = { docs: new Uint32Array(n), weights: new Uint32Array(n) };
      let doc = -1;
      for (let i = 0; i < n; i++) {
        doc += varint(`term ${show(term)}'s ${field} posting ${i}`) + 1;
        if (doc >= dict.documents) throw new Error(`${file}: term ${show(term)} names document ${doc}, but there are ${dict.documents}`);
        p.docs[i] = doc;
        p.weights[i] = varint(`term ${show(term)}'s ${field} weight ${i}`);
      }
      return p;
    });
    if (fields.every((p) => p.docs.length === 0)) throw new Error(`${file}: term ${show(term)} has no postings`);
    terms.set(term, fields);
  }
  if (r.at !== bytes.length) throw new Error(`${file}: ${bytes.length - r.at} bytes after the last term`);
  return terms;
}

/** The chunked index of one bundle: fetches (through `readChunk`, which verifies the chunk against the set's root) and keeps the chunks its queries need. */
export class ChunkedLexicalIndex extends PostingsSearcher {
  private readonly chunks = new Map<number, Map<string, FieldPostings[]>>();
  private readonly loading = new Map<number, Promise<void>>();

  constructor(
    readonly dictionary: LexicalDictionary,
    /** Chunk j's payload, verified (bundleReader's readMember). */
    private readonly readChunk: (j: number) => Promise<Uint8Array>,
    /** The word list's bytes, verified; absent where the bundle has none (no typo tolerance). */
    private readonly readWords?: () => Promise<Uint8Array>,
    private readonly wordsPath = LEXICAL_WORDS_FILE,
  ) {
    super();
  }

  get documents(): number {
    return this.dictionary.documents;
  }

  get fields(): readonly string[] {
    return this.dictionary.fields;
  }

  /** Whether the bundle has a word list (typo tolerance). */
  get hasWords(): boolean {
    return this.readWords !== undefined;
  }

  protected get wordsFile(): string {
    return this.wordsPath;
  }

  protected async readWordList(): Promise<WordList> {
    if (!this.readWords) throw new Error(`${this.dictionary.file}: this bundle has no word list (lexical.words)`);
    return parseWordList(await this.readWords(), this.wordsPath);
  }

  /** The chunk that would hold `term` (the last whose first term is ≤ it), or −1 before the first. */
  chunkOf(term: string): number {
    const first = this.dictionary.firstTerms;
    let lo = 0;
    let hi = first.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (first[mid] <= term) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The distinct chunks a query's terms fall in (what prepare fetches first). */
  chunksFor(query: string | LexicalQuery): number[] {
    const stems = typeof query === 'string' ? exactLexicalQuery(query).terms.keys() : query.terms.keys();
    return this.chunksOfTerms(stems);
  }

  private chunksOfTerms(terms: Iterable<string>): number[] {
    return [...new Set([...terms].map((t) => this.chunkOf(t)))].filter((j) => j >= 0);
  }

  async loadTerms(terms: Iterable<string>): Promise<void> {
    await Promise.all(this.chunksOfTerms(terms).map((j) => this.load(j)));
  }

  protected async loadEverything(): Promise<void> {
    for (let j = 0; j < this.dictionary.chunks.count; j++) await this.load(j);
  }

  private load(j: number): Promise<void> {
    if (this.chunks.has(j)) return Promise.resolve();
    let p = this.loading.get(j);
    if (!p) {
      // A failed read is not kept: the next query tries again.
      p = this.readChunk(j)
        .then((bytes) => {
          this.chunks.set(j, parseLexicalChunk(bytes, this.dictionary, j));
        })
        .finally(() => this.loading.delete(j));
      this.loading.set(j, p);
    }
    return p;
  }

  postings(term: string): FieldPostings[] | undefined {
    const j = this.chunkOf(term);
    if (j < 0) return undefined;
    const chunk = this.chunks.get(j);
    if (!chunk) throw new Error(`${this.dictionary.file}: chunk ${j} is not loaded (call prepare(query) first)`);
    return chunk.get(term);
  }
}
