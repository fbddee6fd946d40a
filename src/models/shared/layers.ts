// Calling a child layer by name. Modules look children up at call time (see Module.child), so a
// layer that PEFT swapped in is the one that runs.
import type { Tensor } from '../../engine/tensor.js';
import type { Module } from '../../nn/module.js';

export interface TensorModule extends Module {
  forward(x: Tensor): Tensor;
}

/** parent.<name>(x) */
export function call(parent: Module, name: string, x: Tensor): Tensor {
  return parent.child<TensorModule>(name).forward(x);
}

/** Makes `layer.<name>` the given tensor (a tied weight), freeing the layer's own one. */
export function shareParameter(layer: Module, name: string, tensor: Tensor): void {
  const own = layer.parameter(name);
  if (own === tensor) return;
  own?.dispose();
  layer.setParameter(name, tensor);
}
