// How a script in scripts/ runs its main: only when node was started with it (tests import its
// exports), and a failure reported as one line, `NAME: message`, with an exit code.
import { fileURLToPath } from 'node:url';

/** Whether the module at `moduleUrl` (its import.meta.url) is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return !!process.argv[1] && fileURLToPath(moduleUrl) === process.argv[1];
}

/** Awaits `main`; an error is written as `NAME: message` and the process exits with its exitCode, else `code`. */
export async function orExit<T>(name: string, main: () => Promise<T>, code = 1): Promise<T> {
  try {
    return await main();
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit((e as { exitCode?: number }).exitCode ?? code);
  }
}
