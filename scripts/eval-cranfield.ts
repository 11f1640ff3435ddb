// Evaluates a model bundle on Cranfield (../shared/data/cranfield, evaluation only) in the three modes:
// indexes the corpus into a temporary folder with `hypencoder-web index`, then runs `hypencoder-web eval`
// per mode and prints one JSON object per mode (nDCG@10, MRR@10, recall@100, MAP) and, with --table,
// a Markdown table. Usage: node --import tsx scripts/eval-cranfield.ts [--model models/default] [--table] [--keep DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'models', 'default') },
    data: { type: 'string', default: join(root, '..', 'shared', 'data', 'cranfield') },
    table: { type: 'boolean', default: false },
    keep: { type: 'string' },
    modes: { type: 'string', default: 'lexical,neural,hybrid' },
  },
});
for (const f of ['corpus.jsonl', 'queries.jsonl', 'qrels.tsv']) {
  if (!existsSync(join(opt.data, f))) {
    console.error(`eval-cranfield: ${join(opt.data, f)} is missing (pass --data <cranfield dir>)`);
    process.exit(2);
  }
}
const cli = (args: string[]): string => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'hypencoder-web.js'), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) {
    console.error(r.stderr || r.stdout);
    process.exit(r.status ?? 1);
  }
  return r.stdout;
};
const work = opt.keep ?? mkdtempSync(join(tmpdir(), 'cranfield-'));
const index = join(work, 'index');
try {
  const t0 = Date.now();
  if (!existsSync(join(index, 'manifest.json'))) cli(['index', join(opt.data, 'corpus.jsonl'), '--model', opt.model, '--out', index, '--force']);
  const indexSeconds = (Date.now() - t0) / 1000;
  const rows: Record<string, string | number>[] = [];
  for (const mode of opt.modes.split(',')) {
    const out = JSON.parse(
      cli([
        'eval',
        '--index',
        index,
        '--model',
        opt.model,
        '--queries',
        join(opt.data, 'queries.jsonl'),
        '--qrels',
        join(opt.data, 'qrels.tsv'),
        '--mode',
        mode,
        '--json',
      ]),
    );
    const metrics = Object.fromEntries(Object.entries(out).filter(([k, v]) => typeof v === 'number' && k !== 'queries' && k !== 'k'));
    const row: Record<string, string | number> = {
      data: 'cranfield',
      mode,
      model: opt.model.replace(`${root}/`, ''),
      ...metrics,
      queries: out.queries,
      engine: out.engine,
      index_seconds: indexSeconds,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  if (opt.table) {
    const keys = Object.keys(rows[0]).filter((k) => typeof rows[0][k] === 'number' && k !== 'index_seconds' && k !== 'queries');
    console.log(`\n| mode | ${keys.join(' | ')} |\n|---|${keys.map(() => '---').join('|')}|`);
    for (const r of rows)
      console.log(
        `| ${r.mode} | ${keys
          .map((k) => {
            const v = r[k];
            return typeof v === 'number' ? v.toFixed(4) : '';
          })
          .join(' | ')} |`,
      );
  }
} finally {
  if (!opt.keep) rmSync(work, { recursive: true, force: true });
}
