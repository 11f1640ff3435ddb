// The index command's input: a JSONL file, a Markdown / HTML / text file, or a folder of them
// (e.g. a built static site), read in byte order of their paths so that the same folder always
// gives the same documents in the same order. Hidden entries (.git, .DS_Store) and node_modules
// are skipped; other file types are counted and skipped. Symbolic links are followed only when
// they lead to a file or folder inside the input folder (unless followExternalLinks); broken and
// looping links are skipped and counted. Each file's bytes go to the ingester its name's ending
// picks (src/core/ingest/registry.ts): a line format (JSONL) is streamed line by line, so a file
// of any size is read with memory for its documents only (no whole-file buffer or string).
import { type Dirent, type Stats, createReadStream } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { HtmlContentOptions } from '../core/ingest/html.ts';
import type { JsonlFacetFields } from '../core/ingest/jsonl.ts';
import { type IngestKind, type IngestOptions, type IngestSource, type Ingester, countsByKind, formatList, ingesterFor } from '../core/ingest/registry.ts';
import type { SourceDoc } from '../core/ingest/types.ts';
import { InputError } from '../core/ingest/utf8.ts';
import { errnoText } from './errors.ts';

export interface InputSummary {
  files: number;
  /** Files of other types in a folder, not indexed. */
  skippedFiles: number;
  /** Files read per format (src/core/ingest/registry.ts). */
  byKind: Record<IngestKind, number>;
  /** Symbolic links skipped: broken or looping, or leading outside the input folder. */
  skippedLinks: { broken: number; outside: number };
  /** Files of a folder left out by --glob / --exclude-glob. */
  excludedByGlob: number;
  /** Pages with no content to index: nothing matched --root-selector, or their root is data-hypencoder-ignore. */
  noContent: number;
}

/** The longest JSONL line (one document) read: V8's strings stop at 2^29 characters. */
export const MAX_JSONL_LINE_BYTES = 256 * 1024 * 1024;
/** The largest Markdown / HTML / text file read (each is one document, held whole). */
export const MAX_PAGE_FILE_BYTES = 256 * 1024 * 1024;

export interface ReadInputOptions {
  /** Prefix of page URLs: an http(s) URL ("https://docs.example.org/") or a site path ("/docs/"); default: the path relative to the folder. */
  urlBase?: string;
  /** Follow links that lead outside the input folder too. */
  followExternalLinks?: boolean;
  /** A folder's files to read: paths relative to it matching any of these globs (picomatch; default all). */
  glob?: string[];
  /** …and none of these. */
  excludeGlob?: string[];
  /** What of an HTML page is content (root and exclude selectors). */
  html?: HtmlContentOptions;
  /** JSONL record keys read as filter and sort values. */
  jsonl?: JsonlFacetFields;
}

function fsError(e: unknown, where: string): InputError {
  return new InputError(`${where}: ${errnoText(e)}`);
}

function isUnder(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A page URL from its path relative to the input folder. */
export function pageUrl(rel: string, urlBase?: string): string {
  const encoded = rel.split('/').map(encodeURIComponent).join('/');
  if (!urlBase) return rel;
  if (/^https?:/i.test(urlBase)) return new URL(encoded, urlBase).href;
  return `${urlBase.endsWith('/') ? urlBase : `${urlBase}/`}${encoded}`;
}

async function listFiles(root: string, summary: InputSummary, followExternal: boolean): Promise<string[]> {
  const out: string[] = [];
  const realRoot = await realpath(root);
  const visited = new Set<string>([realRoot]);
  const walk = async (dir: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw fsError(e, dir);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // code-unit order: locale-independent
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink()) {
        let real: string;
        let st: Stats;
        try {
          real = await realpath(p); // ELOOP for a loop, ENOENT for a broken link
          st = await stat(real);
        } catch {
          summary.skippedLinks.broken++;
          continue;
        }
        if (!followExternal && !isUnder(real, realRoot)) {
          summary.skippedLinks.outside++;
          continue;
        }
        if (st.isFile()) out.push(p);
        else if (st.isDirectory() && !visited.has(real)) {
          visited.add(real); // a link back up the tree is walked once, never in circles
          await walk(p);
        }
      }
    }
  };
  await walk(root);
  return out;
}

