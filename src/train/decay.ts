// The optimizer transformers' Trainer builds: AdamW over the trainable parameters in two groups, with
// weight decay and without. As get_decay_parameter_names does, a parameter is left undecayed when it
// lies inside a LayerNorm (by type: the root module itself is not checked, and RMSNorm layers are not
// LayerNorms) or when its lower-cased dotted name matches one of the patterns below. transformers
// tests the patterns on the name built up level by level; a match on any of those suffixes is also a
// match on the full name (`^` at a suffix's start stands where the full name has a '.'), so testing
// the full name once is the same rule.
import type { Module } from '../nn/module.js';
import { LayerNorm } from '../nn/norm.js';
import { AdamW } from './optimizer.js';
import { TrainerError } from './errors.js';

const NO_DECAY_PATTERNS = [/bias/, /layernorm/, /rmsnorm/, /(?:^|\.)norm(?:$|\.)/, /_norm(?:$|\.)/];

/** Names (as module.namedParameters() gives them) of the parameters that get weight decay. */
export function getDecayParameterNames(module: Module): string[] {
  const layerNorms = [...module.namedModules()].filter(([name, m]) => name !== '' && m instanceof LayerNorm).map(([name]) => `${name}.`);
  return module
    .namedParameters()
    .map(([name]) => name)
    .filter((name) => !layerNorms.some((prefix) => name.startsWith(prefix)))
    .filter((name) => !NO_DECAY_PATTERNS.some((p) => p.test(name.toLowerCase())));
}

export interface OptimizerSettings {
  learningRate: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
}

/**
 * AdamW over the parameters that require grad: group 0 with weight decay, group 1 without (either may
 * be empty), in module.namedParameters() order.
 */
export function createOptimizer(module: Module, settings: OptimizerSettings): AdamW {
  const decay = new Set(getDecayParameterNames(module));
  const trainable = module.namedParameters().filter(([, p]) => p.requiresGrad);
  if (trainable.length === 0) throw new TrainerError(`${module.typeName} has no trainable parameters (none requires grad)`);
  return new AdamW(
    [
      { params: trainable.filter(([n]) => decay.has(n)).map(([, p]) => p), weightDecay: settings.weightDecay },
      { params: trainable.filter(([n]) => !decay.has(n)).map(([, p]) => p), weightDecay: 0 },
    ],
    { lr: settings.learningRate, betas: [settings.adamBeta1, settings.adamBeta2], eps: settings.adamEpsilon },
  );
}
