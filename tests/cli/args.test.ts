// Option parsing of the peftjs CLI: values, flags, negation, config files with overrides, help and errors.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CliError, parseArgs, verbHelp, type VerbSpec } from '../../src/cli/args.js';
import { runCli } from '../helpers/run-cli.js';

const verb: VerbSpec = {
  name: 'demo',
  summary: 'A demo verb.',
  usage: 'demo <in> [options]',
  positionals: ['in'],
  options: [
    { name: 'learning-rate', type: 'number', description: 'rate' },
    { name: 'target-modules', type: 'list', description: 'targets' },
    { name: 'output', type: 'string', description: 'out', required: true },
    { name: 'bf16', type: 'boolean', description: 'half' },
    { name: 'prompt', type: 'strings', description: 'free text' },
  ],
};

test('--key value, --key=value, lists, flags and --no-flag', () => {
  const p = parseArgs(verb, ['x', '--learning-rate', '1e-3', '--target-modules=q_proj, v_proj', '--output', 'o', '--bf16']);
  assert.deepEqual(p.positionals, ['x']);
  assert.deepEqual(Object.fromEntries(p.values), { 'learning-rate': 1e-3, 'target-modules': ['q_proj', 'v_proj'], output: 'o', bf16: true });
  assert.equal(parseArgs(verb, ['x', '--output', 'o', '--no-bf16']).values.get('bf16'), false);
});

test('repeated list options accumulate; strings options keep commas', () => {
  const p = parseArgs(verb, ['x', '--output', 'o', '--target-modules', 'q_proj,k_proj', '--target-modules=v_proj', '--prompt', 'Hello, world', '--prompt=Bye']);
  assert.deepEqual(p.values.get('target-modules'), ['q_proj', 'k_proj', 'v_proj']);
  assert.deepEqual(p.values.get('prompt'), ['Hello, world', 'Bye']);
  assert.deepEqual(parseArgs(verb, ['x', '--output', 'o', '--output', 'p']).values.get('output'), 'p');
});

test('--config YAML or JSON, snake_case keys, command-line options override it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-args-'));
  writeFileSync(join(dir, 'c.yaml'), 'learning_rate: 0.5\ntarget_modules: [a, b]\noutput: from-file\nbf16: true\n');
  writeFileSync(join(dir, 'c.json'), JSON.stringify({ 'learning-rate': 2, output: 'j' }));
  const y = parseArgs(verb, ['x', '--config', join(dir, 'c.yaml'), '--output', 'cli', '--no-bf16']);
  assert.deepEqual(Object.fromEntries(y.values), { 'learning-rate': 0.5, 'target-modules': ['a', 'b'], output: 'cli', bf16: false });
  assert.equal(parseArgs(verb, ['x', '--config', join(dir, 'c.json')]).values.get('learning-rate'), 2);
  writeFileSync(join(dir, 'bad.yaml'), 'learning_rat: 1\n');
  assert.throws(() => parseArgs(verb, ['x', '--config', join(dir, 'bad.yaml')]), /unknown option --learning-rat in .*bad\.yaml \(did you mean --learning-rate\?\)/);
});

test('--config: values JSON cannot spell are shown as they are, and config or help inside the file are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peftjs-args-'));
  writeFileSync(join(dir, 'inf.yaml'), 'learning_rate: .inf\noutput: o\n');
  assert.throws(() => parseArgs(verb, ['x', '--config', join(dir, 'inf.yaml')]), (e: unknown) => e instanceof CliError && /--learning-rate in .*inf\.yaml expects a number, got Infinity$/.test(e.message));
  writeFileSync(join(dir, 'nan.yaml'), 'learning_rate: .nan\noutput: o\n');
  assert.throws(() => parseArgs(verb, ['x', '--config', join(dir, 'nan.yaml')]), /expects a number, got NaN$/);
  for (const key of ['config', 'help']) {
    writeFileSync(join(dir, `${key}.yaml`), `${key}: other.yaml\noutput: o\n`);
    assert.throws(
      () => parseArgs(verb, ['x', '--config', join(dir, `${key}.yaml`)]),
      (e: unknown) => e instanceof CliError && e.message === `--config: ${join(dir, `${key}.yaml`)} sets "${key}", which only the command line can give`,
    );
  }
});

test('errors name the option', () => {
  assert.throws(() => parseArgs(verb, ['x', '--output', 'o', '--learning-rat', '1']), (e: unknown) => e instanceof CliError && /unknown option --learning-rat \(did you mean --learning-rate\?\)/.test(e.message));
  assert.throws(() => parseArgs(verb, ['x', '--output', 'o', '--learning-rate', 'fast']), /--learning-rate expects a number, got "fast"/);
  assert.throws(() => parseArgs(verb, ['x', '--output']), /--output expects a value/);
  assert.throws(() => parseArgs(verb, ['x']), /missing required option --output/);
  assert.throws(() => parseArgs(verb, ['--output', 'o']), /expected <in>, got none/);
  assert.equal(parseArgs(verb, ['--help']).help, true);
  assert.match(verbHelp(verb), /--learning-rate <number>\s+rate\n/);
  assert.match(verbHelp(verb), /--output <string>\s+out \(required\)/);
});

test('the tool: --help, unknown command, exit statuses', () => {
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: peftjs <command>/);
  assert.match(help.stdout, /inspect/);
  const verbHelpRun = runCli(['inspect', '--help']);
  assert.equal(verbHelpRun.status, 0);
  assert.match(verbHelpRun.stdout, /Usage: peftjs inspect <adapter-dir>/);
  const unknown = runCli(['inspekt']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "inspekt" \(did you mean inspect\?\)/);
  const badOption = runCli(['inspect', 'x', '--jsn']);
  assert.equal(badOption.status, 2);
  assert.match(badOption.stderr, /peftjs inspect: unknown option --jsn \(did you mean --json\?\)/);
});
