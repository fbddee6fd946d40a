// Runs golden op fixtures (produced by tools/fixtures/ops_<family>.py from PyTorch in float64):
// forward output and, where present, every input gradient for a fixed upstream gradient.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromArray, type Tensor } from '../../src/engine/index.js';
import { assertTensorClose, type Tolerance } from './assert-close.js';
import { fixturePath } from './paths.js';

export interface GoldenTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: number[];
}

export interface GoldenCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: (GoldenTensor | null)[];
  output: GoldenTensor;
  grad_output?: GoldenTensor;
  grads?: (GoldenTensor | null)[];
}

export type OpRunner = (inputs: Tensor[], attrs: Record<string, unknown>) => Tensor;

export function loadGolden(family: string): GoldenCase[] {
  const file = JSON.parse(readFileSync(fixturePath('ops', `${family}.json`), 'utf8')) as { cases: GoldenCase[] };
  return file.cases;
}

export function toTensor(g: GoldenTensor): Tensor {
  return fromArray(g.data, g.shape, g.dtype);
}

/** Registers one node:test per fixture case of `family`; every op named in the file must have a runner. */
export function goldenTests(family: string, runners: Record<string, OpRunner>, tol: Tolerance = { atol: 1e-4, rtol: 1e-4 }, perOp: Record<string, Tolerance> = {}): void {
  const cases = loadGolden(family);
  test(`${family} fixtures cover only known ops`, () => {
    const unknown = [...new Set(cases.map((c) => c.op))].filter((op) => !(op in runners));
    assert.deepEqual(unknown, []);
  });
  for (const c of cases) {
    test(`${family}: ${c.name}`, () => {
      const runner = runners[c.op]!;
      const inputs = c.inputs.map((g) => (g === null ? (null as unknown as Tensor) : toTensor(g)));
      if (c.grads) inputs.forEach((t, i) => c.grads![i] && t.setRequiresGrad());
      const out = runner(inputs, c.attrs);
      const t = perOp[c.op] ?? tol;
      assertTensorClose(out, c.output, t, `${c.name} output`);
      if (c.grad_output && c.grads) {
        const g = toTensor(c.grad_output);
        out.backward(g);
        c.grads.forEach((expected, i) => {
          if (expected === null) return;
          assert.ok(inputs[i]!.grad, `${c.name}: input ${i} got no gradient`);
          assertTensorClose(inputs[i]!.grad!, expected, t, `${c.name} grad of input ${i}`);
        });
        g.dispose();
      }
      out.dispose();
      for (const x of inputs) {
        x?.zeroGrad();
        x?.dispose();
      }
    });
  }
}
