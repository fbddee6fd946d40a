// Forward parity at full size (GPT-2-small, SmolLM-135M shape) against transformers. The models are
// too large to commit: `tools/parity/large-models.sh` generates them and runs this file with
// PEFTJS_LARGE_MODEL_FIXTURES pointing at them; without it the test is skipped.
import { test } from 'node:test';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModelForCausalLM, noGrad, scope, SafetensorsFile } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';

const dir = process.env.PEFTJS_LARGE_MODEL_FIXTURES;
const cases = dir !== undefined && existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'io.safetensors'))) : [];

test('full-size models match transformers logits within 1e-3', { skip: cases.length === 0 ? 'set PEFTJS_LARGE_MODEL_FIXTURES (tools/parity/large-models.sh)' : false }, async (t) => {
  for (const name of cases) {
    await t.test(name, async () => {
      const folder = join(dir!, name);
      const model = await AutoModelForCausalLM.fromPretrained(folder);
      const io = SafetensorsFile.open(join(folder, 'io.safetensors'));
      scope(() => {
        const logits = noGrad(() => model.forward({ inputIds: io.readTensor('input_ids') }).logits!);
        assertClose(logits.data(), io.readTensor('logits').data(), { atol: 1e-3, rtol: 0 }, `${name} logits`);
      });
      io.close();
      model.dispose();
    });
  }
});
