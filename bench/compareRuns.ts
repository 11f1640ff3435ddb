// Two TREC run files (`eval --run`) compared query by query: how many queries have the same ranked
// ids, and the largest score difference over documents both rank. One JSON line:
//   npx tsx bench/compareRuns.ts <oracle run> <other run>
// E.g. the browser engine against the Float64 reference on a dense bundle (README, "Bring your own
// encoder"): eval --engine node --scorer reference --run a.txt; eval --engine browser --run b.txt.
import { readFileSync } from 'node:fs';

function readRun(file: string): Map<string, { id: string; score: number }[]> {
  const runs = new Map<string, { id: string; score: number }[]>();
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    if (!line.trim()) continue;
    const f = line.trim().split(/\s+/);
    if (f.length !== 6 || !Number.isFinite(Number(f[4]))) throw new Error(`${file}:${i + 1}: not a TREC run line (qid Q0 docid rank score tag)`);
    const list = runs.get(f[0]) ?? [];
    list.push({ id: f[2], score: Number(f[4]) });
    runs.set(f[0], list);
  }
  return runs;
}

const [oracleFile, otherFile] = process.argv.slice(2);
if (!oracleFile || !otherFile) throw new Error('usage: compareRuns.ts <oracle run> <other run>');
const oracle = readRun(oracleFile);
const other = readRun(otherFile);
let identical = 0;
let maxDiff = 0;
const differing: string[] = [];
for (const [q, want] of oracle) {
  const got = other.get(q) ?? [];
  const same = got.length === want.length && got.every((h, i) => h.id === want[i].id);
  if (same) identical++;
  else differing.push(q);
  const scores = new Map(want.map((h) => [h.id, h.score]));
  for (const h of got) if (scores.has(h.id)) maxDiff = Math.max(maxDiff, Math.abs(h.score - scores.get(h.id)!));
}
console.log(
  JSON.stringify({ oracle: oracleFile, other: otherFile, queries: oracle.size, identical_ranking: identical, differing, max_abs_score_diff: maxDiff }),
);
