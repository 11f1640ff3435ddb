// `hypencoder-web site <built site folder>`: search for a static site in one command, the Pagefind
// way. Indexes the site's pages and writes everything a visitor's browser needs into
// <folder>/hypencoder/: the index (index/), the model (model/), the library with its worker and
// onnxruntime's wasm (the library build, dist/lib), and SITE.json. The site owner adds
//   <script type="module" src="/hypencoder/hypencoder-web.js"></script>
//   <hypencoder-search></hypencoder-search>
// to any page: a bare element finds index/ and model/ next to its script and links hits to the
// pages relative to the folder above it (src/ui/element.ts), at whatever depth the page is.
// The folder is built beside the site in a hidden staging folder and renamed into place, so a
// failed run leaves the previous one untouched; a hypencoder/ that this command did not write (no
// SITE.json of ours) is never replaced.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { addContentOptions, runIndex, type IndexSummary } from './indexCommand.ts';
import { dirSize } from './indexStages/write.ts';
import { resolveModelDir } from './modelDir.ts';

/** The folder the command writes inside the site, and the site's search lives at. */
export const SITE_FOLDER = 'hypencoder';
export const SITE_FILE = 'SITE.json';
const SITE_FORMAT = 'hypencoder-site';
/** The library build of this package (`npm run build:lib`; an installed package ships it). */
export const DEFAULT_LIB_DIR = fileURLToPath(new URL('../../dist/lib/', import.meta.url));
const LIB_ENTRY = 'hypencoder-web.js';

export interface SiteOptions {
  model?: string;
  lib?: string;
  rootSelector?: string;
  excludeSelectors?: string[];
  glob?: string[];
  excludeGlob?: string[];
  quiet?: boolean;
  json?: boolean;
}

export interface SiteSummary {
  out: string;
  pages: number;
  passages: number;
  bytes: { index: number; model: number; library: number; total: number };
  index: IndexSummary;
}

export function registerSite(program: Command): void {
  const site = program
    .command('site')
    .description(
      `index a built static site and write its search into <folder>/${SITE_FOLDER}/ (index, model, library): add one script tag and <hypencoder-search>`,
    )
    .argument('<folder>', "the built site's folder (the one a static host serves)")
    .option('-m, --model <dir>', 'model bundle (default: models/default/)')
    .option('--lib <dir>', `the library build to copy (default: this package's dist/lib, made by \`npm run build:lib\`)`);
  addContentOptions(site)
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (folder: string, opts: SiteOptions) => {
      const s = await buildSite(folder, opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else if (!opts.quiet) {
        process.stderr.write(
          `wrote ${s.out}: ${s.pages} pages (${s.passages} passages); index ${mb(s.bytes.index)}, model ${mb(s.bytes.model)}, library ${mb(s.bytes.library)} MB\n` +
            `add to any page:\n  <script type="module" src="/${SITE_FOLDER}/${LIB_ENTRY}"></script>\n  <hypencoder-search></hypencoder-search>\n`,
        );
      }
    });
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** Whether `dir` is a folder this command wrote (its SITE.json says so). */
function isOurs(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(path.join(dir, SITE_FILE), 'utf8')).format === SITE_FORMAT;
  } catch {
    return false;
  }
}

export async function buildSite(folder: string, opts: SiteOptions = {}): Promise<SiteSummary> {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new CliError(`${folder}: not a folder (give the built site's folder)`, 2);
  const root = path.resolve(folder);
  const out = path.join(root, SITE_FOLDER);
  if (existsSync(out) && !isOurs(out))
    throw new CliError(
      `${out} exists and was not written by \`hypencoder-web site\` (no ${SITE_FILE} of ours): move it away or rename it; it is not replaced`,
      2,
    );
  const lib = path.resolve(opts.lib ?? DEFAULT_LIB_DIR);
  if (!existsSync(path.join(lib, LIB_ENTRY)))
    throw new CliError(`${lib}: no ${LIB_ENTRY} (the library build): run \`npm run build:lib\` in the package, or pass --lib <dir>`, 3);
  const modelDir = resolveModelDir(opts.model);

  // Hidden, so neither this run nor a later one indexes it; removed whatever happens.
  const staging = mkdtempSync(path.join(root, `.${SITE_FOLDER}-tmp-`));
  try {
    const built = path.join(staging, SITE_FOLDER);
    mkdirSync(built);
    const index = await runIndex(root, {
      out: path.join(built, 'index'),
      model: modelDir,
      rootSelector: opts.rootSelector,
      excludeSelectors: opts.excludeSelectors,
      glob: opts.glob,
      // The search's own folder is not content (a previous run's, or a copy a host added).
      excludeGlob: [`${SITE_FOLDER}/**`, ...(opts.excludeGlob ?? [])],
      quiet: opts.quiet || opts.json,
    });
    // The model: model.json and the files it lists, nothing else of the folder.
    const modelOut = path.join(built, 'model');
    mkdirSync(modelOut);
    const modelJson = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { files: Record<string, { path: string }> };
    for (const name of ['model.json', ...Object.values(modelJson.files).map((f) => f.path)]) {
      mkdirSync(path.dirname(path.join(modelOut, name)), { recursive: true });
      cpSync(path.join(modelDir, name), path.join(modelOut, name));
    }
    cpSync(lib, built, { recursive: true });
    const pages = index.passages.documents;
    const bytes = { index: dirSize(path.join(built, 'index')), model: dirSize(modelOut), library: 0, total: 0 };
    bytes.total = dirSize(built);
    bytes.library = bytes.total - bytes.index - bytes.model;
    const about = { format: SITE_FORMAT, format_version: 1, index: 'index/', model: 'model/', site_root: '../', pages, passages: index.passages.passages };
    writeFileSync(path.join(built, SITE_FILE), `${JSON.stringify(about, null, 2)}\n`);
    // The swap: the old folder (ours) moves into the staging folder and goes with it.
    if (existsSync(out)) renameSync(out, path.join(staging, 'old'));
    renameSync(built, out);
    return { out, pages, passages: index.passages.passages, bytes, index };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
