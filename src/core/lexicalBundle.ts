// A bundle's lexical index, whatever its scheme, as the LexicalRanker both engines rank with
// (src/cli/nodeEngine.ts, src/worker/modeSearch.ts) and `verify` checks. Files come through `read`,
// which checks length and SHA-256 (the bundle reader's readVerified over the engine's byte source).
import type { DocMetadata, IndexFileEntry, IndexManifest } from './formats/index.ts';
import type lunr from 'lunr';
import { LEXICAL_SCHEME_CHUNKED, LexicalRanker, isLexicalScheme, loadLexicalIndex, type LexicalScheme, type LexicalSearcher } from './lexical.ts';
import { ChunkedLexicalIndex, parseLexicalDictionary, readLexicalChunkSet } from './lexicalChunked.ts';
import type { MerkleSetDescriptor } from './formats/documents.ts';
import type { DocumentGroups } from './ranking.ts';

export type ReadLexicalFile = (entry: IndexFileEntry) => Promise<Uint8Array>;
/** Member j of a Merkle set, verified (bundleReader's readMember over the engine's byte source). */
export type ReadSetMember = (set: MerkleSetDescriptor, j: number) => Promise<Uint8Array>;

/** Whether this client reads the bundle's lexical index (an unknown scheme is ignored, docs/FORMATS.md). */
export function readsLexical(manifest: IndexManifest): boolean {
  return isLexicalScheme(manifest.lexical?.scheme);
}

/** The file a lexical index is opened from, and its errors name: Lunr's JSON, or the chunked scheme's dictionary. */
export function lexicalIndexFile(manifest: IndexManifest): string {
  const dictionary = manifest.lexical?.scheme === LEXICAL_SCHEME_CHUNKED ? manifest.lexical.raw.dictionary : undefined;
  return typeof dictionary === 'string' ? dictionary : (manifest.files.find((e) => e.kind === 'lexical')?.path ?? 'lexical index');
}

/** A bundle's lexical index as read so far: what LexicalRanker ranks with, its scheme, and the file errors name. */
export interface OpenedLexical {
  scheme: LexicalScheme;
  index: lunr.Index | LexicalSearcher;
  file: string;
}

/**
 * The bundle's lexical index: a Lunr scheme's one file read and parsed now; the chunked scheme's
 * dictionary read now, its chunks when a query needs them and its word list when a query has a
 * word no document holds (LexicalRanker.prepare).
 */
export async function openLexicalIndex(manifest: IndexManifest, read: ReadLexicalFile, readMember: ReadSetMember): Promise<OpenedLexical> {
  const scheme = manifest.lexical?.scheme;
  if (!isLexicalScheme(scheme)) throw new Error(`manifest.json: lexical.scheme ${JSON.stringify(scheme)} is not one this version reads`);
  const entries = new Map(manifest.files.filter((e) => e.kind === 'lexical').map((e) => [e.path, e]));
  if (scheme !== LEXICAL_SCHEME_CHUNKED) {
    const entry = [...entries.values()][0];
    return { scheme, index: loadLexicalIndex(await read(entry), entry.path), file: entry.path };
  }
  const path = manifest.lexical!.raw.dictionary;
  const entry = typeof path === 'string' ? entries.get(path) : undefined;
  if (!entry) throw new Error(`manifest.json: lexical.dictionary ${JSON.stringify(path)} is not a file of kind "lexical"`);
  const chunks = readLexicalChunkSet(manifest.lexical!.raw, 'manifest.json');
  const dictionary = parseLexicalDictionary(await read(entry), entry.path, chunks);
  // The word list (typo tolerance) is optional: bundles written before 2026-12-04 have none.
  const wordsPath = manifest.lexical!.raw.words;
  const words = wordsPath === undefined ? undefined : typeof wordsPath === 'string' ? entries.get(wordsPath) : undefined;
  if (wordsPath !== undefined && !words) throw new Error(`manifest.json: lexical.words ${JSON.stringify(wordsPath)} is not a file of kind "lexical"`);
  const index = new ChunkedLexicalIndex(dictionary, (j) => readMember(chunks, j), words && (() => read(words)), words?.path);
  return { scheme, index, file: entry.path };
}

/** openLexicalIndex, ranking the bundle's documents. */
export async function openLexicalRanker(
  manifest: IndexManifest,
  docs: DocMetadata[],
  groups: DocumentGroups,
  read: ReadLexicalFile,
  readMember: ReadSetMember,
): Promise<LexicalRanker> {
  const { index, scheme, file } = await openLexicalIndex(manifest, read, readMember);
  return new LexicalRanker(index, scheme, docs, groups, file);
}
