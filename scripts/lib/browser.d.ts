// Types for browser.js, so the TypeScript configs and tests take the browser choice from it too.
import type { Browser } from '@playwright/test';
import type { ViteDevServer } from 'vite';

export const CHROMIUM_ARGS: string[];
export function chromiumPath(): string | undefined;
export function launchChromium(): Promise<Browser>;
export function freePort(): Promise<number>;
export function startQuietVite(port?: number, logLevel?: string): Promise<ViteDevServer>;
