// The documents part's filters and sort keys (docs/FORMATS.md, "Filters and sort keys"): per
// filter key, each value's documents; per sort key, each document's value. Two small JSON files of
// kind "documents", each optional, fetched only when a page shows facets or sorts (a first visit
// without them pays nothing). Documents are documentGroups' numbers, as in the map.
import { fail, isObject, parseJsonText, show } from './fields.ts';

export const FILTERS_FILE = 'documents/filters.json';
export const SORT_FILE = 'documents/sort.json';
const FILTERS_FORMAT = 'hypencoder-filters';
const SORT_FORMAT = 'hypencoder-sort';

/** Bounds a reader (and the indexer) holds any filter or sort file to. */
export const FACET_LIMITS = {
  keys: 64,
  keyChars: 64,
  valueChars: 256,
  /** Distinct values of one filter key in a whole index. */
  valuesPerKey: 100_000,
  /** Values one document may give one filter key. */
  valuesPerDocument: 100,
} as const;

/** Filter key → value → its documents, ascending. */
export type DocumentFilters = Map<string, Map<string, Uint32Array>>;
/** Sort key → per document its value (null: none); `numeric` when every value is a number. */
export type DocumentSortKeys = Map<string, { numeric: boolean; values: (string | number | null)[] }>;

/** Why a key is refused, or null: what the filter and sort syntax (`key:value`, `key[attr]`, commas) cannot carry. */
export function badFacetKey(key: string): string | null {
  if (key.length === 0) return 'is empty';
  if (key.length > FACET_LIMITS.keyChars) return `is longer than ${FACET_LIMITS.keyChars} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\s:,[\]\u0000-\u001f]/.test(key)) return 'holds white space or one of : , [ ]';
  return null;
}

export function badFacetValue(value: string): string | null {
  if (value.length === 0) return 'is empty';
  if (value.length > FACET_LIMITS.valueChars) return `is longer than ${FACET_LIMITS.valueChars} characters`;
  return null;
}

/** The filters file: each value's documents as their first number, then the gaps to the next. */
export function encodeFiltersFile(filters: DocumentFilters, documents: number): Uint8Array {
  const out: Record<string, Record<string, number[]>> = {};
  for (const key of [...filters.keys()].sort()) {
    const values = filters.get(key)!;
    out[key] = {};
    for (const value of [...values.keys()].sort()) {
      const docs = values.get(value)!;
      out[key][value] = Array.from(docs, (d, i) => (i === 0 ? d : d - docs[i - 1]));
    }
  }
  return new TextEncoder().encode(JSON.stringify({ format: FILTERS_FORMAT, version: 1, documents, filters: out }));
}

export function encodeSortFile(sort: DocumentSortKeys, documents: number): Uint8Array {
  const out: Record<string, (string | number | null)[]> = {};
  for (const key of [...sort.keys()].sort()) out[key] = sort.get(key)!.values;
  return new TextEncoder().encode(JSON.stringify({ format: SORT_FORMAT, version: 1, documents, sort: out }));
}

function header(v: unknown, file: string, format: string, documents: number, body: string): Record<string, unknown> {
  if (!isObject(v)) fail(file, '', `must be a JSON object, got ${show(v)}`);
  if (v.format !== format) fail(file, 'format', `must be ${show(format)}, got ${show(v.format)}`);
  if (v.version !== 1) fail(file, 'version', `must be 1, got ${show(v.version)}`);
  if (v.documents !== documents) fail(file, 'documents', `must be the index's document count ${documents}, got ${show(v.documents)}`);
  const o = v[body];
  if (!isObject(o)) fail(file, body, `must be an object, got ${show(o)}`);
  const keys = Object.keys(o);
  if (keys.length > FACET_LIMITS.keys) fail(file, body, `has ${keys.length} keys, more than the ${FACET_LIMITS.keys} allowed`);
  for (const k of keys) {
    const bad = badFacetKey(k);
    if (bad) fail(file, `${body}[${show(k)}]`, `key ${bad}`);
  }
  return o;
}

export function parseFiltersFile(bytes: Uint8Array, documents: number, file: string): DocumentFilters {
  const body = header(parseJsonText(bytes, file), file, FILTERS_FORMAT, documents, 'filters');
  const filters: DocumentFilters = new Map();
  for (const [key, vs] of Object.entries(body)) {
    const where = `filters[${show(key)}]`;
    if (!isObject(vs)) fail(file, where, `must be an object of values, got ${show(vs)}`);
    const entries = Object.entries(vs);
    if (entries.length > FACET_LIMITS.valuesPerKey) fail(file, where, `has ${entries.length} values, more than the ${FACET_LIMITS.valuesPerKey} allowed`);
    const values = new Map<string, Uint32Array>();
    for (const [value, gaps] of entries) {
      const at = `${where}[${show(value)}]`;
      const bad = badFacetValue(value);
      if (bad) fail(file, at, `value ${bad}`);
      if (!Array.isArray(gaps) || gaps.length === 0 || gaps.length > documents)
        fail(file, at, `must be a list of 1 … ${documents} document gaps, got ${show(gaps)}`);
      const docs = new Uint32Array(gaps.length);
      let d = -1;
      gaps.forEach((g, i) => {
        if (typeof g !== 'number' || !Number.isInteger(g) || g < (i === 0 ? 0 : 1))
          fail(file, `${at}[${i}]`, `must be an integer ≥ ${i === 0 ? 0 : 1}, got ${show(g)}`);
        d = i === 0 ? g : d + g;
        if (d >= documents) fail(file, `${at}[${i}]`, `reaches document ${d}, but there are ${documents}`);
        docs[i] = d;
      });
      values.set(value, docs);
    }
    filters.set(key, values);
  }
  return filters;
}

export function parseSortFile(bytes: Uint8Array, documents: number, file: string): DocumentSortKeys {
  const body = header(parseJsonText(bytes, file), file, SORT_FORMAT, documents, 'sort');
  const sort: DocumentSortKeys = new Map();
  for (const [key, values] of Object.entries(body)) {
    const where = `sort[${show(key)}]`;
    if (!Array.isArray(values) || values.length !== documents) fail(file, where, `must list one value per document (${documents}), got ${show(values)}`);
    let numeric = true;
    values.forEach((v, i) => {
      if (v === null) return;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) fail(file, `${where}[${i}]`, `must be a finite number, a string or null, got ${show(v)}`);
      } else if (typeof v === 'string') {
        numeric = false;
        const bad = badFacetValue(v);
        if (bad) fail(file, `${where}[${i}]`, `value ${bad}`);
      } else fail(file, `${where}[${i}]`, `must be a number, a string or null, got ${show(v)}`);
    });
    sort.set(key, { numeric, values: values as (string | number | null)[] });
  }
  return sort;
}
