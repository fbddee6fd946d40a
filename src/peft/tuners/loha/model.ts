// LoHaModel (PEFT's loha/model.py): injects LoHa layers into the targeted Linear modules.
import type { Module } from '../../../nn/module.js';
import { LycorisTuner, type LycorisTunerMethod } from '../lycoris-utils.js';
import { LoHaConfig } from './config.js';
import { LoHaLayer } from './layer.js';

const LOHA: LycorisTunerMethod<LoHaConfig> = { configClass: LoHaConfig, layerClass: LoHaLayer };

export class LoHaModel<M extends Module = Module> extends LycorisTuner<LoHaConfig, M> {
  protected get method(): LycorisTunerMethod<LoHaConfig> {
    return LOHA;
  }
}
