// Stage 3, store: what the bundle holds per passage. With --locality the passages are first put in
// locality order (entry points first, then each k-means leaf's passages together), and everything
// after (vector tiles, metadata, graph, lexical refs) follows that order, so the bundle is an
// ordinary bundle whose passage numbers follow the layout. Then the vectors in the storage dtype,
// tile by tile, and the metadata records in shards of a few MB.
import { performance } from 'node:perf_hooks';
import { collectFacets } from '../../core/facets.ts';
import { InputError } from '../../core/ingest/utf8.ts';
import { CliError } from '../errors.ts';
import { localityLayout, permuteVectors } from '../../core/graphBuild.ts';
import type { Passage } from '../../core/ingest/passages.ts';
import { type EncodedVectors, encodeVectors, int8Absmax } from '../../core/vectorStorage.ts';
import type { Encoded } from './encode.ts';
import { type IndexJob, type IndexSummary, tileRange } from './job.ts';

/** Metadata shards close at about this many bytes of JSON (a few MB: the first results show quickly). */
const METADATA_SHARD_BYTES = 4 << 20;

export interface Stored {
  /** In stored order. */
  passages: Passage[];
  tiles: EncodedVectors[];
  metadata: object[][];
  /** The documents' filters and sort keys, numbered in stored order (none when no document has any). */
  facets?: ReturnType<typeof collectFacets>;
  locality: IndexSummary['locality'];
  /** --locality: passages 0 … E−1 are the entry points. */
  layoutEntries?: Uint32Array;
}

/** Entry points when --locality is given without --entry-points: about sqrt(n), 16 … 4096. */
export function defaultEntryPoints(n: number): number {
  return Math.min(4096, Math.max(16, Math.round(Math.sqrt(n))));
}

export function storePassages(job: IndexJob, passages: Passage[], encoded: Encoded): Stored {
  const { dim, dtype } = job;
  const n = passages.length;
  let vectors = encoded.vectors;
  let locality: Stored['locality'] = null;
  let layoutEntries: Uint32Array | undefined;
  if (job.opts.locality) {
    const l0 = performance.now();
    const layout = localityLayout(vectors, n, dim, job.opts.entryPoints || defaultEntryPoints(n), 1);
    vectors = permuteVectors(vectors, n, dim, layout.order);
    passages = Array.from(layout.order, (i) => passages[i]);
    layoutEntries = layout.entryPoints;
    locality = { leaves: layout.leaves, entryPoints: layout.entryPoints.length, seconds: (performance.now() - l0) / 1000 };
    job.log(`locality order: ${layout.entryPoints.length} entry points first, then ${layout.leaves} k-means leaves, ${locality.seconds.toFixed(1)} s`);
  }
  const absmax = dtype === 'int8' ? int8Absmax(vectors, n, dim) : undefined;
  const tiles: EncodedVectors[] = [];
  for (let t = 0; t < encoded.tiles; t++) {
    const [a, b] = tileRange(job, t, n);
    tiles.push(encodeVectors(vectors.subarray(a * dim, b * dim), b - a, dim, dtype, absmax));
  }
  let facets: Stored['facets'];
  try {
    facets = passages.some((p) => p.facets) ? collectFacets(passages) : undefined;
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, 2);
    throw e;
  }
  return { passages, tiles, metadata: shardMetadata(passages), ...(facets ? { facets } : {}), locality, ...(layoutEntries ? { layoutEntries } : {}) };
}

/** The passages' metadata records in shards of about METADATA_SHARD_BYTES. */
export function shardMetadata(passages: Passage[]): object[][] {
  const shards: object[][] = [];
  let cur: object[] = [];
  let bytes = 0;
  for (const p of passages) {
    const rec: Record<string, unknown> = { id: p.id, title: p.title, url: p.url, text: p.text };
    if (p.fields) rec.fields = p.fields;
    const size = JSON.stringify(rec).length + 1;
    if (cur.length > 0 && bytes + size > METADATA_SHARD_BYTES) {
      shards.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(rec);
    bytes += size;
  }
  shards.push(cur);
  return shards;
}
