// Merging and unmerging an adapter builds deltas, rotations and products on the side; none may outlive the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Storage } from '../../src/engine/storage.js';
import { fixturePath } from '../helpers/paths.js';
import { captureWarningsAsync } from '../helpers/peft.js';
import { perturbedCase } from '../helpers/prompt-ia3.js';

const CASES: [method: string, name: string][] = [
  ['lycoris', 'llama-loha'],
  ['lycoris', 'llama-lokr'],
  ['vera', 'llama-vera'],
  ['oft', 'llama-oft'],
  ['boft', 'llama-boft'],
  ['hra', 'llama-hra'],
  ['miss', 'llama-miss'],
  ['fourierft', 'llama-fourierft'],
];

for (const [method, name] of CASES) {
  test(`${name}: merge and unmerge leave no tensors behind`, async () => {
    const { peft } = (await captureWarningsAsync(() => perturbedCase(name, fixturePath('peft', method)))).result;
    const live = Storage.liveCount;
    peft.mergeAdapter();
    peft.unmergeAdapter();
    assert.equal(Storage.liveCount, live);
  });
}
