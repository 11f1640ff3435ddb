// Filters, facet counts and sorting over documents (pages), the same in both engines:
//   - a selection { key: [values] } keeps the documents that have, for every selected key, at least
//     one of its selected values (OR within a key, AND across keys: a facet's checkboxes);
//   - facet counts count, per value, the candidate documents that have it and pass every *other*
//     key's selection, so ticking one value of a key leaves its other values' counts readable;
//   - sorting orders documents by one key's value, those without it last, ties in relevance order.
// The engines mask filtered-out passages before the neural top-k (src/gpu/qnetScorer.ts, the CPU
// scorers), so a narrow filter still gets its full k; rankDocuments (modeRanking.ts) filters again.
import type { DocumentGroups } from './formats/documents.ts';
import { FACET_LIMITS, badFacetKey, badFacetValue, type DocumentFilters, type DocumentSortKeys } from './formats/facets.ts';
import type { FacetValues } from './ingest/types.ts';
import { InputError } from './ingest/utf8.ts';

/** The filter HTML pages get from their `lang` (its primary subtag, lowercase), where they name no such filter themselves. */
export const LANGUAGE_FILTER = 'language';

/** Filter key → the values asked for. */
export type FilterSelection = Record<string, string[]>;
export interface SortOrder {
  by: string;
  order: 'asc' | 'desc';
}
/** Filter key → value → documents counted. */
export type FacetCounts = Record<string, Record<string, number>>;

/** "key:value" (the CLI's --filter) → [key, value]. */
export function parseFilterSpec(spec: string, flag = '--filter'): [string, string] {
  const at = spec.indexOf(':');
  if (at <= 0 || at === spec.length - 1) throw new Error(`${flag} ${JSON.stringify(spec)}: expected key:value`);
  return [spec.slice(0, at), spec.slice(at + 1)];
}

/** "key", "key:asc" or "key:desc" → the order (ascending unless said). */
export function parseSortSpec(spec: string, flag = '--sort'): SortOrder {
  const m = /^([^:]+)(?::(asc|desc))?$/.exec(spec);
  if (!m) throw new Error(`${flag} ${JSON.stringify(spec)}: expected key, key:asc or key:desc`);
  return { by: m[1], order: (m[2] as SortOrder['order'] | undefined) ?? 'asc' };
}

/** Adds one filter or sort value to a document's, refusing what the format cannot hold (`where` names the source). */
export function addFacetValue(into: FacetValues, kind: 'filter' | 'sort', key: string, rawValue: string, where: string): void {
  const value = rawValue.replace(/\s+/g, ' ').trim();
  const badKey = badFacetKey(key);
  if (badKey) throw new InputError(`${where}: ${kind} key ${JSON.stringify(key)} ${badKey}`);
  const badValue = badFacetValue(value);
  if (badValue) throw new InputError(`${where}: ${kind} ${JSON.stringify(key)}'s value ${JSON.stringify(value.slice(0, 40))} ${badValue}`);
  if (kind === 'sort') {
    if (key in into.sort && into.sort[key] !== value)
      throw new InputError(`${where}: sort key ${JSON.stringify(key)} is given twice (${JSON.stringify(into.sort[key])}, ${JSON.stringify(value)})`);
    into.sort[key] = value;
    return;
  }
  into.filters[key] ??= [];
  const values = into.filters[key];
  if (values.includes(value)) return;
  if (values.length >= FACET_LIMITS.valuesPerDocument)
    throw new InputError(`${where}: filter ${JSON.stringify(key)} has more than ${FACET_LIMITS.valuesPerDocument} values`);
  values.push(value);
}

/**
 * The documents' filters and sort keys from their passages (in bundle order; a document is numbered
 * at its first passage, as documentGroups numbers them). A sort key whose every value is a number is stored as numbers.
 */
export function collectFacets(passages: { docId: string; facets?: FacetValues }[]): { documents: number; filters: DocumentFilters; sort: DocumentSortKeys } {
  const numberOf = new Map<string, number>();
  const filterDocs = new Map<string, Map<string, number[]>>();
  const sortValues = new Map<string, Map<number, string>>();
  for (const p of passages) {
    if (numberOf.has(p.docId)) continue;
    const d = numberOf.size;
    numberOf.set(p.docId, d);
    for (const [key, values] of Object.entries(p.facets?.filters ?? {})) {
      const byValue = filterDocs.get(key) ?? filterDocs.set(key, new Map()).get(key)!;
      for (const v of values) (byValue.get(v) ?? byValue.set(v, []).get(v)!).push(d);
    }
    for (const [key, v] of Object.entries(p.facets?.sort ?? {})) (sortValues.get(key) ?? sortValues.set(key, new Map()).get(key)!).set(d, v);
  }
  const documents = numberOf.size;
  const keys = new Set([...filterDocs.keys(), ...sortValues.keys()]);
  if (filterDocs.size > FACET_LIMITS.keys || sortValues.size > FACET_LIMITS.keys || keys.size > 2 * FACET_LIMITS.keys)
    throw new InputError(`the documents name more than ${FACET_LIMITS.keys} filter or sort keys (${[...keys].slice(0, 8).join(', ')}, …)`);
  // One language for the whole site filters nothing: not written (and no panel shows it).
  if (filterDocs.get(LANGUAGE_FILTER)?.size === 1) filterDocs.delete(LANGUAGE_FILTER);
  const filters: DocumentFilters = new Map();
  for (const [key, byValue] of filterDocs) {
    if (byValue.size > FACET_LIMITS.valuesPerKey)
      throw new InputError(`filter ${JSON.stringify(key)} has ${byValue.size} distinct values, more than the ${FACET_LIMITS.valuesPerKey} allowed`);
    filters.set(key, new Map([...byValue].map(([v, ds]) => [v, Uint32Array.from(ds)])));
  }
  const sort: DocumentSortKeys = new Map();
  for (const [key, byDoc] of sortValues) {
    const numeric = [...byDoc.values()].every((v) => /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) && Number.isFinite(Number(v)));
    const values: (string | number | null)[] = Array.from({ length: documents }, (_, d) => {
      const v = byDoc.get(d);
      return v === undefined ? null : numeric ? Number(v) : v;
    });
    sort.set(key, { numeric, values });
  }
  return { documents, filters, sort };
}

