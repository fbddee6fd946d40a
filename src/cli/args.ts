// Command-line option parsing for the peftjs verbs: `--key value`, `--key=value`, `--flag`,
// `--no-flag`, and `--config file.yaml|json` whose keys (kebab-case or snake_case) are overridden by
// the options given on the command line. List options accumulate when repeated: 'list' values are
// comma-separated, 'strings' values are taken whole (free text such as prompts).
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { editDistance } from '../peft/utils/nearest-names.js';

export type OptionType = 'string' | 'number' | 'boolean' | 'list' | 'strings';
export type OptionValue = string | number | boolean | string[];

export interface OptionSpec {
  /** kebab-case name, without the leading dashes. */
  name: string;
  type: OptionType;
  description: string;
  /** The option's placeholder in --help (default: the type). */
  placeholder?: string;
  required?: boolean;
}

export interface VerbSpec {
  name: string;
  summary: string;
  usage: string;
  options: readonly OptionSpec[];
  /** Names of the positional arguments, all required. */
  positionals?: readonly string[];
}

export interface ParsedArgs {
  values: Map<string, OptionValue>;
  positionals: string[];
  help: boolean;
}

/** A usage error; main prints it and exits with status 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

function suggestion(wanted: string, names: readonly string[]): string {
  const best = names.map((n) => ({ n, d: editDistance(wanted, n) })).sort((a, b) => a.d - b.d)[0];
  return best !== undefined && best.d <= Math.max(2, Math.floor(wanted.length / 3)) ? ` (did you mean --${best.n}?)` : '';
}

function findSpec(verb: VerbSpec, name: string, origin: string): OptionSpec {
  const spec = verb.options.find((o) => o.name === name);
  if (spec === undefined) {
    const names = [...verb.options.map((o) => o.name), 'config', 'help'];
    throw new CliError(`unknown option --${name}${origin}${suggestion(name, names)}`);
  }
  return spec;
}

/** A config value as an error message shows it: JSON, except for what JSON cannot spell (YAML's .inf and .nan). */
function shown(raw: unknown): string {
  return typeof raw === 'number' && !Number.isFinite(raw) ? String(raw) : JSON.stringify(raw);
}

function convert(spec: OptionSpec, raw: unknown, origin: string): OptionValue {
  const where = `--${spec.name}${origin}`;
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new CliError(`${where} expects true or false, got ${shown(raw)}`);
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new CliError(`${where} expects a number, got ${shown(raw)}`);
      return n;
    }
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      throw new CliError(`${where} expects a comma-separated list, got ${shown(raw)}`);
    case 'strings':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
      if (typeof raw === 'string') return [raw];
      throw new CliError(`${where} expects a string or a list of strings, got ${shown(raw)}`);
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number') return String(raw);
      throw new CliError(`${where} expects a string, got ${shown(raw)}`);
  }
}

/** The parsed content of the file an option names: JSON for `.json` files, else YAML; unreadable or malformed files are usage errors naming `option`. */
export function readOptionFile(option: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`${option}: cannot read ${path}: ${(err as Error).message}`);
  }
  const json = extname(path).toLowerCase() === '.json';
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new CliError(`${option}: ${path} is not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  const parsed = readOptionFile('--config', path);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`--config: ${path} must hold a mapping of option names to values`);
  return parsed as Record<string, unknown>;
}

/** Parses `argv` (the arguments after the verb) against `verb`'s options. */
export function parseArgs(verb: VerbSpec, argv: readonly string[]): ParsedArgs {
  const cli = new Map<string, OptionValue>();
  const positionals: string[] = [];
  let configPath: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      if (arg === '-h') help = true;
      else if (arg.startsWith('-') && arg.length > 1) throw new CliError(`unknown option ${arg}${suggestion(arg.replace(/^-+/, ''), verb.options.map((o) => o.name))}`);
      else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === 'help') {
      help = true;
      continue;
    }
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new CliError(`--${name} expects a value`);
      i++;
      return next;
    };
    if (name === 'config') {
      configPath = takeValue();
      continue;
    }
    const negated = name.startsWith('no-') && verb.options.some((o) => o.name === name.slice(3) && o.type === 'boolean');
    const spec = findSpec(verb, negated ? name.slice(3) : name, '');
    if (spec.type === 'boolean') {
      if (negated && inline !== undefined) throw new CliError(`--${name} takes no value`);
      cli.set(spec.name, negated ? false : inline === undefined ? true : convert(spec, inline, ''));
    } else {
      const value = convert(spec, takeValue(), '');
      const earlier = cli.get(spec.name);
      cli.set(spec.name, Array.isArray(earlier) && Array.isArray(value) ? [...earlier, ...value] : value);
    }
  }
  const values = new Map<string, OptionValue>();
  if (configPath !== null) {
    for (const [key, raw] of Object.entries(readConfigFile(configPath))) {
      if (key === 'config' || key === 'help') throw new CliError(`--config: ${configPath} sets ${JSON.stringify(key)}, which only the command line can give`);
      const spec = findSpec(verb, key.replaceAll('_', '-'), ` in ${configPath}`);
      values.set(spec.name, convert(spec, raw, ` in ${configPath}`));
    }
  }
  for (const [k, v] of cli) values.set(k, v);
  if (!help) {
    const wanted = verb.positionals ?? [];
    if (positionals.length !== wanted.length) {
      throw new CliError(`expected ${wanted.length === 0 ? 'no positional arguments' : wanted.map((p) => `<${p}>`).join(' ')}, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
    }
    const missing = verb.options.filter((o) => o.required === true && !values.has(o.name));
    if (missing.length > 0) throw new CliError(`missing required option ${missing.map((o) => `--${o.name}`).join(', ')}`);
  }
  return { values, positionals, help };
}

/** The --help text of a verb. */
export function verbHelp(verb: VerbSpec): string {
  const lines = [`Usage: peftjs ${verb.usage}`, '', verb.summary, '', 'Options:'];
  const rows = verb.options.map((o) => {
    const left = o.type === 'boolean' ? `--[no-]${o.name}` : `--${o.name} <${o.placeholder ?? o.type}>`;
    return [left, `${o.description}${o.required === true ? ' (required)' : ''}`] as const;
  });
  rows.push(['--config <file>', 'read options from a YAML or JSON file; command-line options override it'], ['--help', 'show this help']);
  const width = Math.max(...rows.map(([l]) => l.length));
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(width)}  ${r}`);
  return `${lines.join('\n')}\n`;
}

/** Typed accessors over parsed values. */
export class Options {
  constructor(private readonly values: Map<string, OptionValue>) {}
  has(name: string): boolean {
    return this.values.has(name);
  }
  string(name: string): string | undefined {
    return this.values.get(name) as string | undefined;
  }
  requireString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new CliError(`missing required option --${name}`);
    return v;
  }
  number(name: string): number | undefined {
    return this.values.get(name) as number | undefined;
  }
  /** A 'number' option that must be a positive integer (a size, a count). */
  positiveInteger(name: string): number | undefined {
    const n = this.number(name);
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new CliError(`--${name} must be a positive integer, got ${n}`);
    return n;
  }
  /** A 'number' option that must be a whole number ≥ 0 (a seed, a count). */
  nonNegativeInteger(name: string): number | undefined {
    const v = this.number(name);
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new CliError(`--${name}: expected a whole number ≥ 0, got ${v}`);
    return v;
  }
  boolean(name: string): boolean | undefined {
    return this.values.get(name) as boolean | undefined;
  }
  /** A 'list' or 'strings' option. */
  list(name: string): string[] | undefined {
    return this.values.get(name) as string[] | undefined;
  }
}
