// Stage 5, lexical: the Lunr index, one record per source document (scheme lunr-doc-1), grouped
// from the very metadata records written, as the engines group them; with --lexical chunked, its
// BM25 weights cut into term chunks and a dictionary (scheme bm25-chunked-v1). Skipped with --no-lexical.
import type { DocMetadata } from '../../core/formats/index.ts';
import {
  LEXICAL_FIELDS,
  LEXICAL_FILE,
  LEXICAL_SCHEME,
  LEXICAL_SCHEME_CHUNKED,
  buildLexicalIndex,
  documentLexicalDocs,
  serializeLexicalIndex,
} from '../../core/lexical.ts';
import { LEXICAL_DICTIONARY_FILE, chunkLexicalIndex } from '../../core/lexicalChunked.ts';
import { documentGroups } from '../../core/ranking.ts';
import type { WriteIndexInput } from '../writeIndex.ts';
import type { IndexJob } from './job.ts';
import type { Stored } from './store.ts';

export function buildLexical(job: IndexJob, stored: Stored): WriteIndexInput['lexical'] {
  if (job.opts.lexical === false) return undefined;
  const groups = documentGroups(stored.metadata.flat() as DocMetadata[]);
  const index = buildLexicalIndex(documentLexicalDocs(stored.passages, groups));
  const fields = [...LEXICAL_FIELDS];
  if (job.opts.lexical === 'chunked') {
    const files = chunkLexicalIndex(index, groups.passages.length);
    return { descriptor: { scheme: LEXICAL_SCHEME_CHUNKED, fields, dictionary: LEXICAL_DICTIONARY_FILE }, files };
  }
  return { descriptor: { scheme: LEXICAL_SCHEME, fields }, files: [{ path: LEXICAL_FILE, data: serializeLexicalIndex(index) }] };
}
