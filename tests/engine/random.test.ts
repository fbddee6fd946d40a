import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, Generator, type GeneratorState, rand } from '../../src/engine/index.js';

test('setState refuses a counter that is not a non-negative safe integer', () => {
  const g = new Generator(3);
  for (const counter of [NaN, -1, 1.5, 2 ** 60, '5', undefined]) {
    assert.throws(
      () => g.setState({ seed: 3, counter } as unknown as GeneratorState),
      (e: Error) => e instanceof EngineError && e.message.startsWith("Generator.setState: argument 'state.counter' must be a non-negative safe integer"),
      String(counter),
    );
  }
  assert.throws(() => g.setState(null as unknown as GeneratorState), /Generator.setState: argument 'state' must be \{ seed, counter \}, got null/);
  assert.throws(() => g.setState({ seed: -1, counter: 0 }), /argument 'state.seed'/);
  assert.deepEqual(g.getState(), { seed: 3, counter: 0 }, 'a refused state leaves the generator as it was');
  g.setState({ seed: 4, counter: 2 ** 53 - 1 });
  assert.deepEqual(g.getState(), { seed: 4, counter: 2 ** 53 - 1 });
});

test('a stream that would pass 2**53 counter values is refused, not wrapped', () => {
  const g = new Generator(1).setState({ seed: 1, counter: 2 ** 53 - 3 });
  assert.throws(() => rand([4], { generator: g }), /Generator.take: counter 9007199254740989 \+ 4 passes 2\*\*53 - 1/);
  assert.equal(g.getState().counter, 2 ** 53 - 3);
});

test('seeds are checked under the method that takes them', () => {
  assert.throws(() => new Generator(-1), /Generator: argument 'seed' must be a non-negative safe integer, got -1/);
  assert.throws(() => new Generator(1).manualSeed(0.5), /Generator.manualSeed: argument 'seed'/);
});
