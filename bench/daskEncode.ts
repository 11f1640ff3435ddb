// Encoding throughput of `index` on one machine against `index --dask local:N`, and whether the
// bundles are byte-identical. One JSON line per run, then one comparing them:
//   npx tsx bench/daskEncode.ts --input data/demo/corpus.jsonl [--workers 2] [--model models/default] [--tile-docs 4096]
// Each run is the CLI as a user runs it (bin/hypencoder-web.js index --json), into a temporary
// folder removed afterwards. Run it on an idle machine: the runs take every core.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: o } = parseArgs({
  options: {
    input: { type: 'string' },
    workers: { type: 'string', default: '2' },
    model: { type: 'string' },
    'tile-docs': { type: 'string', default: '4096' },
  },
});
if (!o.input) throw new Error('--input <jsonl file or folder> is required');
const BIN = fileURLToPath(new URL('../bin/hypencoder-web.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'bench-dask-'));

function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel)).flatMap((f) => {
    const r = path.join(rel, f);
    return statSync(path.join(dir, r)).isDirectory() ? files(dir, r) : [r];
  });
}

function index(name: string, extra: string[]) {
  const out = path.join(work, name);
  const args = [BIN, 'index', o.input!, '--out', out, '--tile-docs', o['tile-docs']!, '--json', '-q', ...extra];
  if (o.model) args.push('--model', o.model);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
  const s = JSON.parse(r.stdout);
  const row = {
    run: name,
    passages: s.passages.passages,
    tiles: s.tiles,
    encode_s: +s.encodeSeconds.toFixed(2),
    passages_per_s: +s.passagesPerSecond.toFixed(1),
    total_s: +((Date.now() - t0) / 1000).toFixed(2),
    dask: s.dask,
  };
  console.log(JSON.stringify(row));
  return { out, row };
}

try {
  const single = index('single', []);
  const dask = index(`dask-local-${o.workers}`, ['--dask', `local:${o.workers}`]);
  const a = files(single.out).sort();
  const b = files(dask.out).sort();
  const identical =
    a.length === b.length && a.every((f, i) => f === b[i] && readFileSync(path.join(single.out, f)).equals(readFileSync(path.join(dask.out, f))));
  console.log(
    JSON.stringify({
      compare: `single vs dask local:${o.workers}`,
      byte_identical: identical,
      files: a.length,
      encode_ratio: +(dask.row.encode_s / single.row.encode_s).toFixed(3),
      total_ratio: +(dask.row.total_s / single.row.total_s).toFixed(3),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
