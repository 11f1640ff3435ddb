// Stage 4, graph: the neighbor graph over the vectors as stored (what a client decodes, not the
// float32 originals), and the entry points for approximate search (--locality's, or --entry-points
// k-means centers). Skipped with --no-graph.
import { performance } from 'node:perf_hooks';
import { chooseEntryPoints } from '../../core/graphBuild.ts';
import { decodeTiles } from '../../core/vectorStorage.ts';
import { buildNeighborGraph } from '../annGraph.ts';
import type { WriteIndexInput } from '../writeIndex.ts';
import type { IndexJob, IndexSummary } from './job.ts';
import type { Stored } from './store.ts';

export interface Graph {
  graph?: WriteIndexInput['graph'];
  info: IndexSummary['graph'];
}

export function buildGraph(job: IndexJob, stored: Stored): Graph {
  if (job.opts.graph === false) return { info: null };
  const g0 = performance.now();
  const { dim } = job;
  const n = stored.passages.length;
  const vectors = decodeTiles(stored.tiles);
  const g = buildNeighborGraph(vectors, n, dim, job.graphDegree, job.opts.graphMethod ?? 'auto');
  const graph: NonNullable<Graph['graph']> = { degree: g.degree, shards: [g.rows] };
  if (stored.layoutEntries) graph.entryPoints = stored.layoutEntries;
  else if (job.opts.entryPoints) graph.entryPoints = chooseEntryPoints(vectors, n, dim, job.opts.entryPoints);
  const info: NonNullable<Graph['info']> = { degree: g.degree, method: g.method, seconds: (performance.now() - g0) / 1000 };
  if (graph.entryPoints) info.entryPoints = graph.entryPoints.length;
  job.log(
    `neighbor graph: ${g.degree} neighbors per passage, ${g.method}, ${info.seconds.toFixed(1)} s${graph.entryPoints ? `, ${graph.entryPoints.length} entry points` : ''}`,
  );
  return { graph, info };
}
