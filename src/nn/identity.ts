// The identity layer (torch.nn.Identity): PEFT puts it where lora_dropout is 0.
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
