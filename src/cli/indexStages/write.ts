// Stage 6, write: the bundle written to a temporary folder and renamed into place
// (writeIndexBundle: manifest, tiles, metadata, graph, lexical index, chunk hashes), the work
// folder removed, and the run's summary.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeIndexBundle } from '../writeIndex.ts';
import { type Encoded, discardWork } from './encode.ts';
import type { Graph } from './graph.ts';
import type { Ingested } from './ingest.ts';
import type { IndexJob, IndexSummary } from './job.ts';
import type { Stored } from './store.ts';
import type { WriteIndexInput } from '../writeIndex.ts';

export interface Built {
  ingested: Ingested;
  encoded: Encoded;
  stored: Stored;
  graph: Graph;
  lexical: WriteIndexInput['lexical'];
}

/** Bytes of every file under a folder. */
export function dirSize(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return n;
}

export async function writeBundle(job: IndexJob, { ingested, encoded, stored, graph, lexical }: Built): Promise<IndexSummary> {
  const { opts, out, dtype } = job;
  await writeIndexBundle(out, {
    manifestFields: { model: { id: job.model.id, sha256: job.modelJsonSha256 }, tileDocs: job.tileDocs },
    tiles: stored.tiles,
    metadata: stored.metadata,
    graph: graph.graph,
    lexical,
    ...(stored.facets ? { facets: stored.facets } : {}),
    force: opts.force,
    output: { flag: '--out', inputs: [job.input], log: job.log },
    ...(opts.chunkDocs ? { chunkDocs: opts.chunkDocs } : {}),
  });
  await discardWork(encoded);

  const n = stored.passages.length;
  const stats = ingested.stats;
  const bundleBytes = dirSize(out);
  const summary = indexSummary(job, ingested, encoded, {
    out,
    bundleBytes,
    passages: n,
    graph: graph.info,
    locality: stored.locality,
    lexical: lexical ? { scheme: lexical.descriptor.scheme, bytes: lexical.files.reduce((n, f) => n + f.data.byteLength, 0) } : null,
  });
  const long = stats.longDocuments ? `; ${stats.longDocuments} long documents ${opts.long === 'truncate' ? 'truncated' : 'split'}` : '';
  job.log(
    `wrote ${opts.out}: ${n} passages of ${stats.documents} documents, ${dtype}, ${encoded.tiles} tile(s), ${(bundleBytes / 1e6).toFixed(2)} MB (${Math.round(bundleBytes / n)} bytes/passage); ` +
      `encoded ${encoded.encodedPassages} passages in ${encoded.seconds.toFixed(1)} s (${summary.passagesPerSecond.toFixed(1)}/s); total ${summary.totalSeconds.toFixed(1)} s${long}`,
  );
  return summary;
}

/** The summary `index` prints (--json), from what the stages returned; one bundle or a shard set. */
export function indexSummary(
  job: IndexJob,
  ingested: Ingested,
  encoded: Encoded,
  written: Pick<IndexSummary, 'out' | 'bundleBytes' | 'graph' | 'locality' | 'lexical'> & { passages: number },
): IndexSummary {
  return {
    out: written.out,
    model: job.model.id,
    input: ingested.input,
    passages: ingested.stats,
    dtype: job.dtype,
    dim: job.dim,
    tiles: encoded.tiles,
    resumedTiles: encoded.resumedTiles,
    encodedPassages: encoded.encodedPassages,
    encodeSeconds: encoded.seconds,
    passagesPerSecond: encoded.encodedPassages > 0 ? encoded.encodedPassages / encoded.seconds : 0,
    totalSeconds: (performance.now() - job.startedAt) / 1000,
    graph: written.graph,
    locality: written.locality,
    chunkDocs: job.opts.chunkDocs ?? null,
    lexical: written.lexical,
    bundleBytes: written.bundleBytes,
    bytesPerPassage: written.bundleBytes / written.passages,
    threads: job.threads ?? 0,
    dask: encoded.dask,
  };
}
