/** An error the CLI reports as one line on stderr and a non-zero exit status (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A Node file-system error as "CODE: what happened", without the path and syscall Node appends. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const msg = String(err?.message ?? e)
    .replace(/^[A-Z]+: /, '')
    .replace(/, \w+ '.*'$/, '');
  return err?.code ? `${err.code}: ${msg}` : msg;
}
