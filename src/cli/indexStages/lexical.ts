// Stage 5, lexical: the Lunr index, one record per source document, grouped from the very metadata
// records written, as the engines group them; by default its BM25 weights cut into term chunks and a
// dictionary (scheme bm25-chunked-v2) and the corpus's word list for typo tolerance, with --lexical lunr Lunr's JSON (lunr-doc-1). Skipped with --no-lexical.
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
import { chunkLexicalIndex } from '../../core/lexicalChunked.ts';
import { corpusWordList } from '../../core/typoTolerance.ts';
import { merkleMemberPath, merkleSetObject } from '../../core/formats/index.ts';
import { documentGroups } from '../../core/ranking.ts';
import type { WriteIndexInput } from '../writeIndex.ts';
import type { IndexJob } from './job.ts';
import type { Stored } from './store.ts';

export async function buildLexical(job: IndexJob, stored: Stored): Promise<WriteIndexInput['lexical']> {
  if (job.opts.lexical === false) return undefined;
  const groups = documentGroups(stored.metadata.flat() as DocMetadata[]);
  const lexicalDocs = documentLexicalDocs(stored.passages, groups);
  const index = buildLexicalIndex(lexicalDocs);
  const fields = [...LEXICAL_FIELDS];
  if (job.opts.lexical !== 'lunr') {
    const { dictionary, chunks, members } = await chunkLexicalIndex(index, groups.passages.length);
    const words = corpusWordList(lexicalDocs);
    return {
      descriptor: { scheme: LEXICAL_SCHEME_CHUNKED, fields, dictionary: dictionary.path, words: words.path, chunks: merkleSetObject(chunks) },
      files: [dictionary, words],
      members: members.map((data, j) => ({ path: merkleMemberPath(chunks.folder, j), data })),
    };
  }
  return { descriptor: { scheme: LEXICAL_SCHEME, fields }, files: [{ path: LEXICAL_FILE, data: serializeLexicalIndex(index) }] };
}
