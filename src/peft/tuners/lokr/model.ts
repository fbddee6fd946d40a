// LoKrModel (PEFT's lokr/model.py): injects LoKr layers into the targeted Linear modules.
import type { Module } from '../../../nn/module.js';
import { LycorisTuner, type LycorisTunerMethod } from '../lycoris-utils.js';
import { LoKrConfig } from './config.js';
import { LoKrLayer } from './layer.js';

const LOKR: LycorisTunerMethod<LoKrConfig> = { configClass: LoKrConfig, layerClass: LoKrLayer };

export class LoKrModel<M extends Module = Module> extends LycorisTuner<LoKrConfig, M> {
  protected get method(): LycorisTunerMethod<LoKrConfig> {
    return LOKR;
  }
}
