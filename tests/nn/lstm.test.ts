import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mul, sum } from '../../src/engine/index.js';
import { LSTM } from '../../src/nn/lstm.js';
import { assertTensorClose } from '../helpers/assert-close.js';
import { toTensor, type GoldenTensor } from '../helpers/golden.js';
import { loadReference } from '../helpers/prompt-ia3.js';

interface LstmFixture {
  input_size: number;
  hidden_size: number;
  num_layers: number;
  params: Record<string, GoldenTensor>;
  input: GoldenTensor;
  output: GoldenTensor;
  grad_output: GoldenTensor;
  grad_input: GoldenTensor;
  grads: Record<string, GoldenTensor>;
}

const fx = loadReference<{ lstm: LstmFixture }>().lstm;
const tol = { atol: 1e-5, rtol: 1e-4 };

test('a two-layer bidirectional LSTM matches torch.nn.LSTM: parameter names, output and every gradient', () => {
  const lstm = new LSTM(fx.input_size, fx.hidden_size, { numLayers: fx.num_layers, bidirectional: true });
  const names = lstm.namedParameters().map(([n]) => n);
  assert.deepEqual(names.slice(0, 8), [
    ...['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'],
    ...['weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse'],
  ]);
  assert.deepEqual(
    lstm.namedParameters().map(([n, t]) => [n, [...t.shape]]).sort(),
    Object.entries(fx.params).map(([n, t]) => [n, t.shape]).sort(),
  );
  lstm.loadStateDict(new Map(Object.entries(fx.params).map(([n, t]) => [n, toTensor(t)])));
  const x = toTensor(fx.input).setRequiresGrad(true);
  const out = lstm.forward(x);
  assertTensorClose(out, fx.output, tol, 'output');
  sum(mul(out, toTensor(fx.grad_output))).backward();
  assertTensorClose(x.grad!, fx.grad_input, tol, 'grad input');
  for (const [n, p] of lstm.namedParameters()) assertTensorClose(p.grad!, fx.grads[n]!, tol, `grad ${n}`);
});

test('LSTM: one direction, dropout only between layers in training, shape checks', () => {
  const lstm = new LSTM(3, 2, { numLayers: 2, dropout: 0.5 });
  assert.deepEqual(lstm.namedParameters().map(([n]) => n), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1']);
  const x = toTensor({ shape: [1, 2, 3], dtype: 'float32', data: [1, 2, 3, 4, 5, 6] });
  lstm.eval();
  assert.deepEqual([...lstm.forward(x).toArray()], [...lstm.forward(x).toArray()]);
  assert.deepEqual(lstm.forward(x).shape, [1, 2, 2]);
  assert.throws(() => lstm.forward(toTensor({ shape: [2, 3], dtype: 'float32', data: [1, 2, 3, 4, 5, 6] })), /must be \[batch, seq, 3\]/);
  assert.throws(() => new LSTM(3, 2, { numLayers: 0 }), /numLayers/);
});
