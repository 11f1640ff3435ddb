// Stage 5, lexical: the Lunr index, one record per source document (scheme lunr-doc-1), grouped
// from the very metadata records written, as the engines group them. Skipped with --no-lexical.
import type { DocMetadata } from '../../core/formats/index.ts';
import { LEXICAL_FIELDS, LEXICAL_FILE, LEXICAL_SCHEME, buildLexicalIndex, documentLexicalDocs, serializeLexicalIndex } from '../../core/lexical.ts';
import { documentGroups } from '../../core/ranking.ts';
import type { WriteIndexInput } from '../writeIndex.ts';
import type { IndexJob } from './job.ts';
import type { Stored } from './store.ts';

export function buildLexical(job: IndexJob, stored: Stored): WriteIndexInput['lexical'] {
  if (job.opts.lexical === false) return undefined;
  const groups = documentGroups(stored.metadata.flat() as DocMetadata[]);
  const data = serializeLexicalIndex(buildLexicalIndex(documentLexicalDocs(stored.passages, groups)));
  return { descriptor: { scheme: LEXICAL_SCHEME, fields: [...LEXICAL_FIELDS] }, files: [{ path: LEXICAL_FILE, data }] };
}
