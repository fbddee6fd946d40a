// Random state a checkpoint restores: the engine's default generator and every other Generator held
// by a module of the model (dropout layers), each named by the first module path and property that
// holds it. Generators are counter-based, so a state is two numbers.
import { defaultGenerator, Generator, type GeneratorState } from '../engine/random.js';
import type { Module } from '../nn/module.js';
import { CheckpointError } from './errors.js';

export interface RngState {
  default: GeneratorState;
  modules: Record<string, GeneratorState>;
}

/** Generators held by the modules' own properties, other than the default one, by `<module path>.<property>`. */
export function moduleGenerators(module: Module): Map<string, Generator> {
  const found = new Map<string, Generator>();
  const seen = new Set<Generator>([defaultGenerator]);
  for (const [path, m] of module.namedModules()) {
    for (const [prop, value] of Object.entries(m)) {
      if (!(value instanceof Generator) || seen.has(value)) continue;
      seen.add(value);
      found.set(path === '' ? prop : `${path}.${prop}`, value);
    }
  }
  return found;
}

export function captureRng(module: Module): RngState {
  const modules: Record<string, GeneratorState> = {};
  for (const [name, g] of moduleGenerators(module)) modules[name] = g.getState();
  return { default: defaultGenerator.getState(), modules };
}

function checkState(file: string, key: string, s: unknown): GeneratorState {
  const { seed, counter } = (s ?? {}) as Partial<GeneratorState>;
  const ok = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!ok(seed) || !ok(counter)) throw new CheckpointError(file, key, `must be {seed, counter} with non-negative integers, got ${JSON.stringify(s)}`);
  return { seed: seed!, counter: counter! };
}

/** Sets the default generator and the model's generators; the saved and the model's names must agree. */
export function restoreRng(module: Module, state: RngState, file: string): void {
  const generators = moduleGenerators(module);
  const saved = Object.keys(state.modules ?? {});
  const missing = [...generators.keys()].filter((k) => !saved.includes(k));
  const unexpected = saved.filter((k) => !generators.has(k));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new CheckpointError(file, 'modules', `generators differ from the model's (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`);
  }
  const states = new Map(saved.map((k) => [k, checkState(file, `modules.${k}`, state.modules[k])]));
  const main = checkState(file, 'default', state.default);
  defaultGenerator.setState(main);
  for (const [name, g] of generators) g.setState(states.get(name)!);
}
