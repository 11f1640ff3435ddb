// A static site with a bare <hypencoder-search>, for the specs that test the element on a plain
// static server (approximate search, dense bundles): the page's HTML, and opening it until the
// element is ready with its neural half in, with a helper that types a query and reads the hits.
import { expect, type Page } from '@playwright/test';

/** A page that loads the library from `hypencoder/` and shows one element with these attributes. */
export function elementPage(attrs: string): string {
  return `<!doctype html><html lang="en"><head><title>Search</title></head><body><script type="module" src="hypencoder/hypencoder-web.js"></script><hypencoder-search ${attrs}></hypencoder-search></body></html>`;
}

/** Opens `url`, waits for the element's neural half; `search(q)` types q and returns the hits' ids (not lexical-only unless allowed). */
export async function openElement(page: Page, url: string) {
  await page.goto(url);
  const element = page.locator('hypencoder-search');
  await expect(element).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
  await expect(element.getByTestId('semantic-state')).toHaveAttribute('data-state', 'on', { timeout: 120_000 });
  return {
    element,
    search: async (q: string, lexicalAllowed = false) => {
      await element.getByTestId('search-input').fill(q);
      await expect(element.locator('ol.results')).toHaveAttribute('data-query', q, { timeout: 60_000 });
      if (!lexicalAllowed) await expect(element.locator('ol.results')).not.toHaveAttribute('data-ranked-by', 'lexical');
      return element.getByTestId('hit').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.docId ?? ''));
    },
  };
}
