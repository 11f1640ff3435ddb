// The browser engine's passage records fetched per hit (src/worker/documentTexts.ts): each document's
// fragment once, and the metadata shards instead only when a fragment cannot be had (offline with a
// copy that holds the shards), never when one fails its verification.
import { describe, expect, it } from 'vitest';
import { SourceError, type DocMetadata } from '../src/core/formats/index.ts';
import { documentGroups } from '../src/core/ranking.ts';
import { DocumentTexts } from '../src/worker/documentTexts.ts';

const docs: DocMetadata[] = [
  { id: 'a#p0', title: 'A', url: '', text: 'first part', fields: { passage_of: 'a', passage: 0 } },
  { id: 'a#p1', title: 'A', url: '', text: 'second part', fields: { passage_of: 'a', passage: 1 } },
  { id: 'b', title: 'B', url: '', text: 'other', fields: {} },
];
const groups = documentGroups(docs);
const fragment = (j: number) => new Map(groups.passages[j].map((p) => [p, docs[p]]));

describe('DocumentTexts', () => {
  it('fetches each shown document once, and only those', async () => {
    const asked: number[] = [];
    const t = DocumentTexts.perDocument(groups, docs.length, async (j) => (asked.push(j), fragment(j)));
    await Promise.all([t.ensure([1]), t.ensure([1])]);
    await t.ensure([1]);
    expect(asked).toEqual([1]);
    expect(t.docs[2]).toEqual(docs[2]);
    expect(t.docs[0]).toBeUndefined();
  });

  it('an unreachable fragment falls back to the metadata shards; a refused one is an error', async () => {
    let whole = 0;
    const offline = DocumentTexts.perDocument(
      groups,
      docs.length,
      async () => {
        throw new SourceError('documents/fragments/00000.bin: could not fetch (offline)');
      },
      async () => (whole++, docs),
    );
    await offline.ensure([0]);
    expect(offline.docs).toEqual(docs);
    await offline.ensure([1]);
    expect(whole).toBe(1);
    const tampered = DocumentTexts.perDocument(
      groups,
      docs.length,
      async () => {
        throw new Error('documents/fragments/00000.bin: SHA-256 mismatch');
      },
      async () => docs,
    );
    await expect(tampered.ensure([0])).rejects.toThrow(/SHA-256 mismatch/);
  });
});
