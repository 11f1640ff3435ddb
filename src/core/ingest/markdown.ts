// Markdown pages → title + sections: markdown-it renders the page (raw HTML inside it passes
// through to the HTML extractor, which drops scripts like any page's), with GitHub-style heading
// ids added so that passages link to `page#heading-slug` as GitHub, VitePress, Docusaurus and
// MkDocs generate them. Front matter's `title:` wins over the first heading.
import MarkdownIt from 'markdown-it';
import { extractHtml, type Page } from './html.ts';

const md = new MarkdownIt({ html: true, linkify: false });

/** GitHub's heading slug: lowercase, drop punctuation but '-' and '_', spaces → '-'. */
export function githubSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)\r?\n/;

function frontMatterTitle(yaml: string): string {
  for (const line of yaml.split(/\r?\n/)) {
    const m = /^title:\s*(.*)$/.exec(line);
    if (m) return m[1].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return '';
}

export function extractMarkdown(source: string, fallbackTitle: string): Page {
  let body = source;
  let fmTitle = '';
  const fm = FRONT_MATTER.exec(source);
  if (fm) {
    fmTitle = frontMatterTitle(fm[1]);
    body = source.slice(fm[0].length);
  }
  const env = {};
  const tokens = md.parse(body, env);
  const used = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type !== 'heading_open' || t.attrGet('id')) continue;
    const inline = tokens[i + 1];
    const text = (inline?.children ?? [])
      .filter((c) => c.type === 'text' || c.type === 'code_inline')
      .map((c) => c.content)
      .join('');
    const base = githubSlug(text);
    if (!base) continue;
    const n = used.get(base) ?? 0;
    used.set(base, n + 1);
    t.attrSet('id', n === 0 ? base : `${base}-${n}`);
  }
  const html = md.renderer.render(tokens, md.options, env);
  const page = extractHtml(`<body>${html}</body>`, fallbackTitle)!; // no root selector: always a page
  const h1 = page.sections.find((s) => s.heading !== '');
  return { title: fmTitle || h1?.heading || fallbackTitle, sections: page.sections };
}
