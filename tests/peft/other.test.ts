import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPatternKey, matchTargetAgainstKey } from '../../src/peft/utils/other.js';
import { loadPeftFixture } from '../helpers/peft.js';

interface Fixture {
  pattern_keys: { pattern_keys: string[]; key: string; result: string }[];
}

test('getPatternKey picks the key PEFT’s get_pattern_key picks', () => {
  const { pattern_keys: cases } = loadPeftFixture<Fixture>('target-matching.json');
  assert.ok(cases.length >= 15);
  for (const c of cases) assert.equal(getPatternKey(c.pattern_keys, c.key), c.result, `${JSON.stringify(c.pattern_keys)} on ${c.key}`);
});

test('matchTargetAgainstKey is a full match', () => {
  assert.equal(matchTargetAgainstKey('q_proj', 'model.q_proj'), false);
  assert.equal(matchTargetAgainstKey('.*q_proj', 'model.q_proj'), true);
});
