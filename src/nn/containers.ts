// Containers keyed by name, as torch's nn.ModuleDict / nn.ParameterDict and PEFT's BufferDict: adapter layers keep
// one entry per adapter, so the entries' keys become part of the state-dict names (`lora_A.default.weight`).
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export class ModuleDict<M extends Module = Module> extends Module {
  get(key: string): M | undefined {
    return this.findChild<M>(key);
  }

  set(key: string, m: M): M {
    return this.registerModule(key, m);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): void {
    this.unregisterModule(key);
  }

  keys(): string[] {
    return [...this.namedChildren()].map(([k]) => k);
  }

  entries(): [string, M][] {
    return [...this.namedChildren()] as [string, M][];
  }

  get size(): number {
    return this.keys().length;
  }
}

export class ParameterDict extends Module {
  get(key: string): Tensor | undefined {
    return this.parameter(key) ?? undefined;
  }

  /** Registers `t` as a parameter (float32 tensors become trainable, as nn.Parameter). */
  set(key: string, t: Tensor): Tensor {
    return this.registerParameter(key, t)!;
  }

  has(key: string): boolean {
    return this.parameter(key) !== null;
  }

  delete(key: string): void {
    this.unregisterParameter(key);
  }

  keys(): string[] {
    return this.namedParameters({ removeDuplicate: false }).map(([k]) => k);
  }
}

/** Buffers keyed by name; `persistent: false` keeps them out of the state dict (PEFT's BufferDict). */
export class BufferDict extends Module {
  constructor(readonly persistent = true) {
    super();
  }

  get(key: string): Tensor | undefined {
    return this.buffer(key) ?? undefined;
  }

  set(key: string, t: Tensor): Tensor {
    return this.registerBuffer(key, t, this.persistent);
  }

  has(key: string): boolean {
    return this.buffer(key) !== null;
  }

  delete(key: string): void {
    this.unregisterBuffer(key);
  }

  keys(): string[] {
    return this.namedBuffers().map(([k]) => k);
  }
}
