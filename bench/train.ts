// One LoRA training step (forward, loss, backward, AdamW) vs PyTorch+PEFT; see bench/lm.
import { lmBench } from './lm/lm-bench.js';

export const bench = lmBench('train');
