// hypencoder-web command line. Subcommands register themselves on the commander program.
import { Command } from 'commander';
import { registerConvert } from './convert.ts';
import { CliError, errnoText } from './errors.ts';
import { registerEncodeTile } from './daskEncode.ts';
import { registerIndex } from './indexCommand.ts';
import { registerParity } from './parity.ts';
import { registerSearchCommands } from './searchCommands.ts';
import { registerSite } from './siteCommand.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('hypencoder-web')
    .description('Hypencoder neural search in the browser: model conversion and index tools')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerConvert(program);
  registerParity(program);
  registerIndex(program);
  registerEncodeTile(program);
  registerSearchCommands(program);
  registerSite(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      if (e.message) process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    // A file-system error that no command turned into a message: one line with the path, no stack.
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
      process.stderr.write(`error: ${err.path ? `${err.path}: ` : ''}${errnoText(err)} (${err.syscall})\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}

await main();
