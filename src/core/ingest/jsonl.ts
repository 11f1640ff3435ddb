// JSONL documents: one JSON object per line, {"id", "title"?, "text", "url"?, ...extra}.
// Extra keys are kept under `fields`. Blank lines are skipped. Every error names file:line.
import { InputError } from './utf8.ts';
import type { SourceDoc } from './types.ts';

const KNOWN = new Set(['id', '_id', 'title', 'text', 'url']);

function kindOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `a string` : `a ${typeof v}`;
}

/** Parses the text of a JSONL file; `file` names it in errors. */
export function parseJsonlDocs(text: string, file: string): SourceDoc[] {
  const docs: SourceDoc[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const doc = parseJsonlLine(lines[i], `${file}:${i + 1}`);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** One line of a JSONL file (a trailing CR is dropped); null for a blank line. `where` is file:line. */
export function parseJsonlLine(line: string, where: string): SourceDoc | null {
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
  return doc;
}
