// Approximate vs exhaustive q-net search on the GPU, in headless Chromium (WebGPU):
//   npx tsx bench/benchScaleBrowser.ts [--json] [--n 10000,100000,1000000] [--make] [options]
// For each N it serves an index bundle and opens bench/pages/scale.html. The data: bench/benchScale.ts's
// cached dataset for N (bench-results/scale-cache/: its locality layout, k-means entry points and hnsw0
// graph) turned into a bundle under public/generated/scale-cache-nN (bench/scaleIndex.ts
// --from-cache), so these rows and the Node rows share data and q-nets (seeds 50000 + q); without that
// cache, public/generated/scale-N (--make builds it: bench/scaleIndex.ts), or --bundle. Engines:
//   gpu-exhaustive — QNetScorer, every document scored, top k on the GPU;
//   gpu-graph      — the graph walk (core's graphSearch) with the gather scorer, index resident;
//                    cold_* fields: the same walk on a lazily loaded copy with an empty IndexedDB
//                    store, every chunk over HTTP Range requests (network bytes counted, manifest included).
// stdout: JSON lines (one per engine/variant and N) with --json, else a table; stderr: progress.
// bench/benchScale.ts --browser calls this for its GPU rows.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf, openBenchSession, stackOf } from './benchPage.ts';
import { integer, integers, parseFlags } from './options.ts';
import type { ApproxRow, ColdRow, ExhaustiveRow, WalkParams } from './pages/scale.ts';
import { mean, median } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npx tsx bench/benchScaleBrowser.ts [options]
  --json               JSON lines on stdout (default: a table)
  --n LIST             document counts (default 10000,100000,1000000)
  --bundle DIR         one bundle folder under public/ (holding model/ and index/) instead of --n
  --make               build a missing own scale-N bundle (when benchScale.ts has no cached dataset)
  --cache DIR          benchScale.ts's dataset cache (default bench-results/scale-cache)
  --entries E          which cached dataset: its entry-point count (default as benchScale.ts: sqrt(N) in 64..2048)
  --queries Q          q-nets per N (default 5; seeds 50000 .. 50000+Q-1, as benchScale.ts; one more warms up)
  --cold C             cold-cache lazy queries per variant (default 2, the first C seeds)
  --k K                top k (default 10)
  --beam B             documents expanded per round (default 8); --beams LIST for several (one row each)
  --pools LIST         best-first pool sizes, one gpu-graph row each (default 128,512)
  --paper-walk         also the paper's round-local walk (strategy paper, beam B, 64 rounds)
  --max-batch M        gather scorer batch (default 8192)
  --resident-mb MB     cold queries keep document rows in a paged GPU pool of this size (default: all rows)
  --no-exhaustive      skip the exhaustive scorer (no recall)
  --port P             Vite port (default: a free one)`;

interface Options {
  json: boolean;
  n: number[];
  bundle: string | null;
  make: boolean;
  cache: string;
  queries: number;
  cold: number;
  k: number;
  beam: number;
  beams?: number[];
  pools: number[];
  paperWalk: boolean;
  entries: number | null;
  residentMb: number | null;
  maxBatch: number;
  exhaustive: boolean;
  port: number;
}

function parseArgs(argv: string[]): Options {
  const f = parseFlags(
    argv,
    {
      strings: ['n', 'bundle', 'cache', 'entries', 'queries', 'cold', 'k', 'beam', 'beams', 'pools', 'max-batch', 'resident-mb', 'port'],
      booleans: ['json', 'make', 'paper-walk', 'no-exhaustive'],
    },
    USAGE,
  );
  /** An integer ≥ 0 of flag `name`, or `fallback` without it. */
  const int = <T>(name: keyof typeof f, fallback: T) => {
    const v = f[name];
    return typeof v === 'string' ? integer(`--${name}`, v, 0) : fallback;
  };
  const o: Options = {
    json: f.json ?? false,
    n: f.n ? integers('--n', f.n) : [10000, 100000, 1000000],
    bundle: f.bundle ?? null,
    make: f.make ?? false,
    cache: resolve(f.cache ?? resolve(root, 'bench-results/scale-cache')),
    queries: int('queries', 5),
    cold: int('cold', 2),
    k: int('k', 10),
    beam: int('beam', 8),
    beams: f.beams ? integers('--beams', f.beams) : undefined,
    pools: f.pools ? integers('--pools', f.pools) : [128, 512],
    paperWalk: f['paper-walk'] ?? false,
    entries: int('entries', null),
    residentMb: int('resident-mb', null),
    maxBatch: int('max-batch', 8192),
    exhaustive: !f['no-exhaustive'],
    port: int('port', 0),
  };
  if (o.cold > o.queries) throw new Error('--cold must not exceed --queries');
  return o;
}

const err = (msg: string) => process.stderr.write(`${msg}\n`);
const r3 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : v);
const r4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v);

/** One output row (a JSON line). */
type Line = Record<string, unknown> & { N: number; mode: string; variant: string; k: number };

/** benchScale.ts's cached dataset for N (its default d, spread and entry count), as a bundle; else our own. */
function ensureBundle(n: number, o: Options): { dir: string; data: string } {
  const entries = o.entries ?? Math.min(2048, Math.max(64, Math.round(Math.sqrt(n))));
  const cached = resolve(o.cache, `synthetic-n${n}-d100-s0.3-0.8-e${entries}-f16`);
  if (existsSync(resolve(cached, 'graph-hnsw0-32.u32')) && existsSync(resolve(cached, 'entries.u32'))) {
    const dir = resolve(root, `public/generated/scale-cache-n${n}-e${entries}`);
    if (!existsSync(resolve(dir, 'index/manifest.json'))) {
      err(`bench-scale-browser: bundling ${relative(root, cached)} → ${relative(root, dir)} …`);
      const r = spawnSync('npx', ['tsx', 'bench/scaleIndex.ts', '--from-cache', cached, dir], { cwd: root, stdio: ['ignore', 2, 2] });
      if (r.status !== 0) throw new Error(`scaleIndex --from-cache failed for N=${n}`);
    }
    return { dir, data: `bench-scale cache ${relative(root, cached)}` };
  }
  const dir = resolve(root, `public/generated/scale-${n}`);
  if (existsSync(resolve(dir, 'index/manifest.json'))) return { dir, data: 'scaleIndex clustered (sqrt(N) clusters, spread 0.7, HNSW k-NN graph)' };
  if (!o.make)
    throw new Error(
      `no dataset for N=${n}: neither ${relative(root, cached)} (run npm run bench:scale -- --n ${n}) nor ${relative(root, dir)} (run with --make)`,
    );
  err(`bench-scale-browser: building ${relative(root, dir)} …`);
  const r = spawnSync('npx', ['tsx', 'bench/scaleIndex.ts', dir, '--n', String(n)], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`scaleIndex failed for N=${n}`);
  return { dir, data: 'scaleIndex clustered (sqrt(N) clusters, spread 0.7, HNSW k-NN graph)' };
}

function table(line: Line): string {
  const f = (v: unknown) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v));
  return `N=${line.N} ${line.mode.padEnd(15)} ${line.variant.padEnd(20)} recall@${line.k}=${f(line.recall_at_10)} scored_share=${f(line.scored_share)} latency_ms=${f(line.latency_ms)}${line.latency_ratio_vs_exhaustive !== undefined ? ` ratio=${f(line.latency_ratio_vs_exhaustive)}` : ''}${line.cold_bytes_share !== undefined ? ` cold_bytes_share=${f(line.cold_bytes_share)}` : ''} gpu_bytes=${f(line.gpu_bytes)}`;
}

async function main() {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    err(`bench-scale-browser: ${messageOf(e)}`);
    process.exit(2);
  }
  let failed = false;
  let session: Awaited<ReturnType<typeof openBenchSession>> | undefined;
  try {
    const bundle = opts.bundle;
    const bundles = bundle ? [{ dir: resolve(root, 'public', bundle), data: bundle }] : opts.n.map((n) => ensureBundle(n, opts));
    session = await openBenchSession(opts.port, (msg) => err(msg.startsWith('[') ? msg : `bench-scale-browser: ${msg}`));
    const { base, page } = session;
    page.setDefaultTimeout(0);
    // Vite may discover and pre-bundle a dependency on first load and then ask for a reload, which
    // with HMR off never comes: load the page again once if it does not get ready.
    for (let attempt = 1; ; attempt++) {
      await page.goto(`${base}/bench/pages/scale.html`);
      try {
        await page.waitForFunction(() => window.hypScaleReady === true, null, { timeout: 90_000 });
        break;
      } catch (e) {
        if (attempt === 2) throw e;
        err('bench-scale-browser: the page did not get ready; loading it again');
      }
    }
    // Rows named as benchScale.ts names them (its beam is 8); other beams get a -beamB suffix.
    const beams = opts.beams ?? [opts.beam];
    const variants: { name: string; params: WalkParams }[] = opts.pools.flatMap((pool) =>
      beams.map((beam) => ({
        name: `best-first-pool${pool}${beam === 8 ? '' : `-beam${beam}`}`,
        params: { k: opts.k, beam, pool, strategy: 'best-first', maxIterations: 1000 },
      })),
    );
    if (opts.paperWalk) variants.push({ name: 'paper-walk-kmeans-entries', params: { k: opts.k, beam: opts.beam, maxIterations: 64, strategy: 'paper' } });
    const seeds = Array.from({ length: opts.queries }, (_, q) => 50_000 + q);
    for (const { dir, data } of bundles) {
      const url = `/${relative(resolve(root, 'public'), dir)}`;
      const t0 = Date.now();
      const loadBefore = loadavg()[0];
      err(`bench-scale-browser: loading ${url} …`);
      const info = await page.evaluate(([u, mb]) => window.hypScale.load(u, mb), [url, opts.maxBatch] as const);
      err(
        `bench-scale-browser: N=${info.n} loaded in ${(info.load_ms / 1000).toFixed(1)} s on ${info.adapter} (maxStorageBufferBindingSize ${info.max_storage_buffer_binding_size}, maxBufferSize ${info.max_buffer_size})`,
      );
      // Warm-up (pipelines, caches): one more q-net, not timed.
      if (opts.exhaustive) await page.evaluate(([s, k]) => window.hypScale.exhaustive(s, k), [49_999, opts.k] as const);
      for (const v of variants) await page.evaluate(([s, p]) => window.hypScale.approximate(s, p), [49_999, v.params] as const);
      const exact: ExhaustiveRow[] = [];
      for (const s of seeds) {
        if (!opts.exhaustive) break;
        const r = await page.evaluate(([seed, k]) => window.hypScale.exhaustive(seed, k), [s, opts.k] as const);
        err(`  seed ${s}: exhaustive ${r.ms.toFixed(0)} ms`);
        exact.push(r);
      }
      const indexBytes = info.vector_bytes + info.graph_bytes;
      const common = {
        N: info.n,
        data,
        engine: 'browser-webgpu',
        adapter: info.adapter,
        dims: info.dims,
        k: opts.k,
        queries: seeds.length,
        host_cpus: cpus().length,
      };
      const lines: Line[] = [];
      const exLatency = median(exact.map((r) => r.ms));
      if (opts.exhaustive)
        lines.push({
          ...common,
          mode: 'gpu-exhaustive',
          variant: 'exhaustive',
          recall_at_10: 1,
          scored_share: 1,
          latency_ms: r3(exLatency),
          cold_bytes_share: 1,
          gpu_bytes: info.exhaustive_gpu_bytes,
          index_bytes: indexBytes,
        });
      for (const v of variants) {
        const rows: (ApproxRow & { recall: number })[] = [];
        for (const [q, s] of seeds.entries()) {
          const r = { recall: Number.NaN, ...(await page.evaluate(([seed, p]) => window.hypScale.approximate(seed, p), [s, v.params] as const)) };
          if (opts.exhaustive) {
            const want = new Set(exact[q].ids);
            r.recall = r.ids.filter((i) => want.has(i)).length / exact[q].ids.length;
          }
          err(`  ${v.name} seed ${s}: recall ${r.recall} scored ${r.scored} (${r.iterations} rounds) ${r.ms.toFixed(0)} ms`);
          rows.push(r);
        }
        const colds: (ColdRow & { same_as_eager: boolean })[] = [];
        for (const [q, s] of seeds.slice(0, opts.cold).entries()) {
          const cold = await page.evaluate(([seed, p, mb, rb]) => window.hypScale.coldQuery(seed, p, mb, rb ?? undefined), [
            s,
            v.params,
            opts.maxBatch,
            opts.residentMb === null ? null : opts.residentMb * 1024 * 1024,
          ] as const);
          const c = { ...cold, same_as_eager: cold.ids.length === rows[q].ids.length && cold.ids.every((x, i) => x === rows[q].ids[i]) };
          if (!c.same_as_eager) {
            failed = true;
            err(`  cold seed ${s}: ids differ from the eager walk: ${JSON.stringify(c.ids)} vs ${JSON.stringify(rows[q].ids)}`);
          }
          err(`  ${v.name} cold seed ${s}: ${c.network_bytes} bytes in ${c.requests} requests, ${c.cold_ms.toFixed(0)} ms`);
          colds.push(c);
        }
        const apLatency = median(rows.map((r) => r.ms));
        lines.push({
          ...common,
          mode: 'gpu-graph',
          variant: v.name,
          ...v.params,
          entries: info.entry_points,
          degree: info.degree,
          recall_at_10: opts.exhaustive ? r3(mean(rows.map((r) => r.recall))) : null,
          recall_at_10_min: opts.exhaustive ? r3(Math.min(...rows.map((r) => r.recall))) : null,
          scored_share: r4(mean(rows.map((r) => r.scored)) / info.n),
          scored_share_max: r4(Math.max(...rows.map((r) => r.scored)) / info.n),
          iterations: mean(rows.map((r) => r.iterations)),
          latency_ms: r3(apLatency),
          score_ms: r3(median(rows.map((r) => r.score_ms))),
          latency_ratio_vs_exhaustive: opts.exhaustive ? r4(apLatency / exLatency) : null,
          gpu_bytes: info.gather_gpu_bytes,
          index_bytes: indexBytes,
          manifest_bytes: info.manifest_bytes,
          ...(colds.length
            ? {
                cold_bytes_share: r4(mean(colds.map((c) => c.network_bytes)) / indexBytes),
                cold_bytes_share_max: r4(Math.max(...colds.map((c) => c.network_bytes)) / indexBytes),
                cold_bytes: colds.map((c) => c.network_bytes),
                cold_requests: colds.map((c) => c.requests),
                cold_latency_ms: colds.map((c) => Math.round(c.cold_ms)),
                cold_same_ids_as_eager: colds.every((c) => c.same_as_eager),
                cold_gpu_bytes: Math.max(...colds.map((c) => c.gpu_bytes)),
                cold_evictions: colds.map((c) => c.evictions),
              }
            : {}),
        });
      }
      for (const line of lines) {
        line.wall_s = Math.round((Date.now() - t0) / 100) / 10;
        line.host_load_avg_1m = [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0] * 10) / 10];
        process.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : `${table(line)}\n`);
      }
    }
  } catch (e) {
    failed = true;
    err(`bench-scale-browser: ${stackOf(e)}`);
  } finally {
    await session?.close();
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
