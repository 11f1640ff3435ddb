// What the Node drivers of the benchmark pages share: Vite without reloads, headless Chromium on one
// page whose console reaches stderr, and one way to stop both (also on Ctrl-C).
import type { Browser, Page } from '@playwright/test';
import { freePort, launchChromium, startQuietVite } from '../scripts/lib/browser.ts';

/** Vite's client complains that it has no HMR socket (disabled on purpose), and the pages have no favicon. */
const QUIET = /\[vite\]|WebSocket|server-hmr|your current setup|<--\[|Failed to load resource/;

export interface BenchSession {
  /** http://127.0.0.1:PORT */
  base: string;
  page: Page;
  close: () => Promise<void>;
}

/** Starts Vite on `port` (0: a free one) and a browser with one page; `close` ends both, as SIGINT and SIGTERM do. */
export async function openBenchSession(port: number, log: (msg: string) => void): Promise<BenchSession> {
  const chosen = port || (await freePort());
  const base = `http://127.0.0.1:${chosen}`;
  let vite: Awaited<ReturnType<typeof startQuietVite>> | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    try {
      await browser?.close();
    } catch {
      // already gone
    }
    await vite?.close();
  };
  process.once('SIGINT', () => close().then(() => process.exit(130)));
  process.once('SIGTERM', () => close().then(() => process.exit(143)));
  try {
    log(`starting vite on ${base}`);
    vite = await startQuietVite(chosen);
    browser = await launchChromium();
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (!QUIET.test(m.text())) log(`[page ${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    page.on('crash', () => log('[page crashed]'));
    return { base, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A command line's message: an Error's own, else the value. */
export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
/** For the log of a failed run: the stack where there is one. */
export const stackOf = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));
