// The index's documents part (docs/FORMATS.md, "Documents"): what a client needs to show hits
// without fetching every passage's text first. `map` gives each document's passages (documentGroups'
// numbering and order), a byte or so per document; fragment j holds document j's passage records,
// gzip-compressed, as a member of a Merkle set (merkle.ts), so a search fetches and verifies only the
// documents it shows and manifest.json stays the same size whatever the collection's.
import { type ObjectReader, fail } from './fields.ts';
import { VarintReader, pushVarint } from './varint.ts';

/**
 * The documents of a bundle: numbered in the order of their first passage in the bundle; each with
 * its passages in document order (`fields.passage`, which the indexer sets on a split document's
 * passages; else bundle order: --locality may store a document's passages apart and out of order).
 */
export interface DocumentGroups {
  /** Passage number → document number. */
  docOf: Int32Array;
  /** Document number → its passage numbers, in document order. */
  passages: number[][];
}

export const DOCUMENTS_MAP_FILE = 'documents/map.bin';
export const FRAGMENTS_FOLDER = 'documents/fragments';

/** A Merkle set's descriptor: member j is the file `<folder>/<j, 5 or more digits>.bin`, at most maxBytes long. */
export interface MerkleSetDescriptor {
  folder: string;
  count: number;
  /** Lowercase hex SHA-256 root (merkle.ts). */
  root: string;
  maxBytes: number;
}

export function merkleMemberPath(folder: string, j: number): string {
  return `${folder}/${String(j).padStart(5, '0')}.bin`;
}

/** The most bytes any member of a set may have: a reader refuses a descriptor that allows more. */
export const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

export function readMerkleSet(o: ObjectReader, count?: number): MerkleSetDescriptor {
  const set = { folder: o.relPath('folder'), count: o.int('count', 1), root: o.sha256('root'), maxBytes: o.int('max_bytes', 1) };
  if (count !== undefined && set.count !== count) fail(o.file, o.where('count'), `must be ${count}, got ${set.count}`);
  if (set.maxBytes > MAX_MEMBER_BYTES) fail(o.file, o.where('max_bytes'), `must be at most ${MAX_MEMBER_BYTES}, got ${set.maxBytes}`);
  return set;
}

export function merkleSetObject(s: MerkleSetDescriptor): Record<string, unknown> {
  return { folder: s.folder, count: s.count, root: s.root, max_bytes: s.maxBytes };
}

export interface DocumentsDescriptor {
  /** Documents (documentGroups' count). */
  count: number;
  /** The map file, a file of kind "documents" in files. */
  map: string;
  /** One member per document; max_text_bytes bounds a member's JSON once decompressed. */
  fragments: MerkleSetDescriptor & { encoding: 'gzip'; maxTextBytes: number };
  /** Optional files of kind "documents" (src/core/formats/facets.ts): each filter value's documents; each document's sort values. */
  filters?: string;
  sort?: string;
}

export function readDocumentsDescriptor(d: ObjectReader): DocumentsDescriptor {
  const count = d.int('count', 1);
  const f = d.object('fragments');
  const maxTextBytes = f.int('max_text_bytes', 1);
  if (maxTextBytes > MAX_MEMBER_BYTES) fail(f.file, f.where('max_text_bytes'), `must be at most ${MAX_MEMBER_BYTES}, got ${maxTextBytes}`);
  return {
    count,
    map: d.relPath('map'),
    fragments: { ...readMerkleSet(f, count), encoding: f.literal('encoding', ['gzip'] as const), maxTextBytes },
    ...(d.has('filters') ? { filters: d.relPath('filters') } : {}),
    ...(d.has('sort') ? { sort: d.relPath('sort') } : {}),
  };
}

export function documentsDescriptorObject(d: DocumentsDescriptor): Record<string, unknown> {
  const { encoding, maxTextBytes, ...set } = d.fragments;
  return {
    count: d.count,
    map: d.map,
    fragments: { ...merkleSetObject(set), encoding, max_text_bytes: maxTextBytes },
    ...(d.filters ? { filters: d.filters } : {}),
    ...(d.sort ? { sort: d.sort } : {}),
  };
}

// ---- the map: per document, varint(count · 2 + contiguous); a contiguous document's passages are the
// next `count` passage numbers after the previous document's last, else `count` varints follow.

export function encodeDocumentMap(groups: DocumentGroups): Uint8Array {
  const out: number[] = [];
  let next = 0;
  for (const ps of groups.passages) {
    const contiguous = ps.every((p, i) => p === next + i);
    pushVarint(out, ps.length * 2 + (contiguous ? 1 : 0));
    if (!contiguous) for (const p of ps) pushVarint(out, p);
    next = ps[ps.length - 1] + 1;
  }
  return Uint8Array.from(out);
}

/** The map, checked: `documents` documents, each of ≥ 1 passage, every passage of `passages` in exactly one. */
export function parseDocumentMap(bytes: Uint8Array, documents: number, passages: number, file: string): DocumentGroups {
  const r = new VarintReader(bytes, file);
  const varint = (what: string) => r.next(what);
  const docOf = new Int32Array(passages).fill(-1);
  const list: number[][] = [];
  let next = 0;
  for (let d = 0; d < documents; d++) {
    const head = varint(`document ${d}'s passage count`);
    const count = Math.floor(head / 2);
    if (count < 1 || count > passages) throw new Error(`${file}: document ${d} has ${count} passages (1 … ${passages} allowed)`);
    const ps: number[] = [];
    for (let i = 0; i < count; i++) {
      const p = head % 2 ? next + i : varint(`document ${d}'s passage ${i}`);
      if (p >= passages) throw new Error(`${file}: document ${d} names passage ${p}, but there are ${passages}`);
      if (docOf[p] !== -1) throw new Error(`${file}: passage ${p} is in document ${docOf[p]} and again in document ${d}`);
      docOf[p] = d;
      ps.push(p);
    }
    next = ps[ps.length - 1] + 1;
    list.push(ps);
  }
  if (r.at !== bytes.length) throw new Error(`${file}: ${bytes.length - r.at} bytes after the last of its ${documents} documents`);
  const missing = docOf.indexOf(-1);
  if (missing >= 0) throw new Error(`${file}: passage ${missing} is in no document`);
  return { docOf, passages: list };
}
