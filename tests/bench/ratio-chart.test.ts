import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchOutput, ratioChart } from '../../bench/report/ratio-chart.js';

const printout = `decode: greedy generate(), generated tokens/s
ours vs torch 2.13.0+cpu; 2 threads each; 3 rounds of ~100 ms; medians
case                 ours tok/s  torch tok/s  ours/torch  noise ours/torch
gpt2-small batch 1        54.48        38.55      1.413x     ±1.2% / ±0.6%
smollm-135m batch 8       215.1        113.6      1.893x     ±0.9% / ±0.4%
SUMMARY decode_ratio_vs_torch=1.6355
`;

test('parseBenchOutput takes one bar per table row, labelled with the bench and the case', () => {
  assert.deepEqual(parseBenchOutput(printout, 'decode.txt'), [
    { label: 'decode · gpt2-small batch 1', ratio: 1.413 },
    { label: 'decode · smollm-135m batch 8', ratio: 1.893 },
  ]);
});

test('parseBenchOutput names the file when there is no table or no PyTorch column', () => {
  assert.throws(() => parseBenchOutput('not a bench\n', 'x.txt'), /x\.txt does not start/);
  assert.throws(() => parseBenchOutput('train: step\nno table here\n', 'y.txt'), /y\.txt has no results table/);
  const oursOnly = 'train: step\ncase  ours tokens/s  torch tokens/s  ours/torch  noise\ngpt2  536.2  -  -  ±0.3%\n';
  assert.throws(() => parseBenchOutput(oursOnly, 'z.txt'), /z\.txt has a table without ours\/torch ratios/);
});

test('ratioChart draws a bar per ratio with its value and escapes labels', () => {
  const svg = ratioChart([{ label: 'a<b', ratio: 1.5 }, { label: 'c', ratio: 0.8 }], 'title');
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 2);
  assert.match(svg, /a&lt;b/);
  assert.match(svg, />1\.50×</);
  assert.match(svg, />0\.80×</);
});
