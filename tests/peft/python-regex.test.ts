import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pyFullmatch, pyMatch, PythonRegexError, translatePythonRegex } from '../../src/peft/utils/python-regex.js';
import { loadPeftFixture } from '../helpers/peft.js';

interface Fixture {
  cases: { pattern: string; string: string; fullmatch: boolean; match: string | null }[];
  errors: { pattern: string; message: string }[];
}

const fx = loadPeftFixture<Fixture>('regex.json');

test('fullmatch and match agree with Python re', () => {
  assert.ok(fx.cases.length >= 100);
  for (const c of fx.cases) {
    const label = `${JSON.stringify(c.pattern)} on ${JSON.stringify(c.string)}`;
    assert.equal(pyFullmatch(c.pattern, c.string) !== null, c.fullmatch, `fullmatch ${label}`);
    assert.equal(pyMatch(c.pattern, c.string)?.[0] ?? null, c.match, `match ${label}`);
  }
});

test('patterns Python rejects are rejected', () => {
  for (const { pattern } of fx.errors) assert.throws(() => translatePythonRegex(pattern), PythonRegexError, pattern);
});

test('Python-only syntax without a JavaScript equivalent is rejected with a clear reason', () => {
  const cases: [string, RegExp][] = [
    ['(?>a)b', /atomic groups/],
    ['a*+', /possessive/],
    ['(a)?(?(1)b|c)', /conditional/],
    ['(?i:a)b', /scoped change of the 'i' flag/],
    ['\\N{EM DASH}', /named character/],
  ];
  for (const [pattern, reason] of cases) {
    assert.throws(() => translatePythonRegex(pattern), (e: Error) => e instanceof PythonRegexError && reason.test(e.message) && e.message.includes(pattern), pattern);
  }
});

test('named groups are available under their Python names', () => {
  assert.equal(pyMatch('.*?\\.(?P<idx>\\d+)\\.', 'model.layers.12.mlp')?.groups?.['idx'], '12');
});