/** Streams a file line by line: each line's bytes handed to `take` with its number (from 1). */
async function readLines(file: string, shown: string, take: (bytes: Uint8Array, line: number) => void): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 1;
  const tooLong = () => new InputError(`${shown}:${line}: a line (one document) longer than ${MAX_JSONL_LINE_BYTES} bytes; split the document`);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(0x0a, from); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
        const part = chunk.subarray(from, nl);
        if (pendingBytes + part.length > MAX_JSONL_LINE_BYTES) throw tooLong();
        take(pending.length ? Buffer.concat([...pending, part]) : part, line++);
        pending = [];
        pendingBytes = 0;
        from = nl + 1;
      }
      if (from < chunk.length) {
        pendingBytes += chunk.length - from;
        if (pendingBytes > MAX_JSONL_LINE_BYTES) throw tooLong();
        pending.push(Buffer.from(chunk.subarray(from))); // a copy: the stream may reuse its buffer
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw fsError(e, shown);
  }
  if (pendingBytes > 0) take(Buffer.concat(pending), line);
}

/** A whole file's bytes, refused over MAX_PAGE_FILE_BYTES before it is read. */
async function readWhole(file: string, shown: string): Promise<Uint8Array> {
  try {
    const size = (await stat(file)).size;
    if (size > MAX_PAGE_FILE_BYTES)
      throw new InputError(`${shown}: ${size} bytes, over the ${MAX_PAGE_FILE_BYTES}-byte limit for one page; split it or give it as JSONL`);
    return new Uint8Array(await readFile(file));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw fsError(e, shown);
  }
}

/** One file's documents, from the bytes handed to its ingester whole or line by line. */
async function ingestFile(ingester: Ingester, file: string, source: IngestSource, docs: SourceDoc[], opts: IngestOptions): Promise<void> {
  if (ingester.unit === 'line') await readLines(file, source.shown, (bytes, line) => docs.push(...ingester.parse(bytes, source, line, opts)));
  else docs.push(...ingester.parse(await readWhole(file, source.shown), source, 1, opts));
}

export async function readInput(input: string, opts: ReadInputOptions = {}): Promise<{ docs: SourceDoc[]; summary: InputSummary }> {
  let st: Stats;
  try {
    st = await stat(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' ? new InputError(`${input}: no such file or folder`) : fsError(e, input);
  }
  if (!st.isDirectory() && !st.isFile()) throw new InputError(`${input}: not a regular file or a folder`);
  const root = st.isDirectory() ? input : path.dirname(input);
  const summary: InputSummary = {
    files: 0,
    skippedFiles: 0,
    byKind: countsByKind(),
    skippedLinks: { broken: 0, outside: 0 },
    excludedByGlob: 0,
    noContent: 0,
  };
  const files = st.isDirectory() ? await listFiles(input, summary, opts.followExternalLinks ?? false) : [input];
  const included = opts.glob?.length ? picomatch(opts.glob) : () => true;
  const excluded = opts.excludeGlob?.length ? picomatch(opts.excludeGlob) : () => false;
  const docs: SourceDoc[] = [];
  for (const file of files) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    if (st.isDirectory() && (!included(rel) || excluded(rel))) {
      summary.excludedByGlob++;
      continue;
    }
    const ingester = ingesterFor(path.extname(file));
    if (!ingester) {
      if (!st.isDirectory())
        throw new InputError(`${file}: unknown file type ${JSON.stringify(path.extname(file))}; give a ${formatList()} file, or a folder of them`);
      summary.skippedFiles++;
      continue;
    }
    summary.files++;
    summary.byKind[ingester.kind]++;
    const rel0 = path.relative(process.cwd(), file);
    const shown = rel0 && !rel0.startsWith('..') ? rel0 : file;
    const before = docs.length;
    const source = { rel, shown, url: pageUrl(rel, opts.urlBase), fallbackTitle: path.basename(file, path.extname(file)) };
    await ingestFile(ingester, file, source, docs, { html: opts.html, jsonl: opts.jsonl });
    if (ingester.unit === 'file' && docs.length === before) summary.noContent++;
  }
  if (docs.length === 0) {
    const left = [
      ...(summary.skippedFiles ? [`${summary.skippedFiles} files of other types skipped`] : []),
      ...(summary.excludedByGlob ? [`${summary.excludedByGlob} left out by --glob / --exclude-glob`] : []),
      ...(summary.noContent ? [`${summary.noContent} pages with no content (nothing matching --root-selector, or data-hypencoder-ignore on the page)`] : []),
    ];
    const what = st.isDirectory()
      ? `${input}: holds no ${formatList()} documents${left.length ? ` (${left.join('; ')})` : ''}`
      : `${input}: holds no documents${left.length ? ` (${left.join('; ')})` : ''}`;
    throw new InputError(`${what}; nothing to index`);
  }
  const seen = new Map<string, string>();
  for (const d of docs) {
    const prev = seen.get(d.id);
    if (prev !== undefined) throw new InputError(`${d.where}: duplicate id ${JSON.stringify(d.id)} (first at ${prev}); document ids must be unique`);
    seen.set(d.id, d.where);
  }
  return { docs, summary };
}
