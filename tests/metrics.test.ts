// trec_eval's definitions, checked on rankings small enough to compute by hand.
import { describe, expect, it } from 'vitest';
import { evaluate, parseQrels, queryMetrics, trecRunLines } from '../src/core/metrics.ts';

const judged = new Map([
  ['a', 3],
  ['b', 0],
  ['c', 1],
  ['d', 2],
]);

describe('queryMetrics (hand-computed)', () => {
  it('graded nDCG@10, MRR@10, recall@100 and AP on a short ranking', () => {
    // ranking: b (judged 0), a (3), x (unjudged), c (1); d (2) is never retrieved
    const m = queryMetrics(['b', 'a', 'x', 'c'], judged);
    const dcg = 3 / Math.log2(3) + 1 / Math.log2(5);
    const idcg = 3 / Math.log2(2) + 2 / Math.log2(3) + 1 / Math.log2(4);
    expect(m['ndcg@10']).toBeCloseTo(dcg / idcg, 12); // 0.48794…
    expect(m['ndcg@10']).toBeCloseTo(0.487937, 5);
    expect(m['mrr@10']).toBe(1 / 2);
    expect(m['recall@100']).toBeCloseTo(2 / 3, 12);
    expect(m.map).toBeCloseTo((1 / 2 + 2 / 4) / 3, 12); // relevant at ranks 2 and 4, 3 relevant in all
  });

  it('a perfect ranking scores 1 everywhere', () => {
    const m = queryMetrics(['a', 'd', 'c'], judged);
    expect(m).toEqual({ 'ndcg@10': 1, 'mrr@10': 1, 'recall@100': 1, map: 1 });
  });

  it('cuts at 10 for nDCG and MRR and at 100 for recall; AP uses the whole ranking', () => {
    const filler = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`);
    const m = queryMetrics([...filler(10, 'x'), 'a', ...filler(89, 'y'), 'c', 'd'], judged);
    expect(m['ndcg@10']).toBe(0);
    expect(m['mrr@10']).toBe(0);
    // a at rank 11, c at rank 101 (outside the top 100), d at 102
    expect(m['recall@100']).toBeCloseTo(1 / 3, 12);
    expect(m.map).toBeCloseTo((1 / 11 + 2 / 101 + 3 / 102) / 3, 12);
  });

  it('counts a repeated document once (the first time)', () => {
    expect(queryMetrics(['a', 'a', 'c'], judged)).toEqual(queryMetrics(['a', 'c'], judged));
  });

  it('judgments of 0 or below are not relevant and gain nothing', () => {
    const neg = new Map([
      ['a', -1],
      ['b', 0],
    ]);
    expect(queryMetrics(['a', 'b'], neg)).toEqual({ 'ndcg@10': 0, 'mrr@10': 0, 'recall@100': 0, map: 0 });
  });
});

describe('evaluate', () => {
  it('skips queries without judgments and averages the rest', () => {
    const qrels = new Map([
      ['1', judged],
      ['2', new Map([['z', 1]])],
    ]);
    const runs = new Map([
      ['1', ['a', 'd', 'c']],
      ['2', ['q', 'z']],
      ['3', ['a']], // not judged: skipped
    ]);
    const r = evaluate(runs, qrels);
    expect(r.queries).toBe(2);
    expect(r.skipped).toEqual(['3']);
    expect(r.mean['mrr@10']).toBeCloseTo((1 + 1 / 2) / 2, 12);
    expect(r.mean.map).toBeCloseTo((1 + 1 / 2) / 2, 12);
    expect(r.perQuery['2']['ndcg@10']).toBeCloseTo(1 / Math.log2(3), 12);
  });
});

describe('parseQrels', () => {
  it('reads TREC 4-column and BEIR 3-column (with header) judgments', () => {
    const trec = parseQrels('1 0 d1 2\n1 0 d2 0\n2 0 d9 1\n', 'q.txt');
    expect(trec.get('1')).toEqual(
      new Map([
        ['d1', 2],
        ['d2', 0],
      ]),
    );
    const beir = parseQrels('query-id\tcorpus-id\tscore\n1\td1\t2\n', 'q.tsv');
    expect(beir.get('1')!.get('d1')).toBe(2);
  });

  it('names file:line of a malformed judgment', () => {
    expect(() => parseQrels('1 0 d1 2\n1 0 d2 1\n1 d2 x y z\n', 'q.txt')).toThrow(/q\.txt:3: expected/);
    expect(() => parseQrels('1 0 d1 high\n', 'q.txt')).toThrow(/q\.txt:1: relevance must be an integer/);
  });
});

it('writes TREC run lines: qid Q0 docid rank score tag', () => {
  expect(
    trecRunLines(
      '7',
      [
        { id: 'd3', score: 2.5 },
        { id: 'd1', score: 1 },
      ],
      'run',
    ),
  ).toBe('7 Q0 d3 1 2.5 run\n7 Q0 d1 2 1 run\n');
});
