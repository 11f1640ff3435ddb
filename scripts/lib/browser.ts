// What the scripts that drive headless Chromium share: the browser choice and the quiet Vite server
// (src/cli/headlessBrowser.ts, which `eval --engine browser` uses too), launching it, a free port.
import { type AddressInfo, createServer } from 'node:net';
import { type Browser, chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/cli/headlessBrowser.ts';

export { CHROMIUM_ARGS, chromiumPath, startQuietVite } from '../../src/cli/headlessBrowser.ts';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}
