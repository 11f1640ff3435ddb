// The input formats the index command reads, one entry each: the file name endings it claims and
// how its bytes become source documents. A new input format is one entry here (and its parser);
// the folder walk, the messages and the input summary follow this list.
import { extractHtml, type HtmlContentOptions, type Page } from './html.ts';
import { parseJsonlLine, type JsonlFacetFields } from './jsonl.ts';
import { extractMarkdown } from './markdown.ts';
import type { SourceDoc } from './types.ts';
import { decodeUtf8Strict } from './utf8.ts';

/** Where a file's bytes came from: what its documents are named, linked and reported as. */
export interface IngestSource {
  /** The path relative to the input folder, '/'-separated: a page's document id. */
  rel: string;
  /** The path as messages show it (a document's `where`). */
  shown: string;
  /** The page's URL (the base URL joined with rel). */
  url: string;
  /** A page's title when it has none of its own: the file name without its extension. */
  fallbackTitle: string;
}

/** Options of a whole run (the index command's), the same for every file. */
export interface IngestOptions {
  html?: HtmlContentOptions;
  jsonl?: JsonlFacetFields;
}

export interface Ingester {
  kind: string;
  /** File name endings it reads, lowercase with the dot; messages name the first. */
  extensions: readonly string[];
  /** 'file': parse is given the whole file (one page, held whole); 'line': each line on its own while the file streams. */
  unit: 'file' | 'line';
  /** Documents from the bytes of a whole file, or of line `line` (from 1) of it; none for a page with no content. */
  parse(bytes: Uint8Array, source: IngestSource, line: number, opts?: IngestOptions): SourceDoc[];
}

function pageDoc(page: Page, source: IngestSource): SourceDoc[] {
  return [
    { id: source.rel, title: page.title, url: source.url, sections: page.sections, ...(page.facets ? { facets: page.facets } : {}), where: source.shown },
  ];
}

export const INGESTERS = [
  {
    kind: 'jsonl',
    extensions: ['.jsonl', '.ndjson'],
    unit: 'line',
    parse(bytes: Uint8Array, source: IngestSource, line: number, opts: IngestOptions = {}) {
      let text = decodeUtf8Strict(bytes, source.shown, line);
      if (line > 1 && text.charCodeAt(0) === 0xfeff) text = `\ufeff${text}`; // a BOM is dropped only at the file's start
      const doc = parseJsonlLine(text, `${source.shown}:${line}`, opts.jsonl);
      return doc ? [doc] : [];
    },
  },
  {
    kind: 'markdown',
    extensions: ['.md', '.markdown', '.mdx'],
    unit: 'file',
    parse: (bytes, source) => pageDoc(extractMarkdown(decodeUtf8Strict(bytes, source.shown), source.fallbackTitle), source),
  },
  {
    kind: 'html',
    extensions: ['.html', '.htm', '.xhtml'],
    unit: 'file',
    parse: (bytes: Uint8Array, source: IngestSource, _line = 1, opts: IngestOptions = {}) => {
      const page = extractHtml(decodeUtf8Strict(bytes, source.shown), source.fallbackTitle, opts.html, source.shown);
      return page ? pageDoc(page, source) : [];
    },
  },
  {
    kind: 'text',
    extensions: ['.txt', '.text'],
    unit: 'file',
    parse: (bytes, source) => {
      const text = decodeUtf8Strict(bytes, source.shown).trim();
      return pageDoc({ title: source.fallbackTitle, sections: [{ heading: '', anchor: '', text }] }, source);
    },
  },
] as const satisfies readonly Ingester[];

export type IngestKind = (typeof INGESTERS)[number]['kind'];

/** The ingester for a file name ending (path.extname's, any case), or null for a type not read. */
export function ingesterFor(extension: string): (typeof INGESTERS)[number] | null {
  const ext = extension.toLowerCase();
  return INGESTERS.find((i) => (i.extensions as readonly string[]).includes(ext)) ?? null;
}

/** The formats for messages: ".jsonl, .md, .html or .txt". */
export function formatList(): string {
  const names = INGESTERS.map((i) => i.extensions[0]);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** A count per format, zero each, in the registry's order. */
export function countsByKind(): Record<IngestKind, number> {
  return Object.fromEntries(INGESTERS.map((i) => [i.kind, 0])) as Record<IngestKind, number>;
}
