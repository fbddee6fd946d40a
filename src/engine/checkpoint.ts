// Recompute (gradient checkpointing): a block's forward runs without recording a graph, so none of
// its intermediate activations stay alive; only its inputs are saved. Its backward runs the block
// again with grad enabled and backpropagates through that fresh graph.
//
// The block joins the graph through its inputs (as PyTorch's reentrant checkpoint does): when no
// input requires grad the output does not either, and weights used inside fn get no gradient.
// Pass such weights as inputs, or give the block an input that requires grad.
// The default generator's state is replayed for the recomputation, so dropout draws the same mask.
import { enableGrad, noGrad, record } from './autograd.js';
import { EngineError } from './errors.js';
import { checkFloat } from './ops/check.js';
import { defaultGenerator } from './random.js';
import { scope } from './scope.js';
import { Tensor } from './tensor.js';

export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  if (typeof fn !== 'function') throw new EngineError('checkpoint', 'fn', `must be a function, got ${typeof fn}`);
  inputs.forEach((x, i) => checkFloat('checkpoint', `inputs[${i}]`, x));
  const rngBefore = defaultGenerator.getState();
  const result = noGrad(() => scope(() => fn(...inputs)));
  if (!(result instanceof Tensor)) throw new EngineError('checkpoint', 'fn', 'must return a Tensor');
  // A block that returns an input unchanged still needs an output of its own to attach the node to.
  const out = inputs.includes(result) ? result.detach() : result;
  return record(
    'checkpoint',
    out,
    inputs,
    (g, needs, saved) => {
      const leaves = saved.map((x, i) => (needs[i] ? x.detach().setRequiresGrad() : x));
      const rngAfter = defaultGenerator.getState();
      defaultGenerator.setState(rngBefore);
      try {
        const recomputed = enableGrad(() => fn(...leaves));
        if (recomputed.requiresGrad) recomputed.backward(g);
      } finally {
        defaultGenerator.setState(rngAfter);
      }
      return leaves.map((x, i) => (needs[i] ? x.grad : null));
    },
    inputs,
  );
}
