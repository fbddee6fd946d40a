// PEFT's print_trainable_parameters text, computed by the real PEFT on given counts
// (tests/fixtures/peft/trainable-parameters.json), and the Python format specs behind it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTrainableParameters } from '../../src/peft/peft-model.js';
import { formatFixed, formatThousands } from '../../src/peft/utils/python-format.js';
import { loadPeftFixture } from '../helpers/peft.js';

const fx = loadPeftFixture<{ samples: { trainable: number; all: number; text: string }[] }>('trainable-parameters.json');

test('formatTrainableParameters prints what PEFT prints, rounding ties to even', () => {
  assert.ok(fx.samples.length >= 10);
  for (const s of fx.samples) assert.equal(`${formatTrainableParameters(s.trainable, s.all)}\n`, s.text, `${s.trainable}/${s.all}`);
});

test('formatThousands and formatFixed', () => {
  assert.equal(formatThousands(0), '0');
  assert.equal(formatThousands(999), '999');
  assert.equal(formatThousands(1000), '1,000');
  assert.equal(formatThousands(-1234567), '-1,234,567');
  assert.equal(formatFixed(0.03125, 4), '0.0312');
  assert.equal(formatFixed(0.09375, 4), '0.0938');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(1e21, 2), '1000000000000000000000.00');
  assert.equal(formatFixed(-1.005, 2), '-1.00');
  assert.equal(formatFixed(5e-324, 3), '0.000');
  assert.equal(formatFixed(100, 4), '100.0000');
});