/** What a selection keeps: per document 1 (kept) or 0, and how many are kept. Null: nothing selected. */
export interface AllowedDocuments {
  allowed: Uint8Array;
  count: number;
}

function unknownKey(kind: string, key: string, known: Iterable<string>): never {
  const list = [...known];
  throw new Error(`${kind} ${JSON.stringify(key)}: this index has ${list.length ? `only ${list.map((k) => JSON.stringify(k)).join(', ')}` : `no ${kind}s`}`);
}

/** Per selected key, the documents that have one of its selected values (1) or not (0). */
function perKeyPass(filters: DocumentFilters | null, selection: FilterSelection, documents: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [key, values] of Object.entries(selection)) {
    if (values.length === 0) continue;
    const byValue = filters?.get(key);
    if (!byValue) unknownKey('filter', key, filters?.keys() ?? []);
    const pass = new Uint8Array(documents);
    for (const v of values) for (const d of byValue.get(v) ?? []) pass[d] = 1;
    out.set(key, pass);
  }
  return out;
}

/** The documents a selection keeps; null when it selects nothing (every document is kept). Throws on a key the index lacks. */
export function allowedDocuments(filters: DocumentFilters | null, selection: FilterSelection, documents: number): AllowedDocuments | null {
  const passes = [...perKeyPass(filters, selection, documents).values()];
  if (passes.length === 0) return null;
  const allowed = new Uint8Array(documents);
  let count = 0;
  for (let d = 0; d < documents; d++) {
    if (passes.every((p) => p[d] === 1)) {
      allowed[d] = 1;
      count++;
    }
  }
  return { allowed, count };
}

/** Bit p set (word p >> 5, bit p & 31) when passage p's document is kept: what the scorers mask by. */
export function passageMask(allowed: Uint8Array, groups: DocumentGroups): Uint32Array {
  const mask = new Uint32Array(Math.ceil(groups.docOf.length / 32));
  for (let p = 0; p < groups.docOf.length; p++) if (allowed[groups.docOf[p]]) mask[p >>> 5] |= 1 << (p & 31);
  return mask;
}

/** Whether passage p is kept by a mask (none: every passage is). */
export function maskKeeps(mask: Uint32Array | null | undefined, p: number): boolean {
  return !mask || (mask[p >>> 5] & (1 << (p & 31))) !== 0;
}

/** Per filter key, each document's values (built once per index's filters). */
const valuesByDocument = new WeakMap<DocumentFilters, Map<string, Map<number, string[]>>>();
function documentValues(filters: DocumentFilters): Map<string, Map<number, string[]>> {
  let byKey = valuesByDocument.get(filters);
  if (!byKey) {
    byKey = new Map();
    for (const [key, byValue] of filters) {
      const of = new Map<number, string[]>();
      for (const [v, docs] of byValue) for (const d of docs) (of.get(d) ?? of.set(d, []).get(d)!).push(v);
      byKey.set(key, of);
    }
    valuesByDocument.set(filters, byKey);
  }
  return byKey;
}

/**
 * Facet counts over `candidates` (documents, each once): value v of key K counts the candidates that
 * have v and pass every selected key but K. Values counted 0 are left out, except selected ones.
 */
export function facetCounts(filters: DocumentFilters, selection: FilterSelection, candidates: Iterable<number>, documents: number): FacetCounts {
  const passes = perKeyPass(filters, selection, documents);
  const values = documentValues(filters);
  const counts: FacetCounts = {};
  for (const key of filters.keys()) counts[key] = Object.fromEntries((selection[key] ?? []).map((v) => [v, 0]));
  const selectedKeys = [...passes.keys()];
  for (const d of candidates) {
    // A candidate that fails no selected key counts for every key; one that fails exactly one, for that key only.
    let failed: string | null = null;
    let failures = 0;
    for (const key of selectedKeys) {
      if (passes.get(key)![d] === 0) {
        failed = key;
        if (++failures > 1) break;
      }
    }
    if (failures > 1) continue;
    for (const [key, of] of values) {
      if (failed !== null && key !== failed) continue;
      for (const v of of.get(d) ?? []) counts[key][v] = (counts[key][v] ?? 0) + 1;
    }
  }
  return counts;
}

/** Documents in relevance order → by one key (ascending or descending), those without a value last, ties in relevance order. */
export function sortDocuments<T extends { document: number }>(ranked: T[], sort: DocumentSortKeys | null, order: SortOrder): T[] {
  const key = sort?.get(order.by);
  if (!key) unknownKey('sort key', order.by, sort?.keys() ?? []);
  const sign = order.order === 'asc' ? 1 : -1;
  const value = (d: number) => key.values[d];
  return ranked
    .map((h, i) => ({ h, i, v: value(h.document) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      const c = key.numeric ? (a.v as number) - (b.v as number) : a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
      return sign * c || a.i - b.i;
    })
    .map(({ h }) => h);
}
