// The benchmark drivers' command lines: node:util's parser (--flag value or --flag=value; an unknown
// flag or a missing value is an error), --help, and the checks of the values it gives.
import { parseArgs } from 'node:util';

/** Flags by kind: `strings` take a value, `booleans` none, `repeated` a value each time they are given. */
interface FlagNames<S extends string, B extends string, L extends string> {
  strings?: readonly S[];
  booleans?: readonly B[];
  repeated?: readonly L[];
}

/** The flags of `argv`; -h/--help prints `usage` and exits. An error's message ends with `usage`. */
export function parseFlags<const S extends string = never, const B extends string = never, const L extends string = never>(
  argv: string[],
  names: FlagNames<S, B, L>,
  usage: string,
): { [K in S]?: string } & { [K in B]?: boolean } & { [K in L]?: string[] } {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(usage);
    process.exit(0);
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const k of names.strings ?? []) options[k] = { type: 'string' };
  for (const k of names.booleans ?? []) options[k] = { type: 'boolean' };
  for (const k of names.repeated ?? []) options[k] = { type: 'string', multiple: true };
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as { [K in S]?: string } & { [K in B]?: boolean } & {
      [K in L]?: string[];
    };
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : e}\n${usage}`);
  }
}

/** An integer ≥ `min`, else the error `flag: …`. */
export function integer(flag: string, value: string, min = 1): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) throw new Error(`${flag}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return v;
}

/** A comma-separated list of integers ≥ `min`. */
export const integers = (flag: string, value: string, min = 1) => value.split(',').map((x) => integer(flag, x, min));

/** A number > 0. */
export function positive(flag: string, value: string): number {
  const v = Number(value);
  if (!(v > 0)) throw new Error(`${flag}: expected a positive number, got ${JSON.stringify(value)}`);
  return v;
}

/** `value`, if it is one of `allowed`. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${flag} must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}, got ${value}`);
  return value as T;
}
