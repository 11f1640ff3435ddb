// Retrieval metrics as trec_eval computes them (trec_eval 9.x, default relevance level 1):
// - ndcg@10 (ndcg_cut_10): gain = the judged relevance (graded; judgments ≤ 0 gain nothing),
//   discount log2(rank + 1); ideal DCG from all judged documents of the query sorted by gain;
// - mrr@10 (recip_rank over the top 10): 1 / rank of the first relevant document (rel ≥ 1), else 0;
// - recall@100 (recall_100): relevant documents in the top 100 / all relevant documents;
// - map: mean over relevant documents of precision at each one's rank (unretrieved ones add 0).
// Queries without any judgment are skipped (as trec_eval does for queries absent from the qrels);
// a judged query with no relevant document scores 0. Rankings are taken in the order given (rank 1
// first); trec_eval itself re-sorts a run file by score, so a run file written by us lists
// strictly decreasing scores wherever ranks differ... except exact ties, which it orders by docno.

/** qid → docid → relevance. */
export type Qrels = Map<string, Map<string, number>>;

export interface QueryMetrics {
  'ndcg@10': number;
  'mrr@10': number;
  'recall@100': number;
  map: number;
}

export const METRIC_NAMES = ['ndcg@10', 'mrr@10', 'recall@100', 'map'] as const;

/** Metrics of one ranking (doc ids, best first; duplicates after the first are ignored). */
export function queryMetrics(ranking: string[], judged: Map<string, number>): QueryMetrics {
  const seen = new Set<string>();
  const ranked = ranking.filter((d) => (seen.has(d) ? false : (seen.add(d), true)));
  const rel = (d: string) => judged.get(d) ?? 0;
  const numRel = [...judged.values()].filter((r) => r >= 1).length;

  let dcg = 0;
  for (let i = 0; i < Math.min(10, ranked.length); i++) {
    const g = rel(ranked[i]);
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  const ideal = [...judged.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(10, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);

  let rr = 0;
  for (let i = 0; i < Math.min(10, ranked.length); i++) {
    if (rel(ranked[i]) >= 1) {
      rr = 1 / (i + 1);
      break;
    }
  }

  let relIn100 = 0;
  for (let i = 0; i < Math.min(100, ranked.length); i++) if (rel(ranked[i]) >= 1) relIn100++;

  let found = 0;
  let sumPrec = 0;
  for (let i = 0; i < ranked.length; i++) {
    if (rel(ranked[i]) >= 1) {
      found++;
      sumPrec += found / (i + 1);
    }
  }
  return {
    'ndcg@10': idcg > 0 ? dcg / idcg : 0,
    'mrr@10': rr,
    'recall@100': numRel > 0 ? relIn100 / numRel : 0,
    map: numRel > 0 ? sumPrec / numRel : 0,
  };
}

export interface EvalResult {
  queries: number;
  mean: QueryMetrics;
  perQuery: Record<string, QueryMetrics>;
  /** Query ids with a ranking but no judgments (skipped). */
  skipped: string[];
}

/** Means over the judged queries; a judged query missing from `runs` counts with an empty ranking. */
export function evaluate(runs: Map<string, string[]>, qrels: Qrels): EvalResult {
  const perQuery: Record<string, QueryMetrics> = {};
  const sum: QueryMetrics = { 'ndcg@10': 0, 'mrr@10': 0, 'recall@100': 0, map: 0 };
  const skipped = [...runs.keys()].filter((q) => !qrels.has(q));
  let n = 0;
  for (const [qid, judged] of qrels) {
    if (!runs.has(qid)) continue;
    const m = queryMetrics(runs.get(qid)!, judged);
    perQuery[qid] = m;
    for (const k of METRIC_NAMES) sum[k] += m[k];
    n++;
  }
  const mean = Object.fromEntries(METRIC_NAMES.map((k) => [k, n > 0 ? sum[k] / n : 0])) as unknown as QueryMetrics;
  return { queries: n, mean, perQuery, skipped };
}

/**
 * qrels text: TREC `qid iter docid rel` (4 columns) or BEIR `qid docid rel` (3 columns, a header
 * line `query-id corpus-id score` allowed), separated by spaces or tabs. Errors name file:line.
 */
export function parseQrels(text: string, file: string): Qrels {
  const qrels: Qrels = new Map();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const cols = line.split(/\s+/);
    if (i === 0 && cols.length === 3 && !/^-?\d+$/.test(cols[2])) continue; // header
    if (cols.length !== 3 && cols.length !== 4)
      throw new Error(`${file}:${i + 1}: expected "qid iter docid rel" or "qid docid rel", got ${cols.length} columns`);
    const [qid, docid, r] = cols.length === 4 ? [cols[0], cols[2], cols[3]] : [cols[0], cols[1], cols[2]];
    const rel = Number(r);
    if (!Number.isInteger(rel)) throw new Error(`${file}:${i + 1}: relevance must be an integer, got ${JSON.stringify(r)}`);
    let m = qrels.get(qid);
    if (!m) {
      m = new Map();
      qrels.set(qid, m);
    }
    m.set(docid, rel);
  }
  if (qrels.size === 0) throw new Error(`${file}: holds no judgments`);
  return qrels;
}

/** One line of a TREC run file: `qid Q0 docid rank score tag`. */
export function trecRunLines(qid: string, hits: { id: string; score: number }[], tag: string): string {
  return hits.map((h, i) => `${qid} Q0 ${h.id} ${i + 1} ${h.score} ${tag}\n`).join('');
}
