// JSONL documents: one JSON object per line, {"id", "title"?, "text", "url"?, ...extra}.
// Extra keys are kept under `fields`. Blank lines are skipped. Every error names file:line.
import { InputError } from './utf8.ts';
import { addFacetValue } from '../facets.ts';
import type { FacetValues, SourceDoc } from './types.ts';

const KNOWN = new Set(['id', '_id', 'title', 'text', 'url']);

function kindOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `a string` : `a ${typeof v}`;
}

/** Record keys whose values become filter values and sort values (the index command's --filter-field, --sort-field). */
export interface JsonlFacetFields {
  filterFields?: string[];
  sortFields?: string[];
}

/** Parses the text of a JSONL file; `file` names it in errors. */
export function parseJsonlDocs(text: string, file: string, facetFields: JsonlFacetFields = {}): SourceDoc[] {
  const docs: SourceDoc[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const doc = parseJsonlLine(lines[i], `${file}:${i + 1}`, facetFields);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** One line of a JSONL file (a trailing CR is dropped); null for a blank line. `where` is file:line. */
export function parseJsonlLine(line: string, where: string, facetFields: JsonlFacetFields = {}): SourceDoc | null {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (raw.trim() === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new InputError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${where}: each line must be a JSON object, got ${kindOfValue(v)}`);
  const o = v as Record<string, unknown>;
  const idKey = 'id' in o ? 'id' : '_id' in o ? '_id' : null;
  if (idKey === null) throw new InputError(`${where}: "id" is missing`);
  const idv = o[idKey];
  if (!(typeof idv === 'string' || (typeof idv === 'number' && Number.isFinite(idv)))) {
    throw new InputError(`${where}: "${idKey}" must be a string or a number, got ${kindOfValue(idv)}`);
  }
  const id = String(idv);
  if (id.trim() === '') throw new InputError(`${where}: "${idKey}" must not be empty`);
  if (!('text' in o)) throw new InputError(`${where}: "text" is missing (document ${JSON.stringify(id)})`);
  if (typeof o.text !== 'string') throw new InputError(`${where}: "text" must be a string, got ${kindOfValue(o.text)} (document ${JSON.stringify(id)})`);
  for (const k of ['title', 'url'] as const) {
    if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') {
      throw new InputError(`${where}: "${k}" must be a string, got ${kindOfValue(o[k])} (document ${JSON.stringify(id)})`);
    }
  }
  const extra = Object.keys(o).filter((k) => !KNOWN.has(k));
  const doc: SourceDoc = {
    id,
    title: (o.title as string | undefined) ?? '',
    url: (o.url as string | undefined) ?? '',
    sections: [{ heading: '', anchor: '', text: o.text }],
    where,
  };
  if (extra.length > 0) doc.fields = Object.fromEntries(extra.map((k) => [k, o[k]]));
  const facets = recordFacets(o, where, facetFields);
  if (facets) doc.facets = facets;
  return doc;
}

/** A scalar as a filter or sort value: strings as they are, numbers and booleans as JSON writes them. */
function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  return null;
}

/** The record's filter values (a scalar, or an array of them; null or absent: none) and sort values (a scalar). */
function recordFacets(o: Record<string, unknown>, where: string, { filterFields = [], sortFields = [] }: JsonlFacetFields): FacetValues | undefined {
  const facets: FacetValues = { filters: {}, sort: {} };
  let any = false;
  for (const key of filterFields) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    const list = Array.isArray(v) ? v : [v];
    for (const [i, item] of list.entries()) {
      const s = scalar(item);
      if (s === null)
        throw new InputError(
          `${where}: "${key}"${Array.isArray(v) ? `[${i}]` : ''} (a --filter-field) must be a string, number or boolean, got ${kindOfValue(item)}`,
        );
      addFacetValue(facets, 'filter', key, s, `${where}: "${key}"`);
      any = true;
    }
  }
  for (const key of sortFields) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    const s = scalar(v);
    if (s === null) throw new InputError(`${where}: "${key}" (a --sort-field) must be a string, number or boolean, got ${kindOfValue(v)}`);
    addFacetValue(facets, 'sort', key, s, `${where}: "${key}"`);
    any = true;
  }
  return any ? facets : undefined;
}
