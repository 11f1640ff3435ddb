// The index command's input: a JSONL file, a Markdown / HTML / text file, or a folder of them
// (e.g. a built static site), read in byte order of their paths so that the same folder always
// gives the same documents in the same order. Hidden entries (.git, .DS_Store) and node_modules
// are skipped; other file types are counted and skipped.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { extractHtml } from '../core/ingest/html.ts';
import { parseJsonlDocs } from '../core/ingest/jsonl.ts';
import { extractMarkdown } from '../core/ingest/markdown.ts';
import type { SourceDoc } from '../core/ingest/types.ts';
import { InputError, decodeUtf8Strict } from '../core/ingest/utf8.ts';

export const JSONL_EXT = new Set(['.jsonl', '.ndjson']);
export const HTML_EXT = new Set(['.html', '.htm', '.xhtml']);
export const MARKDOWN_EXT = new Set(['.md', '.markdown', '.mdx']);
export const TEXT_EXT = new Set(['.txt', '.text']);

export interface InputSummary {
  files: number;
  /** Files of other types in a folder, not indexed. */
  skippedFiles: number;
  byKind: Record<'jsonl' | 'html' | 'markdown' | 'text', number>;
}

function kindOf(file: string): keyof InputSummary['byKind'] | null {
  const ext = path.extname(file).toLowerCase();
  if (JSONL_EXT.has(ext)) return 'jsonl';
  if (HTML_EXT.has(ext)) return 'html';
  if (MARKDOWN_EXT.has(ext)) return 'markdown';
  if (TEXT_EXT.has(ext)) return 'text';
  return null;
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = entries.map((e) => e.name).sort(); // code-unit order: locale-independent
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const name of names) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const e = byName.get(name)!;
      const p = path.join(dir, name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() || (e.isSymbolicLink() && (await stat(p)).isFile())) out.push(p);
    }
  };
  await walk(root);
  return out;
}

/** `urlBase` prefixes page URLs (e.g. "https://docs.example.org/"); default: the path relative to the folder. */
export async function readInput(input: string, opts: { urlBase?: string } = {}): Promise<{ docs: SourceDoc[]; summary: InputSummary }> {
  let st;
  try {
    st = await stat(input);
  } catch {
    throw new InputError(`${input}: no such file or folder`);
  }
  const root = st.isDirectory() ? input : path.dirname(input);
  const files = st.isDirectory() ? await listFiles(input) : [input];
  const summary: InputSummary = { files: 0, skippedFiles: 0, byKind: { jsonl: 0, html: 0, markdown: 0, text: 0 } };
  const docs: SourceDoc[] = [];
  for (const file of files) {
    const kind = kindOf(file);
    if (!kind) {
      if (!st.isDirectory()) throw new InputError(`${file}: unknown file type ${JSON.stringify(path.extname(file))}; give a .jsonl, .md, .html or .txt file, or a folder of them`);
      summary.skippedFiles++;
      continue;
    }
    summary.files++;
    summary.byKind[kind]++;
    const rel0 = path.relative(process.cwd(), file);
    const shown = rel0 && !rel0.startsWith('..') ? rel0 : file;
    const text = decodeUtf8Strict(new Uint8Array(await readFile(file)), shown);
    if (kind === 'jsonl') {
      docs.push(...parseJsonlDocs(text, shown));
      continue;
    }
    const rel = path.relative(root, file).split(path.sep).join('/');
    const fallbackTitle = path.basename(file, path.extname(file));
    const url = opts.urlBase ? new URL(rel.split('/').map(encodeURIComponent).join('/'), opts.urlBase).href : rel;
    if (kind === 'text') {
      docs.push({ id: rel, title: fallbackTitle, url, sections: [{ heading: '', anchor: '', text: text.trim() }], where: shown });
    } else {
      const page = kind === 'html' ? extractHtml(text, fallbackTitle) : extractMarkdown(text, fallbackTitle);
      docs.push({ id: rel, title: page.title, url, sections: page.sections, where: shown });
    }
  }
  if (docs.length === 0) {
    const what = st.isDirectory() ? `${input}: holds no .jsonl, .md, .html or .txt documents${summary.skippedFiles ? ` (${summary.skippedFiles} files of other types skipped)` : ''}` : `${input}: holds no documents`;
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
