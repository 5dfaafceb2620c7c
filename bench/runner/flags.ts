// A benchmark's flags, declared once with their defaults and meaning: parsed from the command line
// (an unknown flag or a number that is not one stops the run) and listed by `--help`.
import { parseArgs } from 'node:util';

export interface NumberFlag {
  type: 'number';
  default: number;
  /** The default under `--smoke`, for a benchmark that has that flag. */
  smoke?: number;
  help: string;
}
export interface BooleanFlag {
  type: 'boolean';
  help: string;
}
/** A text flag without a default: undefined unless given. */
export interface StringFlag {
  type: 'string';
  /** How the value is named in `--help` (e.g. `REF`). */
  value: string;
  help: string;
}
export type Flag = NumberFlag | BooleanFlag | StringFlag;
export type Flags<S extends Record<string, Flag>> = {
  [K in keyof S]: S[K] extends NumberFlag ? number : S[K] extends StringFlag ? string | undefined : boolean;
};

/** Parses `argv` against `spec`; `--help` prints `about` and the flags, then exits. */
export function parseFlags<S extends Record<string, Flag>>(about: string, spec: S, argv = process.argv.slice(2)): Flags<S> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, flag] of Object.entries(spec)) options[name] = { type: flag.type === 'boolean' ? 'boolean' : 'string' };
  const values = parseArgs({ args: argv, options }).values as Record<string, string | boolean | undefined>;
  if (values.help) {
    console.log(`${about}\n\n${usage(spec)}`);
    process.exit(0);
  }
  const smoke = values.smoke === true;
  const parsed: Record<string, number | boolean | string | undefined> = {};
  for (const [name, flag] of Object.entries(spec)) {
    const given = values[name];
    if (flag.type === 'boolean') {
      parsed[name] = given === true;
      continue;
    }
    if (flag.type === 'string') {
      if (given === '') throw new Error(`--${name} wants a ${flag.value}`);
      parsed[name] = given as string | undefined;
      continue;
    }
    const value = given === undefined ? (smoke ? (flag.smoke ?? flag.default) : flag.default) : Number(given);
    if (!Number.isFinite(value)) throw new Error(`--${name} wants a number, not "${String(given)}"`);
    parsed[name] = value;
  }
  return parsed as Flags<S>;
}

function usage(spec: Record<string, Flag>): string {
  const lines = Object.entries(spec).map(([name, flag]) => {
    const left = flag.type === 'number' ? `--${name} N` : flag.type === 'string' ? `--${name} ${flag.value}` : `--${name}`;
    const defaults = flag.type === 'number' ? ` (default ${flag.default}${flag.smoke === undefined ? '' : `, ${flag.smoke} with --smoke`})` : '';
    return `  ${left.padEnd(18)} ${flag.help}${defaults}`;
  });
  return ['flags:', ...lines, `  ${'--help'.padEnd(18)} this list`].join('\n');
}
