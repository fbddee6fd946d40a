import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance, nearestNames } from '../../src/peft/utils/nearest-names.js';

test('editDistance is the Levenshtein distance', () => {
  assert.equal(editDistance('q_prj', 'q_proj'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test('nearestNames suggests close last segments, nearest first, distinct', () => {
  const names = ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.0.self_attn.k_proj', 'model.layers.0.mlp.up_proj', 'lm_head'];
  assert.deepEqual(nearestNames('q_prj', names), ['q_proj', 'k_proj']);
  assert.deepEqual(nearestNames('self_attn.qproj', names), ['q_proj', 'k_proj']);
  assert.deepEqual(nearestNames('up_prj', names, 1), ['up_proj']);
  assert.deepEqual(nearestNames('zzzzzzzz', names), []);
});
