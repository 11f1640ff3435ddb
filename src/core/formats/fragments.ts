// A fragment (docs/FORMATS.md, "Documents"): one document's passage records, the member of the
// documents part's Merkle set that a search fetches to show that document.
import type { DocumentGroups } from './documents.ts';
import { ObjectReader, fail, parseJsonText, show } from './fields.ts';
import { validateDocRecord, type DocMetadata } from './indexFiles.ts';

// JSON { "document": j, "passages": [p, …], "records": [record, …] } (records as metadata shards', in the map's passage order)

export function encodeFragment(document: number, passages: number[], records: DocMetadata[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ document, passages, records }));
}

/** Fragment j's records by passage, checked against the map (same passages, same order). */
export function parseFragment(json: Uint8Array, j: number, groups: DocumentGroups, file: string): Map<number, DocMetadata> {
  const r = ObjectReader.of(file, '', parseJsonText(json, file));
  if (r.int('document') !== j) fail(file, 'document', `must be ${j}, got ${show(r.raw('document'))}`);
  const want = groups.passages[j];
  const passages = r.array('passages');
  if (passages.length !== want.length || passages.some((p, i) => p !== want[i]))
    fail(file, 'passages', `must be ${show(want)} (the map's), got ${show(passages)}`);
  const records = r.array('records');
  if (records.length !== want.length) fail(file, 'records', `must hold ${want.length} records, one per passage, got ${records.length}`);
  return new Map(records.map((v, i) => [want[i], validateDocRecord(v, file, `records[${i}]`)]));
}
