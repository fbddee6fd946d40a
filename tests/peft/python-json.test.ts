import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareCodePoints, dumpsPython, PyFloat, pythonFloat, pythonString, type PyJson } from '../../src/peft/utils/python-json.js';
import { loadPeftFixture } from '../helpers/peft.js';

interface Fixture {
  floats: { value: number; repr: string }[];
  strings: { value: string; json: string }[];
  dump: { object: PyJson; text: string };
}

const fx = loadPeftFixture<Fixture>('python-json.json');

test('pythonFloat writes floats as Python repr does', () => {
  assert.ok(fx.floats.length >= 20);
  for (const { value, repr } of fx.floats) assert.equal(pythonFloat(value), repr, `float ${repr}`);
});

test('pythonFloat covers non-finite values as json.dumps writes them', () => {
  assert.equal(pythonFloat(NaN), 'NaN');
  assert.equal(pythonFloat(Infinity), 'Infinity');
  assert.equal(pythonFloat(-Infinity), '-Infinity');
});

test('strings are escaped as json.dumps with ensure_ascii', () => {
  for (const { value, json } of fx.strings) assert.equal(pythonString(value), json, json);
});

test('dumpsPython matches json.dumps(indent=2, sort_keys=True) byte for byte', () => {
  assert.equal(dumpsPython(fx.dump.object), fx.dump.text);
});

test('PyFloat forces a float and plain integers stay integers', () => {
  assert.equal(dumpsPython({ a: new PyFloat(0), b: 0, c: new PyFloat(16), d: 16.5 }), '{\n  "a": 0.0,\n  "b": 0,\n  "c": 16.0,\n  "d": 16.5\n}');
});

test('keys sort by code point, not UTF-16 unit', () => {
  assert.ok(compareCodePoints('\uffff', '😀') < 0);
  assert.ok(compareCodePoints('a', 'ab') < 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
});
