#!/usr/bin/env node
// The peftjs command-line tool: `peftjs <verb> [options]`.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, Options, parseArgs, verbHelp, type ParsedArgs, type VerbSpec } from './args.js';
import { editDistance } from '../peft/utils/nearest-names.js';
import { generateVerb, runGenerate } from './generate.js';
import { inspectVerb, runInspect } from './inspect.js';
import { mergeVerb, runMerge } from './merge.js';
import { runTrain, trainVerb } from './train.js';

interface Verb {
  spec: VerbSpec;
  /** Resolves to the exit status (default 0). */
  run(opts: Options, positionals: readonly string[], out: NodeJS.WritableStream): Promise<number | void>;
}

const VERBS: readonly Verb[] = [
  { spec: inspectVerb, run: runInspect },
  { spec: trainVerb, run: runTrain },
  (await import('./eval.js')).evalCommand,
  { spec: mergeVerb, run: runMerge },
  { spec: generateVerb, run: runGenerate },
];

function toolHelp(): string {
  const width = Math.max(...VERBS.map((v) => v.spec.name.length));
  return [
    'Usage: peftjs <command> [options]',
    '',
    'Parameter-efficient fine-tuning of transformer models, compatible with Hugging Face PEFT.',
    '',
    'Commands:',
    ...VERBS.map((v) => `  ${v.spec.name.padEnd(width)}  ${v.spec.summary}`),
    '',
    "Run 'peftjs <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** Runs the tool on `argv` (the arguments after the program name); returns the exit status. */
export async function main(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.write(toolHelp());
    return name === undefined ? 2 : 0;
  }
  const verb = VERBS.find((v) => v.spec.name === name);
  try {
    if (verb === undefined) {
      const near = VERBS.map((v) => v.spec.name).filter((v) => editDistance(v, name) <= 2);
      throw new CliError(`unknown command ${JSON.stringify(name)}${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}; commands: ${VERBS.map((v) => v.spec.name).join(', ')}`);
    }
    const parsed: ParsedArgs = parseArgs(verb.spec, rest);
    if (parsed.help) {
      out.write(verbHelp(verb.spec));
      return 0;
    }
    return (await verb.run(new Options(parsed.values), parsed.positionals, out)) ?? 0;
  } catch (e) {
    const error = e as Error;
    err.write(`peftjs${verb === undefined ? '' : ` ${verb.spec.name}`}: ${error instanceof CliError ? '' : `${error.name}: `}${error.message}\n`);
    return error instanceof CliError ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
